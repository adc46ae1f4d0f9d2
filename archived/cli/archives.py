"""`archived archives …`: list the stored archives, and get one back from a storage target, verified."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from archived.cli.common import (
    console,
    err_console,
    fail,
    human_bytes,
    print_json,
    request_params,
    wire_text,
    with_client,
)
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.archive_download import DownloadRefused, check_destination, destination, download_archive
from archived.protocol.archives import ArchiveSummary, GetArchiveParams, ListArchivesParams
from archived.protocol.renewal import RetimestampParams
from archived.rpc.client import RpcClient


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `archives` and its subcommands."""
    archives = commands.add_parser("archives", help="list stored archives and get them back from storage")
    sub = archives.add_subparsers(dest="archives_command", required=True, metavar="COMMAND")

    listing = sub.add_parser("list", help="stored archives, newest first, with their copies on each target")
    listing.add_argument("--course", type=int, help="only archives of this Moodle course id")
    listing.add_argument("--activity", type=int, metavar="CMID", help="only archives of this course module id")
    listing.add_argument("--target", metavar="NAME", help="only archives with a copy on this storage target")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--offset", type=int, default=0)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)

    get = sub.add_parser(
        "get", help="fetch an archive from a target that holds it, verify it and write it to a new file"
    )
    get.add_argument("archive", metavar="ARCHIVE", help="the archive's file name, or its job id (or a prefix ≥ 4)")
    get.add_argument("--to", type=Path, required=True, metavar="PATH", help="a new file, or a folder to put it in")
    get.add_argument("--from", dest="from_target", metavar="TARGET", help="take it from this storage target only")
    get.add_argument("--json", action="store_true", help="machine-readable output")
    get.set_defaults(func=cmd_get)

    renew = sub.add_parser(
        "retimestamp", help="renew archives' timestamps (a new timestamp over the newest), stored next to each archive"
    )
    renew.add_argument(
        "--before",
        type=utc_date,
        metavar="DATE",
        help="only archives whose newest timestamp holds until before DATE (YYYY-MM-DD; default: all)",
    )
    renew.add_argument("--job", dest="job_id", metavar="JOB", help="only this job's archive")
    renew.add_argument("--dry-run", action="store_true", help="only say which archives would be renewed")
    renew.add_argument("--json", action="store_true", help="machine-readable output")
    renew.set_defaults(func=cmd_retimestamp)


def utc_date(text: str) -> datetime:
    """A `--before` date: YYYY-MM-DD (midnight UTC) or an ISO 8601 moment."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2030-01-31") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_retimestamp(args: argparse.Namespace) -> int:
    """`archives retimestamp`: exit 0 when every archive due was renewed and stored everywhere, 1 otherwise."""

    async def action(client: RpcClient) -> int:
        params = request_params(RetimestampParams, before=args.before, job_id=args.job_id, dry_run=args.dry_run)
        result = await client.request(rpc.ARCHIVES_RETIMESTAMP, params)
        code = ExitCode.OK if not result.failed else ExitCode.FAILURE
        if args.json:
            print_json(result)
            return code
        for item in result.archives:
            style = {"renewed": "green", "would_renew": "yellow", "failed": "red"}.get(item.outcome, "dim")
            line = Text.assemble((item.outcome.replace("_", " "), style), " ", data(item.archive))
            if item.outcome in ("renewed", "would_renew", "not_due"):
                until = wire_text(item.holds_until)
                line.append_text(Text.assemble(f" (ts-{item.number} at {wire_text(item.gen_time)} by ",
                                               data(item.authority), f", holds until {until})"))  # fmt: skip
            if item.detail:
                line.append_text(Text.assemble(": ", data(item.detail)))
            console.print(line, soft_wrap=True)
            for stored in item.stored:
                console.print(Text.assemble("  stored ", data(stored)))
        console.print(f"{result.renewed} renewed, {result.failed} failed, {len(result.archives)} archive(s) looked at")
        return code

    return with_client(args, action)


def copies_text(archive: ArchiveSummary) -> Text:
    """`local ✓, worm ✓, ftp pending (3 tries)`."""
    parts: list[Text] = [Text.assemble(data(c.target), (" ✓", "green")) for c in archive.copies]
    parts += [Text.assemble(data(p.target), (" pending", "yellow"), f" ({p.attempts} tries)") for p in archive.pending]
    return Text(", ").join(parts)


def cmd_list(args: argparse.Namespace) -> int:
    """`archives list`."""

    async def action(client: RpcClient) -> int:
        params = request_params(
            ListArchivesParams, course_id=args.course, cmid=args.activity, target=args.target, limit=args.limit,
            offset=args.offset,
        )  # fmt: skip
        answer = await client.request(rpc.ARCHIVES_LIST, params)
        if args.json:
            print_json(answer)
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("job", "archive", "size", "course", "activity", "created", "copies"):
            table.add_column(column)
        for archive in answer.archives:
            table.add_row(
                archive.job_id[:8],
                data(archive.name),
                human_bytes(archive.size),
                data(archive.course_name or archive.course_id),
                data(archive.activity_name or archive.cmid),
                wire_text(archive.created_at).replace("T", " ").rstrip("Z"),
                copies_text(archive),
            )
        console.print(table)
        console.print(data(f"{len(answer.archives)} of {answer.total} archive(s)", "dim"))
        return ExitCode.OK

    return with_client(args, action)


def _show_progress(progress: Progress, bar: TaskID, done: int, _total: int) -> None:
    progress.update(bar, completed=done)


def cmd_get(args: argparse.Namespace) -> int:
    """`archives get`: exit 0 once a verified copy is written, 1 when no target delivered one."""
    to: Path = args.to
    if not to.is_dir():
        try:
            check_destination(to)  # before the daemon fetches anything
        except DownloadRefused as exc:
            return fail(str(exc), ExitCode.USAGE)

    async def action(client: RpcClient) -> int:
        params = request_params(GetArchiveParams, archive=args.archive, from_target=args.from_target)
        transfer = await client.request(rpc.ARCHIVES_GET, params)
        # A bar on a terminal only: in a pipe or with --json the output stays what scripts read.
        progress = Progress(TextColumn("reading", markup=False), BarColumn(), DownloadColumn(), console=err_console,
                            disable=args.json or not err_console.is_terminal, transient=True)  # fmt: skip
        bar = progress.add_task("reading", total=transfer.size)
        try:
            with progress:
                shown = partial(_show_progress, progress, bar)
                written = await download_archive(client, transfer, destination(to, transfer.name), on_progress=shown)
        except DownloadRefused as exc:
            return fail(str(exc))
        if args.json:
            print_json({"path": str(written), **transfer.model_dump(mode="json", exclude={"transfer_id"})})
            return ExitCode.OK
        for refused in transfer.refused:
            console.print(Text.assemble(("  not from ", "yellow"), data(refused.target), ": ", data(refused.reason)))
        size = human_bytes(transfer.size)
        console.print(Text.assemble(("retrieved ", "bold green"), data(transfer.name), " from ", data(transfer.target),
                                    f" ({size}, sha256 ", data(transfer.sha256), ")"))  # fmt: skip
        for check in transfer.checks:
            console.print(Text.assemble(("  ✓ ", "green"), data(check)))
        console.print(Text.assemble("written to ", data(str(written))))
        return ExitCode.OK

    return with_client(args, action)
