"""Socket methods of the course overview: `courses.tree`, `courses.list`, `courses.show`, `courses.refresh`."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from functools import partial
from typing import Any, TypeVar

from archived.errors import ArchivedError
from archived.overview.index import CourseIndex, OverviewNotFound, UnsupportedActivity
from archived.protocol.base import NoParams
from archived.protocol.courses import (
    CoursePage,
    CourseRefParams,
    CourseTree,
    CourseView,
    ListCoursesParams,
    RefreshParams,
    RefreshResult,
)
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import COURSES_LIST, COURSES_REFRESH, COURSES_SHOW, COURSES_TREE
from archived.rpc.method import Call, Method, method, method_with_call

T = TypeVar("T")


def _translated(exc: ArchivedError) -> RpcError:
    if isinstance(exc, OverviewNotFound):
        return RpcError(ErrorCode.NOT_FOUND, str(exc))
    if isinstance(exc, UnsupportedActivity):
        return RpcError(ErrorCode.INVALID_SETTING, str(exc))
    return RpcError(ErrorCode.UPSTREAM_ERROR, f"Moodle: {exc}", {"code": exc.code, "recoverable": exc.recoverable})


async def _answer(work: Awaitable[T]) -> T:
    """The index's answer; its errors as protocol errors (anything else it raises is a Moodle failure)."""
    try:
        return await work
    except ArchivedError as exc:
        raise _translated(exc) from None


async def courses_tree(_: NoParams, *, index: CourseIndex) -> CourseTree:
    """The category tree with course counts."""
    return CourseTree.model_validate(await _answer(index.tree()))


async def courses_list(params: ListCoursesParams, *, index: CourseIndex) -> CoursePage:
    """A page of courses by category, text and badge."""
    page = index.list_courses(
        category_id=params.category_id,
        search=params.search,
        badge=params.badge,
        limit=params.limit,
        offset=params.offset,
    )
    return CoursePage.model_validate(await _answer(page))


async def courses_show(params: CourseRefParams, *, index: CourseIndex) -> CourseView:
    """A course's activities with their badges (read and inspected now if not cached)."""
    return CourseView.model_validate(await _answer(index.show(params.course_id)))


async def courses_refresh(params: RefreshParams, call: Call, *, index: CourseIndex) -> RefreshResult:
    """Ask Moodle again, unless that was done within the cooldown (operators may force it)."""
    cooldown = f"{index.refresh_cooldown:g} s (daemon.overview_refresh_cooldown_seconds)"
    if params.force and not call.may_mutate:  # forcing costs Moodle a round of requests: operators only
        raise RpcError(
            ErrorCode.PERMISSION_DENIED,
            f"user {call.peer.username} (uid {call.peer.uid}) may not force a refresh: not an operator (see "
            f"[access] in the daemon's configuration); without force, Moodle is asked at most once per {cooldown}",
        )
    outcome = await _answer(index.refresh(params.course_id, force=params.force))
    age = max(0, round(time.time() - outcome.at))
    if outcome.fetched:
        message = "fetched from Moodle now"
    else:
        message = (
            f"refreshed {age} s ago; Moodle is asked again once {cooldown} have passed, "
            "or an operator can force it (archived courses refresh --force)"
        )
    return RefreshResult(
        refreshed=outcome.fetched, course_id=params.course_id, at=outcome.at, age_seconds=age, message=message
    )


def overview_methods(index: CourseIndex) -> list[Method[Any, Any]]:
    """The overview's methods, bound to the daemon's course index."""
    return [
        method(COURSES_TREE, partial(courses_tree, index=index)),
        method(COURSES_LIST, partial(courses_list, index=index)),
        method(COURSES_SHOW, partial(courses_show, index=index)),
        method_with_call(COURSES_REFRESH, partial(courses_refresh, index=index)),
    ]
