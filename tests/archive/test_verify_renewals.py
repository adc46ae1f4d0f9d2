"""`verify_archive` with timestamp renewals next to the ZIP (`<archive>.zip.ts-<n>.tsr` + `.chain.pem`): a real chain
verifies and says until when it holds; forged, oversized, misplaced or orphaned renewal files fail the verdict with
a reason, never an exception."""

from __future__ import annotations

import asyncio
import shutil
import zipfile
from pathlib import Path

import pytest

from archived.archive.bag import build_bag_zip
from archived.archive.payload import scan_payload
from archived.archive.readme import archive_readme
from archived.archive.renewal import MAX_SIDECAR_BYTES, sidecar_names
from archived.archive.timestamps import TimestampClient, load_certificates
from archived.archive.verify import verify_archive
from tests.archive.test_bag import BAG_INFO, make_payload
from tests.archive.test_bag_timestamps import stamped_bag
from tests.support.tsa import TimestampAuthority


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with TimestampAuthority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


def own_reply(archive: Path) -> bytes:
    with zipfile.ZipFile(archive) as bag:
        top = bag.namelist()[0].split("/")[0]
        return bag.read(f"{top}/timestamps/tagmanifest-sha512.txt.tsr")


def renew(archive: Path, tsa: TimestampAuthority, over: bytes, number: int) -> bytes:
    """Write renewal `number` over `over` next to `archive`; returns its reply."""
    stamp = asyncio.run(TimestampClient([tsa.url], load_certificates(tsa.root_pem)).timestamp(over))
    reply_name, chain_name = sidecar_names(archive.name, number)
    (archive.parent / reply_name).write_bytes(stamp.reply)
    (archive.parent / chain_name).write_bytes(stamp.chain_pem)
    return stamp.reply


def renewal_check(report) -> str:
    [check] = [c for c in report.checks if c.name == "renewals"]
    return f"{'ok' if check.ok else 'FAILED'}: {check.detail}"


def test_a_renewal_chain_verifies_and_says_until_when(tmp_path: Path, tsa: TimestampAuthority) -> None:
    archive = stamped_bag(tmp_path, tsa)
    alone = verify_archive(archive)
    assert alone.ok and alone.holds_until and not [c for c in alone.checks if c.name == "renewals"]
    first = renew(archive, tsa, own_reply(archive), 1)
    renew(archive, tsa, first, 2)
    report = verify_archive(archive)
    assert report.ok, report.defects
    assert renewal_check(report).startswith("ok: 2 renewal(s), each over the timestamp before it")
    assert [r["file"] for r in report.renewals] == [f"{archive.name}.ts-1.tsr", f"{archive.name}.ts-2.tsr"]
    assert "evidence renewed 2 time(s)" in report.proven

    elsewhere = tmp_path / "sidecars"
    elsewhere.mkdir()
    for path in archive.parent.glob(f"{archive.name}.ts-*"):
        shutil.move(path, elsewhere / path.name)
    assert [c for c in verify_archive(archive).checks if c.name == "renewals"] == []
    assert verify_archive(archive, sidecars=elsewhere).renewals and verify_archive(archive, sidecars=elsewhere).ok


@pytest.mark.parametrize(
    ("forgery", "expected"),
    [
        ("garbage reply", "does not renew the timestamp before it"),
        ("over other data", "does not renew the timestamp before it"),
        ("oversized", f"larger than {MAX_SIDECAR_BYTES // 1024} KiB"),
        ("a folder", "not a regular file"),
        ("no chain", "certificate chain (.chain.pem) is missing"),
        ("only a chain", "only its certificate chain is there"),
        ("a gap", "ts-1 missing"),
    ],
)
def test_forged_renewals_fail_with_a_reason(tmp_path: Path, tsa: TimestampAuthority, forgery: str, expected: str):
    archive = stamped_bag(tmp_path, tsa)
    reply_name, chain_name = sidecar_names(archive.name, 1)
    reply, chain = archive.parent / reply_name, archive.parent / chain_name
    if forgery == "a gap":
        renew(archive, tsa, own_reply(archive), 2)
    else:
        renew(archive, tsa, b"not the archive's timestamp" if forgery == "over other data" else own_reply(archive), 1)
    if forgery == "garbage reply":
        reply.write_bytes(b"\x30\x03\x02\x01\x00")
    elif forgery == "oversized":
        reply.write_bytes(b"\0" * (MAX_SIDECAR_BYTES + 1))
    elif forgery == "a folder":
        reply.unlink()
        reply.mkdir()
    elif forgery == "no chain":
        chain.unlink()
    elif forgery == "only a chain":
        reply.unlink()
    report = verify_archive(archive)
    assert not report.ok and expected in renewal_check(report), renewal_check(report)
    assert not report.proven.endswith("time(s)")


def test_renewals_of_an_archive_without_a_verified_timestamp_fail(tmp_path: Path, tsa: TimestampAuthority) -> None:
    payload = make_payload(tmp_path)
    files = scan_payload(payload)
    readme = archive_readme(bag_name="plain", job_id="job-1")
    archive = build_bag_zip(payload_dir=payload, payload=files, dest=tmp_path / "plain.zip", bag_name="plain",
                            bag_info=BAG_INFO, readme=readme).path  # fmt: skip
    renew(archive, tsa, b"anything", 1)
    report = verify_archive(archive)
    assert not report.ok and "the archive's own timestamp did not verify" in renewal_check(report)
