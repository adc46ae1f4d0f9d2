"""A corpus of hostile archives, built at test time from a valid one: `archived verify` refuses every one of them.

Each case must give a failed, named check (never a pass, never a traceback) and `archived verify --json` must
exit 1 with a JSON report. Most cases keep the manifests consistent with the forged content, so only the ZIP-level
trick stands between the forgery and a passing verdict.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from archived.archive import verify
from archived.archive.bag import ALGORITHMS, build_bag_zip
from archived.archive.payload import scan_payload
from archived.archive.verify import verify_archive
from tests.archive.test_bag import build, make_payload
from tests.support.daemon import REPO

BAG = "archive-test"
PREFIX = f"{BAG}/"
JOB = f"{PREFIX}data/job.json"
NOTES = f"{PREFIX}data/notes_100-percent.txt"

Items = list[tuple[zipfile.ZipInfo, bytes]]
Edit = Callable[[str, bytes], bytes]


# --- building blocks ---------------------------------------------------------------------------------------------


def read_items(path: Path) -> Items:
    """Every entry of a ZIP with its content, in order."""
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def entry(name: str, like: zipfile.ZipInfo | None = None, *, mode: int | None = None) -> zipfile.ZipInfo:
    """A fresh ZipInfo named `name`, copying the type and compression of `like`."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    if like is not None:
        info.compress_type, info.external_attr, info.create_system = (
            like.compress_type,
            like.external_attr,
            like.create_system,
        )
    if mode is not None:
        info.external_attr = mode << 16
        info.create_system = 3
    return info


