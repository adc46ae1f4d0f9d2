"""`archived jobs …`: create, list (filter, search, sort), show, logs, watch, cancel, retry, delete, attach — one job by
id, or every job a filter matches after confirming the count."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from archived.cli.common import (
    console,
    err_console,
    fail,
    human_bytes,
    human_duration,
    print_json,
    request_params,
    state_text,
    wire_text,
    with_client,
)
from archived.cli.exit_codes import ExitCode
from archived.cli.moments import moment
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.attachment_upload import FileShrank, send_file, size_and_sha256
from archived.protocol.attachments import AttachParams
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.jobs import (
    LOG_LEVELS,
    Artifact,
    BulkDeleteParams,
    BulkDeleteResult,
    BulkParams,
    BulkResult,
    Completeness,
    CreateJobParams,
    DeleteParams,
    JobDetail,
    JobRef,
    JobSortKey,
    JobSummary,
    ListJobsParams,
    LogEntry,
    LogsParams,
)
from archived.protocol.session import SubscribeParams
from archived.protocol.states import TERMINAL_STATES, JobState
from archived.rpc.client import RpcClient
from archived.terminal_text import visible


def _parse_setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    value: Any = raw
    if raw.startswith(("[", "{")):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(raw)
    return key.strip(), value


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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

    listing = sub.add_parser("list", help="list jobs by filter and search, newest first")
    _add_filters(listing)
    listing.add_argument("--all", action="store_true", help="include deleted jobs")
    listing.add_argument(
        "--sort", choices=[key.value for key in JobSortKey], default=JobSortKey.CREATED.value,
        help="sort by (default: created); jobs with equal values stay in job id order",
    )  # fmt: skip
    listing.add_argument("--ascending", action="store_true", help="smallest (oldest) first")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--offset", type=int, default=0)
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

    for name, help_text in (
        ("cancel", "cancel a job, or every active job a filter matches"),
        ("retry", "retry a failed, canceled or timed-out job, or every such job a filter matches"),
    ):
        action = sub.add_parser(name, help=help_text)
        action.add_argument("job_id", nargs="?", help="a job id or unique prefix; or give a filter instead")
        _add_filters(action)
        _add_confirmation(action)
        action.set_defaults(func=cmd_action, action=name)

    delete = sub.add_parser(
        "delete", help="delete an ended job's stored archives, or those of every job a filter matches (records stay)"
    )
    delete.add_argument("job_id", nargs="?", help="a job id or unique prefix; or give a filter instead")
    _add_filters(delete)
    _add_confirmation(delete)
    delete.add_argument("--force", action="store_true", help="also delete archives still under retention")
    delete.set_defaults(func=cmd_delete, action="delete")

    attach = sub.add_parser(
        "attach", help="add files (seating plans, signed protocols) to a job before it is packed: data/operator/"
    )
    attach.add_argument("job_id", help="job id or a unique prefix (≥ 4 characters)")
    attach.add_argument("files", nargs="+", metavar="FILE", help="files to add (read as you, sent over the socket)")
    attach.add_argument("--note", default="", help="what the files are; kept with them in the archive")
    attach.set_defaults(func=cmd_attach)

    for parser in (create, listing, show, logs, watch, delete, attach, *[sub.choices["cancel"], sub.choices["retry"]]):
        parser.add_argument("--json", action="store_true", help="machine-readable output")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    """The options that choose jobs (`jobs list` and the commands that act on every matching job)."""
    states = [s.value for s in JobState]
    parser.add_argument("--state", action="append", choices=states, help="only jobs in this state (repeatable)")
    parser.add_argument(
        "--error", action="append", metavar="CODE", help="only jobs that failed with this error code (repeatable)"
    )
    parser.add_argument("--course", type=int, metavar="ID", help="only jobs of this Moodle course")
    parser.add_argument("--activity", type=int, metavar="CMID", help="only jobs of this activity (course module id)")
    parser.add_argument(
        "--since", type=moment, metavar="TIME",
        help="only jobs created since: an age (30m, 2h, 3d, 1w) or a date/time (2026-12-01T08:00, local time)",
    )  # fmt: skip
    parser.add_argument("--until", type=moment, metavar="TIME", help="only jobs created before this time")
    parser.add_argument(
        "--search", metavar="TEXT",
        help="text in the course or activity name, error code or initiator, or the start of the job id",
    )  # fmt: skip


def _add_confirmation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes", "-y", action="store_true",
        help="act on every matching job without asking (needed when stdin is not a terminal)",
    )  # fmt: skip


def _filter_values(args: argparse.Namespace) -> dict[str, Any]:
    """The filter the options give, as `JobFilter` values (None: not given)."""
    return {
        "states": args.state or None,
        "error_codes": args.error or None,
        "course_id": args.course,
        "cmid": args.activity,
        "created_since": args.since,
        "created_until": args.until,
        "search": args.search,
        "include_deleted": getattr(args, "all", False) or None,
    }


def _describe_filter(args: argparse.Namespace) -> str:
    """The filter in words, e.g. `state failed, error moodle_access_denied, course 12`."""
    parts = []
    if args.state:
        parts.append("state " + " or ".join(args.state))
    if args.error:
        parts.append("error " + " or ".join(args.error))
    if args.course is not None:
        parts.append(f"course {args.course}")
    if args.activity is not None:
        parts.append(f"activity {args.activity}")
    if args.since is not None:
        parts.append(f"created since {wire_text(args.since)}")
    if args.until is not None:
        parts.append(f"created before {wire_text(args.until)}")
    if args.search:
        parts.append(f"search {args.search!r}")
    return ", ".join(parts)


def cmd_create(args: argparse.Namespace) -> int:
    """`jobs create`."""

    async def action(client: RpcClient) -> int:
        params = request_params(
            CreateJobParams, course_id=args.course, cmid=args.activity, driver=args.driver or None,
            settings=dict(args.settings),
        )  # fmt: skip
        answer = await client.request(rpc.JOBS_CREATE, params)
        job = answer.job
        if args.json and not args.wait:
            print_json(answer)
            return ExitCode.OK
        if not args.json:
            console.print(Text.assemble("job ", data(job.id, "bold"), " queued (", data(job.driver),
                                        f", course {job.course_id}, activity {job.cmid})"))  # fmt: skip
            for key in answer.forced:
                level = answer.locked_by.get(key, "site")
                preset = "the site preset" if level == "site" else f"the preset of {level}"
                console.print(data(f"setting {key} is locked by {preset}; your value was ignored", "yellow"))
        if args.wait:
            final = await _watch(client, [job.id], quiet=args.json)
            last = final.get(job.id, job)
            if args.json:
                print_json(last)
            return ExitCode.OK if last.state is JobState.COMPLETED else ExitCode.FAILURE
        return ExitCode.OK

    return with_client(args, action)


def cmd_list(args: argparse.Namespace) -> int:
    """`jobs list`."""

    async def action(client: RpcClient) -> int:
        params = request_params(
            ListJobsParams, limit=args.limit, offset=args.offset or None, sort=args.sort,
            descending=not args.ascending, **_filter_values(args),
        )  # fmt: skip
        answer = await client.request(rpc.JOBS_LIST, params)
        if args.json:
            print_json(answer)
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("id", "state", "progress", "course", "activity", "initiator", "created", "duration", "error"):
            table.add_column(column)
        for job in answer.jobs:
            table.add_row(
                job.id[:8],
                Text.assemble(state_text(job.state), " (deleted)" if job.deleted else ""),
                f"{job.progress:.0f}%",
                data(job.course_name or job.course_id),
                data(job.activity_name or job.cmid),
                data(job.initiator.name),
                wire_text(job.created_at).replace("T", " ").rstrip("Z"),
                human_duration(job.run_seconds),
                data(job.error_code or ""),
            )
        console.print(table)
        console.print(data(f"{len(answer.jobs)} of {answer.total} job(s)", "dim"))
        return ExitCode.OK

    return with_client(args, action)


def cmd_show(args: argparse.Namespace) -> int:
    """`jobs show`."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.JOBS_GET, request_params(JobRef, job_id=args.job_id))
        if args.json:
            print_json(answer)
            return ExitCode.OK
        job = answer.job
        console.print(Text.assemble(("job ", "bold"), data(job.id, "bold"), "  ", state_text(job.state),
                                    f"  {job.progress:.0f}%  ", data(job.progress_text)))  # fmt: skip
        console.print(Text.assemble("  activity  ", data(job.activity_name or "?"),
                                    f" (cmid {job.cmid}, driver ", data(job.driver), ")"))  # fmt: skip
        console.print(Text.assemble("  course    ", data(job.course_name or "?"), f" (id {job.course_id})"))
        console.print(Text.assemble("  initiator ", data(job.initiator.kind), " ", data(job.initiator.name)))
        presets = job.settings.get("presets")
        if isinstance(presets, dict) and presets.get("applied"):  # jobs created before presets were recorded: none
            console.print(Text.assemble("  presets   ", data(", ".join(map(str, presets["applied"])))))
        times = (f"created {wire_text(job.created_at, 'None')}, started {wire_text(job.started_at, '-')}, "
                 f"finished {wire_text(job.finished_at, '-')}")  # fmt: skip
        console.print(f"  times     {times}, run time {human_duration(job.run_seconds)}")
        if job.error_message:
            stage = job.failed_stage.value if job.failed_stage else None
            error = f"{job.error_code} in {stage}: {job.error_message}"
            console.print(Text.assemble(("  error", "red"), "     ", data(error, newlines=True)))
        if job.retries:
            console.print(f"  retries   {job.retries}")
        if answer.completeness is not None:
            for line in completeness_lines(answer.completeness):
                console.print(line)
        console.print(Text("timeline", style="bold"))
        for step in answer.timeline:
            reason = f"  ({step.reason})" if step.reason else ""
            console.print(Text.assemble(f"  {wire_text(step.at)}  ", data(step.from_state), " → ",
                                        state_text(step.to_state), data(reason)))  # fmt: skip
        console.print(Text("archives", style="bold"))
        if not answer.artifacts:
            console.print("  none built")
        for artifact in answer.artifacts:
            _print_artifact(job, artifact)
        return ExitCode.OK

    return with_client(args, action)


