"""Failed automated jobs: an outbox consumer that turns each `job.failed` of a job a schedule created into a
`schedule.job_failed` event, so that a connector can tell people about exactly those."""

from __future__ import annotations

from collections.abc import Sequence

from archived.protocol.events import EventKind, ScheduleJobFailed
from archived.protocol.jobs import JobSummary
from archived.schedules.records import ScheduleRecords
from archived.store.events import StoredEvent

SCHEDULE_INITIATOR = "schedule"


class ScheduledJobFailures:
    """An event consumer on its own outbox position (`name`). Like every consumer it may see a batch again after a
    daemon was killed between reporting and storing its position; the repeat keeps the job's id, by which a
    connector's receiver can tell."""

    name = "schedule-job-failures"

    def __init__(self, records: ScheduleRecords) -> None:
        self.records = records

    async def deliver(self, events: Sequence[StoredEvent]) -> None:
        """Report the failures of scheduled jobs among `events`."""
        failures = []
        for event in events:
            if event.kind != EventKind.JOB_FAILED:
                continue
            job = JobSummary.model_validate(event.data.get("job", {}))
            if job.initiator.kind == SCHEDULE_INITIATOR:
                failures.append(ScheduleJobFailed(job=job, schedule=job.initiator.name))
        if failures:
            await self.records.record_events(failures)
