"""Retention of stored archives through the real daemon, on a local directory and on S3 (moto, Object Lock buckets):
expired archives are deleted from every target with tombstones, a job log line and a `job.deleted` event; a copy a
WORM lock still holds is kept and reported; deleting early needs --force and is audited; the hourly sweep runs on
the daemon's own."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.support.daemon import DaemonProcess
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.s3_server import S3Server, write_credentials

pytestmark = pytest.mark.slow  # real daemons, S3 and TSA servers: seconds each


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


def s3_targets(tmp_path: Path, s3: S3Server, worm_bucket: str, open_bucket: str) -> str:
    credentials = write_credentials(tmp_path / "s3-credentials")
    common = f'driver = "s3"\ntier = "remote-slow"\nendpoint_url = "{s3.endpoint_url}"\naddressing_style = "path"\n'
    common += f'credentials_file = "{credentials}"\nprefix = "moodle/"\n'
    return (
        f'\n[storage.worm]\n{common}bucket = "{worm_bucket}"\nlock_mode = "COMPLIANCE"\n'
        f'\n[storage.plain]\n{common}bucket = "{open_bucket}"\n'
    )


def store_db(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(root / "state" / "archived.sqlite3")


def wait_for_first_sweep(daemon: DaemonProcess) -> None:
    """Wait until the daemon's own retention sweep (the first housekeeping tick after its start) has run, so that it
    cannot race the test's own sweep; it comes again only an hour later."""
    deadline = time.monotonic() + 60
    while "retention sweep:" not in daemon.log():
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.1)


def expire(root: Path, job_id: str) -> None:
    """Move a job's retain-until date into the past (a retention of years cannot be waited for in a test)."""
    with store_db(root) as db:
        db.execute("UPDATE artifacts SET retain_until = ? WHERE job_id = ?", (time.time() - 86400, job_id))


def copies(root: Path, job_id: str) -> dict[str, tuple[str, float | None]]:
    """target -> (location, deleted_at) of a job's copies."""
    with store_db(root) as db:
        rows = db.execute(
            "SELECT l.target, l.location, l.deleted_at FROM artifact_locations l JOIN artifacts a ON a.id = "
            "l.artifact_id WHERE a.job_id = ?",
            (job_id,),
        ).fetchall()
    return {target: (location, deleted) for target, location, deleted in rows}


