"""The daemon's connectors: built from `[connectors.*]` (secrets read and templates compiled before anything
starts), their consumers for the dispatcher, and what the `connectors.*` socket methods ask of them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from archived.config import Config, ConnectorConfig
from archived.connectors.body import TEST_KIND, EventBody
from archived.connectors.command import CommandTransport
from archived.connectors.consumer import ConnectorConsumer
from archived.connectors.facts import CourseListing, EventFacts
from archived.connectors.mail import MailTransport
from archived.connectors.records import DeliveryRecords, DeliveryState
from archived.connectors.transport import Transport
from archived.connectors.webhook import WebhookTransport
from archived.errors import ConfigError
from archived.protocol import connectors as wire
from archived.protocol.base import wire_time
from archived.protocol.errors import ErrorCode, RpcError
from archived.store.events import EventOutbox
from archived.store.jobs import JobStore

DRIVERS: Mapping[str, Callable[[str, ConnectorConfig], Transport]] = {
    "webhook": WebhookTransport,
    "mail": MailTransport,
    "command": CommandTransport,
}


class Connectors:
    """Every configured connector, one consumer (dispatcher lane) each."""

    def __init__(self, config: Config, store: JobStore) -> None:
        self.outbox: EventOutbox = store.outbox
        self.records = DeliveryRecords(store.db)
        self.facts = EventFacts(store)
        self.consumers: dict[str, ConnectorConsumer] = {}
        for name, connector in config.connectors.items():
            if connector.categories and config.moodle is None:
                raise ConfigError(
                    f"connectors.{name}.categories: needs [moodle] (the course overview knows which courses a "
                    "category holds); filter by courses instead, or configure Moodle"
                )
            transport = DRIVERS[connector.driver](name, connector)
            self.consumers[name] = ConnectorConsumer(
                name, connector, transport, outbox=self.outbox, records=self.records, facts=self.facts
            )

    @property
    def secrets(self) -> list[str]:
        """Every connector's secrets (the daemon keeps them out of job logs and errors too)."""
        return [secret for consumer in self.consumers.values() for secret in consumer.transport.secrets]

    def use_course_overview(self, courses: CourseListing | None) -> None:
        """The course overview that category filters ask (set once it exists)."""
        self.facts.courses = courses

    async def close(self) -> None:
        """Close every driver's connections."""
        for consumer in self.consumers.values():
            await consumer.transport.close()

    def _consumer(self, name: str) -> ConnectorConsumer:
        consumer = self.consumers.get(name)
        if consumer is None:
            known = ", ".join(sorted(self.consumers)) or "none configured"
            raise RpcError(ErrorCode.NOT_FOUND, f"no connector named {name!r} (known: {known})")
        return consumer

    async def status(self) -> wire.ConnectorList:
        """Every connector with its lane's position and its delivery counts."""
        positions = await self.outbox.positions()
        newest = await self.outbox.newest_id()
        counts = await self.records.counts()
        connectors = []
        for name, consumer in sorted(self.consumers.items()):
            config, state, count = consumer.config, consumer.state, counts.get(name)
            position = positions.get(consumer.name)
            connectors.append(
                wire.ConnectorStatus(
                    name=name,
                    driver=config.driver,
                    target=consumer.transport.describe(),
                    events=config.events,
                    courses=config.courses,
                    categories=config.categories,
                    position=position,
                    pending=max(0, newest - position) if position is not None else 0,
                    delivered=count.delivered if count else 0,
                    dead_letters=count.dead if count else 0,
                    retrying_event=state.retrying_event,
                    attempts=state.attempts,
                    last_error=state.last_error,
                    last_failed_at=wire_time(state.last_failed_at),
                    last_delivered_at=wire_time(count.last_delivered_at if count else None),
                )
            )
        return wire.ConnectorList(connectors=connectors, newest_event=newest)

    async def dead_letters(self, params: wire.DeadLettersParams) -> wire.DeadLetterPage:
        """Dead letters, newest first."""
        if params.connector is not None:
            self._consumer(params.connector)
        rows, total = await self.records.dead_letters(params.connector, limit=params.limit)
        return wire.DeadLetterPage(
            dead_letters=[
                wire.DeadLetter(
                    id=r.id,
                    connector=r.connector,
                    event_id=r.event_id,
                    kind=r.kind,
                    job_id=r.job_id,
                    attempts=r.attempts,
                    error=r.error,
                    output=r.output,
                    failed_at=wire_time(r.updated_at),
                )
                for r in rows
            ],
            total=total,
        )

    async def redeliver(self, params: wire.RedeliverParams) -> wire.DeliveryAttempt:
        """Try a dead letter once more; delivered, it is recorded so (and leaves the dead letters)."""
        record = await self.records.get(params.id)
        if record is None or record.state != DeliveryState.DEAD or record.body is None:
            raise RpcError(ErrorCode.NOT_FOUND, f"no dead letter with id {params.id} (see connectors dead-letters)")
        consumer = self.consumers.get(record.connector)
        if consumer is None:
            raise RpcError(
                ErrorCode.INVALID_STATE,
                f"dead letter {params.id} belongs to connector {record.connector!r}, which is no longer configured",
            )
        body = EventBody.from_json(record.body)
        outcome = await consumer.attempt(body, await self.facts.job(body))
        if outcome.delivered:
            await self.records.delivered(record.connector, body, attempts=1, output=outcome.output)
        else:
            await self.records.dead(record.connector, body, attempts=1, error=outcome.error, output=outcome.output)
        return wire.DeliveryAttempt(
            connector=record.connector,
            event_id=body.id,
            delivered=outcome.delivered,
            error=outcome.error,
            output=outcome.output,
        )

    async def test(self, params: wire.ConnectorTestParams) -> wire.DeliveryAttempt:
        """Send an outbox event, or a test event (kind `connector.test`, id 0), through a connector; not recorded."""
        consumer = self._consumer(params.name)
        if params.event_id is not None:
            body = await self._outbox_event(params.event_id)
        else:
            at = wire_time(time.time()).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = EventBody(0, TEST_KIND, 1, at, None, {"connector": params.name})
        outcome = await consumer.attempt(body, await self.facts.job(body))
        return wire.DeliveryAttempt(
            connector=params.name, event_id=body.id, delivered=outcome.delivered, error=outcome.error,
            output=outcome.output,
        )  # fmt: skip

    async def _outbox_event(self, event_id: int) -> EventBody:
        events = await self.outbox.after(event_id - 1, limit=1)
        if not events or events[0].id != event_id:
            raise RpcError(
                ErrorCode.NOT_FOUND,
                f"no event {event_id} in the outbox (it was never recorded, or retention swept it)",
            )
        return EventBody.of(events[0])
