"""The `archived` command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from archived import __version__
from archived.cli.exit_codes import ExitCode

# One module per command group; each has `register(subparsers)`.
COMMAND_MODULES = (
    "daemon", "jobs", "archives", "retention", "people", "audit", "status", "connectors", "verify", "moodle", "courses",
    "schedules", "policy", "demo", "tui", "doctor", "protocol", "render_hosts",
)  # fmt: skip

EPILOG = """\
exit codes: 0 ok, 1 failed (e.g. verify found defects), 2 usage or configuration error,
3 daemon unreachable, 4 not found, 5 permission denied, 6 refused by the daemon, 7 incompatible daemon
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="archived",
        description="Long-term archiving of Moodle exam data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"archived {__version__}")
    parser.add_argument(
        "--config", help="configuration file (default: $ARCHIVED_CONFIG or /etc/archived/archived.toml)"
    )
    parser.add_argument("--socket", help="daemon socket (default: $ARCHIVED_SOCKET or the configuration's)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"archived.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"archived.cli.{name}":
                continue  # a command group that is not part of this build
            raise
        module.register(commands)
    _add_global_options(commands)
    return parser


def _add_global_options(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Accept --config/--socket after the command too (`archived daemon --config FILE`)."""
    for sub in set(commands.choices.values()):
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for action in nested:
                _add_global_options(action)
            continue
        sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--socket", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `archived` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
