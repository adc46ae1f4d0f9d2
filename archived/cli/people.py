"""`archived people find|export`: GDPR requests — every stored archive holding one person's data, and a ZIP of only
that person's files taken from those archives (verified on the way). Both are audited by the daemon."""

from __future__ import annotations

import argparse
from pathlib import Path

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
from archived.protocol.archives import ArchiveTransfer
from archived.protocol.people import PeopleExportParams, PeopleFindParams, UnsearchedArchive
from archived.rpc.client import RpcClient

KEYS = ("any", "id", "username", "idnumber")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `people find` and `people export`."""
    people = commands.add_parser("people", help="GDPR requests: which archives hold a person's data; export it")
    sub = people.add_subparsers(dest="people_command", required=True, metavar="COMMAND")
    find = sub.add_parser("find", help="every stored archive holding this person's data (audited)")
    find.add_argument("person", metavar="ID|USERNAME|IDNUMBER", help="Moodle user id, username or ID number")
    find.add_argument("--by", choices=KEYS, default="any", help="which of them PERSON is (default: any that matches)")
    find.add_argument("--json", action="store_true")
    find.set_defaults(func=cmd_find)

    export = sub.add_parser("export", help="a ZIP of only this person's files from every archive (audited)")
    export.add_argument("person", metavar="ID|USERNAME|IDNUMBER", help="Moodle user id, username or ID number")
    export.add_argument("--by", choices=KEYS, default="any", help="which of them PERSON is (default: any that matches)")
    export.add_argument("--to", type=Path, required=True, metavar="FILE", help="the ZIP to write (never over a file)")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_export)


def _warn_unsearched(unsearched: list[UnsearchedArchive], what: str) -> None:
    for item in unsearched:
        err_console.print(Text.assemble((f"{what}: ", "bold yellow"), data(item.archive), " (job ", data(item.job_id),
                                        "): ", data(item.reason)), soft_wrap=True)  # fmt: skip


def cmd_find(args: argparse.Namespace) -> int:
    """`people find`: exit 0 when every archive could be searched, 1 when some could not (listed)."""

    async def action(client: RpcClient) -> int:
        result = await client.request(rpc.PEOPLE_FIND, request_params(PeopleFindParams, query=args.person, key=args.by))
        code = ExitCode.OK if not result.unsearched else ExitCode.FAILURE
        if args.json:
            print_json(result)
            return code
        if not result.matches:
            console.print(Text.assemble("no stored archive holds data of ", data(args.person)))
        else:
            table = Table(box=None, pad_edge=False)
            for column in ("archive", "job", "course / activity", "person", "attempts", "matched", "retained until"):
                table.add_column(column)
            for match in result.matches:
                person = f"{match.userid} {match.username} {match.idnumber} {match.firstname} {match.lastname}"
                table.add_row(data(match.archive), data(match.job_id[:8]),
                              data(f"{match.course_name} / {match.activity_name}"), data(" ".join(person.split())),
                              str(match.attempts), match.matched, wire_text(match.retain_until, "forever"))  # fmt: skip
            console.print(table)
            console.print(f"{len(result.matches)} archive(s) hold this person's data")
        _warn_unsearched(result.unsearched, "not searched")
        return code

    return with_client(args, action)


def cmd_export(args: argparse.Namespace) -> int:
    """`people export`: exit 0 when every archive holding the person's data is in the export, 1 when some are not."""
    to: Path = args.to
    try:
        check_destination(destination(to, "person.zip"))  # before the daemon reads any archive
    except DownloadRefused as exc:
        return fail(str(exc), ExitCode.USAGE)

    async def action(client: RpcClient) -> int:
        params = request_params(PeopleExportParams, query=args.person, key=args.by)
        result = await client.request(rpc.PEOPLE_EXPORT, params)
        transfer = ArchiveTransfer(
            transfer_id=result.transfer_id, job_id="", name=result.name, size=result.size, sha256=result.sha256,
            target="", location="", chunk_bytes=result.chunk_bytes,
        )  # fmt: skip
        try:
            written = await download_archive(client, transfer, destination(to, result.name))
        except DownloadRefused as exc:
            return fail(str(exc))
        code = ExitCode.OK if not result.not_exported else ExitCode.FAILURE
        if args.json:
            print_json({"path": str(written), **result.model_dump(mode="json", exclude={"transfer_id"})})
            return code
        for archive in result.archives:
            console.print(Text.assemble(("  ✓ ", "green"), data(archive.archive), f": {archive.files} file(s) from ",
                                        data(archive.target), " (verified, sha256 ", data(archive.sha256),
                                        ")"))  # fmt: skip
        _warn_unsearched(result.not_exported, "NOT exported")
        console.print(Text.assemble(("exported ", "bold green"), f"user {result.userid}'s data from "
                                    f"{len(result.archives)} archive(s) ({human_bytes(result.size)}) to ",
                                    data(str(written))))  # fmt: skip
        return code

    return with_client(args, action)