def completeness_lines(completeness: Completeness) -> list[Text]:
    """The archive's completeness in a line or two: what was checked and found, then what was not (by name)."""
    verdict = ("complete", "green") if completeness.complete else ("INCOMPLETE", "bold red")
    lines = [Text.assemble("  checked   ", verdict, ": ", data(completeness.counts))]
    if completeness.gaps:
        label = "not checked" if completeness.complete else "incomplete"
        lines.append(Text.assemble(f"  {label}: ", data("; ".join(completeness.gaps), "yellow")))
    return lines


def _print_artifact(job: JobDetail, artifact: Artifact) -> None:
    """One archive of `jobs show`: an archive that no target confirmed is "built, not stored", not a stored one."""
    console.print(Text.assemble("  ", data(artifact.name), f"  {human_bytes(artifact.size)}  sha256 ",
                                data(artifact.sha256)))  # fmt: skip
    if not artifact.locations:
        if job.deleted:
            why = "no storage target confirmed a copy, and the job was deleted"
        elif job.state in TERMINAL_STATES:
            why = (f"no storage target confirmed a copy before the job ended {job.state}; "
                   f"`archived jobs retry {job.id[:8]}` stores it")  # fmt: skip
        else:
            why = "no storage target has confirmed a copy yet"
        console.print(Text.assemble("    ", ("built, not stored", "bold yellow"), ": ", data(why)))
        return
    console.print(Text.assemble("    retain until ", data(wire_text(artifact.retain_until, "None"))))
    if artifact.pending:
        console.print(Text.assemble("    copies ", copies_line(artifact)))
    for loc in artifact.locations:
        gone = data(f"  deleted {wire_text(loc.deleted_at)}", "yellow") if loc.deleted_at else ""
        console.print(Text.assemble("    ", data(loc.target), ": ", data(loc.location),
                                    f"  (verified {wire_text(loc.stored_at, 'None')})", gone))  # fmt: skip


