"""`archived retention run|delete|tombstones`: delete stored archives whose retention is over, one job's archives
early (forced, audited), and what remains of deleted archives."""

from __future__ import annotations

import argparse

from rich.text import Text

from archived.cli.common import console, human_bytes, print_json, request_params, wire_text, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.retention import RetentionDeleteParams, RetentionResult, RetentionRunParams, TombstonesParams
from archived.rpc.client import RpcClient

_MARKS = {"deleted": ("deleted", "green"), "would_delete": ("would delete", "yellow"),
          "locked": ("kept (WORM lock)", "yellow"), "failed": ("kept (failed)", "red")}  # fmt: skip


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `retention run`, `retention delete` and `retention tombstones`."""
    retention = commands.add_parser("retention", help="delete archives whose retention is over; tombstones")
    sub = retention.add_subparsers(dest="retention_command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="delete every archive past its retain-until date from every target now")
    run.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=cmd_run)

    delete = sub.add_parser("delete", help="delete one job's archives from every target (early: --force, audited)")
    delete.add_argument("job_id", metavar="JOB", help="job id or a unique prefix")
    delete.add_argument("--force", action="store_true", help="delete before the retain-until date (audited)")
    delete.add_argument("--reason", default="", help="why (kept in the tombstones and the audit trail)")
    delete.add_argument("--dry-run", action="store_true")
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(func=cmd_delete)

    tombstones = sub.add_parser("tombstones", help="what remains of deleted archives, newest first")
    tombstones.add_argument("--job", dest="job_id", help="only this job's")
    tombstones.add_argument("--limit", type=int, default=100)
    tombstones.add_argument("--json", action="store_true")
    tombstones.set_defaults(func=cmd_tombstones)


def _print_result(result: RetentionResult) -> int:
    if not result.copies:
        console.print("no stored archive is past its retain-until date")
        return ExitCode.OK
    for copy in result.copies:
        word, style = _MARKS[copy.outcome]
        until = wire_text(copy.retain_until, "forever")
        line = Text.assemble((word, style), " ", data(copy.archive), " on ", data(copy.target), " (",
                             data(copy.location), f", retained until {until})")  # fmt: skip
        if copy.detail:
            line.append_text(Text.assemble(": ", data(copy.detail)))
        console.print(line, soft_wrap=True)
    verb = "would delete" if result.dry_run else "deleted"
    console.print(f"{verb} {result.deleted or sum(c.outcome == 'would_delete' for c in result.copies)} cop(ies); "
                  f"{result.locked} kept by a WORM lock; {result.failed} failed")  # fmt: skip
    return ExitCode.OK if not result.failed else ExitCode.FAILURE


def cmd_run(args: argparse.Namespace) -> int:
    """`retention run`."""

    async def action(client: RpcClient) -> int:
        result = await client.request(rpc.RETENTION_RUN, request_params(RetentionRunParams, dry_run=args.dry_run))
        if args.json:
            print_json(result)
            return ExitCode.OK if not result.failed else ExitCode.FAILURE
        return _print_result(result)

    return with_client(args, action)


def cmd_delete(args: argparse.Namespace) -> int:
    """`retention delete`."""

    async def action(client: RpcClient) -> int:
        params = request_params(RetentionDeleteParams, job_id=args.job_id, force=args.force, reason=args.reason,
                                dry_run=args.dry_run)  # fmt: skip
        result = await client.request(rpc.RETENTION_DELETE, params)
        if args.json:
            print_json(result)
            return ExitCode.OK if not (result.failed or result.locked) else ExitCode.FAILURE
        code = _print_result(result)
        return code if not result.locked else ExitCode.FAILURE

    return with_client(args, action)


def cmd_tombstones(args: argparse.Namespace) -> int:
    """`retention tombstones`."""

    async def action(client: RpcClient) -> int:
        page = await client.request(rpc.RETENTION_TOMBSTONES, request_params(TombstonesParams, job_id=args.job_id,
                                                                              limit=args.limit))  # fmt: skip
        if args.json:
            print_json(page)
            return ExitCode.OK
        for stone in page.tombstones:
            forced = Text(" FORCED", style="bold red") if stone.forced else ""
            console.print(Text.assemble(wire_text(stone.deleted_at), forced, " ", data(stone.object), " on ",
                                        data(stone.target), f" ({human_bytes(stone.size)}, sha256 ",
                                        data(stone.sha256), ") job ", data(stone.job_id), " by ", data(str(stone.by)),
                                        ": ", data(stone.reason)), soft_wrap=True)  # fmt: skip
        if not page.tombstones:
            console.print("no tombstones")
        return ExitCode.OK

    return with_client(args, action)