def write(dest: Path, items: Items, *, comment: bytes = b"", hidden: dict[int, bytes] | None = None) -> Path:
    """Write `items` as a ZIP (duplicates and odd names included: zipfile writes what it is given).

    `hidden` puts raw bytes after the entry with that index, where no entry and no manifest covers them.
    """
    with dest.open("wb") as handle, zipfile.ZipFile(handle, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": the duplicate is the point
        archive.comment = comment
        for index, (info, data) in enumerate(items):
            clone = entry(info.filename, info)
            clone.comment = info.comment
            archive.writestr(clone, data)
            if hidden and index in hidden:
                handle.write(hidden[index])
                archive.start_dir = handle.tell()  # zipfile writes the next entry where its last one ended
    return dest


def reseal(items: Items, edit: Edit | None = None) -> Items:
    """Make the manifests, Payload-Oxum and tag manifests agree with the payload entries (the last copy of a name).

    `edit(name, content)` may change bagit.txt, bag-info.txt or a payload manifest before the tag manifests are
    computed over them, so that a forged tag file is still consistent with the tag manifests.
    """
    edit = edit or (lambda _name, content: content)
    files = {info.filename[len(PREFIX) :]: data for info, data in items if not info.is_dir()}
    payload = {name: data for name, data in files.items() if name.startswith("data/")}
    new: dict[str, bytes] = {}
    for algorithm in ALGORITHMS:
        lines = "".join(f"{hashlib.new(algorithm, payload[p]).hexdigest()}  {p}\n" for p in sorted(payload))
        new[f"manifest-{algorithm}.txt"] = edit(f"manifest-{algorithm}.txt", lines.encode())
    oxum = f"Payload-Oxum: {sum(len(d) for d in payload.values())}.{len(payload)}"
    info_lines = [
        oxum if line.startswith("Payload-Oxum:") else line for line in files["bag-info.txt"].decode().splitlines()
    ]
    new["bag-info.txt"] = edit("bag-info.txt", ("\n".join(info_lines) + "\n").encode())
    new["bagit.txt"] = edit("bagit.txt", files["bagit.txt"])
    tags = {n: d for n, d in files.items() if not n.startswith(("data/", "tagmanifest-"))} | new
    for algorithm in ALGORITHMS:
        lines = "".join(f"{hashlib.new(algorithm, tags[n]).hexdigest()}  {n}\n" for n in sorted(tags))
        new[f"tagmanifest-{algorithm}.txt"] = lines.encode()
    return [(info, new.get(info.filename[len(PREFIX) :], data)) for info, data in items]


def headers(raw: bytes, name: str) -> tuple[int, int]:
    """Offsets of the local header and of the central directory record of the entry `name` (first match)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        local = archive.getinfo(name).header_offset
        position = archive.start_dir
    while raw[position : position + 4] == b"PK\x01\x02":
        length, extra, comment = struct.unpack_from("<HHH", raw, position + 28)
        if raw[position + 46 : position + 46 + length] == name.encode():
            return local, position
        position += 46 + length + extra + comment
    raise AssertionError(f"no central record for {name}")


def patch(
    path: Path,
    name: str,
    *,
    flags: int = 0,
    method: int | None = None,
    crc: int | None = None,
    size: int | None = None,
    new_name: bytes | None = None,
    offset_of: str | None = None,
    where: tuple[str, ...] = ("local", "central"),
) -> Path:
    """Change header fields of one entry in place: flags are OR-ed in; names must keep their length."""
    raw = bytearray(path.read_bytes())
    local, central = headers(bytes(raw), name)
    # (flags, method, crc, uncompressed size, name) offsets in a local header and in a central record
    fields = {"local": (local, 6, 8, 14, 22, 30), "central": (central, 8, 10, 16, 24, 46)}
    for part in where:
        base, f_flags, f_method, f_crc, f_size, f_name = fields[part]
        struct.pack_into("<H", raw, base + f_flags, struct.unpack_from("<H", raw, base + f_flags)[0] | flags)
        if method is not None:
            struct.pack_into("<H", raw, base + f_method, method)
        if crc is not None:
            struct.pack_into("<I", raw, base + f_crc, crc)
        if size is not None:
            struct.pack_into("<I", raw, base + f_size, size)
        if new_name is not None:
            assert len(new_name) == len(name.encode())
            raw[base + f_name : base + f_name + len(new_name)] = new_name
    if offset_of is not None:
        struct.pack_into("<I", raw, central + 42, headers(bytes(raw), offset_of)[0])
    path.write_bytes(bytes(raw))
    return path


def run_verify(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The real `archived verify --json`, as a user runs it."""
    environment = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "archived", "verify", "--json", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


# --- the corpus ----------------------------------------------------------------------------------------------------


def symlink(valid: Path, dest: Path) -> Path:
    items = read_items(valid)
    link = entry(f"{PREFIX}data/x.pdf", mode=stat.S_IFLNK | 0o777)
    return write(dest, reseal([*items, (link, b"/etc/passwd")]))


def fifo(valid: Path, dest: Path) -> Path:
    items = read_items(valid)
    return write(dest, reseal([*items, (entry(f"{PREFIX}data/pipe", mode=stat.S_IFIFO | 0o644), b"")]))


def duplicate(valid: Path, dest: Path) -> Path:
    items = read_items(valid)
    original = next(info for info, _ in items if info.filename == JOB)
    return write(dest, reseal([*items, (entry(JOB, original), b'{"job_id": "forged"}\n')]))


def folder_escape(valid: Path, dest: Path) -> Path:
    return write(dest, [*read_items(valid), (entry("../../evil/"), b"")])


def file_and_folder_entry(valid: Path, dest: Path) -> Path:
    return write(dest, [*read_items(valid), (entry(f"{JOB}/"), b"")])


def setuid(valid: Path, dest: Path) -> Path:
    items = read_items(valid)
    return write(dest, reseal([*items, (entry(f"{PREFIX}data/run", mode=stat.S_IFREG | 0o4755), b"#!/bin/sh\n")]))


def entry_comment(valid: Path, dest: Path) -> Path:
    items = read_items(valid)
    for info, _ in items:
        if info.filename == JOB:
            info.comment = b"checked by the examination office"
    return write(dest, items)


def hidden_between_entries(valid: Path, dest: Path) -> Path:
    return write(dest, read_items(valid), hidden={0: b"a message no manifest covers"})


def hidden_before_the_directory(valid: Path, dest: Path) -> Path:
    items = read_items(valid)
    return write(dest, items, hidden={len(items) - 1: b"a message no manifest covers"})


def folder_with_content(valid: Path, dest: Path) -> Path:
    return write(dest, [*read_items(valid), (entry(f"{PREFIX}data/hidden/"), b"a file hidden as a folder")])


def file_and_folder(valid: Path, dest: Path) -> Path:
    return write(dest, reseal([*read_items(valid), (entry(f"{JOB}/inner.txt"), b"x")]))


def encrypted(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), JOB, flags=0x1)


def encrypted_in_local_header_only(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), JOB, flags=0x1, where=("local",))


def deflate64(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), JOB, method=9)


def invalid_utf8_flagged(valid: Path, dest: Path) -> Path:
    bad = f"{PREFIX}data/notes_100-perc\xff\xfe\xfd.txt".encode("latin-1")
    return patch(write(dest, read_items(valid)), NOTES, flags=0x800, new_name=bad)


