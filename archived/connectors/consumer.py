"""One connector as an event consumer: its own dispatcher lane, so a slow or failing receiver holds up no one else.

Events pass the connector's filter, then go out one at a time, in outbox order. A failure is tried again with
backoff until `max_attempts`; a permanent failure (or the last attempt) makes the event a dead letter and the lane
moves on. Each outcome is recorded before the next event goes out, so a daemon killed mid-batch sends only the
event it was sending again after the restart (with the same `id`, which a receiver can use to drop the repeat).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from archived.config import ConnectorConfig
from archived.connectors.body import EventBody
from archived.connectors.facts import EventFacts
from archived.connectors.filters import EventFilter
from archived.connectors.records import DeliveryRecords
from archived.connectors.transport import Delivery, DeliveryFailed, Transport, redact, truncate
from archived.store.events import EventOutbox, StoredEvent

log = logging.getLogger("archived.connectors")

TRIM_INTERVAL_SECONDS = 3600.0  # how often a lane forgets the records of events the outbox's retention swept
ERROR_LIMIT = 1000  # characters of an error kept in a record
OUTPUT_LIMIT = 4000  # characters of a receiver's answer or a command's output kept in a record


@dataclass
class LaneState:
    """What the lane is doing now (for `connectors.list`)."""

    retrying_event: int | None = None
    attempts: int = 0
    last_error: str = ""
    last_failed_at: float | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt: delivered or not, what the receiver said, the error (secrets removed)."""

    delivered: bool
    output: str = ""
    error: str = ""
    permanent: bool = False


class ConnectorConsumer:
    """Delivers the events a connector's filter takes through its driver, with retries and dead letters."""

    def __init__(
        self,
        name: str,
        config: ConnectorConfig,
        transport: Transport,
        *,
        outbox: EventOutbox,
        records: DeliveryRecords,
        facts: EventFacts,
    ) -> None:
        self.connector = name
        self.name = f"connector:{name}"  # the dispatcher's key for this lane's position
        self.config = config
        self.transport = transport
        self.filter = EventFilter(config)
        self.outbox = outbox
        self.records = records
        self.facts = facts
        self.state = LaneState()
        self._trimmed_at: float | None = None  # monotonic time of the last trim of old delivery records

    async def deliver(self, events: Sequence[StoredEvent]) -> None:
        """Deliver every event the filter takes; each is delivered or a dead letter when this returns."""
        wanted = [event for event in events if self.filter.takes_kind(event.kind)]
        if not wanted:
            return
        settled = await self.records.settled_ids(self.connector, wanted[0].id, wanted[-1].id)
        for event in wanted:
            if event.id in settled:
                continue  # delivered (or given up on) before a restart, the position not yet stored
            body = EventBody.of(event)
            job = await self.facts.job(body)
            if not await self.filter.takes_scope(body, job, self.facts):
                continue
            await self._deliver_with_retries(body, job)
        await self._trim_records()

    async def _trim_records(self) -> None:
        """Now and then, forget the delivery records of events the outbox no longer keeps (its retention swept
        them), so the records stay as bounded as the outbox; dead letters are kept until they are delivered."""
        now = time.monotonic()
        if self._trimmed_at is not None and now - self._trimmed_at < TRIM_INTERVAL_SECONDS:
            return
        self._trimmed_at = now
        oldest = await self.outbox.oldest_id()
        if oldest is not None:
            await self.records.forget_delivered_before(self.connector, oldest)

    async def _deliver_with_retries(self, body: EventBody, job: dict[str, object] | None) -> None:
        attempt = 0
        while True:
            attempt += 1
            outcome = await self.attempt(body, job)
            if outcome.delivered:
                await self.records.delivered(self.connector, body, attempts=attempt, output=outcome.output)
                self.state.retrying_event, self.state.attempts = None, 0
                return
            self.state.retrying_event, self.state.attempts = body.id, attempt
            if outcome.permanent or attempt >= self.config.max_attempts:
                await self.records.dead(
                    self.connector, body, attempts=attempt, error=outcome.error, output=outcome.output
                )
                self.state.retrying_event, self.state.attempts = None, 0
                log.error(
                    "connector %s gave up on event %d (%s) after %d attempt(s): %s; it is a dead letter "
                    "(archived connectors dead-letters, then redeliver)",
                    self.connector, body.id, body.kind, attempt, outcome.error,
                )  # fmt: skip
                return
            delay = min(self.config.retry_max_seconds, self.config.retry_base_seconds * 2 ** (attempt - 1))
            log.warning(
                "connector %s: event %d (%s), attempt %d of %d failed: %s; trying again in %.1f s",
                self.connector, body.id, body.kind, attempt, self.config.max_attempts, outcome.error, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)

    async def _people(self, body: EventBody) -> list[dict[str, object]]:
        """The people of a stored archive for a template that names them: the people index reads each archive in
        the background, so the event waits (as a retried attempt) until the archive is indexed."""
        if body.kind != "storage.write.completed":
            return []
        people = await self.facts.people(body)
        if people is None:
            raise DeliveryFailed(
                f"waiting for the people index to read the archive of job {body.job_id} (the template uses people)"
            )
        return list(people)

    async def attempt(self, body: EventBody, job: dict[str, object] | None) -> Outcome:
        """Send an event once; never raises for a failure of the receiver (the outcome says what happened)."""
        context: dict[str, object] = {"job": job}
        secrets = self.transport.secrets
        try:
            if "people" in self.transport.template_names():
                context["people"] = await self._people(body)
            output = await self.transport.send(Delivery(body, context))
        except DeliveryFailed as exc:
            outcome = Outcome(
                False,
                output=truncate(redact(exc.output, secrets), OUTPUT_LIMIT),
                error=truncate(redact(str(exc), secrets), ERROR_LIMIT),
                permanent=exc.permanent,
            )
        except Exception as exc:  # a bug in a driver must not stop the lane for good: retried like a failure
            error = truncate(redact(f"{type(exc).__name__}: {exc}", secrets), ERROR_LIMIT)
            log.error("connector %s: unexpected error sending event %d: %s", self.connector, body.id, error)
            outcome = Outcome(False, error=error)
        else:
            return Outcome(True, output=truncate(redact(output, secrets), OUTPUT_LIMIT))
        self.state.last_error, self.state.last_failed_at = outcome.error, time.time()
        return outcome
