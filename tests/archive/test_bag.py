"""The BagIt-in-ZIP archive: layout, determinism, and verification cross-checked with standard tools."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import bagit
import pytest

from archived.archive.bag import build_bag_zip, format_bag_info
from archived.archive.payload import PayloadError, scan_payload
from archived.archive.verify import verify_archive
from archived.errors import IntegrityError
from archived.storable_text import storable_text

BAG_INFO = [("Source-Organization", "Test University"), ("External-Identifier", "job-1")]


def make_payload(root: Path) -> Path:
    payload = root / "payload"
    (payload / "attempts" / "jmueller" / "1-2026-11-28_09-00-00").mkdir(parents=True)
    (payload / "attempts" / "jmueller" / "1-2026-11-28_09-00-00" / "attempt-1.pdf").write_bytes(b"%PDF-1.7 fake\n" * 50)
    (payload / "attempts.csv").write_text("attemptid,username\n1,jmueller\n", encoding="utf-8")
    (payload / "job.json").write_text('{"job_id": "job-1", "name": "Jürgen"}\n', encoding="utf-8")
    (payload / "notes_100-percent.txt").write_text("plain name\n")
    return payload


def build(root: Path, name: str = "archive-test") -> Path:
    payload = make_payload(root)
    files = scan_payload(payload)
    built = build_bag_zip(
        payload_dir=payload,
        payload=files,
        dest=root / f"{name}.zip",
        bag_name=name,
        bag_info=BAG_INFO,
        readme="readme\n",
    )
    return built.path


def test_layout(tmp_path: Path) -> None:
    path = build(tmp_path)
    names = zipfile.ZipFile(path).namelist()
    assert sorted(n.split("/", 1)[1] for n in names if not n.startswith("archive-test/data/")) == [
        "README.txt",
        "bag-info.txt",
        "bagit.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    ]
    info = zipfile.ZipFile(path).read("archive-test/bag-info.txt").decode()
    assert "Payload-Oxum: " in info and "External-Identifier: job-1" in info
    assert (
        zipfile.ZipFile(path).read("archive-test/bagit.txt")
        == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )


def test_our_verifier_accepts_it(tmp_path: Path) -> None:
    report = verify_archive(build(tmp_path))
    assert report.ok, report.defects
    assert report.payload_files == 4


def test_sha256sum_and_the_bagit_validator_accept_it(tmp_path: Path) -> None:
    path = build(tmp_path)
    out = tmp_path / "unpacked"
    zipfile.ZipFile(path).extractall(out)
    bag_dir = out / "archive-test"
    for tool, manifest in (("sha256sum", "manifest-sha256.txt"), ("sha512sum", "manifest-sha512.txt"),
                           ("sha256sum", "tagmanifest-sha256.txt")):  # fmt: skip
        result = subprocess.run([tool, "-c", manifest], cwd=bag_dir, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises on any problem: missing/extra files, Payload-Oxum, every checksum
    assert bag.info["External-Identifier"] == "job-1"


def test_same_payload_gives_the_same_bytes(tmp_path: Path) -> None:
    first = build(tmp_path / "a")
    second = build(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


def test_payload_changed_after_hashing_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    payload = make_payload(tmp_path)
    files = scan_payload(payload)
    (payload / "attempts.csv").write_text("attemptid,username\n1,someone-else\n")
    dest = tmp_path / "x.zip"
    with pytest.raises(IntegrityError, match="attempts.csv changed"):
        build_bag_zip(payload_dir=payload, payload=files, dest=dest, bag_name="x", bag_info=BAG_INFO, readme="r")
    assert not dest.exists()
    assert list(tmp_path.glob("*.part")) == [] and list(tmp_path.glob(".*.part")) == []


def test_links_are_refused(tmp_path: Path) -> None:
    payload = make_payload(tmp_path)
    (payload / "link").symlink_to("/etc/passwd")
    with pytest.raises(PayloadError, match="not a regular file"):
        scan_payload(payload)


@pytest.mark.parametrize("name", ["notes 100% done.txt", "Müller.pdf", ".hidden", "a\\b"])
def test_non_portable_names_are_refused(tmp_path: Path, name: str) -> None:
    payload = make_payload(tmp_path)
    (payload / name).write_text("x")
    with pytest.raises(PayloadError, match="not portable"):
        scan_payload(payload)


def _rewrite(path: Path, dest: Path, change) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            result = change(info.filename, data)
            if result is not None:
                out.writestr(info, result)
        extra = change(None, None)
        if extra:
            out.writestr(*extra)
    return dest


def test_verify_finds_a_changed_payload_file(tmp_path: Path) -> None:
    path = build(tmp_path)
    bad = _rewrite(path, tmp_path / "bad.zip",
                   lambda n, d: (d.replace(b"jmueller", b"jmUeller") if n and n.endswith("attempts.csv") else d)
                   if n else None)  # fmt: skip
    report = verify_archive(bad)
    assert not report.ok
    assert any("manifest-sha256.txt" in d and "checksum mismatch" in d and "attempts.csv" in d for d in report.defects)


def test_verify_finds_missing_and_extra_files(tmp_path: Path) -> None:
    path = build(tmp_path)
    missing = _rewrite(
        path, tmp_path / "missing.zip", lambda n, d: None if n and n.endswith("job.json") else (d if n else None)
    )
    report = verify_archive(missing)
    assert any("missing from the archive" in d for d in report.defects)
    assert any("Payload-Oxum" in d for d in report.defects)
    extra = _rewrite(path, tmp_path / "extra.zip", lambda n, d: d if n else ("archive-test/data/smuggled.txt", b"x"))
    report = verify_archive(extra)
    assert any("not listed: data/smuggled.txt" in d for d in report.defects)


def test_verify_finds_a_corrupted_zip_entry(tmp_path: Path) -> None:
    path = build(tmp_path)
    raw = bytearray(path.read_bytes())
    offset = raw.find(b"%PDF-1.7 fake")
    raw[offset + 3] ^= 0xFF  # flip bits inside a stored (uncompressed) entry: its CRC no longer matches
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(raw))
    report = verify_archive(broken)
    assert not report.ok
    assert any("zip integrity" in d for d in report.defects)


def test_verify_rejects_unsafe_entry_names(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("bag/../../etc/cron.d/x", b"boom")
    report = verify_archive(evil)
    assert not report.ok and "unsafe entries" in report.defects[0]


def test_verify_of_something_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "not.zip"
    path.write_text("hello")
    assert not verify_archive(path).ok
    assert not verify_archive(tmp_path / "absent.zip").ok


def test_tools_exist() -> None:
    assert shutil.which("sha256sum") and shutil.which("sha512sum")


def test_bag_info_values_cannot_forge_a_field_or_break_utf8(tmp_path: Path) -> None:
    """A course name from any driver may hold line breaks (a forged `Retain-Until:` line), control characters or
    a lone surrogate (which UTF-8 cannot encode and which used to fail the job)."""
    hostile = "Algebra\nRetain-Until: 2099-01-01\r\x1b[2J\ud800\uffff end"
    info = format_bag_info([("Course", hostile), ("Retain-Until", "2029-12-31")])
    assert info.encode("utf-8")
    assert info.splitlines() == [
        "Course: Algebra Retain-Until: 2099-01-01 [2J\ufffd\ufffd end",
        "Retain-Until: 2029-12-31",
    ]


def test_storable_text_keeps_everything_else() -> None:
    text = "Zoë Ōtsuka ✔ 数学 \t\n\U0001f600"
    assert storable_text(text) == text
    assert storable_text("a\udc80b\ufffec") == "a\ufffdb\ufffdc"
