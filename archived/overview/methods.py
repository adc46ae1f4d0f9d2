"""Socket methods of the course overview: `courses.tree`, `courses.list`, `courses.show`, `courses.refresh`."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from archived.daemon.services import DaemonServices
from archived.errors import ArchivedError
from archived.overview.index import OverviewNotFound, UnsupportedActivity
from archived.rpc.protocol import ErrorCode, RpcError
from archived.rpc.server import Call, Method


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListCoursesParams(_Params):
    """`courses.list`."""

    category_id: int | None = None
    search: str | None = None
    badge: Literal["archived", "changed", "never", "unsupported", "not_ready"] | None = None
    limit: int = Field(100, ge=1, le=5000)
    offset: int = Field(0, ge=0)


class CourseRefParams(_Params):
    """`courses.show`."""

    course_id: int


class RefreshParams(_Params):
    """`courses.refresh`: everything, or one course's activities; `force` (operators only) skips the cooldown."""

    course_id: int | None = None
    force: bool = False


def _translated(exc: ArchivedError) -> RpcError:
    if isinstance(exc, OverviewNotFound):
        return RpcError(ErrorCode.NOT_FOUND, str(exc))
    if isinstance(exc, UnsupportedActivity):
        return RpcError(ErrorCode.INVALID_SETTING, str(exc))
    return RpcError(ErrorCode.UPSTREAM_ERROR, f"Moodle: {exc}", {"code": exc.code, "recoverable": exc.recoverable})


def overview_methods(services: DaemonServices) -> dict[str, Method]:
    """The overview's methods, bound to the daemon's index."""
    index = services.overview

    async def tree(_: Any, call: Call) -> dict[str, Any]:
        try:
            return dict(await index.tree())
        except ArchivedError as exc:
            raise _translated(exc) from None

    async def list_courses(params: ListCoursesParams, call: Call) -> dict[str, Any]:
        try:
            return dict(
                await index.list_courses(
                    category_id=params.category_id,
                    search=params.search,
                    badge=params.badge,
                    limit=params.limit,
                    offset=params.offset,
                )
            )
        except ArchivedError as exc:
            raise _translated(exc) from None

    async def show(params: CourseRefParams, call: Call) -> dict[str, Any]:
        try:
            return dict(await index.show(params.course_id))
        except ArchivedError as exc:
            raise _translated(exc) from None

    async def refresh(params: RefreshParams, call: Call) -> dict[str, Any]:
        cooldown = f"{index.refresh_cooldown:g} s (daemon.overview_refresh_cooldown_seconds)"
        if params.force and not call.may_mutate:  # forcing costs Moodle a round of requests: operators only
            raise RpcError(
                ErrorCode.PERMISSION_DENIED,
                f"user {call.peer.username} (uid {call.peer.uid}) may not force a refresh: not an operator (see "
                f"[access] in the daemon's configuration); without force, Moodle is asked at most once per {cooldown}",
            )
        try:
            outcome = await index.refresh(params.course_id, force=params.force)
        except ArchivedError as exc:
            raise _translated(exc) from None
        age = max(0, round(time.time() - outcome.at))
        if outcome.fetched:
            message = "fetched from Moodle now"
        else:
            message = (
                f"refreshed {age} s ago; Moodle is asked again once {cooldown} have passed, "
                "or an operator can force it (archived courses refresh --force)"
            )
        return {
            "refreshed": outcome.fetched,
            "course_id": params.course_id,
            "at": outcome.at,
            "age_seconds": age,
            "message": message,
        }

    table = [
        Method("courses.tree", tree, description="the category tree with course counts"),
        Method("courses.list", list_courses, ListCoursesParams, description="courses by category, text, badge"),
        Method("courses.show", show, CourseRefParams, description="a course's activities and their badges"),
        Method("courses.refresh", refresh, RefreshParams, description="fetch the overview from Moodle again"),
    ]
    return {method.name: method for method in table}
