"""Bags with an RFC 3161 timestamp over their SHA-512 tag manifest: written, verified offline, refused when wrong."""

from __future__ import annotations

import asyncio
import datetime
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from archived.archive.bag import build_bag_zip, tag_files_for
from archived.archive.payload import scan_payload
from archived.archive.readme import archive_readme
from archived.archive.timestamps import TimestampClient, load_certificates, timestamp_files
from archived.archive.verify import verify_archive
from tests.archive.test_bag import BAG_INFO, make_payload
from tests.support.tsa import TimestampAuthority


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with TimestampAuthority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


def stamped_bag(root: Path, tsa: TimestampAuthority, name: str = "archive-stamped") -> Path:
    """A bag built as the post-processing stage builds one: tag files, a timestamp over their manifest, the ZIP."""
    payload = make_payload(root)
    files = scan_payload(payload)
    readme = archive_readme(bag_name=name, job_id="job-1")
    tags = tag_files_for(payload=files, bag_info=BAG_INFO, readme=readme)
    client = TimestampClient([tsa.url], load_certificates(tsa.root_pem))
    stamp = asyncio.run(client.timestamp(tags["tagmanifest-sha512.txt"]))
    built = build_bag_zip(payload_dir=payload, payload=files, dest=root / f"{name}.zip", bag_name=name,
                          bag_info=BAG_INFO, readme=readme, timestamp_files=timestamp_files(stamp))  # fmt: skip
    return built.path


def rewritten(archive: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of `archive` with entries replaced (bytes), removed (None) or added (new names)."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as out:
        names = source.namelist()
        for name in names:
            if name in change:
                if change[name] is not None:
                    out.writestr(name, change[name])
                continue
            out.writestr(source.getinfo(name), source.read(name))
        for name, data in change.items():
            if name not in names and data is not None:
                out.writestr(name, data)
    return target


def test_a_stamped_bag_verifies_and_says_what_is_proven(tmp_path: Path, tsa: TimestampAuthority) -> None:
    report = verify_archive(stamped_bag(tmp_path, tsa))
    assert report.ok, report.defects
    [stamp] = report.timestamps
    assert stamp["file"] == "tagmanifest-sha512.txt" and stamp["authority"] == f"archived test TSA {tsa.folder.name}"
    assert report.proven.startswith("complete and unaltered since 20") and tsa.folder.name in report.proven
    check = next(c for c in report.checks if c.name == "timestamps")
    assert "chain to the root it carries (SHA-256 " in check.detail
    assert verify_archive(stamped_bag(tmp_path / "again", tsa), tsa_roots=load_certificates(tsa.root_pem)).ok


def test_the_documented_openssl_command_verifies_the_unpacked_bag(tmp_path: Path, tsa: TimestampAuthority) -> None:
    archive = stamped_bag(tmp_path, tsa)
    with zipfile.ZipFile(archive) as bag:
        bag.extractall(tmp_path / "unpacked")
    folder = tmp_path / "unpacked" / "archive-stamped"
    result = subprocess.run(
        ["openssl", "ts", "-verify", "-in", "timestamps/tagmanifest-sha512.txt.tsr", "-data",
         "tagmanifest-sha512.txt", "-CAfile", "timestamps/tagmanifest-sha512.txt.chain.pem"],
        cwd=folder, capture_output=True, text=True,
    )  # fmt: skip
    assert "Verification: OK" in result.stdout, result.stdout + result.stderr


def test_a_changed_tag_manifest_breaks_the_timestamp(tmp_path: Path, tsa: TimestampAuthority) -> None:
    archive = stamped_bag(tmp_path, tsa)
    name = "archive-stamped/tagmanifest-sha512.txt"
    with zipfile.ZipFile(archive) as bag:
        forged = bag.read(name) + b"0" * 128 + b"  extra.txt\n"
    report = verify_archive(rewritten(archive, tmp_path / "forged.zip", {name: forged}))
    assert not report.ok
    assert any(d.startswith("timestamps: timestamps/tagmanifest-sha512.txt.tsr: the timestamp does not verify")
               for d in report.defects), report.defects  # fmt: skip


def test_a_stranger_root_or_a_stray_file_fails(tmp_path: Path, tsa: TimestampAuthority) -> None:
    archive = stamped_bag(tmp_path, tsa)
    with TimestampAuthority(tmp_path / "stranger") as stranger:
        report = verify_archive(archive, tsa_roots=load_certificates(stranger.root_pem))
    assert not report.ok and any("timestamps:" in d for d in report.defects)
    stray = rewritten(archive, tmp_path / "stray.zip", {"archive-stamped/timestamps/notes.txt": b"hello"})
    report = verify_archive(stray)
    assert any("notes.txt: not a timestamp" in d for d in report.defects)
    missing_chain = rewritten(archive, tmp_path / "nochain.zip",
                              {"archive-stamped/timestamps/tagmanifest-sha512.txt.chain.pem": None})  # fmt: skip
    assert any("no root certificate to check it with" in d for d in verify_archive(missing_chain).defects)


def test_a_tsa_certificate_that_expired_since_stamping_still_verifies(tmp_path: Path) -> None:
    """Years later the TSA's certificate has expired: the timestamp is checked at the time it states."""
    with TimestampAuthority(tmp_path / "short", valid_for=datetime.timedelta(seconds=3)) as tsa:
        archive = stamped_bag(tmp_path, tsa)
        expiry = tsa.tsa_certificate().not_valid_after_utc
    while datetime.datetime.now(datetime.UTC) <= expiry:  # wait until it really has expired (about 3 s)
        subprocess.run(["sleep", "0.5"], check=True)
    report = verify_archive(archive)
    assert report.ok, report.defects


def test_a_bag_without_a_timestamp_says_so(tmp_path: Path) -> None:
    from tests.archive.test_bag import build

    report = verify_archive(build(tmp_path))
    assert report.ok and report.proven.startswith("no timestamp")


def test_the_commands_readme_txt_documents_work_as_written(tmp_path: Path, tsa: TimestampAuthority) -> None:
    """What someone with neither archived nor Moodle does in ten years: follow README.txt to the letter."""
    archive = stamped_bag(tmp_path, tsa)
    with zipfile.ZipFile(archive) as bag:
        bag.extractall(tmp_path / "unpacked")
    folder = tmp_path / "unpacked" / "archive-stamped"
    readme = (folder / "README.txt").read_text()
    # The commands are the lines indented by seven spaces; a line indented further continues the one before.
    commands: list[str] = []
    for line in readme.splitlines():
        if line.startswith(" " * 8) and commands:
            commands[-1] += " " + line.strip()
        elif line.startswith(" " * 7) and not line.startswith(" " * 8):
            commands.append(line.strip())
    commands = [re.split(r"\s{2,}\(", c)[0] for c in commands]  # without a trailing "(macOS: …)" remark
    runnable = [c for c in commands if c.split()[0] in ("sha256sum", "sha512sum", "bagit.py", "openssl")]
    assert len(runnable) == 5, commands  # three checksum lists, the BagIt validator, the timestamp
    bin_dir = Path(sys.executable).parent  # bagit.py is installed next to this Python
    for command in runnable:
        result = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True,
                                env={"PATH": f"{bin_dir}:/usr/bin:/bin"})  # fmt: skip
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
        if command.startswith("openssl"):
            assert "Verification: OK" in result.stdout
