"""Housekeeping on the daemon's tick: the retention sweep of delivered events and job log lines, so that the store
stays bounded on a server that runs for years (`[retention]`), the hourly sweep of stored archives whose
retention is over (`archived.retention.sweep`), and reading newly stored archives into the people index
(`archived.people.index`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from archived.config import RetentionConfig
from archived.store.database import Database, StoreUnwritable
from archived.store.events import EventOutbox
from archived.store.log_retention import sweep_job_logs

log = logging.getLogger("archived.housekeeping")

DAY = 86_400.0
ARCHIVE_SWEEP_SECONDS = 3600.0  # stored archives expire by the day: an hourly look is soon enough


@dataclass(frozen=True)
class SweepReport:
    """What one retention sweep deleted."""

    events: int = 0
    debug_lines: int = 0
    info_lines: int = 0


class Housekeeping:
    """Runs the retention sweep every `sweep_interval_minutes` (the first at the first tick), in the background so
    that the daemon's tick (watchdog, status) never waits for it."""

    def __init__(
        self,
        config: RetentionConfig,
        *,
        outbox: EventOutbox,
        delivered_up_to: Callable[[], int | None],
        clock: Callable[[], float] = time.time,
        archive_sweep: Callable[[], Awaitable[object]] | None = None,
        people_index: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.config = config
        self._archive_sweep = archive_sweep
        self._people_index = people_index
        self._people_task: asyncio.Task[None] | None = None
        self._last_archive_sweep: float | None = None
        self._archive_task: asyncio.Task[None] | None = None
        self.outbox = outbox
        self._delivered_up_to = delivered_up_to
        self._clock = clock
        self._last_sweep: float | None = None
        self._task: asyncio.Task[SweepReport | None] | None = None

    def tick(self) -> None:
        """Start a sweep if one is due and none is running."""
        now = self._clock()
        self._tick_archives(now)
        self._tick_people()
        if self._task is not None and not self._task.done():
            return
        if self.outbox.db.problem is not None:
            return  # the store's disk is full or failing: sweep once it can be written again
        if self._last_sweep is not None and now - self._last_sweep < self.config.sweep_interval_minutes * 60:
            return
        self._last_sweep = now
        self._task = asyncio.create_task(self._sweep_logged(now), name="retention-sweep")

    def _tick_archives(self, now: float) -> None:
        if self._archive_sweep is None or self.outbox.db.problem is not None:
            return
        if self._archive_task is not None and not self._archive_task.done():
            return
        if self._last_archive_sweep is not None and now - self._last_archive_sweep < ARCHIVE_SWEEP_SECONDS:
            return
        self._last_archive_sweep = now
        self._archive_task = asyncio.create_task(
            self._archives_logged(self._archive_sweep, "the retention sweep of stored archives"),
            name="archive-retention",
        )

    def _tick_people(self) -> None:
        """Read newly stored archives into the people index soon (connectors' templates wait for it)."""
        if self._people_index is None or self.outbox.db.problem is not None:
            return
        if self._people_task is not None and not self._people_task.done():
            return
        self._people_task = asyncio.create_task(
            self._archives_logged(self._people_index, "reading new archives into the people index"), name="people-index"
        )

    async def _archives_logged(self, sweep: Callable[[], Awaitable[object]], what: str) -> None:
        try:
            await sweep()
        except StoreUnwritable:
            pass  # reported by `archived status`; a later tick tries again
        except Exception:
            log.exception("%s failed; it is tried again later", what)

    async def _sweep_logged(self, now: float) -> SweepReport | None:
        try:
            report = await self.sweep(now)
        except StoreUnwritable:
            return None  # the store's problem is reported by `archived status`; the next tick tries again
        except Exception:
            log.exception("the retention sweep failed; it runs again in %g min", self.config.sweep_interval_minutes)
            return None
        if report != SweepReport():
            log.info(
                "retention: deleted %d delivered event(s), %d debug and %d info job log line(s)",
                report.events,
                report.debug_lines,
                report.info_lines,
            )
        return report

    async def sweep(self, now: float | None = None) -> SweepReport:
        """Delete what is past its retention at `now` (default: the clock's now)."""
        now = self._clock() if now is None else now
        config = self.config
        events = debug = info = 0
        delivered = self._delivered_up_to()
        if config.delivered_events_days and delivered is not None:
            events = await self.outbox.sweep_delivered(
                before=now - config.delivered_events_days * DAY, delivered_up_to=delivered
            )
        if config.debug_log_days:
            debug = await sweep_job_logs(self.outbox.db, level="debug", before=now - config.debug_log_days * DAY)
        if config.info_log_days:
            info = await sweep_job_logs(self.outbox.db, level="info", before=now - config.info_log_days * DAY)
        return SweepReport(events, debug, info)

    async def close(self) -> None:
        """Stop a running sweep (each deleted chunk is committed on its own; the next start goes on)."""
        for task in (self._task, self._archive_task, self._people_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class PendingCopySweep:
    """Tries the pending copies of optional storage targets on every tick (`archived.jobs.copy_catchup`: each copy
    waits out its own backoff), in the background so that the tick never waits for a slow target."""

    def __init__(self, sweep: Callable[[], Awaitable[object]], *, db: Database) -> None:
        self._sweep = sweep
        self._db = db
        self._task: asyncio.Task[None] | None = None

    def tick(self) -> None:
        """Start a sweep unless one is running or the store cannot be written."""
        if self._db.problem is not None or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.create_task(self._run(), name="pending-copies")

    async def _run(self) -> None:
        try:
            await self._sweep()
        except StoreUnwritable:
            pass  # reported by `archived status`; the next tick tries again
        except Exception:
            log.exception("the sweep of pending copies failed; it runs again at the next tick")

    async def close(self) -> None:
        """Stop a running sweep (a copy half-written to a target is never recorded; its next try starts over)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