def copies_line(artifact: Artifact) -> Text:
    """`local ✓, ftp pending: retry 3 in 9m58s, connection refused`: the copies that exist and those still retried."""
    parts = [Text.assemble(data(loc.target), (" ✓", "green")) for loc in artifact.locations if loc.deleted_at is None]
    now = datetime.now(UTC)
    for copy in artifact.pending:
        wait = max(0.0, (copy.next_try_at - now).total_seconds()) if copy.next_try_at else 0.0
        parts.append(Text.assemble(data(copy.target), (" pending", "yellow"),
                                   f": retry {copy.attempts + 1} in {human_duration(wait)}, ",
                                   data(copy.last_error)))  # fmt: skip
    return Text(", ").join(parts)


def _print_log(entry: LogEntry) -> None:
    colour = {"error": "red", "warning": "yellow", "debug": "dim"}.get(entry.level, "")
    console.print(Text.assemble(f"{wire_text(entry.at)}  ", data(f"{entry.level:7}", colour), "  ",
                                data(entry.message, newlines=True)), soft_wrap=True)  # fmt: skip


def cmd_logs(args: argparse.Namespace) -> int:
    """`jobs logs`."""

    async def action(client: RpcClient) -> int:
        params = request_params(
            LogsParams, job_id=args.job_id, limit=args.limit, min_level=args.level, before_id=args.before or None
        )
        if args.follow:
            await client.request(rpc.EVENTS_SUBSCRIBE, SubscribeParams(kinds=["job.log", "job.state"]))
        answer = await client.request(rpc.JOBS_LOGS, params)
        entries = list(reversed(answer.entries))
        if args.json and not args.follow:
            print_json(answer)
            return ExitCode.OK
        for entry in entries:
            print_json(entry) if args.json else _print_log(entry)
        if args.follow:
            last = entries[-1].id if entries else 0
            wanted = set(LOG_LEVELS[LOG_LEVELS.index(args.level) :])
            async for event in client.events():
                if event.get("job_id") != answer.job_id:
                    continue
                if event["kind"] == "job.log":
                    line = LogEntry.model_validate(event["data"])
                    if line.id > last:
                        if line.level in wanted:
                            print_json(line) if args.json else _print_log(line)
                        last = line.id
                elif event["kind"] == "job.state" and _summary(event).state in TERMINAL_STATES:
                    break
        return ExitCode.OK

    return with_client(args, action)


