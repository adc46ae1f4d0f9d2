"""`archived connectors list|status|dead-letters|redeliver ID|test NAME`: the event connectors and their dead
letters."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from archived.cli.common import console, print_json, request_params, wire_text, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.protocol.connectors import (
    ConnectorTestParams,
    DeadLettersParams,
    DeliveryAttempt,
    RedeliverParams,
)
from archived.rpc.client import RpcClient


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `connectors` and its subcommands."""
    connectors = commands.add_parser("connectors", help="event connectors (webhook, mail, command) and dead letters")
    sub = connectors.add_subparsers(dest="connectors_command", required=True, metavar="COMMAND")
    listing = sub.add_parser("list", help="every connector: driver, where it delivers, the events it takes")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    status = sub.add_parser("status", help="every connector's lane: position, delivered, dead letters, last error")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    dead = sub.add_parser("dead-letters", help="events a connector gave up on, newest first")
    dead.add_argument("--connector", help="only this connector")
    dead.add_argument("--limit", type=int, help="at most this many (default 100)")
    dead.add_argument("--json", action="store_true")
    dead.set_defaults(func=cmd_dead_letters)
    redeliver = sub.add_parser("redeliver", help="try a dead letter once more, now (operators)")
    redeliver.add_argument("id", type=int, help="the dead letter's id (first column of dead-letters)")
    redeliver.add_argument("--json", action="store_true")
    redeliver.set_defaults(func=cmd_redeliver)
    test = sub.add_parser(
        "test", help="send a test event, or an outbox event with --event, through a connector (operators)"
    )
    test.add_argument("name", help="the connector, as named in [connectors.NAME]")
    test.add_argument("--event", type=int, help="send this outbox event (e.g. to try a body template); not recorded")
    test.add_argument("--json", action="store_true")
    test.set_defaults(func=cmd_test)


def cmd_list(args: argparse.Namespace) -> int:
    """`connectors list`."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.CONNECTORS_LIST, NoParams())
        if args.json:
            print_json(answer)
            return ExitCode.OK
        if not answer.connectors:
            console.print("no connectors configured (see [connectors.NAME] in docs/connectors.md)")
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("connector", "driver", "delivers to", "events", "courses", "categories"):
            table.add_column(column)
        for c in answer.connectors:
            table.add_row(
                data(c.name), data(c.driver), data(c.target), data(", ".join(c.events)),
                data(", ".join(map(str, c.courses)) or "any"), data(", ".join(map(str, c.categories)) or "any"),
            )  # fmt: skip
        console.print(table)
        return ExitCode.OK

    return with_client(args, action)


def cmd_status(args: argparse.Namespace) -> int:
    """`connectors status`; exit 1 if a connector has dead letters or is retrying an event."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.CONNECTORS_LIST, NoParams())
        if args.json:
            print_json(answer)
        else:
            table = Table(box=None, header_style="bold")
            for column in (
                "connector",
                "position",
                "behind",
                "delivered",
                "last delivered",
                "dead",
                "now",
                "last error",
            ):
                table.add_column(column)
            for c in answer.connectors:
                now = (
                    Text(f"retrying event {c.retrying_event} ({c.attempts} failed)", style="yellow")
                    if c.retrying_event is not None
                    else Text("ok", style="green")
                )
                dead = Text(str(c.dead_letters), style="bold red" if c.dead_letters else "")
                table.add_row(
                    data(c.name), str(c.position if c.position is not None else ""), str(c.pending), str(c.delivered),
                    wire_text(c.last_delivered_at), dead, now, data(c.last_error, newlines=True),
                )  # fmt: skip
            console.print(table)
        troubled = any(c.dead_letters or c.retrying_event is not None for c in answer.connectors)
        return ExitCode.FAILURE if troubled else ExitCode.OK

    return with_client(args, action)


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """`connectors dead-letters`."""

    async def action(client: RpcClient) -> int:
        params = request_params(DeadLettersParams, connector=args.connector, limit=args.limit)
        answer = await client.request(rpc.CONNECTORS_DEAD_LETTERS, params)
        if args.json:
            print_json(answer)
            return ExitCode.OK
        if not answer.dead_letters:
            console.print("no dead letters")
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("id", "connector", "event", "kind", "job", "attempts", "failed", "error"):
            table.add_column(column)
        for d in answer.dead_letters:
            table.add_row(
                str(d.id), data(d.connector), str(d.event_id), data(d.kind), data(d.job_id or ""), str(d.attempts),
                wire_text(d.failed_at), data(d.error, newlines=True),
            )  # fmt: skip
        console.print(table)
        if answer.total > len(answer.dead_letters):
            console.print(f"{len(answer.dead_letters)} of {answer.total} shown (--limit)")
        return ExitCode.OK

    return with_client(args, action)


def _print_attempt(attempt: DeliveryAttempt, as_json: bool, what: str) -> int:
    if as_json:
        print_json(attempt)
    elif attempt.delivered:
        console.print(Text.assemble((f"{what}: delivered", "green"), " ", data(attempt.output, newlines=True)))
    else:
        console.print(Text.assemble((f"{what}: failed", "bold red"), " ", data(attempt.error, newlines=True)))
        if attempt.output:
            console.print(data(attempt.output, newlines=True))
    return ExitCode.OK if attempt.delivered else ExitCode.FAILURE


def cmd_redeliver(args: argparse.Namespace) -> int:
    """`connectors redeliver ID`; exit 1 if it failed again (it stays a dead letter)."""

    async def action(client: RpcClient) -> int:
        attempt = await client.request(rpc.CONNECTORS_REDELIVER, request_params(RedeliverParams, id=args.id))
        return _print_attempt(attempt, args.json, f"event {attempt.event_id} to {attempt.connector}")

    return with_client(args, action)


def cmd_test(args: argparse.Namespace) -> int:
    """`connectors test NAME`; exit 1 if the test event was not delivered."""

    async def action(client: RpcClient) -> int:
        params = request_params(ConnectorTestParams, name=args.name, event_id=args.event)
        attempt = await client.request(rpc.CONNECTORS_TEST, params)
        return _print_attempt(attempt, args.json, f"event {attempt.event_id} to {attempt.connector}")

    return with_client(args, action)