def rows(root: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with store_db(root) as db:
        return db.execute(sql, params).fetchall()


async def job_on(client: Any, targets: list[str], cmid: int) -> str:
    job_id = await create_job(client, cmid=cmid, files=1, storage_targets=targets)
    job = await wait_for_state(client, job_id, TERMINAL, timeout=120)
    assert job["state"] == "completed", job
    return job_id


async def test_expired_archives_are_deleted_with_tombstones_and_worm_locks_are_reported(
    daemon_factory, s3: S3Server, tmp_path: Path
) -> None:
    worm, plain = s3.bucket(object_lock=True), s3.bucket(object_lock=True)
    daemon = daemon_factory(extra=s3_targets(tmp_path, s3, worm, plain))
    async with daemon.client() as client:
        expired_open = await job_on(client, ["local", "plain"], 7)
        expired_locked = await job_on(client, ["local", "worm"], 8)
        kept = await job_on(client, ["local", "plain"], 9)
    wait_for_first_sweep(daemon)
    for job_id in (expired_open, expired_locked):
        expire(tmp_path, job_id)
    before = {job_id: copies(tmp_path, job_id) for job_id in (expired_open, expired_locked, kept)}

    dry = run("retention", "run", "--dry-run", "--json", socket=daemon.socket)
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert {(c["job_id"], c["target"], c["outcome"]) for c in planned["copies"]} == {
        (expired_open, "local", "would_delete"), (expired_open, "plain", "would_delete"),
        (expired_locked, "local", "would_delete"), (expired_locked, "worm", "would_delete"),
    }  # fmt: skip
    assert rows(tmp_path, "SELECT COUNT(*) FROM tombstones") == [(0,)]
    assert (tmp_path / "archive" / before[expired_open]["local"][0]).exists()

    swept = run("retention", "run", socket=daemon.socket)
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "kept (WORM lock)" in swept.stdout and "deleted 3 cop(ies); 1 kept by a WORM lock" in swept.stdout

    # Gone from the local directory and from S3, every version.
    assert not (tmp_path / "archive" / before[expired_open]["local"][0]).exists()
    assert not (tmp_path / "archive" / before[expired_locked]["local"][0]).exists()
    assert before[expired_open]["plain"][0] not in s3.keys(plain)
    assert before[kept]["plain"][0] in s3.keys(plain) and (tmp_path / "archive" / before[kept]["local"][0]).exists()
    # The locked copy is kept, in the bucket and in the store.
    assert s3.keys(worm) == [before[expired_locked]["worm"][0]]
    assert copies(tmp_path, expired_locked)["worm"][1] is None
    assert copies(tmp_path, expired_open)["plain"][1] is not None

    stones = rows(
        tmp_path, "SELECT job_id, target, location, sha256, reason, forced FROM tombstones ORDER BY job_id, target"
    )
    recorded = {r[0]: r[1] for r in rows(tmp_path, "SELECT job_id, sha256 FROM artifacts")}
    assert {(s[0], s[1]) for s in stones} == {(expired_open, "local"), (expired_open, "plain"),
                                              (expired_locked, "local")}  # fmt: skip
    for job_id, target, location, sha256, reason, forced in stones:
        assert location == before[job_id][target][0] and sha256 == recorded[job_id]
        assert reason == "retention period over" and forced == 0
    # The job with nothing left is marked deleted and says so; the event went out.
    deleted = dict(rows(tmp_path, "SELECT id, deleted_at FROM jobs"))
    assert deleted[expired_open] is not None and deleted[expired_locked] is None and deleted[kept] is None
    assert rows(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'job.deleted' AND job_id = ?", expired_open)[0][0]
    logs = run("jobs", "logs", expired_locked, socket=daemon.socket).stdout
    assert "retention: deleted" in logs and "kept" in logs and "WORM" in logs

    listing = json.loads(run("retention", "tombstones", "--json", socket=daemon.socket).stdout)
    assert len(listing["tombstones"]) == 3 and listing["tombstones"][0]["by"]["kind"] == "operator"

    again = json.loads(run("retention", "run", "--json", socket=daemon.socket).stdout)
    assert [(c["job_id"], c["target"], c["outcome"]) for c in again["copies"]] == [
        (expired_locked, "worm", "locked")
    ]  # reported at every sweep, never fought


async def test_deleting_early_needs_force_and_is_audited(daemon_factory, s3: S3Server, tmp_path: Path) -> None:
    worm, plain = s3.bucket(object_lock=True), s3.bucket(object_lock=True)
    daemon = daemon_factory(extra=s3_targets(tmp_path, s3, worm, plain))
    async with daemon.client() as client:
        job_id = await job_on(client, ["local", "worm"], 7)
    location = copies(tmp_path, job_id)["local"][0]

    refused = run("retention", "delete", job_id[:8], socket=daemon.socket)
    assert refused.returncode == 6 and "needs force" in refused.stderr, refused.stdout + refused.stderr
    assert (tmp_path / "archive" / location).exists()

    forced = run("retention", "delete", job_id[:8], "--force", "--reason", "court order 17/26", socket=daemon.socket)
    assert forced.returncode == 1, forced.stdout + forced.stderr  # the WORM copy could not go
    assert "kept (WORM lock)" in forced.stdout
    assert not (tmp_path / "archive" / location).exists()
    [(target, reason, was_forced)] = rows(tmp_path, "SELECT target, reason, forced FROM tombstones")
    assert target == "local" and was_forced == 1 and "court order 17/26" in reason
    refusal, deletion = rows(tmp_path, "SELECT action, subject, outcome, details FROM audit_log ORDER BY id")
    assert refusal[0] == "retention.delete_early" and refusal[2].startswith("refused") and "needs force" in refusal[2]
    action, subject, outcome, details = deletion
    assert action == "retention.delete_early" and job_id in subject and outcome.startswith("partly")
    assert json.loads(details)["reason"] == "court order 17/26"
    logs = run("jobs", "logs", job_id, socket=daemon.socket).stdout
    assert "before its retain-until date" in logs and "court order 17/26" in logs
    audited = json.loads(run("audit", "--action", "retention.", "--json", socket=daemon.socket).stdout)["entries"]
    assert [(e["action"], e["actor"]["kind"], e["details"]["reason"]) for e in audited] == [
        ("retention.delete_early", "operator", "court order 17/26"),
        ("retention.delete_early", "operator", "deleted by an operator"),
    ]
    assert json.loads(run("audit", "--action", "people.", "--json", socket=daemon.socket).stdout)["entries"] == []
    shown = run("audit", socket=daemon.socket).stdout
    assert "retention.delete_early" in shown and job_id in shown


async def test_the_daemon_sweeps_expired_archives_on_its_own(daemon_factory, tmp_path: Path) -> None:
    daemon = daemon_factory()
    async with daemon.client() as client:
        job_id = await job_on(client, ["local"], 7)
    daemon.terminate()
    expire(tmp_path, job_id)
    daemon.restart()  # the first housekeeping tick sweeps
    deadline = time.monotonic() + 60
    while not rows(tmp_path, "SELECT 1 FROM tombstones WHERE job_id = ?", job_id):
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.2)
    [(by,)] = rows(tmp_path, "SELECT by FROM tombstones WHERE job_id = ?", job_id)
    assert json.loads(by)["kind"] == "schedule"
    assert copies(tmp_path, job_id)["local"][1] is not None


async def test_jobs_delete_removes_copies_as_retention_does(daemon_factory, s3: S3Server, tmp_path: Path) -> None:
    """`archived jobs delete --force` leaves a tombstone per copy and audits the early deletion; a WORM copy it
    cannot remove keeps the job (not marked deleted) and is named."""
    worm, plain = s3.bucket(object_lock=True), s3.bucket(object_lock=True)
    daemon = daemon_factory(extra=s3_targets(tmp_path, s3, worm, plain))
    async with daemon.client() as client:
        open_job = await job_on(client, ["local", "plain"], 7)
        locked_job = await job_on(client, ["local", "worm"], 8)
    before = copies(tmp_path, open_job)

    deleted = run("jobs", "delete", open_job[:8], "--force", "--yes", socket=daemon.socket)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert not (tmp_path / "archive" / before["local"][0]).exists()
    assert before["plain"][0] not in s3.keys(plain)
    stones = rows(tmp_path, "SELECT target, location, forced, reason FROM tombstones WHERE job_id = ?", open_job)
    assert {(s[0], s[1], s[2]) for s in stones} == {("local", before["local"][0], 1), ("plain", before["plain"][0], 1)}
    assert all("deleted with its job" in s[3] for s in stones)
    [(action, outcome)] = rows(tmp_path, "SELECT action, outcome FROM audit_log WHERE subject LIKE ?", f"%{open_job}%")
    assert action == "retention.delete_early" and outcome == "ok"
    assert rows(tmp_path, "SELECT deleted_at IS NOT NULL FROM jobs WHERE id = ?", open_job) == [(1,)]

    refused = run("jobs", "delete", locked_job[:8], "--force", "--yes", socket=daemon.socket)
    assert refused.returncode != 0 and "worm" in refused.stderr and "kept" in refused.stderr, refused.stderr
    assert rows(tmp_path, "SELECT deleted_at FROM jobs WHERE id = ?", locked_job) == [(None,)]
    assert [r[0] for r in rows(tmp_path, "SELECT target FROM tombstones WHERE job_id = ?", locked_job)] == ["local"]