def _summary(event: dict[str, Any]) -> JobSummary:
    """The job summary a job event carries."""
    return JobSummary.model_validate(event["data"]["job"])


async def _watch(client: RpcClient, job_ids: list[str], *, quiet: bool = False) -> dict[str, JobSummary]:
    """Show progress bars until every watched job ended; returns the final job summaries."""
    await client.request(rpc.EVENTS_SUBSCRIBE, SubscribeParams(kinds=["job.state", "job.progress", "job.created"]))
    states: dict[str, JobSummary] = {}
    follow_all = not job_ids
    if follow_all:
        active = [s for s in JobState if not s.is_terminal]
        answer = await client.request(rpc.JOBS_LIST, ListJobsParams(states=active, limit=1000))
        job_ids = [job.id for job in answer.jobs]
    for job_id in list(job_ids):
        detail = (await client.request(rpc.JOBS_GET, request_params(JobRef, job_id=job_id))).job
        states[detail.id] = detail
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

    def ensure(job: JobSummary) -> TaskID:
        if job.id not in bars:
            bars[job.id] = progress.add_task(
                visible(job.progress_text), total=100, short=job.id[:8], state=job.state.value
            )
            progress.update(bars[job.id], completed=job.progress)
        return bars[job.id]

    with progress:
        for job in states.values():
            ensure(job)
        if all(job.state in TERMINAL_STATES for job in states.values()) and not follow_all:
            return states
        async for event in client.events():
            job_id = str(event.get("job_id"))
            if event["kind"] == "job.created" and follow_all:
                states[job_id] = _summary(event)
                ensure(states[job_id])
            if job_id not in states:
                continue
            if event["kind"] == "job.progress":
                progress.update(ensure(states[job_id]), completed=event["data"]["progress"],
                                description=visible(event["data"]["text"]))  # fmt: skip
            elif event["kind"] == "job.state":
                job = _summary(event)
                states[job_id] = job
                done = 100 if job.state is JobState.COMPLETED else job.progress
                progress.update(ensure(job), state=job.state.value, completed=done,
                                description=visible(job.progress_text))  # fmt: skip
            if all(job.state in TERMINAL_STATES for job in states.values()):
                break
    if not quiet:
        for job in states.values():
            message = data(f": {job.error_message}", newlines=True) if job.error_message else ""
            console.print(Text.assemble(f"job {job.id[:8]} ", state_text(job.state), message))
    return states


