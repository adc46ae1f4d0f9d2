"""The schedules as the socket methods see them: protocol models in, protocol models out."""

from __future__ import annotations

from archived.protocol import schedules as wire
from archived.schedules.service import ScheduleService, run_view


class ScheduleDesk:
    """Serves `schedules.*` and `policy.report` from the daemon's `ScheduleService`."""

    def __init__(self, service: ScheduleService) -> None:
        self.service = service

    async def listing(self) -> wire.ScheduleList:
        """Every schedule."""
        return await self.service.listing()

    async def runs_of(self, params: wire.RunsParams) -> wire.RunPage:
        """A schedule's runs (also of a removed one), newest first."""
        return await self.service.runs(params.name, params.limit)

    async def create(self, params: wire.ScheduleParams) -> wire.ScheduleView:
        """Add a schedule."""
        return await self.service.view(await self.service.add(params))

    async def change(self, params: wire.EditScheduleParams) -> wire.ScheduleView:
        """Edit a schedule."""
        return await self.service.view(await self.service.edit(params))

    async def switch(self, params: wire.EnableParams) -> wire.ScheduleView:
        """Enable or disable a schedule."""
        return await self.service.view(await self.service.enable(params.name, params.enabled))

    async def delete(self, params: wire.ScheduleRef) -> wire.ScheduleList:
        """Remove a schedule; answers the schedules left."""
        await self.service.remove(params.name)
        return await self.service.listing()

    async def run_now(self, params: wire.RunParams) -> wire.ScheduleRun:
        """Run a schedule now, or dry-run it."""
        trigger = wire.RunTrigger.DRY_RUN if params.dry_run else wire.RunTrigger.RUN_NOW
        return run_view(await self.service.run(params.name, trigger=trigger))

    async def policy_report(self) -> wire.PolicyReport:
        """The policy report."""
        return await self.service.report()
