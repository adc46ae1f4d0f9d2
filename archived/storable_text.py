"""Text that every file of an archive can carry, whatever a driver or Moodle handed over.

UTF-8 cannot encode a lone surrogate (Python strings can hold one, e.g. from a JSON `\\ud800` escape), and
U+FFFE/U+FFFF are noncharacters that XML refuses; either would fail the job or be rejected by readers years
later. They become U+FFFD, the replacement character, so that the damage stays visible.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def storable_text(text: str) -> str:
    """`text` with lone surrogates and U+FFFE/U+FFFF replaced by U+FFFD (everything else unchanged)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)