def invalid_utf8_unflagged(valid: Path, dest: Path) -> Path:
    bad = f"{PREFIX}data/notes_100-perc\xff\xfe\xfd.txt".encode("latin-1")
    return patch(write(dest, read_items(valid)), NOTES, new_name=bad)


def nul_in_name(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), NOTES, new_name=f"{PREFIX}data/notes_100-perc\0nt.txt".encode())


def names_differ(valid: Path, dest: Path) -> Path:
    forged = f"{PREFIX}data/notes_100-percenT.txt".encode()
    return patch(write(dest, read_items(valid)), NOTES, new_name=forged, where=("local",))


def offset_into_another_entry(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), NOTES, offset_of=JOB, where=())


def central_record_overrun(valid: Path, dest: Path) -> Path:
    """The last central record's name "runs on" into the end record: zipfile cuts it, unzip reads another name."""
    raw = bytearray(write(dest, read_items(valid)).read_bytes())
    _, central = headers(bytes(raw), NOTES)
    struct.pack_into("<H", raw, central + 28, struct.unpack_from("<H", raw, central + 28)[0] + 10)
    dest.write_bytes(bytes(raw))
    return dest


def split_over_disks(valid: Path, dest: Path) -> Path:
    raw = bytearray(valid.read_bytes())
    struct.pack_into("<H", raw, len(raw) - 22 + 4, 1)  # number of this disk, in the end record
    dest.write_bytes(bytes(raw))
    return dest


def bad_crc_on_bagit(valid: Path, dest: Path) -> Path:
    path = write(dest, read_items(valid))
    return patch(path, f"{PREFIX}bagit.txt", crc=zlib.crc32(b"something else"))


def lying_size(valid: Path, dest: Path) -> Path:
    """A listed entry that inflates to much more than its headers declare; the first 1000 bytes are listed."""
    declared = b"\0" * 1000
    bomb = entry(f"{PREFIX}data/bomb.txt")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    items = reseal([*read_items(valid), (bomb, declared)])
    items = [(i, b"\0" * 10_000_000 if i.filename.endswith("bomb.txt") else d) for i, d in items]
    return patch(write(dest, items), f"{PREFIX}data/bomb.txt", size=1000, crc=zlib.crc32(declared))


def impossible_size(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), JOB, size=0xFFFF_FFF0)


def huge_manifest(valid: Path, dest: Path) -> Path:
    return patch(write(dest, read_items(valid)), f"{PREFIX}manifest-sha256.txt", size=0xFFFF_FFF0)


def huge_bag_info(valid: Path, dest: Path) -> Path:
    padding = "".join(f"X-Padding-{n}: {'a' * 200}\n" for n in range(10_000))
    return write(dest, reseal(read_items(valid), lambda n, d: d + padding.encode() if n == "bag-info.txt" else d))


def unlisted_entry(valid: Path, dest: Path) -> Path:
    return write(dest, [*read_items(valid), (entry(f"{PREFIX}data/smuggled.bin"), b"x" * 1000)])


