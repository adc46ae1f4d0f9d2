"""`archived audit`: the audit trail — who looked up or exported whose data, who deleted an archive early."""

from __future__ import annotations

import argparse
import json

from rich.text import Text

from archived.cli.common import console, print_json, request_params, wire_text, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.audit import AuditParams
from archived.rpc.client import RpcClient


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `audit`."""
    audit = commands.add_parser("audit", help="who looked up or exported whose data, who deleted archives early")
    audit.add_argument("--action", default="", help='only actions starting with this, e.g. "people." or "retention."')
    audit.add_argument("--limit", type=int, default=100)
    audit.add_argument("--details", action="store_true", help="show each record's details")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    """`audit`: newest first."""

    async def action(client: RpcClient) -> int:
        page = await client.request(rpc.AUDIT_LIST, request_params(AuditParams, action=args.action, limit=args.limit))
        if args.json:
            print_json(page)
            return ExitCode.OK
        for entry in page.entries:
            line = Text.assemble(wire_text(entry.at), " ", data(str(entry.actor)), " ", (entry.action, "bold"), " ",
                                 data(entry.subject), ": ", data(entry.outcome))  # fmt: skip
            console.print(line, soft_wrap=True)
            if args.details and entry.details:
                console.print(Text.assemble("  ", data(json.dumps(entry.details, ensure_ascii=False))), soft_wrap=True)
        if not page.entries:
            console.print("no audit records")
        return ExitCode.OK

    return with_client(args, action)
