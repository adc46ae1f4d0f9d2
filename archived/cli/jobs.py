"""`archived jobs …`: create, list, show, logs, watch, cancel, retry, delete."""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import Any

from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from archived.cli.common import (
    console,
    human_bytes,
    human_duration,
    print_json,
    state_text,
    with_client,
)
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data, visible
from archived.protocol.states import JobState
from archived.rpc.client import RpcClient

TERMINAL = {s.value for s in JobState if s.is_terminal}


def _parse_setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    value: Any = raw
    if raw.startswith(("[", "{")):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(raw)
    return key.strip(), value


def register(commands: argparse._SubParsersAction) -> None:
    """Add `jobs` and its subcommands."""
    jobs = commands.add_parser("jobs", help="create, inspect and manage archive jobs")
    sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")

    create = sub.add_parser("create", help="queue a job that archives one activity")
    create.add_argument("--course", type=int, required=True, help="Moodle course id")
    create.add_argument("--activity", type=int, required=True, help="course module id (cmid) of the activity")
    create.add_argument("--driver", help="activity driver (default: chosen from the activity's type)")
    create.add_argument(
        "--set", dest="settings", action="append", type=_parse_setting, default=[], metavar="KEY=VALUE",
        help="a job setting (repeatable); locked settings are forced by the daemon",
    )  # fmt: skip
    create.add_argument("--wait", action="store_true", help="wait until the job ends, showing progress")
    create.set_defaults(func=cmd_create)

    listing = sub.add_parser("list", help="list jobs, newest first")
    listing.add_argument("--state", action="append", choices=[s.value for s in JobState], help="filter (repeatable)")
    listing.add_argument("--activity", type=int, help="only jobs of this cmid")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--offset", type=int, default=0)
    listing.add_argument("--all", action="store_true", help="include deleted jobs")
    listing.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="a job's details, stage timeline and stored archives")
    show.add_argument("job_id", help="job id or a unique prefix (≥ 4 characters)")
    show.set_defaults(func=cmd_show)

    logs = sub.add_parser("logs", help="a job's log")
    logs.add_argument("job_id")
    logs.add_argument("--level", default="debug", choices=["debug", "info", "warning", "error"])
    logs.add_argument("--limit", type=int, default=200, help="newest N lines (default 200)")
    logs.add_argument("--before", type=int, help="only lines older than this line id (paging back)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.set_defaults(func=cmd_logs)

    watch = sub.add_parser("watch", help="live progress bars of running jobs")
    watch.add_argument("job_ids", nargs="*", help="jobs to watch (default: every active job)")
    watch.set_defaults(func=cmd_watch)

    for name, help_text in (("cancel", "cancel a job"), ("retry", "retry a failed, canceled or timed-out job")):
        action = sub.add_parser(name, help=help_text)
        action.add_argument("job_id")
        action.set_defaults(func=cmd_action, action=name)

    delete = sub.add_parser("delete", help="delete an ended job's stored archives (the job record stays)")
    delete.add_argument("job_id")
    delete.add_argument("--force", action="store_true", help="also delete archives still under retention")
    delete.set_defaults(func=cmd_delete)

    for parser in (create, listing, show, logs, watch, delete, *[sub.choices["cancel"], sub.choices["retry"]]):
        parser.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_create(args: argparse.Namespace) -> int:
    """`jobs create`."""

    async def action(client: RpcClient) -> int:
        params: dict[str, Any] = {"course_id": args.course, "cmid": args.activity, "settings": dict(args.settings)}
        if args.driver:
            params["driver"] = args.driver
        answer = await client.call("jobs.create", params)
        job = answer["job"]
        if args.json and not args.wait:
            print_json(answer)
            return ExitCode.OK
        if not args.json:
            console.print(Text.assemble("job ", data(job["id"], "bold"), " queued (", data(job["driver"]),
                                        f", course {job['course_id']}, activity {job['cmid']})"))  # fmt: skip
            for key in answer["forced"]:
                console.print(data(f"setting {key} is locked by the site preset; your value was ignored", "yellow"))
        if args.wait:
            final = await _watch(client, [job["id"]], quiet=args.json)
            if args.json:
                print_json(final.get(job["id"], job))
            return ExitCode.OK if final.get(job["id"], {}).get("state") == "completed" else ExitCode.FAILURE
        return ExitCode.OK

    return with_client(args, action)


def cmd_list(args: argparse.Namespace) -> int:
    """`jobs list`."""

    async def action(client: RpcClient) -> int:
        params: dict[str, Any] = {"limit": args.limit, "offset": args.offset, "include_deleted": args.all}
        if args.state:
            params["states"] = args.state
        if args.activity:
            params["cmid"] = args.activity
        answer = await client.call("jobs.list", params)
        if args.json:
            print_json(answer)
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("id", "state", "progress", "course", "activity", "initiator", "created", "duration"):
            table.add_column(column)
        for job in answer["jobs"]:
            table.add_row(
                job["id"][:8],
                Text.assemble(state_text(job["state"]), " (deleted)" if job["deleted"] else ""),
                f"{job['progress']:.0f}%",
                data(job["course_name"] or job["course_id"]),
                data(job["activity_name"] or job["cmid"]),
                data(job["initiator"]["name"]),
                (job["created_at"] or "").replace("T", " ").rstrip("Z"),
                human_duration(job["run_seconds"]),
            )
        console.print(table)
        shown = len(answer["jobs"])
        console.print(data(f"{shown} of {answer['total']} job(s)", "dim"))
        return ExitCode.OK

    return with_client(args, action)


def cmd_show(args: argparse.Namespace) -> int:
    """`jobs show`."""

    async def action(client: RpcClient) -> int:
        answer = await client.call("jobs.get", {"job_id": args.job_id})
        if args.json:
            print_json(answer)
            return ExitCode.OK
        job = answer["job"]
        console.print(Text.assemble(("job ", "bold"), data(job["id"], "bold"), "  ", state_text(job["state"]),
                                    f"  {job['progress']:.0f}%  ", data(job["progress_text"])))  # fmt: skip
        console.print(Text.assemble("  activity  ", data(job["activity_name"] or "?"),
                                    f" (cmid {job['cmid']}, driver ", data(job["driver"]), ")"))  # fmt: skip
        console.print(Text.assemble("  course    ", data(job["course_name"] or "?"), f" (id {job['course_id']})"))
        initiator = job["initiator"]
        console.print(Text.assemble("  initiator ", data(initiator["kind"]), " ", data(initiator["name"])))
        times = f"created {job['created_at']}, started {job['started_at'] or '-'}, finished {job['finished_at'] or '-'}"
        console.print(f"  times     {times}, run time {human_duration(job['run_seconds'])}")
        if job["error_message"]:
            error = f"{job['error_code']} in {job['failed_stage']}: {job['error_message']}"
            console.print(Text.assemble(("  error", "red"), "     ", data(error, newlines=True)))
        if job["retries"]:
            console.print(f"  retries   {job['retries']}")
        console.print(Text("timeline", style="bold"))
        for step in answer["timeline"]:
            reason = f"  ({step['reason']})" if step["reason"] else ""
            console.print(Text.assemble(f"  {step['at']}  ", data(step["from"]), " → ", state_text(step["to"]),
                                        data(reason)))  # fmt: skip
        console.print(Text("archives", style="bold"))
        if not answer["artifacts"]:
            console.print("  none built")
        for artifact in answer["artifacts"]:
            _print_artifact(job, artifact)
        return ExitCode.OK

    return with_client(args, action)


def _print_artifact(job: dict[str, Any], artifact: dict[str, Any]) -> None:
    """One archive of `jobs show`: an archive that no target confirmed is "built, not stored", not a stored one."""
    console.print(Text.assemble("  ", data(artifact["name"]), f"  {human_bytes(artifact['size'])}  sha256 ",
                                data(artifact["sha256"])))  # fmt: skip
    if not artifact["locations"]:
        if job["deleted"]:
            why = "no storage target confirmed a copy, and the job was deleted"
        elif job["state"] in TERMINAL:
            why = (f"no storage target confirmed a copy before the job ended {job['state']}; "
                   f"`archived jobs retry {job['id'][:8]}` stores it")  # fmt: skip
        else:
            why = "no storage target has confirmed a copy yet"
        console.print(Text.assemble("    ", ("built, not stored", "bold yellow"), ": ", data(why)))
        return
    console.print(Text.assemble("    retain until ", data(artifact["retain_until"])))
    for loc in artifact["locations"]:
        gone = data(f"  deleted {loc['deleted_at']}", "yellow") if loc["deleted_at"] else ""
        console.print(Text.assemble("    ", data(loc["target"]), ": ", data(loc["location"]),
                                    f"  (verified {loc['stored_at']})", gone))  # fmt: skip


def _print_log(entry: dict[str, Any]) -> None:
    colour = {"error": "red", "warning": "yellow", "debug": "dim"}.get(entry["level"], "")
    console.print(Text.assemble(f"{entry['at']}  ", data(f"{entry['level']:7}", colour), "  ",
                                data(entry["message"], newlines=True)), soft_wrap=True)  # fmt: skip


def cmd_logs(args: argparse.Namespace) -> int:
    """`jobs logs`."""

    async def action(client: RpcClient) -> int:
        params: dict[str, Any] = {"job_id": args.job_id, "limit": args.limit, "min_level": args.level}
        if args.before:
            params["before_id"] = args.before
        if args.follow:
            await client.call("events.subscribe", {"kinds": ["job.log", "job.state"]})
        answer = await client.call("jobs.logs", params)
        entries = list(reversed(answer["entries"]))
        if args.json and not args.follow:
            print_json(answer)
            return ExitCode.OK
        for entry in entries:
            print_json(entry) if args.json else _print_log(entry)
        if args.follow:
            last = entries[-1]["id"] if entries else 0
            levels = ["debug", "info", "warning", "error"]
            async for event in client.events():
                if event.get("job_id") != answer["job_id"]:
                    continue
                if event["kind"] == "job.log" and event["data"]["id"] > last:
                    if levels.index(event["data"]["level"]) >= levels.index(args.level):
                        print_json(event["data"]) if args.json else _print_log(event["data"])
                    last = event["data"]["id"]
                elif event["kind"] == "job.state" and event["data"]["job"]["state"] in TERMINAL:
                    break
        return ExitCode.OK

    return with_client(args, action)


async def _watch(client: RpcClient, job_ids: list[str], *, quiet: bool = False) -> dict[str, dict[str, Any]]:
    """Show progress bars until every watched job ended; returns the final job summaries."""
    await client.call("events.subscribe", {"kinds": ["job.state", "job.progress", "job.created"]})
    states: dict[str, dict[str, Any]] = {}
    follow_all = not job_ids
    if follow_all:
        active = [s.value for s in JobState if not s.is_terminal]
        answer = await client.call("jobs.list", {"states": active, "limit": 1000})
        job_ids = [job["id"] for job in answer["jobs"]]
    for job_id in list(job_ids):
        detail = (await client.call("jobs.get", {"job_id": job_id}))["job"]
        states[detail["id"]] = detail
    job_ids = list(states)
    if not job_ids:
        if not quiet:
            console.print("no active jobs")
        return states
    progress = Progress(  # markup=False: the description is the daemon's progress line
        TextColumn("{task.fields[short]}", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%", markup=False),
        TextColumn("{task.fields[state]}", markup=False),
        TextColumn("{task.description}", markup=False),
        console=console,
        disable=quiet,
        transient=False,
    )
    bars: dict[str, TaskID] = {}

    def ensure(job: dict[str, Any]) -> TaskID:
        if job["id"] not in bars:
            bars[job["id"]] = progress.add_task(
                visible(job.get("progress_text", "")), total=100, completed=job.get("progress", 0),
                short=job["id"][:8], state=job["state"],
            )  # fmt: skip
        return bars[job["id"]]

    with progress:
        for job in states.values():
            ensure(job)
        if all(job["state"] in TERMINAL for job in states.values()) and not follow_all:
            return states
        async for event in client.events():
            job_id = str(event.get("job_id"))
            if event["kind"] == "job.created" and follow_all:
                states[job_id] = event["data"]["job"]
                ensure(states[job_id])
            if job_id not in states:
                continue
            if event["kind"] == "job.progress":
                progress.update(ensure(states[job_id]), completed=event["data"]["progress"],
                                description=visible(event["data"]["text"]))  # fmt: skip
            elif event["kind"] == "job.state":
                job = event["data"]["job"]
                states[job_id] = job
                done = 100 if job["state"] == "completed" else job["progress"]
                progress.update(ensure(job), state=job["state"], completed=done,
                                description=visible(job["progress_text"]))  # fmt: skip
            if all(job["state"] in TERMINAL for job in states.values()):
                break
    if not quiet:
        for job in states.values():
            message = data(f": {job['error_message']}", newlines=True) if job.get("error_message") else ""
            console.print(Text.assemble(f"job {job['id'][:8]} ", state_text(job["state"]), message))
    return states


def cmd_watch(args: argparse.Namespace) -> int:
    """`jobs watch`."""

    async def action(client: RpcClient) -> int:
        final = await _watch(client, args.job_ids, quiet=args.json)
        if args.json:
            print_json(list(final.values()))
        failed = [j for j in final.values() if j["state"] in ("failed", "timed_out")]
        return ExitCode.FAILURE if failed else ExitCode.OK

    return with_client(args, action)


def cmd_action(args: argparse.Namespace) -> int:
    """`jobs cancel` / `jobs retry`."""

    async def action(client: RpcClient) -> int:
        answer = await client.call(f"jobs.{args.action}", {"job_id": args.job_id})
        if args.json:
            print_json(answer)
        else:
            job = answer["job"]
            console.print(Text.assemble("job ", data(job["id"]), " is now ", state_text(job["state"])))
        return ExitCode.OK

    return with_client(args, action)


def cmd_delete(args: argparse.Namespace) -> int:
    """`jobs delete`."""

    async def action(client: RpcClient) -> int:
        answer = await client.call("jobs.delete", {"job_id": args.job_id, "force": args.force})
        if args.json:
            print_json(answer)
        else:
            console.print(Text.assemble("job ", data(answer["job"]["id"]),
                                        f" deleted; removed {len(answer['deleted'])} stored copies:"))  # fmt: skip
            for location in answer["deleted"]:
                console.print(Text.assemble("  ", data(location)))
        return ExitCode.OK

    return with_client(args, action)