def truncated(valid: Path, dest: Path) -> Path:
    raw = valid.read_bytes()
    dest.write_bytes(raw[: len(raw) // 2])
    return dest


def prepended(valid: Path, dest: Path) -> Path:
    dest.write_bytes(b"#!/bin/sh\necho 'archive verified'\nexit 0\n" + valid.read_bytes())
    return dest


def appended(valid: Path, dest: Path) -> Path:
    dest.write_bytes(valid.read_bytes() + b"hidden after the end record")
    return dest


def comment(valid: Path, dest: Path) -> Path:
    return write(dest, read_items(valid), comment=b"Verified OK by the examination office")


def extra_name(name: str) -> Callable[[Path, Path], Path]:
    def build_it(valid: Path, dest: Path) -> Path:
        return write(dest, [*read_items(valid), (entry(name), b"x")])

    return build_it


def manifest_lines(manifest: str, lines: Callable[[Items], str]) -> Callable[[Path, Path], Path]:
    """A bag whose payload manifest starts with extra lines, tag manifests kept consistent."""

    def build_it(valid: Path, dest: Path) -> Path:
        items = read_items(valid)
        extra = lines(items).encode()
        return write(dest, reseal(items, lambda n, d: extra + d if n == manifest else d))

    return build_it


def digest_of(name: str, algorithm: str = "sha256") -> Callable[[Items], str]:
    return lambda items: next(hashlib.new(algorithm, d).hexdigest() for i, d in items if i.filename == PREFIX + name)


def tag_edit(name: str, change: Callable[[bytes], bytes]) -> Callable[[Path, Path], Path]:
    def build_it(valid: Path, dest: Path) -> Path:
        return write(dest, reseal(read_items(valid), lambda n, d: change(d) if n == name else d))

    return build_it


def tagmanifest_lists_payload(valid: Path, dest: Path) -> Path:
    """The tag manifest lists a payload file with its right digest: tag manifests cover tag files only."""
    items = read_items(valid)
    line = f"{digest_of('data/job.json')(items)}  data/job.json\n".encode()
    return write(dest, [(i, line + d if i.filename.endswith("tagmanifest-sha256.txt") else d) for i, d in items])


@dataclass(frozen=True)
class Case:
    """One hostile archive and the failed check that must name it."""

    id: str
    build: Callable[[Path, Path], Path]
    check: str
    detail: str


CASES = [
    Case("symlink", symlink, "entry types", "data/x.pdf is a symbolic link"),
    Case("fifo", fifo, "entry types", "data/pipe is a FIFO"),
    Case("duplicate-name", duplicate, "duplicate entries", "data/job.json"),
    Case("folder-escape", folder_escape, "entry names", "../../evil/"),
    Case("folder-with-content", folder_with_content, "entry types", "data/hidden/ is a folder entry with content"),
    Case("file-and-folder", file_and_folder, "entry types", "data/job.json is both a file and a folder"),
    Case("file-and-folder-entry", file_and_folder_entry, "entry types", "data/job.json is both a file and a folder"),
    Case("setuid", setuid, "entry types", "data/run has the setuid"),
    Case("entry-comment", entry_comment, "entry formats", "data/job.json has a comment"),
    Case("hidden-between-entries", hidden_between_entries, "zip structure", "28 bytes before archive-test/"),
    Case("hidden-before-the-directory", hidden_before_the_directory, "zip structure", "before the central directory"),
    Case("encrypted", encrypted, "entry formats", "data/job.json is encrypted"),
    Case("encrypted-local-only", encrypted_in_local_header_only, "zip structure", "data/job.json"),
    Case("deflate64", deflate64, "entry formats", "data/job.json uses compression method 9 (deflate64)"),
    Case("invalid-utf8-flagged", invalid_utf8_flagged, "entry names", "not valid UTF-8"),
    Case("invalid-utf8-unflagged", invalid_utf8_unflagged, "entry names", "not marked as UTF-8"),
    Case("nul-in-name", nul_in_name, "entry names", "NUL"),
    Case("names-differ", names_differ, "zip structure", "notes_100-percenT.txt"),
    Case("offset-into-another-entry", offset_into_another_entry, "zip structure", "notes_100-percent.txt"),
    Case("central-record-overrun", central_record_overrun, "zip structure", "runs past the end of the central"),
    Case("split-over-disks", split_over_disks, "zip structure", "several disks"),
    Case("bad-crc-bagit", bad_crc_on_bagit, "zip integrity", "bagit.txt"),
    Case("lying-size", lying_size, "zip integrity", "data/bomb.txt: inflates to more than the 1000 bytes"),
    Case("impossible-size", impossible_size, "zip integrity", "data/job.json: declares 4294967280 bytes"),
    Case("huge-manifest", huge_manifest, "manifest-sha256.txt", "larger than"),
    Case("huge-bag-info", huge_bag_info, "bag-info.txt", "larger than"),
    Case("unlisted-entry", unlisted_entry, "manifest-sha256.txt", "not listed: data/smuggled.bin"),
    Case("truncated", truncated, "zip", "not a readable ZIP file"),
    Case("prepended", prepended, "zip structure", "before the first entry"),
    Case("appended", appended, "zip structure", "after the end"),
    Case("comment", comment, "zip structure", "comment"),
    Case("absolute-name", extra_name(f"/{PREFIX}data/x.txt"), "entry names", "absolute"),
    Case("drive-letter", extra_name(f"C:/{PREFIX}data/x.txt"), "entry names", "absolute"),
    Case("backslash", extra_name(f"{PREFIX}data\\x.txt"), "entry names", "backslash"),
    Case("dot-dot", extra_name(f"{PREFIX}data/../../x.txt"), "entry names", "'..'"),
    Case("empty-segment", extra_name(f"{PREFIX}data//x.txt"), "entry names", "empty"),
    Case("control-character", extra_name(f"{PREFIX}data/\x1b[2Jx.txt"), "entry names", "control character"),
    Case("outside-the-bag", extra_name("other/x.txt"), "layout", "other"),
    Case("file-at-top", extra_name("x.txt"), "layout", "x.txt"),
    Case(
        "manifest-dot-dot",
        manifest_lines("manifest-sha256.txt", lambda items: f"{digest_of('bagit.txt')(items)}  data/../bagit.txt\n"),
        "manifest-sha256.txt",
        "unsafe path",
    ),
    Case(
        "manifest-lists-a-tag-file",
        manifest_lines("manifest-sha256.txt", lambda items: f"{digest_of('bagit.txt')(items)}  bagit.txt\n"),
        "manifest-sha256.txt",
        "outside data/",
    ),
    Case(
        "manifest-line-twice",
        manifest_lines("manifest-sha256.txt", lambda items: f"{'0' * 64}  data/job.json\n"),
        "manifest-sha256.txt",
        "listed more than once: data/job.json",
    ),
    Case(
        "tagmanifest-lists-payload",
        tagmanifest_lists_payload,
        "tagmanifest-sha256.txt",
        "inside data/",
    ),
    Case(
        "bagit-version",
        tag_edit("bagit.txt", lambda d: d.replace(b"1.0", b"1.0.1")),
        "bagit.txt",
        "BagIt-Version",
    ),
    Case(
        "oxum-twice",
        tag_edit("bag-info.txt", lambda d: b"Payload-Oxum: 1.1\n" + d),
        "bag-info.txt",
        "Payload-Oxum appears 2 times",
    ),
    Case(
        "bag-info-control-characters",
        tag_edit("bag-info.txt", lambda d: d + b"Course: \x1b[2J\x1b[31mforged\n"),
        "bag-info.txt",
        "control character",
    ),
    Case(
        "bag-info-not-utf8",
        tag_edit("bag-info.txt", lambda d: d + b"Course: M\xfcller\n"),
        "bag-info.txt",
        "not valid UTF-8",
    ),
    Case("empty-zip", lambda valid, dest: write(dest, []), "layout", "no entries"),
]


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    """A valid archive from the real bag writer."""
    return build(tmp_path / "valid", BAG)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_archive_is_refused(case: Case, valid: Path, tmp_path: Path) -> None:
    path = case.build(valid, tmp_path / f"{case.id}.zip")
    report = verify_archive(path)
    failed = {c.name: c.detail for c in report.checks if not c.ok}
    assert not report.ok
    assert case.check in failed, report.defects
    assert case.detail in failed[case.check], report.defects
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")  # what --json prints, to a UTF-8 stream

    result = run_verify(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    printed = json.loads(result.stdout)
    assert printed["ok"] is False
    assert any(d.startswith(f"{case.check}: ") and case.detail in d for d in printed["defects"])


# --- what must keep passing, and finer points ------------------------------------------------------------------------


def test_the_valid_archive_verifies(valid: Path) -> None:
    report = verify_archive(valid)
    assert report.ok, report.defects
    assert report.payload_files == 4
    result = run_verify(valid)
    assert result.returncode == 0 and json.loads(result.stdout)["ok"] is True


def test_an_archive_with_data_descriptors_verifies(valid: Path, tmp_path: Path) -> None:
    """Written to a pipe, zipfile puts sizes and CRCs in data descriptors after the data; that is still valid."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, chunk: bytes) -> int:  # type: ignore[override]
            self.data += chunk
            return len(chunk)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w") as archive:
        for info, data in read_items(valid):
            archive.writestr(entry(info.filename, info), data)
    path = tmp_path / "descriptors.zip"
    path.write_bytes(bytes(sink.data))
    assert all(i.flag_bits & 0x08 for i in zipfile.ZipFile(path).infolist())
    report = verify_archive(path)
    assert report.ok, report.defects


def test_zip64_headers_and_end_record_verify(valid: Path, tmp_path: Path) -> None:
    """ZIP64 local headers (forced, as for payload files over 2 GiB) and the ZIP64 end record of >65535 entries."""
    path = tmp_path / "zip64.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in read_items(valid):
            with archive.open(entry(info.filename, info), "w", force_zip64=True) as out:
                out.write(data)
        for n in range(65_600):  # empty folders are allowed inside the bag
            archive.writestr(entry(f"{PREFIX}data/empty/{n}/"), b"")
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw[-200:]
    report = verify_archive(path)
    assert report.ok, report.defects


def test_bag_info_values_are_carried_as_plain_text(valid: Path, tmp_path: Path) -> None:
    markup = "[bold red]Forged[/] [/] [link=https://example.org]x[/link]"
    path = tag_edit("bag-info.txt", lambda d: d + f"Course: {markup}\n".encode())(valid, tmp_path / "markup.zip")
    report = verify_archive(path)
    assert report.ok, report.defects
    assert report.bag_info["Course"] == markup
    result = run_verify(path)
    assert result.returncode == 0 and json.loads(result.stdout)["bag_info"]["Course"] == markup


def strings(value: object) -> list[str]:
    """Every string inside a JSON-ready value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def test_control_characters_never_reach_the_report(valid: Path, tmp_path: Path) -> None:
    """A terminal escape in bag-info or in an entry name is shown escaped, so printing the report is harmless."""
    path = tag_edit("bag-info.txt", lambda d: d + b"Course: \x1b[2Jforged\n")(valid, tmp_path / "escape.zip")
    path = write(tmp_path / "both.zip", [*read_items(path), (entry(f"{PREFIX}data/\x1b[2J.txt"), b"x")])
    report = verify_archive(path).to_dict()
    assert not [s for s in strings(report) if "\x1b" in s]
    assert report["bag_info"]["Course"] == "\\x1b[2Jforged"
    assert any("data/\\x1b[2J.txt" in d for d in report["defects"])


def test_the_writer_drops_control_characters_from_bag_info(tmp_path: Path) -> None:
    """A course name with a control character (Moodle does not forbid one) still gives an archive that verifies."""
    payload = make_payload(tmp_path)
    built = build_bag_zip(
        payload_dir=payload,
        payload=scan_payload(payload),
        dest=tmp_path / "course.zip",
        bag_name=BAG,
        bag_info=[("Course", "Chemistry\x07 \x1b[1mI\x1b[0m\u200d (CHEM1)")],
        readme="readme\n",
    )
    report = verify_archive(built.path)
    assert report.ok, report.defects
    assert report.bag_info["Course"] == "Chemistry [1mI[0m\u200d (CHEM1)"  # joiners stay: emoji in names


def test_unlisted_entries_are_reported_without_being_read(valid: Path, tmp_path: Path) -> None:
    """An unlisted entry is never decompressed: its broken CRC is not even noticed, only that it is not listed."""
    path = write(tmp_path / "unlisted.zip", [*read_items(valid), (entry(f"{PREFIX}data/big.bin"), b"y" * 100_000)])
    patch(path, f"{PREFIX}data/big.bin", crc=0)
    report = verify_archive(path)
    failed = {c.name: c.detail for c in report.checks if not c.ok}
    assert "not listed: data/big.bin" in failed["manifest-sha256.txt"]
    assert "zip integrity" not in failed, failed


def test_a_listed_entry_with_a_bad_crc_is_found(valid: Path, tmp_path: Path) -> None:
    path = patch(write(tmp_path / "crc.zip", read_items(valid)), JOB, crc=0)
    failed = {c.name: c.detail for c in verify_archive(path).checks if not c.ok}
    assert "data/job.json" in failed["zip integrity"] and "CRC" in failed["zip integrity"]
    assert "data/job.json" in failed["manifest-sha256.txt"]  # listed but could not be checked


def test_limits_on_entry_count(valid: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More entries than the verifier holds in memory is refused before the central directory is read."""
    monkeypatch.setattr(verify, "MAX_ENTRIES", 5)
    failed = {c.name: c.detail for c in verify_archive(valid).checks if not c.ok}
    assert "more than 5 entries" in failed["zip structure"]


def test_an_unexpected_error_becomes_a_failed_check(valid: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the verifier must not pass an archive nor end in a traceback."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("simulated bug")

    monkeypatch.setattr(verify, "_check_bagit_txt", broken)
    report = verify_archive(valid)
    assert not report.ok
    assert any("internal error while verifying: ValueError: simulated bug" in d for d in report.defects)
    json.dumps(report.to_dict())


def test_several_archives_in_one_run(valid: Path, tmp_path: Path) -> None:
    result = run_verify(valid, symlink(valid, tmp_path / "symlink.zip"))
    assert result.returncode == 1
    first, second = json.loads(result.stdout)
    assert first["ok"] is True and second["ok"] is False
