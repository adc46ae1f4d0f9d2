"""What the engine writes about a job while it works: transitions, timeline notes and log lines, each in one
transaction with its outbox events (the store writes those), and progress, which goes to the live bus only.

Secrets (the Moodle token) are redacted from every text before it is written or published.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from archived.events.bus import Event, EventBus
from archived.interfaces.activity import LogLevel
from archived.protocol.events import JobProgress
from archived.protocol.states import JobState
from archived.store.database import StoreUnwritable
from archived.store.jobs import JobStore, StaleStateError
from archived.store.records import JobRecord

log = logging.getLogger("archived.engine")

PROGRESS_PERSIST_SECONDS = 2.0


class JobRecorder:
    """Records transitions, notes, log lines and progress of jobs."""

    def __init__(self, *, store: JobStore, bus: EventBus, secrets: list[str] | None = None) -> None:
        self.store = store
        self.bus = bus
        self._secrets = [s for s in (secrets or []) if s]
        self._last_persist: dict[str, float] = {}  # per job: when its progress was last written to the store

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    async def transition(self, job: JobRecord, target: JobState, reason: str, **fields: Any) -> JobRecord:
        """Move the job to `target` with its events; a job that moved meanwhile is reloaded instead."""
        checkpoint = fields.pop("checkpoint", None)
        try:
            return await self.store.transition(
                job.id, job.state, target, reason=reason, checkpoint=checkpoint, **fields
            )
        except StaleStateError:
            log.warning("job %s moved under the runner; reloading", job.id)
            return await self.store.get(job.id)

    async def note(self, job_id: str, reason: str) -> None:
        """An entry in the job's timeline that changes nothing (e.g. where a restarted daemon resumes it)."""
        await self.store.add_timeline_note(job_id, self.redact(reason))

    async def log(self, job_id: str, level: LogLevel, message: str) -> None:
        """Append a line to the job's log (its `job.log` event goes through the outbox)."""
        await self.store.add_log(job_id, level.value, self.redact(message))

    async def progress(self, job_id: str, percent: float, text: str) -> None:
        """Publish progress on the live bus (coalesced per job) and keep it in the job's row now and then."""
        text = self.redact(text)
        payload = JobProgress(progress=round(percent, 1), text=text)
        self.bus.publish(Event.notification(payload, job_id, coalesce_key=job_id))
        now = time.monotonic()
        last = self._last_persist.get(job_id)
        if last is None or now - last >= PROGRESS_PERSIST_SECONDS:
            self._last_persist[job_id] = now
            # Progress is a hint: a store that cannot take it must not abort the stage (checkpoints will tell).
            with contextlib.suppress(StoreUnwritable):
                await self.store.update(job_id, progress=percent, progress_text=text)

    def forget(self, job_id: str) -> None:
        """The job's runner ended: drop what the recorder kept about it."""
        self._last_persist.pop(job_id, None)
