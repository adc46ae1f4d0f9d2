"""`archived courses list|show|refresh`: the course overview kept by the daemon."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from archived.cli.common import console, print_json, request_params, wire_text, with_client
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.protocol.courses import Activity, Badge, CourseRefParams, ListCoursesParams, RefreshParams
from archived.rpc.client import RpcClient

# badge: (label, style); `{at}` is the date of the last archive
BADGES: dict[Badge, tuple[str, str]] = {
    "archived": ("archived {at}", "green"),
    "changed": ("changed since {at}", "yellow"),
    "never": ("never archived", "cyan"),
    "unsupported": ("unsupported", "dim"),
    "not_ready": ("not ready", "dim"),
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `courses`."""
    courses = commands.add_parser("courses", help="the course overview: what can be archived, what changed")
    sub = courses.add_subparsers(dest="courses_command", required=True, metavar="COMMAND")
    listing = sub.add_parser("list", help="courses, optionally by category or text")
    listing.add_argument("--category", type=int, help="category id (subcategories included)")
    listing.add_argument("--search", help="text in the course name, short name or id")
    listing.add_argument("--badge", choices=sorted(BADGES), help="only courses with an activity of this badge")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="a course's activities with their badges")
    show.add_argument("course_id", type=int)
    show.set_defaults(func=cmd_show)
    refresh = sub.add_parser("refresh", help="fetch the overview from Moodle again")
    refresh.add_argument("course_id", type=int, nargs="?", help="only this course's activities")
    refresh.add_argument("--force", action="store_true", help="ask Moodle even within the cooldown (operators only)")
    refresh.set_defaults(func=cmd_refresh)
    tree = sub.add_parser("tree", help="the category tree")
    tree.set_defaults(func=cmd_tree)
    for parser in (listing, show, refresh, tree):
        parser.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_list(args: argparse.Namespace) -> int:
    """`courses list`."""

    async def action(client: RpcClient) -> int:
        params = request_params(
            ListCoursesParams, limit=args.limit, offset=args.offset, category_id=args.category, search=args.search,
            badge=args.badge,
        )  # fmt: skip
        answer = await client.request(rpc.COURSES_LIST, params)
        if args.json:
            print_json(answer)
            return ExitCode.OK
        table = Table(box=None, header_style="bold")
        for column in ("id", "short name", "name", "category", "activities"):
            table.add_column(column)
        for course in answer.courses:
            count = "" if course.activity_count is None else str(course.activity_count)
            table.add_row(str(course.id), data(course.shortname), data(course.fullname), data(course.category_name),
                          count)  # fmt: skip
        console.print(table)
        as_of = wire_text(answer.refreshed_at, "None")
        console.print(data(f"{len(answer.courses)} of {answer.total} course(s), as of {as_of}", "dim"))
        return ExitCode.OK

    return with_client(args, action)


def badge_text(activity: Activity) -> Text:
    """The badge of an activity, coloured."""
    at = wire_text(activity.last_archive.at) if activity.last_archive else ""
    label, style = BADGES[activity.badge]
    text = data(label.replace("{at}", at[:10]), style)
    if activity.badge in ("unsupported", "not_ready") and activity.reason:
        text.append_text(data(f" ({activity.reason})", "dim"))
    return text


def cmd_show(args: argparse.Namespace) -> int:
    """`courses show`."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.COURSES_SHOW, request_params(CourseRefParams, course_id=args.course_id))
        if args.json:
            print_json(answer)
            return ExitCode.OK
        course = answer.course
        console.print(Text.assemble(data(course.fullname, "bold"), " (", data(course.shortname),
                                    f", id {course.id}) in ", data(course.category_name)))  # fmt: skip
        if answer.error:
            console.print(data(f"some activities could not be inspected: {answer.error}", "yellow"))
        table = Table(box=None, header_style="bold")
        for column in ("cmid", "type", "name", "status"):
            table.add_column(column)
        for activity in answer.activities:
            table.add_row(str(activity.cmid), data(activity.modname), data(activity.name), badge_text(activity))
        console.print(table)
        return ExitCode.OK

    return with_client(args, action)


def cmd_refresh(args: argparse.Namespace) -> int:
    """`courses refresh`."""

    async def action(client: RpcClient) -> int:
        params = request_params(RefreshParams, course_id=args.course_id or None, force=args.force or None)
        answer = await client.request(rpc.COURSES_REFRESH, params)
        if args.json:
            print_json(answer)
        else:
            # Within the cooldown the daemon answers from what it fetched before; its message says which.
            where = f" for course {args.course_id}" if args.course_id else ""
            console.print(f"overview{where}: {answer.message or 'refreshed'}")
        return ExitCode.OK

    return with_client(args, action)


def cmd_tree(args: argparse.Namespace) -> int:
    """`courses tree`."""

    async def action(client: RpcClient) -> int:
        answer = await client.request(rpc.COURSES_TREE, NoParams())
        if args.json:
            print_json(answer)
            return ExitCode.OK
        for category in answer.categories:
            indent = "  " * (max(1, category.depth) - 1)
            console.print(Text.assemble(
                indent, data(category.name), (f" (id {category.id}, {category.course_count} courses)", "dim")
            ))  # fmt: skip
        return ExitCode.OK

    return with_client(args, action)
