"""`archived policy report`: the category allow-list and the activities that break a mandatory rule."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from archived.cli.common import console, print_json, wire_text, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.rpc.client import RpcClient


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `policy` and its subcommands."""
    policy = commands.add_parser("policy", help="archiving policies ([policy] in the configuration)")
    sub = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    report = sub.add_parser("report", help="activities that break a mandatory rule, and since when")
    report.add_argument("--json", action="store_true")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """`policy report`; exit 1 if a mandatory rule is broken (usable as a monitoring check)."""

    async def action(client: RpcClient) -> int:
        report = await client.request(rpc.POLICY_REPORT, NoParams())
        if args.json:
            print_json(report)
            return ExitCode.FAILURE if report.breaches else ExitCode.OK
        allowed = ", ".join(map(str, report.allowed_categories)) or "every category"
        console.print(Text.assemble("schedules may select from: ", data(allowed)))
        if not report.rules:
            console.print("no mandatory rules ([[policy.mandatory]] in the configuration)")
        for rule in report.rules:
            console.print(Text.assemble("rule: ", data(rule)))
        for problem in report.problems:
            console.print(Text.assemble(("could not read ", "yellow"), data(problem)))
        if not report.breaches:
            console.print(Text("no activity breaks a mandatory rule", style="green") if report.rules else "")
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("course", "activity", "type", "closed", "overdue since", "state", "rule"):
            table.add_column(column)
        for b in report.breaches:
            table.add_row(
                str(b.course_id), data(f"{b.cmid} {b.name}"), data(b.type), wire_text(b.closed_at),
                wire_text(b.due_at), data(b.badge), data(b.rule),
            )  # fmt: skip
        console.print(table)
        return ExitCode.FAILURE

    return with_client(args, action)
