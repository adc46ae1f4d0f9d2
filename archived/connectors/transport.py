"""The contract of a connector driver (webhook, mail, command): send one event, or say whether trying again can
help."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from archived.connectors.body import EventBody


class DeliveryFailed(Exception):
    """Sending failed; `permanent` means trying again cannot help (the event becomes a dead letter at once)."""

    def __init__(self, message: str, *, permanent: bool = False, output: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.output = output


@dataclass(frozen=True)
class Delivery:
    """What a driver sends: the event's body and what its templates may use besides (`job`, `people`)."""

    body: EventBody
    context: dict[str, Any] = field(default_factory=dict)

    def template_values(self) -> dict[str, Any]:
        """The names a template sees: `event` (the body), `job` (the job's summary or None), `people`."""
        return {"event": self.body.to_dict(), "job": None, "people": [], **self.context}


class Transport(Protocol):
    """One connector driver, configured and holding its secrets."""

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in a log, an error, a record or an answer."""
        ...

    def describe(self) -> str:
        """Where it delivers, without secrets (a URL without credentials, a mail server, a program)."""
        ...

    def template_names(self) -> frozenset[str]:
        """The names its templates use (`event`, `job`, `people`): what must be looked up before sending."""
        ...

    async def send(self, delivery: Delivery) -> str:
        """Deliver one event; returns what the receiver said (short); raises `DeliveryFailed`."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"
