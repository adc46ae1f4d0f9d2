"""`audit.list`: a page of the audit trail (operator only)."""

from __future__ import annotations

from functools import partial
from typing import Any

from archived.protocol.audit import AuditEntry, AuditPage, AuditParams
from archived.protocol.base import wire_time
from archived.protocol.methods import AUDIT_LIST
from archived.rpc.method import Method, method
from archived.store.audit import AuditLog


async def audit_list(params: AuditParams, *, audit: AuditLog) -> AuditPage:
    """Audited actions, newest first."""
    records = await audit.recent(action_prefix=params.action, limit=params.limit, before_id=params.before_id)
    return AuditPage(
        entries=[
            AuditEntry(
                id=r.id,
                at=wire_time(r.at),
                actor=r.actor.to_wire(),
                action=r.action,
                subject=r.subject,
                outcome=r.outcome,
                details=r.details,
            )
            for r in records
        ],
        next_before_id=records[-1].id if len(records) == params.limit else None,
    )


def audit_methods(*, audit: AuditLog) -> list[Method[Any, Any]]:
    """`audit.list`, bound to the audit log."""
    return [method(AUDIT_LIST, partial(audit_list, audit=audit))]
