"""`archived schedules list|add|edit|enable|disable|remove|run-now|dry-run|runs`: unattended archiving."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from rich.text import Text

from archived.cli.common import console, fail, print_json, request_params, wire_text, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.protocol.schedules import (
    EditScheduleParams,
    EnableParams,
    RunParams,
    RunsParams,
    ScheduleParams,
    ScheduleRef,
    ScheduleRun,
    ScheduleView,
    SelectionRule,
)
from archived.rpc.client import RpcClient


def _rule_options(parser: argparse.ArgumentParser, *, editing: bool) -> None:
    """The selection rule's options (in `edit`, an option given replaces that part of the rule)."""
    parser.add_argument("--category", type=int, action="append", help="a course category, subcategories included")
    parser.add_argument("--course", type=int, action="append", help="a course id (repeat for several)")
    parser.add_argument("--type", action="append", help="an activity type such as quiz or assign (repeat)")
    parser.add_argument("--closed-days", type=float, help="only activities closed (or due) at least this many days")
    parser.add_argument(
        "--changed-only",
        action=argparse.BooleanOptionalAction if editing else "store_true",
        default=None,
        help="only activities never archived or changed since their last archive",
    )
    parser.add_argument("--max-jobs", type=int, help="at most this many jobs per run")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `schedules` and its subcommands."""
    schedules = commands.add_parser("schedules", help="schedules that create archive jobs on their own")
    sub = schedules.add_subparsers(dest="schedules_command", required=True, metavar="COMMAND")
    listing = sub.add_parser("list", help="every schedule: cron, rule, next run, last run and its outcome")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    add = sub.add_parser(
        "add",
        help="a new schedule (operators)",
        description='e.g. archived schedules add nightly --cron "0 2 * * mon-fri" --tz Europe/Berlin --course 2 '
        "--type quiz --closed-days 1 --changed-only",
    )
    add.add_argument("name")
    add.add_argument("--cron", required=True, help='five crontab fields, days of week by name: "0 2 * * mon-fri"')
    add.add_argument("--tz", help="the time zone the cron times are in (default UTC), e.g. Europe/Berlin")
    _rule_options(add, editing=False)
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_add)
    edit = sub.add_parser("edit", help="change a schedule's cron, time zone or rule (operators)")
    edit.add_argument("name")
    edit.add_argument("--cron")
    edit.add_argument("--tz")
    _rule_options(edit, editing=True)
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(func=cmd_edit)
    for verb, enabled in (("enable", True), ("disable", False)):
        toggle = sub.add_parser(verb, help=f"{verb} a schedule (operators)")
        toggle.add_argument("name")
        toggle.add_argument("--json", action="store_true")
        toggle.set_defaults(func=cmd_enable, enabled=enabled)
    remove = sub.add_parser("remove", help="delete a schedule; its runs stay readable (operators)")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_remove)
    for verb, dry in (("run-now", False), ("dry-run", True)):
        what = "list what it would select, creating nothing" if dry else "run it now and create its jobs"
        run = sub.add_parser(verb, help=f"{what} (operators)")
        run.add_argument("name")
        run.add_argument("--json", action="store_true")
        run.set_defaults(func=cmd_run, dry_run=dry)
    runs = sub.add_parser("runs", help="a schedule's runs: what each selected, what it skipped and why")
    runs.add_argument("name")
    runs.add_argument("--limit", type=int, help="at most this many runs (default 20)")
    runs.add_argument("--details", action="store_true", help="every selected and skipped activity of each run")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=cmd_runs)


def _rule_values(args: argparse.Namespace) -> dict[str, Any]:
    values = {
        "categories": args.category, "courses": args.course, "types": args.type, "closed_days": args.closed_days,
        "changed_only": args.changed_only, "max_jobs": args.max_jobs,
    }  # fmt: skip
    return {key: value for key, value in values.items() if value is not None}


def describe_rule(rule: SelectionRule) -> str:
    """A rule in a few words: "courses 2; quiz; closed ≥ 1 d; changed only"."""
    parts = []
    if rule.categories:
        parts.append("categories " + ", ".join(map(str, rule.categories)))
    if rule.courses:
        parts.append("courses " + ", ".join(map(str, rule.courses)))
    if not rule.categories and not rule.courses:
        parts.append("every course")
    parts.append(", ".join(rule.types) or "every type")
    if rule.closed_days is not None:
        parts.append(f"closed ≥ {rule.closed_days:g} d")
    if rule.changed_only:
        parts.append("never archived or changed")
    if rule.max_jobs is not None:
        parts.append(f"≤ {rule.max_jobs} jobs")
    return "; ".join(parts)


def _print_schedule(view: ScheduleView) -> None:
    state = "enabled" if view.enabled else "disabled"
    console.print(Text.assemble(("schedule ", "bold"), data(view.name), f" ({state})"))
    console.print(Text.assemble("  cron ", data(view.cron), " in ", data(view.timezone)))
    console.print(Text.assemble("  rule ", data(describe_rule(view.rule))))
    console.print(f"  next run {wire_text(view.next_run_at, '-')}")


def cmd_list(args: argparse.Namespace) -> int:
    """`schedules list`."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.SCHEDULES_LIST, NoParams())
        if args.json:
            print_json(answer)
            return ExitCode.OK
        if not answer.schedules:
            console.print("no schedules (archived schedules add NAME --cron … adds one)")
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("schedule", "on", "cron", "zone", "rule", "next run", "last run", "outcome"):
            table.add_column(column)
        for s in answer.schedules:
            table.add_row(
                data(s.name), "yes" if s.enabled else "no", data(s.cron), data(s.timezone), data(describe_rule(s.rule)),
                wire_text(s.next_run_at, "-"), wire_text(s.last_run_at, "never"), data(s.last_outcome),
            )  # fmt: skip
        console.print(table)
        return ExitCode.OK

    return with_client(args, action)