def cmd_watch(args: argparse.Namespace) -> int:
    """`jobs watch`."""

    async def action(client: RpcClient) -> int:
        final = await _watch(client, args.job_ids, quiet=args.json)
        if args.json:
            print_json([job.model_dump(mode="json") for job in final.values()])
        failed = [j for j in final.values() if j.state in (JobState.FAILED, JobState.TIMED_OUT)]
        return ExitCode.FAILURE if failed else ExitCode.OK

    return with_client(args, action)


def cmd_action(args: argparse.Namespace) -> int:
    """`jobs cancel` / `jobs retry`: one job by id, or every job a filter matches."""
    if args.job_id is None or _describe_filter(args):
        return _act_on_matching(args)

    async def action(client: RpcClient) -> int:
        spec = rpc.JOBS_CANCEL if args.action == "cancel" else rpc.JOBS_RETRY
        answer = await client.request(spec, request_params(JobRef, job_id=args.job_id))
        if args.json:
            print_json(answer)
        else:
            console.print(Text.assemble("job ", data(answer.job.id), " is now ", state_text(answer.job.state)))
        return ExitCode.OK

    return with_client(args, action)


def cmd_delete(args: argparse.Namespace) -> int:
    """`jobs delete`: one job by id, or every job a filter matches."""
    if args.job_id is None or _describe_filter(args):
        return _act_on_matching(args)

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.JOBS_DELETE, request_params(DeleteParams, job_id=args.job_id,
                                                                       force=args.force))  # fmt: skip
        if args.json:
            print_json(answer)
        else:
            console.print(Text.assemble("job ", data(answer.job.id),
                                        f" deleted; removed {len(answer.deleted)} stored copies:"))  # fmt: skip
            for location in answer.deleted:
                console.print(Text.assemble("  ", data(location)))
        return ExitCode.OK

    return with_client(args, action)


