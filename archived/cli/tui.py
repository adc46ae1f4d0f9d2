"""`archived tui`: the terminal UI (a client of the daemon's socket, like the CLI)."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

from rich.text import Text

from archived.cli.common import console, socket_path
from archived.cli.exit_codes import ExitCode


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `tui` (the socket comes from the global --socket / $ARCHIVED_SOCKET / the configuration)."""
    tui = commands.add_parser(
        "tui",
        help="the terminal UI: courses, jobs, progress and storage (works over SSH, 80×24)",
        description="The terminal UI. Keys can be remapped in ~/.config/archived/tui.toml ([keys] table).",
    )
    tui.add_argument(
        "--tui-config",
        metavar="FILE",
        help="TUI settings file (default: $ARCHIVED_TUI_CONFIG or ~/.config/archived/tui.toml)",
    )
    tui.add_argument("--list-keys", action="store_true", help="print every key binding id and its default key")
    tui.set_defaults(func=cmd_tui)


def cmd_tui(args: argparse.Namespace) -> int:
    """Run the TUI until the user quits."""
    # Textual is imported only here, so the other commands start fast.
    from archived_tui.keymap import binding_catalogue
    from archived_tui.settings_file import load_tui_settings

    if args.list_keys:
        for info in binding_catalogue():
            console.print(Text.assemble(f"{info.binding_id:24} {info.key:10} {info.description}  ",
                                        (f"({info.where})", "dim")))  # fmt: skip
        return ExitCode.OK
    from archived_tui.app import ArchivedApp

    settings = load_tui_settings(Path(args.tui_config) if args.tui_config else None)
    app = ArchivedApp(socket_path(args), settings=settings)
    # Keep what start-up imported (Textual, pydantic, the protocol models) out of the collector's passes: a full pass
    # over it is a pause of about 20 ms that a key press or a page of jobs would otherwise wait behind now and then
    # (bench/rpc.py --gc-freeze).
    gc.collect()
    gc.freeze()
    app.run()
    return ExitCode.OK
