"""The `schedules.*` methods and `policy.report`: schedules, their runs, and the mandatory rules' breaches."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from archived.protocol import schedules as wire
from archived.protocol.base import NoParams
from archived.protocol.methods import (
    POLICY_REPORT,
    SCHEDULES_ADD,
    SCHEDULES_EDIT,
    SCHEDULES_ENABLE,
    SCHEDULES_LIST,
    SCHEDULES_REMOVE,
    SCHEDULES_RUN,
    SCHEDULES_RUNS,
)
from archived.rpc.method import Method, method


class ScheduleDesk(Protocol):
    """What the methods ask of the daemon's schedules (`archived.schedules.desk`)."""

    async def listing(self) -> wire.ScheduleList: ...

    async def runs_of(self, params: wire.RunsParams) -> wire.RunPage: ...

    async def create(self, params: wire.ScheduleParams) -> wire.ScheduleView: ...

    async def change(self, params: wire.EditScheduleParams) -> wire.ScheduleView: ...

    async def switch(self, params: wire.EnableParams) -> wire.ScheduleView: ...

    async def delete(self, params: wire.ScheduleRef) -> wire.ScheduleList: ...

    async def run_now(self, params: wire.RunParams) -> wire.ScheduleRun: ...

    async def policy_report(self) -> wire.PolicyReport: ...


async def schedules_list(_: NoParams, *, desk: ScheduleDesk) -> wire.ScheduleList:
    """Every schedule with its next run and its last run's outcome."""
    return await desk.listing()


async def policy_report(_: NoParams, *, desk: ScheduleDesk) -> wire.PolicyReport:
    """The allow-list and the breaches of the mandatory rules."""
    return await desk.policy_report()


def schedule_methods(*, desk: ScheduleDesk) -> list[Method[Any, Any]]:
    """`schedules.list`, `schedules.runs`, `policy.report`; for operators adding, changing, removing and running."""
    return [
        method(SCHEDULES_LIST, partial(schedules_list, desk=desk)),
        method(SCHEDULES_RUNS, desk.runs_of),
        method(SCHEDULES_ADD, desk.create),
        method(SCHEDULES_EDIT, desk.change),
        method(SCHEDULES_ENABLE, desk.switch),
        method(SCHEDULES_REMOVE, desk.delete),
        method(SCHEDULES_RUN, desk.run_now),
        method(POLICY_REPORT, partial(policy_report, desk=desk)),
    ]
