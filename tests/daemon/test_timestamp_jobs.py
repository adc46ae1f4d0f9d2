"""Jobs with RFC 3161 timestamps through the real daemon and a real TSA (`openssl ts` on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archived.archive.verify import verify_archive
from tests.cli.test_cli import run
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.tsa import TimestampAuthority


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with TimestampAuthority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(autouse=True)
def _healthy(tsa: TimestampAuthority):
    tsa.heal()
    yield
    tsa.heal()


def start(tmp_path: Path, tsa: TimestampAuthority, policy: str = "required") -> DaemonProcess:
    extra = f'\n[timestamp]\ntsa_urls = ["{tsa.url}"]\nca_file = "{tsa.root_pem}"\npolicy = "{policy}"\n'
    process = DaemonProcess(write_config(tmp_path, extra=extra), tmp_path)
    process.start()
    return process


async def archive_of(process: DaemonProcess, job_id: str) -> Path:
    async with process.client() as client:
        detail = await client.call("jobs.get", {"job_id": job_id})
    location = detail["artifacts"][0]["locations"][0]["location"]
    return process.root / "archive" / location


async def logs_of(process: DaemonProcess, job_id: str) -> str:
    return run("jobs", "logs", job_id, socket=process.socket).stdout


async def test_every_archive_carries_a_verified_timestamp(tmp_path: Path, tsa: TimestampAuthority) -> None:
    process = start(tmp_path, tsa)
    try:
        async with process.client() as client:
            job_id = await create_job(client, files=2)
            job = await wait_for_state(client, job_id, TERMINAL)
        assert job["state"] == "completed", job
        report = verify_archive(await archive_of(process, job_id))
        assert report.ok and report.timestamps and report.proven.startswith("complete and unaltered since")
        assert "timestamped: " in await logs_of(process, job_id)
        verified = run("verify", str(await archive_of(process, job_id)), "--json")
        assert json.loads(verified.stdout)["timestamps"][0]["file"] == "tagmanifest-sha512.txt"
    finally:
        process.kill()


async def test_a_tsa_outage_is_retried_when_timestamps_are_required(tmp_path: Path, tsa: TimestampAuthority) -> None:
    process = start(tmp_path, tsa)
    try:
        tsa.fail_with(503)
        async with process.client() as client:
            job_id = await create_job(client, files=1)
            waiting = await wait_for_state(client, job_id, {"recoverable_error", "failed"})
            assert waiting["state"] == "recoverable_error" and waiting["error_code"] == "tsa_unavailable"
            tsa.heal()
            job = await wait_for_state(client, job_id, TERMINAL)
        assert job["state"] == "completed"
        assert verify_archive(await archive_of(process, job_id)).timestamps
    finally:
        process.kill()


async def test_best_effort_archives_without_a_timestamp_and_says_so(tmp_path: Path, tsa: TimestampAuthority) -> None:
    process = start(tmp_path, tsa, policy="best_effort")
    try:
        tsa.fail_with(503)
        async with process.client() as client:
            job_id = await create_job(client, files=1)
            job = await wait_for_state(client, job_id, TERMINAL)
        assert job["state"] == "completed"
        report = verify_archive(await archive_of(process, job_id))
        assert report.ok and not report.timestamps and report.proven.startswith("no timestamp")
        assert "archived WITHOUT a timestamp" in await logs_of(process, job_id)
    finally:
        process.kill()


async def test_an_invalid_reply_fails_the_job_when_timestamps_are_required(tmp_path: Path, tsa: TimestampAuthority):
    process = start(tmp_path, tsa)
    try:
        tsa.reply_for_other_data()
        async with process.client() as client:
            job_id = await create_job(client, files=1)
            job = await wait_for_state(client, job_id, TERMINAL)
        assert job["state"] == "failed" and job["error_code"] == "timestamp_invalid"
        assert "does not verify" in job["error_message"]
    finally:
        process.kill()


async def test_verify_with_roots_the_reader_holds(tmp_path: Path, tsa: TimestampAuthority) -> None:
    process = start(tmp_path, tsa)
    try:
        async with process.client() as client:
            job_id = await create_job(client, files=1)
            await wait_for_state(client, job_id, TERMINAL)
        archive = await archive_of(process, job_id)
    finally:
        process.kill()
    trusted = run("verify", str(archive), "--tsa-roots", str(tsa.root_pem))
    assert trusted.returncode == 0 and "chain to a root you gave" in trusted.stdout
    assert "proven: complete and unaltered since" in trusted.stdout
    with TimestampAuthority(tmp_path / "stranger") as stranger:
        refused = run("verify", str(archive), "--tsa-roots", str(stranger.root_pem))
    assert refused.returncode == 1 and "timestamps:" in refused.stdout
    missing = run("verify", str(archive), "--tsa-roots", str(tmp_path / "nothing.pem"))
    assert missing.returncode == 2 and "--tsa-roots" in missing.stderr
