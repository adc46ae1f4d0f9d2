"""The audit trail: who looked up or exported whose data, and who deleted an archive before its retention ended —
when, what they asked for and what came of it. Records are only ever added."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from archived.storable_text import storable_text
from archived.store.database import Database
from archived.store.records import Initiator


@dataclass(frozen=True)
class AuditRecord:
    """One audited action."""

    id: int
    at: float
    actor: Initiator
    action: str  # e.g. "people.find", "people.export", "retention.delete"
    subject: str  # what it was about: the person looked up, the job deleted
    outcome: str  # "ok", "refused: …", "failed: …"
    details: dict[str, Any]


class AuditLog:
    """Appends to and reads the `audit_log` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, actor: Initiator, action: str, subject: str, *, outcome: str = "ok", details: dict[str, Any] | None = None
    ) -> AuditRecord:
        """Append one record (committed before the caller answers)."""
        now = time.time()
        text = storable_text(json.dumps(details or {}, ensure_ascii=False, sort_keys=True))
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO audit_log (at, actor, action, subject, outcome, details) VALUES (?, ?, ?, ?, ?, ?)",
                (now, json.dumps(actor.to_dict()), action, storable_text(subject), storable_text(outcome), text),
            )
        return AuditRecord(cursor.lastrowid or 0, now, actor, action, subject, outcome, dict(details or {}))

    async def recent(
        self, *, action_prefix: str = "", limit: int = 100, before_id: int | None = None
    ) -> list[AuditRecord]:
        """Records, newest first, whose action starts with `action_prefix`, older than `before_id`."""
        sql = "SELECT id, at, actor, action, subject, outcome, details FROM audit_log WHERE action LIKE ? ESCAPE '\\'"
        params: list[Any] = [action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        async with self.db.connection.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [
            AuditRecord(r[0], r[1], Initiator.from_dict(json.loads(r[2])), r[3], r[4], r[5], json.loads(r[6]))
            for r in rows
        ]