def cmd_attach(args: argparse.Namespace) -> int:
    """`jobs attach`: send each file over the socket in chunks; the daemon checks it and adds it to the job."""
    paths = [Path(name) for name in args.files]
    for path in paths:
        if not path.is_file():
            return fail(f"{path}: not a readable file", ExitCode.USAGE)

    async def action(client: RpcClient) -> int:
        added = []
        for path in paths:
            size, sha256 = await asyncio.to_thread(size_and_sha256, path)
            params = request_params(AttachParams, job_id=args.job_id, name=path.name, size=size, sha256=sha256,
                                    note=args.note)  # fmt: skip
            try:
                file = await send_file(client, params, path)
            except FileShrank as exc:
                return fail(str(exc))
            added.append(file)
            if not args.json:
                console.print(Text.assemble("added ", data(file.path), f" ({human_bytes(file.size)}) to job ",
                                            data(file.job_id)))  # fmt: skip
        if args.json:
            print_json({"files": [file.model_dump(mode="json") for file in added]})
        return ExitCode.OK

    return with_client(args, action)


_DONE = {"retry": "retried", "cancel": "canceled", "delete": "deleted the archives of"}


def _act_on_matching(args: argparse.Namespace) -> int:
    """`jobs retry|cancel|delete` with a filter: count the matching jobs, confirm the count (or `--yes`), then act
    on them in one request that the daemon refuses if the filter matches more jobs by then."""
    described = _describe_filter(args)
    if args.job_id is not None:
        return fail(f"give a job id or a filter ({described}), not both", ExitCode.USAGE)
    if not described:
        return fail(
            f"jobs {args.action}: give a job id, or a filter (--state, --error, --course, --activity, --since, "
            "--until, --search) to act on every job it matches",
            ExitCode.USAGE,
        )
    values = _filter_values(args)
    # Messages go to stderr with --json, so that stdout holds the answer alone.
    say = err_console if args.json else console
    counted: list[int] = []

    async def count(client: RpcClient) -> int:
        page = await client.request(rpc.JOBS_LIST, request_params(ListJobsParams, limit=1, **values))
        counted.append(page.total)
        return ExitCode.OK

    code = with_client(args, count)
    if code != ExitCode.OK:
        return code
    [total] = counted
    if total == 0:
        if args.json:
            print_json(BulkResult(matched=0, acted=0))
        say.print(data(f"no job matches {described}; nothing to {args.action}"))
        return ExitCode.OK
    say.print(data(f"{total} job(s) match {described}"))
    if not args.yes:
        if not sys.stdin.isatty():
            return fail(
                f"not going to {args.action} {total} job(s) unasked: stdin is not a terminal to confirm on; "
                "add --yes to confirm",
                ExitCode.USAGE,
            )
        try:
            answer = input(f"{args.action} all {total}? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            say.print("nothing done")
            return ExitCode.FAILURE

    async def act(client: RpcClient) -> int:
        result: BulkResult
        try:
            if args.action == "delete":
                params = request_params(BulkDeleteParams, expected=total, force=args.force, **values)
                deleted = await client.request(rpc.JOBS_DELETE_MATCHING, params)
                result = deleted
            else:
                spec = rpc.JOBS_RETRY_MATCHING if args.action == "retry" else rpc.JOBS_CANCEL_MATCHING
                result = await client.request(spec, request_params(BulkParams, expected=total, **values))
        except RpcError as exc:
            if exc.code != ErrorCode.MORE_MATCHES:
                raise
            return fail(f"{exc.message} (run the command again to see and confirm them)", ExitCode.REFUSED)
        if args.json:
            print_json(result)
            return ExitCode.OK
        line = f"{_DONE[args.action]} {result.acted} of {result.matched} matching job(s)"
        if isinstance(result, BulkDeleteResult):
            line += f"; removed {result.deleted_copies} stored copies"
        console.print(data(line))
        for group in result.skipped:
            shown = " ".join(job_id[:8] for job_id in group.job_ids[:5])
            more = f" and {len(group.job_ids) - 5} more" if len(group.job_ids) > 5 else ""
            console.print(Text.assemble(f"  skipped {len(group.job_ids)}: ", data(group.reason, "yellow"), "  ",
                                        data(shown + more, "dim")))  # fmt: skip
        return ExitCode.OK

    return with_client(args, act)