def cmd_add(args: argparse.Namespace) -> int:
    """`schedules add NAME --cron …`."""

    async def action(client: RpcClient) -> int:
        rule = request_params(SelectionRule, **_rule_values(args))
        params = request_params(
            ScheduleParams, name=args.name, cron=args.cron, timezone=args.tz, rule=rule, enabled=not args.disabled
        )
        view = await client.request(rpc.SCHEDULES_ADD, params)
        print_json(view) if args.json else _print_schedule(view)
        return ExitCode.OK

    return with_client(args, action)


def cmd_edit(args: argparse.Namespace) -> int:
    """`schedules edit NAME …`: options left out keep their values."""

    async def action(client: RpcClient) -> int:
        changes = _rule_values(args)
        rule = None
        if changes:
            current = next((s for s in (await client.request(rpc.SCHEDULES_LIST, NoParams())).schedules
                            if s.name == args.name), None)  # fmt: skip
            if current is None:
                return fail(f"no schedule named {args.name!r} (archived schedules list shows them)", ExitCode.NOT_FOUND)
            rule = request_params(SelectionRule, **{**current.rule.model_dump(exclude_unset=False), **changes})
        params = request_params(EditScheduleParams, name=args.name, cron=args.cron, timezone=args.tz, rule=rule)
        view = await client.request(rpc.SCHEDULES_EDIT, params)
        print_json(view) if args.json else _print_schedule(view)
        return ExitCode.OK

    return with_client(args, action)


def cmd_enable(args: argparse.Namespace) -> int:
    """`schedules enable|disable NAME`."""

    async def action(client: RpcClient) -> int:
        view = await client.request(rpc.SCHEDULES_ENABLE, EnableParams(name=args.name, enabled=args.enabled))
        print_json(view) if args.json else _print_schedule(view)
        return ExitCode.OK

    return with_client(args, action)


def cmd_remove(args: argparse.Namespace) -> int:
    """`schedules remove NAME`."""

    async def action(client: RpcClient) -> int:
        await client.request(rpc.SCHEDULES_REMOVE, ScheduleRef(name=args.name))
        console.print(Text.assemble("schedule ", data(args.name), " removed (its runs stay: archived schedules runs)"))
        return ExitCode.OK

    return with_client(args, action)


def print_run(run: ScheduleRun, *, details: bool = True) -> None:
    """A run's header line, and with `details` what it selected and skipped."""
    style = "bold red" if run.error else "bold"
    console.print(
        Text.assemble((f"run {run.id}", style), f" {wire_text(run.started_at)} ({run.trigger}) ", data(run.outcome))
    )
    if not details:
        return
    for s in run.selected:
        job = f"job {s.job_id}" if s.job_id else ("no job: " + s.error if s.error else "")
        console.print(Text.assemble("  + ", data(f"course {s.course_id} {s.type} {s.cmid} {s.name}"), "  ", data(job)))
    for k in run.skipped:
        what = f"course {k.course_id}" + (f" {k.type} {k.cmid} {k.name}" if k.cmid is not None else "")
        console.print(Text.assemble("  - ", data(what), "  ", (k.reason, "yellow"), " ", data(k.detail)))


def cmd_run(args: argparse.Namespace) -> int:
    """`schedules run-now|dry-run NAME`; exit 1 if the run failed or a selected activity got no job."""

    async def action(client: RpcClient) -> int:
        run = await client.request(rpc.SCHEDULES_RUN, RunParams(name=args.name, dry_run=args.dry_run))
        print_json(run) if args.json else print_run(run)
        failed = bool(run.error) or any(s.error for s in run.selected)
        return ExitCode.FAILURE if failed else ExitCode.OK

    return with_client(args, action)


def cmd_runs(args: argparse.Namespace) -> int:
    """`schedules runs NAME`."""

    async def action(client: RpcClient) -> int:
        page = await client.request(rpc.SCHEDULES_RUNS, request_params(RunsParams, name=args.name, limit=args.limit))
        if args.json:
            print_json(page)
            return ExitCode.OK
        if not page.runs:
            console.print(Text.assemble("schedule ", data(args.name), " has not run yet"))
        for run in page.runs:
            print_run(run, details=args.details)
        return ExitCode.OK

    return with_client(args, action)
