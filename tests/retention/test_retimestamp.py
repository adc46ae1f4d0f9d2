"""Timestamp renewal through the real daemon with a real TSA (`openssl ts` on loopback): `archived archives
retimestamp` stamps the newest timestamp of each archive again and stores the renewal next to the archive on every
target (on an S3 Object Lock bucket as new, locked objects); `archived verify` checks the chain from the files next
to the ZIP (or in --sidecars) and says until when it holds; `openssl ts -verify` agrees; a broken chain fails; the
retention sweep deletes the renewals with their archive."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import run
from tests.retention.test_retention_daemon import s3_targets, wait_for_first_sweep
from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.support.s3_server import S3Server
from tests.support.tsa import TimestampAuthority

pytestmark = pytest.mark.slow  # real daemons, S3 and TSA servers: seconds each


@pytest.fixture(scope="module")
def tsa(tmp_path_factory) -> Iterator[TimestampAuthority]:
    with TimestampAuthority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


def openssl_verify(reply: Path, data: Path, tsa: TimestampAuthority, chain: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "ts", "-verify", "-in", str(reply), "-data", str(data), "-CAfile", str(tsa.root_pem),
         "-untrusted", str(chain)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_renewals_are_stored_everywhere_and_verify_as_a_chain(
    tmp_path: Path, tsa: TimestampAuthority, s3: S3Server
) -> None:
    worm, plain = s3.bucket(object_lock=True), s3.bucket(object_lock=True)
    extra = s3_targets(tmp_path, s3, worm, plain)
    extra += f'\n[timestamp]\ntsa_urls = ["{tsa.url}"]\nca_file = "{tsa.root_pem}"\npolicy = "required"\n'
    daemon = DaemonProcess(write_config(tmp_path, extra=extra), tmp_path)
    daemon.start()
    try:
        async with daemon.client() as client:
            job_id = await create_job(client, files=1, storage_targets=["local", "worm"])
            assert (await wait_for_state(client, job_id, TERMINAL))["state"] == "completed"
            detail = await client.call("jobs.get", {"job_id": job_id})
        located = {loc["target"]: loc["location"] for loc in detail["artifacts"][0]["locations"]}
        archive = tmp_path / "archive" / located["local"]

        dry = json.loads(run("archives", "retimestamp", "--dry-run", "--json", socket=daemon.socket).stdout)
        assert [a["outcome"] for a in dry["archives"]] == ["would_renew"] and dry["archives"][0]["number"] == 0
        assert not list(archive.parent.glob(f"{archive.name}.ts-*"))

        first = run("archives", "retimestamp", socket=daemon.socket)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "renewed" in first.stdout and "ts-1" in first.stdout
        sidecars = sorted(p.name for p in archive.parent.glob(f"{archive.name}.ts-*"))
        assert sidecars == [f"{archive.name}.ts-1.chain.pem", f"{archive.name}.ts-1.tsr"]
        keys = s3.keys(worm)
        assert f"{located['worm']}.ts-1.tsr" in keys and f"{located['worm']}.ts-1.chain.pem" in keys
        head = s3.client().head_object(Bucket=worm, Key=f"{located['worm']}.ts-1.tsr")
        assert head["ObjectLockMode"] == "COMPLIANCE"  # a new object under the archive's lock, never a rewrite

        not_due = json.loads(run("archives", "retimestamp", "--before", "2027-01-01", "--json",
                                 socket=daemon.socket).stdout)  # fmt: skip
        assert [a["outcome"] for a in not_due["archives"]] == ["not_due"]
        second = json.loads(run("archives", "retimestamp", "--before", "2100-01-01", "--json",
                                socket=daemon.socket).stdout)  # fmt: skip
        [renewed] = second["archives"]
        assert renewed["outcome"] == "renewed" and renewed["number"] == 2 and len(renewed["stored"]) == 2

        verified = run("verify", str(archive), "--json")
        assert verified.returncode == 0, verified.stdout
        report = json.loads(verified.stdout)
        assert [r["file"] for r in report["renewals"]] == [f"{archive.name}.ts-1.tsr", f"{archive.name}.ts-2.tsr"]
        assert report["holds_until"].startswith(renewed["holds_until"][:10])
        plain_words = run("verify", str(archive)).stdout
        assert "2 renewal(s), each over the timestamp before it" in plain_words and "holds until" in plain_words

        # The renewals from the WORM bucket, checked in a folder of their own.
        fetched = tmp_path / "from-worm"
        fetched.mkdir()
        for number in (1, 2):
            for suffix in (".tsr", ".chain.pem"):
                key = f"{located['worm']}.ts-{number}{suffix}"
                body = s3.client().get_object(Bucket=worm, Key=key)["Body"].read()
                (fetched / f"{archive.name}.ts-{number}{suffix}").write_bytes(body)
        assert run("verify", str(archive), "--sidecars", str(fetched)).returncode == 0

        # openssl agrees: ts-1 stamps the archive's own reply, ts-2 stamps ts-1.
        own = tmp_path / "own.tsr"
        with zipfile.ZipFile(archive) as bag:
            top = bag.namelist()[0].split("/")[0]
            own.write_bytes(bag.read(f"{top}/timestamps/tagmanifest-sha512.txt.tsr"))
        side = archive.parent / archive.name
        for reply, data in ((f"{side}.ts-1.tsr", own), (f"{side}.ts-2.tsr", Path(f"{side}.ts-1.tsr"))):
            checked = openssl_verify(Path(reply), data, tsa, Path(reply.replace(".tsr", ".chain.pem")))
            assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stdout + checked.stderr

        # A chain with a link missing, or links swapped, fails.
        broken = tmp_path / "broken"
        broken.mkdir()
        shutil.copy(archive, broken / archive.name)
        for suffix in (".tsr", ".chain.pem"):
            shutil.copy(f"{side}.ts-2{suffix}", broken / f"{archive.name}.ts-2{suffix}")
        missing = run("verify", str(broken / archive.name))
        assert missing.returncode == 1 and "ts-1 missing" in missing.stdout, missing.stdout
        for suffix in (".tsr", ".chain.pem"):
            shutil.copy(f"{side}.ts-2{suffix}", broken / f"{archive.name}.ts-1{suffix}")
            shutil.copy(f"{side}.ts-1{suffix}", broken / f"{archive.name}.ts-2{suffix}")
        swapped = run("verify", str(broken / archive.name))
        assert swapped.returncode == 1 and "does not renew the timestamp before it" in swapped.stdout, swapped.stdout

        # Retention takes the renewals along with the archive (the WORM copy and its renewals stay, locked).
        wait_for_first_sweep(daemon)
        with sqlite3.connect(tmp_path / "state" / "archived.sqlite3") as db:
            db.execute("UPDATE artifacts SET retain_until = ? WHERE job_id = ?", (time.time() - 86400, job_id))
        swept = json.loads(run("retention", "run", "--json", socket=daemon.socket).stdout)
        outcomes = {c["target"]: (c["outcome"], c["objects"]) for c in swept["copies"]}
        assert outcomes == {"local": ("deleted", 5), "worm": ("locked", 0)}
        assert not archive.exists() and not list(archive.parent.glob(f"{archive.name}.ts-*"))
        assert len([k for k in s3.keys(worm) if k.startswith(located["worm"])]) == 5
        stones = json.loads(run("retention", "tombstones", "--json", socket=daemon.socket).stdout)["tombstones"]
        assert sorted(s["object"] for s in stones) == sorted(
            [archive.name, *(f"{archive.name}.ts-{n}{s}" for n in (1, 2) for s in (".tsr", ".chain.pem"))]
        )
    finally:
        daemon.kill()


async def test_without_a_tsa_renewal_is_refused_clearly(daemon_factory) -> None:
    daemon = daemon_factory()
    async with daemon.client() as client:
        job_id = await create_job(client, files=1)
        await wait_for_state(client, job_id, TERMINAL)
    answer = run("archives", "retimestamp", socket=daemon.socket)
    assert answer.returncode == 6 and "[timestamp] tsa_urls" in answer.stderr, answer.stdout + answer.stderr


async def test_a_target_that_missed_a_renewal_gets_it_with_the_next(tmp_path: Path, tsa: TimestampAuthority) -> None:
    down = tmp_path / "flaky-down"
    extra = (
        f'\n[storage.flaky]\ndriver = "slowlocal"\npath = "{tmp_path / "flaky"}"\nfail_file = "{down}"\n'
        f'\n[timestamp]\ntsa_urls = ["{tsa.url}"]\nca_file = "{tsa.root_pem}"\npolicy = "required"\n'
    )
    daemon = DaemonProcess(write_config(tmp_path, extra=extra), tmp_path)
    daemon.start()
    try:
        async with daemon.client() as client:
            job_id = await create_job(client, files=1, storage_targets=["local", "flaky"])
            assert (await wait_for_state(client, job_id, TERMINAL))["state"] == "completed"
            detail = await client.call("jobs.get", {"job_id": job_id})
        located = {loc["target"]: loc["location"] for loc in detail["artifacts"][0]["locations"]}
        flaky = tmp_path / "flaky" / located["flaky"]

        down.touch()
        missed = json.loads(run("archives", "retimestamp", "--json", socket=daemon.socket).stdout)
        [first] = missed["archives"]
        assert first["outcome"] == "failed" and "flaky" in first["detail"] and missed["failed"] == 1
        assert [s.split(":")[0] for s in first["stored"]] == ["local"]
        assert not list(flaky.parent.glob(f"{flaky.name}.ts-*"))
        assert "not stored" in run("jobs", "logs", job_id, socket=daemon.socket).stdout

        down.unlink()
        not_due = json.loads(run("archives", "retimestamp", "--before", "2027-01-01", "--json",
                                 socket=daemon.socket).stdout)  # fmt: skip
        [caught_up] = not_due["archives"]
        assert caught_up["outcome"] == "not_due" and [s.split(":")[0] for s in caught_up["stored"]] == ["flaky"]
        assert len(list(flaky.parent.glob(f"{flaky.name}.ts-1.*"))) == 2
        healed = json.loads(run("archives", "retimestamp", "--json", socket=daemon.socket).stdout)
        [second] = healed["archives"]
        assert second["outcome"] == "renewed" and second["number"] == 2
        assert sorted(p.name for p in flaky.parent.glob(f"{flaky.name}.ts-*")) == sorted(
            f"{flaky.name}.ts-{n}{s}" for n in (1, 2) for s in (".tsr", ".chain.pem")
        )
        verified = run("verify", str(flaky))
        assert verified.returncode == 0 and "2 renewal(s)" in verified.stdout, verified.stdout
    finally:
        daemon.kill()
