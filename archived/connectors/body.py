"""The versioned JSON body of an event as connectors send it: the same for every driver and every receiver."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from archived.protocol.base import wire_time
from archived.store.events import StoredEvent

TEST_KIND = "connector.test"  # the kind of the event `archived connectors test NAME` sends


@dataclass(frozen=True)
class EventBody:
    """One event as it leaves the daemon: `{"id", "kind", "version", "at", "job_id", "data"}`.

    `id` is the outbox id: stable across retries, redeliveries and restarts, so a receiver can drop a repeat.
    """

    id: int
    kind: str
    version: int
    at: str  # ISO 8601, UTC, whole seconds
    job_id: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: StoredEvent) -> EventBody:
        """The body of an outbox event."""
        at = wire_time(event.at).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(event.id, event.kind, event.version, at, event.job_id, event.data)

    @classmethod
    def from_json(cls, text: str) -> EventBody:
        """A body kept in a delivery record (a dead letter)."""
        raw = json.loads(text)
        return cls(int(raw["id"]), raw["kind"], int(raw["version"]), raw["at"], raw.get("job_id"), raw["data"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what templates see as `event`)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "version": self.version,
            "at": self.at,
            "job_id": self.job_id,
            "data": self.data,
        }

    def to_json(self) -> str:
        """The body as sent when no template is configured (UTF-8 JSON, keys in a fixed order)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
