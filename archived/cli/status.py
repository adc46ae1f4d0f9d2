"""`archived status`, `archived storage status`, `archived settings DRIVER`: the daemon at a glance."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from archived.cli.common import console, human_bytes, human_duration, print_json, request_params, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.protocol.drivers import DriverRef
from archived.protocol.storage import StorageStatusParams
from archived.rpc.client import RpcClient


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `status`, `storage status` and `settings`."""
    status = commands.add_parser("status", help="daemon version, uptime, jobs, Moodle")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    storage = commands.add_parser("storage", help="storage targets")
    sub = storage.add_subparsers(dest="storage_command", required=True, metavar="COMMAND")
    st = sub.add_parser("status", help="every target: reachability, latency, free space, probe, archives stored")
    st.add_argument("--no-probe", action="store_true", help="do not run the write/read/delete probe")
    st.add_argument("--target", help="only this target")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_storage_status)

    settings = commands.add_parser("settings", help="the settings of an activity driver, with presets and locks")
    settings.add_argument("driver", help="e.g. quiz")
    settings.add_argument(
        "--course", type=int, default=None, metavar="ID", help="with the presets and locks of this course's categories"
    )
    settings.add_argument("--json", action="store_true")
    settings.set_defaults(func=cmd_settings)


def cmd_status(args: argparse.Namespace) -> int:
    """`status`."""

    async def action(client: RpcClient) -> int:
        status = await client.request(rpc.DAEMON_STATUS, NoParams())
        if args.json:
            print_json(status)
            return ExitCode.OK
        uptime = human_duration(status.uptime_seconds)
        draining = ("  draining", "yellow") if status.draining else ""
        console.print(Text.assemble(f"archived {status.version} (pid {status.pid}), up {uptime}", draining))
        counts = ", ".join(f"{state} {n}" for state, n in sorted(status.jobs.items())) or "none"
        console.print(f"jobs: {status.running} running; all: {counts}")
        console.print(f"drivers: {', '.join(status.drivers) or 'none'}; targets: {', '.join(status.targets)}")
        store = status.store
        if not store.writable:
            console.print(Text.assemble(("store: cannot be written", "bold red"), " ", data(store.problem or "")))
        moodle = status.moodle
        if moodle:
            reach = (
                Text("reachable", style="green")
                if moodle.reachable
                else Text.assemble(("unreachable", "red"), " ", data(moodle.error or "", newlines=True))
            )
            console.print(Text.assemble("moodle: ", data(f"{moodle.url} {moodle.release or ''}"), " ", reach))
        return ExitCode.OK

    return with_client(args, action)


def cmd_storage_status(args: argparse.Namespace) -> int:
    """`storage status`; exit 1 if a probed target is unreachable."""

    async def action(client: RpcClient) -> int:
        params = request_params(StorageStatusParams, probe=not args.no_probe, target=args.target or None)
        answer = await client.request(rpc.STORAGE_STATUS, params)
        if args.json:
            print_json(answer)
        else:
            table = Table(box=None, header_style="bold")
            for column in ("target", "driver", "tier", "status", "latency", "free", "archives", "stored", "message"):
                table.add_column(column)
            for t in answer.targets:
                state = Text("") if args.no_probe else (Text("ok", style="green") if t.healthy else
                                                        Text("failing", style="red"))  # fmt: skip
                latency = f"{t.latency_ms:.1f} ms" if t.latency_ms is not None else ""
                table.add_row(
                    data(t.name), data(t.driver), data(t.tier), state, latency, human_bytes(t.free_bytes),
                    f"{t.archives} (+{t.pending_copies} pending)" if t.pending_copies else str(t.archives),
                    human_bytes(t.bytes), data(t.message, newlines=True),
                )  # fmt: skip
            console.print(table)
        if args.no_probe:
            return ExitCode.OK
        return ExitCode.OK if all(t.healthy for t in answer.targets) else ExitCode.FAILURE

    return with_client(args, action)


def cmd_settings(args: argparse.Namespace) -> int:
    """`settings DRIVER`."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(
            rpc.SETTINGS_DESCRIBE, request_params(DriverRef, driver=args.driver, course_id=args.course)
        )
        if args.json:
            print_json(answer)
            return ExitCode.OK
        if args.course is not None:
            console.print(Text.assemble(f"course {args.course}: presets ", data(", ".join(answer.presets))))
        table = Table(box=None, header_style="bold")
        for column in ("setting", "value", "default", "locked", "description"):
            table.add_column(column)
        for s in answer.settings:
            table.add_row(
                data(s.key), data(repr(s.value)), data(repr(s.default)), _lock(s.locked_by) if s.locked else "",
                data(s.description),
            )  # fmt: skip
        console.print(table)
        return ExitCode.OK

    return with_client(args, action)


def _lock(locked_by: str | None) -> Text:
    """🔒, and the preset that locks the setting unless it is the site's."""
    return Text.assemble("🔒", data(f" {locked_by}" if locked_by and locked_by != "site" else ""))
