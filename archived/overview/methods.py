"""Socket methods of the course overview: `courses.tree`, `courses.list`, `courses.show`, `courses.refresh`."""

from __future__ import annotations

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
    """`courses.refresh`: everything, or one course's activities."""

    course_id: int | None = None


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
        try:
            refreshed = await index.refresh(params.course_id)
        except ArchivedError as exc:
            raise _translated(exc) from None
        return {"refreshed": True, "course_id": params.course_id, "at": refreshed}

    table = [
        Method("courses.tree", tree, description="the category tree with course counts"),
        Method("courses.list", list_courses, ListCoursesParams, description="courses by category, text, badge"),
        Method("courses.show", show, CourseRefParams, description="a course's activities and their badges"),
        Method("courses.refresh", refresh, RefreshParams, description="fetch the overview from Moodle again"),
    ]
    return {method.name: method for method in table}
