"""`archived daemon --config FILE`: run the daemon in the foreground (systemd runs exactly this)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from archived.cli.common import config_path, fail
from archived.cli.exit_codes import ExitCode
from archived.config import load_config
from archived.errors import ConfigError
from archived.terminal_text import visible


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `daemon`."""
    parser = commands.add_parser("daemon", help="run the daemon in the foreground")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="overrides daemon.log_level")
    parser.set_defaults(func=cmd_daemon)


class VisibleFormatter(logging.Formatter):
    """Log lines with control characters written as escapes: they quote Moodle names and reach a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record (tracebacks keep their line breaks)."""
        return visible(super().format(record), newlines=True)


def setup_logging(level: str) -> None:
    """Log lines to stderr (journald adds the time and the unit)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(VisibleFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; URLs can carry tokens, so keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)


def cmd_daemon(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM/SIGINT."""
    from archived.daemon.server import Daemon

    path = config_path(args)
    if path is None:
        return fail("no configuration: pass --config FILE (see config/archived.example.toml)", ExitCode.USAGE)
    try:
        config = load_config(path)
        setup_logging(args.log_level or config.daemon.log_level)
        asyncio.run(Daemon(config).run())
    except ConfigError as exc:
        return fail(str(exc), ExitCode.USAGE)
    except KeyboardInterrupt:
        return ExitCode.OK
    return ExitCode.OK
