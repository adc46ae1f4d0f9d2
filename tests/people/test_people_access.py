"""GDPR requests, the audit trail, retention and renewal act on personal data and on the evidence itself: only
operators may call their socket methods (the server refuses other callers before a handler runs, by the catalogue's
flag)."""

from __future__ import annotations

import subprocess
import sys

from archived.protocol import methods as rpc

OPERATOR_ONLY = (rpc.PEOPLE_FIND, rpc.PEOPLE_EXPORT, rpc.RETENTION_RUN, rpc.RETENTION_DELETE,
                 rpc.RETENTION_TOMBSTONES, rpc.ARCHIVES_RETIMESTAMP, rpc.AUDIT_LIST)  # fmt: skip


def test_the_catalogue_marks_them_operator_only() -> None:
    assert all(spec.mutating for spec in OPERATOR_ONLY)
    listing = subprocess.run([sys.executable, "-m", "archived", "protocol"], capture_output=True, text=True,
                             timeout=60, check=True).stdout.splitlines()  # fmt: skip
    who = {line.split()[0]: line.split()[1] for line in listing}
    assert {spec.name: who[spec.name] for spec in OPERATOR_ONLY} == {spec.name: "operator" for spec in OPERATOR_ONLY}
