"""`connectors.*`: the event connectors, their lanes and their dead letters."""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime


class ConnectorStatus(Answer):
    """One connector: what it takes, where it delivers, and how its lane stands."""

    name: str
    driver: str = Field(description="webhook, mail or command")
    target: str = Field(description="where it delivers: a URL without its query, a mail server, a program")
    events: list[str]
    courses: list[int] = Field(default_factory=list)
    categories: list[int] = Field(default_factory=list)
    position: int | None = Field(default=None, description="the last outbox event id its lane has handled")
    pending: int = Field(default=0, description="outbox events after its position (not all may match its filter)")
    delivered: int = 0
    dead_letters: int = 0
    retrying_event: int | None = Field(default=None, description="the event it is trying again now, if any")
    attempts: int = Field(default=0, description="failed attempts at `retrying_event` so far")
    last_error: str = ""
    last_failed_at: UtcTime | None = None
    last_delivered_at: UtcTime | None = None


class ConnectorList(Answer):
    """Every configured connector."""

    connectors: list[ConnectorStatus]
    newest_event: int = Field(default=0, description="the newest outbox event id")


class DeadLettersParams(Params):
    """Dead letters, newest first; of one connector or all."""

    connector: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class DeadLetter(Answer):
    """An event a connector gave up on, kept so that it can be delivered again."""

    id: int = Field(description="the delivery record's id (what `connectors.redeliver` takes)")
    connector: str
    event_id: int
    kind: str
    job_id: str | None = None
    attempts: int
    error: str
    output: str = ""
    failed_at: UtcTime


class DeadLetterPage(Answer):
    """Dead letters and how many there are in all."""

    dead_letters: list[DeadLetter]
    total: int


class RedeliverParams(Params):
    """A dead letter to try once more, now."""

    id: int


class DeliveryAttempt(Answer):
    """The outcome of one attempt made on request (a redelivery or a test)."""

    connector: str
    event_id: int
    delivered: bool
    error: str = ""
    output: str = ""


class ConnectorTestParams(Params):
    """A connector to send a test event to: an event from the outbox (`event_id`), or one of kind `connector.test`
    with id 0. Either goes out whatever the connector's filter says, and is not recorded."""

    name: str
    event_id: int | None = Field(default=None, ge=1, description="an outbox event to send (e.g. to try a template)")
