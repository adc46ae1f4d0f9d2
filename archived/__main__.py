"""`python -m archived` is the `archived` command."""

import sys

from archived.cli.main import main

sys.exit(main())
