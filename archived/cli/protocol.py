"""`archived protocol`: the socket methods, their JSON schemas (for people writing their own clients), and the
protocol reference as Markdown (`docs/protocol.md`). Offline: read from the protocol models, no daemon needed."""

from __future__ import annotations

import argparse
import json
import sys

from archived.cli.exit_codes import ExitCode
from archived.protocol.reference import json_schemas, markdown, method_lines


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `protocol`."""
    parser = commands.add_parser(
        "protocol", help="the control socket's methods; --json: their JSON schemas; --markdown: the reference"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON schemas of every method, event and error code")
    output.add_argument("--markdown", action="store_true", help="the protocol reference (docs/protocol.md)")
    parser.set_defaults(func=cmd_protocol)


def cmd_protocol(args: argparse.Namespace) -> int:
    """Print the method list, the schemas or the reference."""
    if args.json:
        sys.stdout.write(json.dumps(json_schemas(), indent=2) + "\n")
    elif args.markdown:
        sys.stdout.write(markdown())
    else:
        sys.stdout.write("\n".join(method_lines()) + "\n")
    return ExitCode.OK
