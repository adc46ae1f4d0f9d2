"""What every CLI command shares: finding the socket, talking to the daemon, printing, exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from rich.text import Text

from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import SafeConsole, data, dumps_for_terminal
from archived.config import DEFAULT_CONFIG_PATH, DEFAULT_SOCKET_PATH, load_config
from archived.errors import ArchivedError, ConfigError
from archived.protocol.base import params_problems
from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.client import DaemonUnreachable, IncompatibleDaemon, RpcClient

T = TypeVar("T")
P = TypeVar("P", bound=BaseModel)

# Wide enough for any value: in a pipe or a file nothing is cut to fit a width (rich would assume 80 columns).
UNBOUNDED_WIDTH = 1_000_000


def stdout_console() -> SafeConsole:
    """The console of command output: on a terminal as wide as the terminal; in a pipe or a file tables show every
    value in full, because what reads them there is a person with `less` or a script with `grep`, not a window."""
    if sys.stdout.isatty():
        return SafeConsole(soft_wrap=True)
    return SafeConsole(soft_wrap=True, width=UNBOUNDED_WIDTH)


# Every command prints through these: strings are never markup, control characters never reach the terminal.
console = stdout_console()  # never break paths and ids in the middle
err_console = SafeConsole(stderr=True, soft_wrap=True)


class InvalidArguments(Exception):
    """A command-line value the protocol refuses (caught before anything is sent to the daemon)."""


def request_params(model: type[P], **values: Any) -> P:
    """A request's parameters from command-line values; values that are None are left out (the daemon's defaults
    apply). A value the protocol refuses is a usage error, named like the daemon would name it."""
    try:
        return model(**{key: value for key, value in values.items() if value is not None})
    except ValidationError as exc:
        raise InvalidArguments(params_problems(exc)) from None


_RPC_EXIT = {
    ErrorCode.NOT_FOUND: ExitCode.NOT_FOUND,
    ErrorCode.PERMISSION_DENIED: ExitCode.PERMISSION_DENIED,
    ErrorCode.INVALID_STATE: ExitCode.REFUSED,
    ErrorCode.INVALID_SETTING: ExitCode.REFUSED,
    ErrorCode.SHUTTING_DOWN: ExitCode.REFUSED,
    ErrorCode.INVALID_PARAMS: ExitCode.USAGE,
    ErrorCode.UNSUPPORTED_PROTOCOL: ExitCode.INCOMPATIBLE,
    ErrorCode.UPSTREAM_ERROR: ExitCode.FAILURE,
}


def config_path(args: argparse.Namespace) -> Path | None:
    """The configuration file named by --config or $ARCHIVED_CONFIG, or the system default if it exists."""
    explicit = getattr(args, "config", None) or os.environ.get("ARCHIVED_CONFIG")
    if explicit:
        return Path(explicit)
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def socket_path(args: argparse.Namespace) -> Path:
    """--socket, $ARCHIVED_SOCKET, the configuration's daemon.socket, or the default."""
    explicit = getattr(args, "socket", None) or os.environ.get("ARCHIVED_SOCKET")
    if explicit:
        return Path(explicit)
    path = config_path(args)
    if path is not None:
        try:
            return load_config(path).daemon.socket
        except ConfigError:
            pass  # the daemon validates its own configuration; a client only needs the socket path
    return DEFAULT_SOCKET_PATH


def print_json(value: Any) -> None:
    """Machine-readable output for --json (control characters as JSON escapes, so a terminal is safe); protocol
    models are printed as they travel on the wire."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    sys.stdout.write(dumps_for_terminal(value) + "\n")


def wire_text(moment: datetime | None, missing: str = "") -> str:
    """A time as the protocol writes it, `2026-11-28T09:00:00Z` (`missing` when there is none)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else missing


def fail(message: str, code: ExitCode = ExitCode.FAILURE) -> int:
    """Print an error to stderr (taken literally: it may quote the daemon, Moodle or the user) and return the code."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", data(message, newlines=True)), soft_wrap=True)
    return int(code)


def run_async(coro: Awaitable[int]) -> int:
    """Run a command's coroutine; Ctrl-C ends it quietly."""
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return 130


def with_client(args: argparse.Namespace, action: Callable[[RpcClient], Awaitable[int]]) -> int:
    """Connect to the daemon, run `action`, and turn protocol errors into messages and exit codes."""

    async def main() -> int:
        client = RpcClient(socket_path(args))
        try:
            await client.connect()
            return await action(client)
        finally:
            await client.close()

    try:
        return run_async(main())
    except InvalidArguments as exc:
        return fail(str(exc), ExitCode.USAGE)
    except DaemonUnreachable as exc:
        return fail(str(exc), ExitCode.UNREACHABLE)
    except IncompatibleDaemon as exc:
        return fail(str(exc), ExitCode.INCOMPATIBLE)
    except RpcError as exc:
        return fail(exc.message, _RPC_EXIT.get(exc.code, ExitCode.FAILURE))  # type: ignore[call-overload]
    except ArchivedError as exc:
        return fail(str(exc), ExitCode.USAGE if isinstance(exc, ConfigError) else ExitCode.FAILURE)


def human_bytes(value: float | None) -> str:
    """1536 → '1.5 KiB'."""
    if value is None:
        return "unknown"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def human_duration(seconds: float | None) -> str:
    """75 → '1m15s'."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


STATE_STYLES = {
    "completed": "green",
    "failed": "bold red",
    "timed_out": "red",
    "canceled": "yellow",
    "queued": "cyan",
    "recoverable_error": "yellow",
    "error": "red",
}


def state_text(state: str) -> Text:
    """A state with its colour."""
    return data(state, STATE_STYLES.get(state, "blue"))
