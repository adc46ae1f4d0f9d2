"""Offline verification of an archive ZIP: the BagIt structure and every checksum, without Moodle or a daemon.

The archive may be hostile: whatever cannot be verified fails the verdict, nothing is trusted before it is checked,
and nothing ends in a traceback. Checks:
- the ZIP's structure: every byte of the file belongs to an entry or to the central directory (nothing prepended,
  appended or hidden between entries, no comment), each entry's local header agrees with its central record;
- every entry: a safe relative name (no absolute path, `..`, backslash, NUL or control character, valid UTF-8), a
  regular file or an empty folder (no link, device, FIFO or setuid bit), stored or deflated, not encrypted, without
  a comment, no name twice;
- one top-level bag folder; `bagit.txt`; `bag-info.txt` and its Payload-Oxum;
- the manifests cover every payload file and the tag manifests every tag file, exactly once, with safe paths;
  every listed file is read once (CRC-32, sizes and the end of its deflate stream checked) and its digests match.
Entries that no manifest lists are reported without being read, and what is read into memory is bounded.
"""

from __future__ import annotations

import hashlib
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from rfc3161_client import TimeStampResponse

from archived.archive.bag import ALGORITHMS, TIMESTAMP_FOLDER, decode_manifest_path
from archived.archive.payload import CHUNK
from archived.archive.renewal import StampFacts, check_renewals, sidecar_files, stamp_facts
from archived.archive.timestamps import CHAIN_SUFFIX, STAMPED_FILE, TOKEN_SUFFIX, TimestampInvalid, verify_reply

# Bounds on what a hostile archive can make the verifier hold in memory (real archives stay far below them).
MAX_ENTRIES = 1_000_000
MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024
MAX_BAGIT_TXT = 64 * 1024
MAX_BAG_INFO = 1024 * 1024
MAX_MANIFEST = 64 * 1024 * 1024
MAX_TIMESTAMP_FILE = 1024 * 1024  # a reply or a certificate chain: a few KiB
# Deflate cannot expand one compressed byte to more than 1032 bytes; a larger declared size is a lie.
DEFLATE_MAX_RATIO = 1032

_END = b"PK\x05\x06"
_END_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_END = b"PK\x06\x06"
_ZIP64_END_SIZE = 56
_CENTRAL = b"PK\x01\x02"
_CENTRAL_SIZE = 46
_LOCAL = b"PK\x03\x04"
_LOCAL_SIZE = 30
_DESCRIPTOR = b"PK\x07\x08"
_UNSET = 0xFFFF_FFFF  # a 32-bit size field whose value lives in the ZIP64 extra field

_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_PATCHED = 0x0020
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
_FLAG_MASKED_DIRECTORY = 0x2000
_FLAGS_THAT_MUST_AGREE = _FLAG_ENCRYPTED | _FLAG_PATCHED | _FLAG_STRONG_ENCRYPTION | _FLAG_UTF8 | _FLAG_DESCRIPTOR
_DOS_DIRECTORY = 0x10

_METHODS = {
    1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard", 95: "xz", 98: "ppmd",
    99: "AES encryption",
}  # fmt: skip
_FILE_TYPES = {
    stat.S_IFLNK: "a symbolic link", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket",
}  # fmt: skip
_HEX = {"sha256": re.compile(r"[0-9a-fA-F]{64}"), "sha512": re.compile(r"[0-9a-fA-F]{128}")}
_OXUM = re.compile(r"[0-9]+\.[0-9]+")
_DRIVE = re.compile(r"[A-Za-z]:")
_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SHOWN = 5  # names listed in one detail line


@dataclass
class Check:
    """One named check and its outcome."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyReport:
    """Everything `archived verify` found; every string is plain text with control characters escaped."""

    archive: str
    bag_name: str = ""
    payload_files: int = 0
    payload_bytes: int = 0
    bag_info: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    timestamps: list[dict[str, str]] = field(default_factory=list)  # each verified timestamp: file, time, authority
    proven: str = ""  # what a passing verdict proves, in plain words
    renewals: list[dict[str, str]] = field(default_factory=list)  # each verified renewal: file, time, authority
    holds_until: str = ""  # until when the timestamp (or its newest renewal) can be checked; renew before then

    @property
    def defects(self) -> list[str]:
        """Every failed check as a line of text."""
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record a check; returns `ok` for chaining."""
        self.checks.append(Check(name, ok, detail))
        return ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["ok"] = self.ok
        data["defects"] = self.defects
        return data


def shown(text: str) -> str:
    """`text` with control characters, bidirectional overrides and lone surrogates escaped (ESC as `\\x1b`).

    What stays is safe to print on a terminal and to encode as UTF-8; joiners and other invisible letters that real
    names use (emoji sequences) are kept.
    """
    return _UNSAFE_TEXT.sub(lambda match: ascii(match.group())[1:-1], text)


def _size(octets: int) -> str:
    return f"{octets // 2**20} MiB" if octets >= 2**20 else f"{octets // 1024} KiB"


def _listed(items: Iterable[str], what: str = "") -> str:
    names = sorted(items)
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f"{len(names)} {what}{': ' if what else ''}{', '.join(names[:_SHOWN])}{more}"


@dataclass
class _Entry:
    """One central directory record and what the verifier learnt about it."""

    info: zipfile.ZipInfo
    raw_name: bytes
    shown: str
    data_start: int = -1
    unreadable: str = ""  # why its content must not be read ("" when it may)

    @property
    def name(self) -> str:
        return self.info.orig_filename  # `filename` is cut at a NUL; the original is what other tools see

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def shown_in_bag(self) -> str:
        return self.shown.split("/", 1)[-1]  # the bag folder's name never holds a "/"


@dataclass
class _EndRecord:
    """What the end record(s) declare, and what is wrong around them."""

    entries: int
    directory_size: int
    problems: list[str]


def verify_archive(
    path: Path, *, tsa_roots: Sequence[x509.Certificate] = (), sidecars: Path | None = None
) -> VerifyReport:
    """Verify one archive ZIP; never raises for a defect (or a bug), only records it.

    Timestamps are checked against `tsa_roots` when given (roots the reader trusts on their own), else against
    the root certificates the archive carries next to each timestamp (the report says which). Renewals of the
    archive's timestamp (`<archive>.zip.ts-<n>.tsr`, `archived.archive.renewal`) are looked for in `sidecars`, or
    next to the ZIP.
    """
    report = VerifyReport(archive=shown(str(path)))
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        report.add("zip", False, f"{shown(str(path))} does not exist")
        return report
    except OSError as exc:
        report.add("zip", False, f"cannot read {shown(str(path))}: {shown(exc.strerror or str(exc))}")
        return report
    with handle:
        try:
            base = _verify(handle, report, tsa_roots)
            _check_renewals(report, base, sidecar_files(sidecars or path.parent, path.name), tsa_roots)
        except OSError as exc:
            report.add("zip", False, f"reading {shown(str(path))} failed: {shown(str(exc))}; check the disk or copy")
        except Exception as exc:  # a bug must fail the verdict, never pass it or end in a traceback
            report.add(
                "internal error",
                False,
                f"internal error while verifying: {type(exc).__name__}: {shown(str(exc))}; the archive could not be "
                "verified completely; please report this as a bug of archived",
            )
    return report


def _verify(
    handle: BinaryIO, report: VerifyReport, tsa_roots: Sequence[x509.Certificate]
) -> tuple[bytes, StampFacts] | None:
    """The checks of the ZIP and its bag; returns the archive's own timestamp (reply and facts) if it verified."""
    size = handle.seek(0, 2)
    end = _read_end_record(handle, size, report)
    if end is None:
        return None
    try:
        with zipfile.ZipFile(handle) as archive:
            infos, directory_start = archive.infolist(), archive.start_dir
    except UnicodeDecodeError as exc:
        bad = shown(exc.object.decode("utf-8", "backslashreplace")) if isinstance(exc.object, bytes) else "?"
        report.add("entry names", False, f"an entry name is marked as UTF-8 but is not valid UTF-8: {bad}")
        return None
    except Exception as exc:  # zipfile raises many kinds of errors for a malformed directory
        report.add("zip", False, f"not a readable ZIP file: {type(exc).__name__}: {shown(str(exc))}")
        return None
    entries = [_entry(info) for info in infos]
    problems = end.problems
    if len(entries) != end.entries:
        problems.append(f"the end record counts {end.entries} entries, the central directory holds {len(entries)}")
    problems += _check_central_directory(handle, entries, directory_start, end.directory_size)
    problems += _check_local_headers(handle, entries, directory_start)
    report.add(
        "zip structure",
        not problems,
        "; ".join(problems[:_SHOWN]) if problems else f"{len(entries)} entries; every byte belongs to one of them",
    )
    _check_names(entries, report)
    _check_types(entries, report)
    _check_duplicates(entries, report)
    _check_formats(entries, report)
    bag = _check_layout(entries, report)
    if bag is not None:  # an unsafe name cannot be listed in a manifest (those paths are refused), so go on
        return _verify_bag(handle, bag, entries, report, tsa_roots)
    return None


def _entry(info: zipfile.ZipInfo) -> _Entry:
    # zipfile decoded the name as UTF-8 (flag set) or CP437 (not set); both give the original bytes back.
    raw = info.orig_filename.encode("utf-8" if info.flag_bits & _FLAG_UTF8 else "cp437")
    return _Entry(info, raw, shown(raw.decode("utf-8", "backslashreplace")))


# --- the ZIP container ---------------------------------------------------------------------------------------------


def _read_end_record(handle: BinaryIO, size: int, report: VerifyReport) -> _EndRecord | None:
    """Find the end record the way zipfile does, then insist that it ends the file and holds sane numbers."""
    tail_size = min(size, _END_SIZE + 0xFFFF)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    if tail[-_END_SIZE:-18] == _END and tail[-2:] == b"\0\0":
        position = tail_size - _END_SIZE
    else:
        position = tail.rfind(_END, 0, max(0, tail_size - _END_SIZE + len(_END)))  # a whole record must follow
    if position < 0:
        report.add("zip", False, "not a readable ZIP file: no end of central directory record (truncated, or no ZIP)")
        return None
    disk, directory_disk, on_disk, entries, directory_size, _, comment_size = struct.unpack_from(
        "<HHHHIIH", tail, position + 4
    )
    problems = []
    after = tail_size - (position + _END_SIZE + comment_size)
    if after > 0:
        problems.append(f"{after} bytes after the end of the ZIP (its end record) that no manifest covers")
    elif after < 0:
        problems.append("the ZIP comment runs past the end of the file")
    if comment_size:
        comment = tail[position + _END_SIZE : position + _END_SIZE + min(comment_size, 80)]
        text = shown(comment.decode("utf-8", "backslashreplace"))
        problems.append(f"the ZIP has a comment that no manifest covers ({comment_size} bytes): {text!r}")
    end_at = size - tail_size + position
    if end_at >= _ZIP64_LOCATOR_SIZE + _ZIP64_END_SIZE:
        handle.seek(end_at - _ZIP64_LOCATOR_SIZE - _ZIP64_END_SIZE)
        zip64 = handle.read(_ZIP64_END_SIZE + _ZIP64_LOCATOR_SIZE)
        if zip64[_ZIP64_END_SIZE : _ZIP64_END_SIZE + 4] == _ZIP64_LOCATOR and zip64[:4] == _ZIP64_END:
            fields = struct.unpack_from("<QHHIIQQQQ", zip64, 4)
            record_size, _, _, disk, directory_disk, on_disk, entries, directory_size, _ = fields
            if record_size != _ZIP64_END_SIZE - 12:
                problems.append("the ZIP64 end record carries extensible data that no manifest covers")
    if disk or directory_disk or on_disk != entries:
        problems.append("the end record describes a ZIP split over several disks, which unzip cannot check")
    if entries > MAX_ENTRIES or directory_size > MAX_CENTRAL_DIRECTORY:
        report.add(
            "zip structure",
            False,
            f"the central directory declares {entries} entries in {directory_size} bytes, more than {MAX_ENTRIES} "
            f"entries or {_size(MAX_CENTRAL_DIRECTORY)} that the verifier reads; refused without reading it",
        )
        return None
    return _EndRecord(entries, directory_size, problems)


def _check_central_directory(handle: BinaryIO, entries: list[_Entry], start: int, size: int) -> list[str]:
    """Walk the central records: they must fill the central directory exactly and each lie on disk 0.

    zipfile forgives a record whose name or extra field runs past the end of the directory (it reads what is
    there); unzip reads on into the end record and would see another name.
    """
    handle.seek(start)
    position, end = start, start + size
    problems: list[str] = []
    for entry in entries:
        header = handle.read(_CENTRAL_SIZE)
        if len(header) < _CENTRAL_SIZE or header[:4] != _CENTRAL:
            return [*problems, f"the central record of {entry.shown} is damaged"]
        name_size, extra_size, comment_size, disk = struct.unpack_from("<HHHH", header, 28)
        position += _CENTRAL_SIZE + name_size + extra_size + comment_size
        if position > end:
            return [*problems, f"the central record of {entry.shown} runs past the end of the central directory"]
        if disk:
            problems.append(f"the central record of {entry.shown} puts it on disk {disk}")
        handle.seek(position)
    if position < end:
        problems.append(f"{end - position} bytes in the central directory belong to no entry")
    return problems


def _check_local_headers(handle: BinaryIO, entries: list[_Entry], directory_start: int) -> list[str]:
    """Walk the entries in file order: each local header matches its central record, and no byte is unaccounted."""
    problems: list[str] = []
    position = 0  # where the next entry must begin
    for entry in sorted(entries, key=lambda e: e.info.header_offset):
        info, offset = entry.info, entry.info.header_offset
        if offset > position:
            where = "the first entry" if position == 0 else entry.shown
            problems.append(f"{offset - position} bytes before {where} that no manifest covers")
        elif offset < position:
            problems.append(f"{entry.shown} overlaps the entry before it")
            entry.unreadable = "it overlaps another entry"
        handle.seek(offset)
        header = handle.read(_LOCAL_SIZE)
        if len(header) < _LOCAL_SIZE or header[:4] != _LOCAL:
            problems.append(f"{entry.shown} has no local header at offset {offset}")
            entry.unreadable = "its local header is missing"
            continue
        _, _, flags, method, _, _, crc, compressed, size, name_size, extra_size = struct.unpack("<4sHHHHHIIIHH", header)
        local_name = handle.read(name_size)
        if local_name != entry.raw_name:
            problems.append(
                f"the local header of {entry.shown} names it {shown(local_name.decode('utf-8', 'backslashreplace'))}"
            )
            entry.unreadable = "its two headers name it differently"
        if (flags ^ info.flag_bits) & _FLAGS_THAT_MUST_AGREE or method != info.compress_type:
            problems.append(f"the local header of {entry.shown} has other flags or another compression method")
            entry.unreadable = "its two headers disagree"
        elif not flags & _FLAG_DESCRIPTOR and (
            crc != info.CRC or compressed not in (info.compress_size, _UNSET) or size not in (info.file_size, _UNSET)
        ):
            problems.append(f"the local header of {entry.shown} declares another size or CRC than its central record")
            entry.unreadable = "its two headers disagree"
        entry.data_start = offset + _LOCAL_SIZE + name_size + extra_size
        end = entry.data_start + info.compress_size
        if info.flag_bits & _FLAG_DESCRIPTOR:
            length = _descriptor_length(handle, end, info)
            if length is None:
                problems.append(f"the data descriptor of {entry.shown} does not match its central record")
                entry.unreadable = "its data descriptor disagrees with its central record"
            end += length or 0
        position = max(position, end)
    if position < directory_start:
        problems.append(f"{directory_start - position} bytes before the central directory that no manifest covers")
    elif position > directory_start:
        problems.append("the last entry runs into the central directory")
    return problems


def _descriptor_length(handle: BinaryIO, position: int, info: zipfile.ZipInfo) -> int | None:
    """Length of the data descriptor at `position` (with or without signature, 32- or 64-bit sizes), if it fits."""
    handle.seek(position)
    raw = handle.read(24)
    start = 4 if raw[:4] == _DESCRIPTOR else 0
    for sizes, length in (("<II", 8), ("<QQ", 16)):
        fits = len(raw) >= start + 4 + length and struct.unpack_from("<I", raw, start)[0] == info.CRC
        if fits and struct.unpack_from(sizes, raw, start + 4) == (info.compress_size, info.file_size):
            return start + 4 + length
    return None


# --- the entries ---------------------------------------------------------------------------------------------------


def _name_problems(entry: _Entry) -> list[str]:
    name = entry.name
    problems = []
    if not entry.info.flag_bits & _FLAG_UTF8 and not entry.raw_name.isascii():
        problems.append("is not ASCII and not marked as UTF-8, so tools read it differently")
    if "\0" in name:
        problems.append("contains a NUL byte")
    visible = name.replace("\0", "")
    if any(unicodedata.category(ch) == "Cc" for ch in visible):
        problems.append("contains a control character")
    elif entry.raw_name.isascii() and not all(ch.isprintable() for ch in visible):
        problems.append("contains an invisible character")
    if "\\" in name:
        problems.append("contains a backslash")
    if name.startswith("/") or _DRIVE.match(name):
        problems.append("is absolute")
    parts = name.split("/")
    if entry.is_dir:
        parts.pop()
    if ".." in parts:
        problems.append("has a '..' segment")
    if "." in parts:
        problems.append("has a '.' segment")
    if not name.strip("/"):
        problems.append("is empty")
    elif "" in parts[1:]:
        problems.append("has an empty segment")
    return problems


def _check_names(entries: list[_Entry], report: VerifyReport) -> None:
    bad = [f"{e.shown} {' and '.join(p)}" for e in entries if (p := _name_problems(e))]
    detail = f"unsafe entries: {'; '.join(bad[:_SHOWN])}" if bad else f"{len(entries)} safe names"
    report.add("entry names", not bad, detail)


def _check_types(entries: list[_Entry], report: VerifyReport) -> None:
    bad = []
    files = {e.name for e in entries if not e.is_dir}
    for entry in entries:
        info, kind = entry.info, stat.S_IFMT(entry.info.external_attr >> 16)
        empty_size = 2 if info.compress_type == zipfile.ZIP_DEFLATED else 0  # an empty deflate stream is 2 bytes
        problem = ""
        if kind in _FILE_TYPES:
            problem = f"is {_FILE_TYPES[kind]}"
        elif entry.is_dir and kind == stat.S_IFREG:
            problem = "is a regular file (by its mode) named like a folder"
        elif not entry.is_dir and (kind == stat.S_IFDIR or info.external_attr & _DOS_DIRECTORY):
            problem = "is a folder (by its attributes) without a trailing '/'"
        elif entry.is_dir and (info.file_size or info.compress_size > empty_size):
            problem = "is a folder entry with content"
        elif entry.info.external_attr >> 16 & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
            problem = "has the setuid, setgid or sticky bit"
        if problem:
            bad.append(f"{entry.shown} {problem}")
            entry.unreadable = entry.unreadable or f"it {problem}"
    # A file that is also a folder (of another entry, or an entry of its own): unpacking keeps only one of them.
    folders = {e.name.rstrip("/") for e in entries if e.is_dir}
    folders.update("/".join(parts[:n]) for parts in (e.name.split("/") for e in entries) for n in range(1, len(parts)))
    bad += [f"{shown(name)} is both a file and a folder" for name in sorted(files & folders)]
    report.add("entry types", not bad, "; ".join(bad[:_SHOWN]) if bad else "regular files and empty folders only")


def _check_duplicates(entries: list[_Entry], report: VerifyReport) -> None:
    twice = {shown(name): count for name, count in Counter(e.name for e in entries).items() if count > 1}
    detail = "; ".join(f"{name} appears {count} times" for name, count in sorted(twice.items())[:_SHOWN])
    report.add("duplicate entries", not twice, detail or "every name once")


def _check_formats(entries: list[_Entry], report: VerifyReport) -> None:
    bad = []
    for entry in entries:
        info = entry.info
        problem = ""
        if info.flag_bits & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION | _FLAG_MASKED_DIRECTORY):
            problem = "is encrypted"
        elif info.flag_bits & _FLAG_PATCHED:
            problem = "uses compressed patched data"
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            method = _METHODS.get(info.compress_type, "unknown")
            problem = f"uses compression method {info.compress_type} ({method}); only stored and deflate are verified"
        elif info.comment:
            problem = f"has a comment that no manifest covers ({len(info.comment)} bytes)"
        if problem:
            bad.append(f"{entry.shown} {problem}")
            entry.unreadable = f"it {problem}"
    detail = "; ".join(bad[:_SHOWN]) if bad else "stored or deflated, none encrypted, no comments"
    report.add("entry formats", not bad, detail)


def _check_layout(entries: list[_Entry], report: VerifyReport) -> str | None:
    """The one top-level folder that holds the bag, or None (recorded as a failed check)."""
    if not entries:
        report.add("layout", False, "the ZIP has no entries; expected one folder holding a bag")
        return None
    tops = {e.name.split("/", 1)[0] for e in entries}
    if len(tops) != 1 or any("/" not in e.name for e in entries):
        found = _listed((repr(shown(t)) for t in tops), "top-level entries")
        report.add("layout", False, f"expected one top-level folder holding the bag, found {found}")
        return None
    bag = tops.pop()
    report.add("layout", True, f"one bag folder: {shown(bag)}")
    return bag


# --- the bag -------------------------------------------------------------------------------------------------------


class _BagReader:
    """Reads the files of the bag folder on demand, each at most once, bounded, and notes what fails."""

    def __init__(self, handle: BinaryIO, files: dict[str, _Entry]) -> None:
        self.handle = handle
        self.files = files
        self.problems: dict[str, str] = {}  # bag-relative name -> why reading it failed
        self.read = 0
        self._contents: dict[str, bytes] = {}
        self._digests: dict[str, dict[str, str] | None] = {}

    def content(self, name: str, limit: int) -> tuple[bytes | None, str]:
        """The whole file (at most `limit` bytes), or None and why not."""
        if name not in self.files:
            return None, "missing"
        entry = self.files[name]
        if entry.info.file_size > limit:
            return None, f"larger than the {_size(limit)} the verifier reads ({entry.info.file_size} bytes)"
        parts: list[bytes] = []
        if not self._read(name, parts.append):
            self._digests[name] = None
            return None, f"could not be read: {self.problems[name]}"
        self._contents[name] = b"".join(parts)
        return self._contents[name], ""

    def digests(self, name: str) -> dict[str, str] | None:
        """Every algorithm's digest of the file, or None when it cannot be read (the reason is in `problems`)."""
        if name not in self._digests:
            hashers = {algorithm: hashlib.new(algorithm) for algorithm in ALGORITHMS}

            def update(chunk: bytes) -> None:
                for hasher in hashers.values():
                    hasher.update(chunk)

            if name in self._contents:
                update(self._contents[name])
                ok = True
            else:
                ok = self._read(name, update)
            self._digests[name] = {a: h.hexdigest() for a, h in hashers.items()} if ok else None
        return self._digests[name]

    def _read(self, name: str, sink: Callable[[bytes], None]) -> bool:
        entry = self.files[name]
        problem = entry.unreadable and f"not read: {entry.unreadable}"
        if not problem:
            self.read += 1
            try:
                problem = _stream(self.handle, entry, sink)
            except zlib.error as exc:
                problem = f"corrupt deflate data ({exc})"
        if problem:
            self.problems[name] = problem
        return not problem


def _stream(handle: BinaryIO, entry: _Entry, sink: Callable[[bytes], None]) -> str:
    """Feed the entry's content to `sink`, never more than its declared size; returns what is wrong, or ""."""
    info = entry.info
    handle.seek(entry.data_start)
    left, produced, crc = info.compress_size, 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            return f"is stored in {info.compress_size} bytes but declares {info.file_size}"
        while left:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return "ends before its declared size (the file is truncated)"
            left -= len(chunk)
            crc = zlib.crc32(chunk, crc)
            sink(chunk)
        return "" if crc == info.CRC else "CRC-32 mismatch: its content is corrupted"
    if info.file_size > info.compress_size * DEFLATE_MAX_RATIO + 1024:
        return (
            f"declares {info.file_size} bytes, more than deflate can produce from {info.compress_size} compressed "
            "bytes (a ZIP bomb or a forged size)"
        )
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = b""
    while not inflater.eof:
        if not pending and left:
            pending = handle.read(min(CHUNK, left))
            if not pending:
                return "ends before its declared size (the file is truncated)"
            left -= len(pending)
        piece = inflater.decompress(pending, CHUNK)
        pending = inflater.unconsumed_tail
        if len(piece) > info.file_size - produced:
            return f"inflates to more than the {info.file_size} bytes its headers declare"
        if piece:
            produced += len(piece)
            crc = zlib.crc32(piece, crc)
            sink(piece)
        elif not pending and not left:
            break
    if not inflater.eof:
        return "its deflate data ends before the end of the stream (truncated or corrupted)"
    if trailing := len(inflater.unused_data) + left:
        return f"{trailing} bytes follow the end of its deflate data"
    if produced != info.file_size:
        return f"inflates to {produced} bytes, its headers declare {info.file_size}"
    return "" if crc == info.CRC else "CRC-32 mismatch: its content is corrupted"


def _verify_bag(
    handle: BinaryIO, bag: str, entries: list[_Entry], report: VerifyReport, tsa_roots: Sequence[x509.Certificate]
) -> tuple[bytes, StampFacts] | None:
    report.bag_name = shown(bag)
    files = {e.name[len(bag) + 1 :]: e for e in entries if not e.is_dir}
    reader = _BagReader(handle, files)
    payload = {name for name in files if name.startswith("data/")}
    report.payload_files = len(payload)
    report.payload_bytes = sum(files[name].info.file_size for name in payload)

    bagit, bagit_problem = reader.content("bagit.txt", MAX_BAGIT_TXT)
    bag_info, bag_info_problem = reader.content("bag-info.txt", MAX_BAG_INFO)
    manifests = {}
    for kind in ("manifest", "tagmanifest"):
        for algorithm in ALGORITHMS:
            name = f"{kind}-{algorithm}.txt"
            manifests[name] = reader.content(name, MAX_MANIFEST)
    # Timestamps prove the tag manifest, so no manifest lists them; they are checked on their own below.
    tag_files = {name for name in files if not name.startswith(("data/", "tagmanifest-", f"{TIMESTAMP_FOLDER}/"))}
    parsed = {}
    for name, (content, _) in manifests.items():
        if content is not None:
            parsed[name] = _parse_manifest(content, name.split("-")[1].removesuffix(".txt"))
            scope = payload if name.startswith("manifest-") else tag_files
            for path in set(parsed[name][0]) & scope:
                reader.digests(path)  # read each listed file now, so that read failures are reported first

    failures = [f"{files[name].shown_in_bag}: {problem}" for name, problem in sorted(reader.problems.items())]
    report.add(
        "zip integrity",
        not failures,
        "; ".join(failures[:_SHOWN]) or f"{reader.read} entries read; every size and CRC-32 matches",
    )
    _check_bagit_txt(report, bagit, bagit_problem)
    _check_bag_info(report, bag_info, bag_info_problem)
    for name, (content, problem) in manifests.items():
        if content is None:
            report.add(name, False, problem)
            continue
        entries_listed, problems = parsed[name]
        scope = payload if name.startswith("manifest-") else tag_files
        _check_manifest(report, name, entries_listed, problems, scope, files, reader)
    return _check_timestamps(report, files, reader, tsa_roots)


def _check_timestamps(
    report: VerifyReport, files: dict[str, _Entry], reader: _BagReader, tsa_roots: Sequence[x509.Certificate]
) -> tuple[bytes, StampFacts] | None:
    """Each `timestamps/<file>.tsr` must prove `<file>` of this bag, checked with `<file>.chain.pem`; returns the
    timestamp over the SHA-512 tag manifest (the first link of a renewal chain) when it verified."""
    stamps = sorted(name for name in files if name.startswith(f"{TIMESTAMP_FOLDER}/"))
    if not stamps:
        report.proven = "no timestamp: the dates in this archive are the archiving server's own"
        return None
    base: tuple[bytes, StampFacts] | None = None
    problems: list[str] = []
    proven: list[str] = []
    known = {n for n in stamps if n.endswith(TOKEN_SUFFIX) or n.endswith(CHAIN_SUFFIX)}
    problems += [
        f"{shown(n)}: not a timestamp (.tsr) or certificate chain (.chain.pem)" for n in stamps if n not in known
    ]
    for token_name in (n for n in stamps if n.endswith(TOKEN_SUFFIX)):
        covered = token_name[len(TIMESTAMP_FOLDER) + 1 : -len(TOKEN_SUFFIX)]
        chain_name = f"{TIMESTAMP_FOLDER}/{covered}{CHAIN_SUFFIX}"
        reply, problem = reader.content(token_name, MAX_TIMESTAMP_FILE)
        data, data_problem = reader.content(covered, MAX_MANIFEST) if covered in files else (None, "missing")
        chain, chain_problem = reader.content(chain_name, MAX_TIMESTAMP_FILE) if chain_name in files else (b"", "")
        if chain is None:
            problems.append(f"{shown(chain_name)}: {chain_problem}")
            chain = b""
        if reply is None or data is None:
            problems.append(
                f"{shown(token_name)}: {problem or f'the file it proves, {shown(covered)}, is {data_problem}'}"
            )
            continue
        try:
            carried = x509.load_pem_x509_certificates(chain) if chain else []
        except ValueError:
            carried = []
            problems.append(f"{shown(chain_name)}: not PEM certificates")
        roots = list(tsa_roots) or [c for c in carried if c.issuer == c.subject]
        if not roots:
            problems.append(f"{shown(token_name)}: no root certificate to check it with ({shown(chain_name)} "
                            "carries none; give one with --tsa-roots)")  # fmt: skip
            continue
        try:
            response = verify_reply(reply, data, roots, [c for c in carried if c.issuer != c.subject])
        except TimestampInvalid as exc:
            problems.append(f"{shown(token_name)}: {shown(str(exc))}")
            continue
        info = response.tst_info
        when = info.gen_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        authority = shown(_signer_name(response) or "an unnamed TSA")
        trust = "a root you gave" if tsa_roots else f"the root it carries ({_fingerprint(roots)})"
        proven.append(f"{shown(covered)} existed unchanged at {when} per {authority} (chain to {trust})")
        report.timestamps.append({"file": shown(covered), "time": info.gen_time.astimezone(UTC).isoformat(),
                                  "authority": authority, "serial": str(info.serial_number)})  # fmt: skip
        if covered == STAMPED_FILE:
            base = reply, stamp_facts(response, [*carried, *roots])
    detail = "; ".join(problems[:_SHOWN]) if problems else "; ".join(proven)
    report.add("timestamps", not problems and bool(proven), detail or "no timestamp reply found")
    if proven and not problems:
        first = report.timestamps[0]
        report.proven = f"complete and unaltered since {first['time']} per {first['authority']}"
        return base
    return None


def _check_renewals(
    report: VerifyReport,
    base: tuple[bytes, StampFacts] | None,
    files: dict[int, dict[str, Path]],
    tsa_roots: Sequence[x509.Certificate],
) -> None:
    """The renewals of the archive's timestamp found next to it (a check only when there are any), and until when
    the evidence holds."""
    findings = check_renewals(base[0] if base else None, base[1] if base else None, files, tsa_roots)
    if findings.holds_until is not None:
        report.holds_until = findings.holds_until.isoformat()
    for link in findings.links:
        if link.facts is not None and not link.problem:
            facts = link.facts
            report.renewals.append({"file": shown(link.reply_file), "time": facts.gen_time.isoformat(),
                                    "authority": shown(facts.authority), "serial": str(facts.serial)})  # fmt: skip
    if not files:
        return
    if not findings.ok:
        report.add("renewals", False, shown("; ".join(findings.problems[:_SHOWN])))
        return
    newest = report.renewals[-1]
    until = f"; the chain holds until {report.holds_until}" if report.holds_until else ""
    report.add("renewals", True, f"{len(findings.links)} renewal(s), each over the timestamp before it, the newest at "
                                 f"{newest['time']} per {newest['authority']}{until}")  # fmt: skip
    if report.proven.startswith("complete and unaltered"):
        report.proven += f"; evidence renewed {len(findings.links)} time(s), it holds until {report.holds_until}"


def _signer_name(response: TimeStampResponse) -> str:
    """The common name of the certificate that signed a timestamp (empty if it is not in the reply)."""
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1:
        return ""
    wanted = (signers[0].issuer, signers[0].serial_number)
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        if (certificate.issuer, certificate.serial_number) == wanted:
            names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            return str(names[0].value) if names else certificate.subject.rfc4514_string()
    return ""


def _fingerprint(roots: Sequence[x509.Certificate]) -> str:
    """SHA-256 fingerprints, so a reader can compare the carried root with the TSA's published one."""
    return ", ".join("SHA-256 " + root.fingerprint(hashes.SHA256()).hex(":").upper() for root in roots)


def _check_bagit_txt(report: VerifyReport, content: bytes | None, problem: str) -> None:
    if content is None:
        report.add("bagit.txt", False, problem)
        return
    expected = ["BagIt-Version: 1.0", "Tag-File-Character-Encoding: UTF-8"]
    text = content.decode("utf-8", "backslashreplace")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    ok = lines in (expected, [*expected, ""])
    found = shown(text[:200])
    report.add("bagit.txt", ok, "BagIt 1.0, UTF-8" if ok else f"expected {' / '.join(expected)}, found '{found}'")


def _check_bag_info(report: VerifyReport, content: bytes | None, problem: str) -> None:
    if content is None:
        report.add("bag-info.txt", False, problem)
        return
    problems = []
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"not valid UTF-8 (byte {exc.start})")
        text = content.decode("utf-8", "replace")
    values: dict[str, list[str]] = {}
    last = None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    for number, line in enumerate(lines, start=1):
        if any(unicodedata.category(ch) == "Cc" for ch in line.replace("\t", "")):
            problems.append(f"line {number} contains a control character")
        if line[:1] in (" ", "\t") and last is not None:
            values[last][-1] += " " + line.strip()
            continue
        label, sep, value = line.partition(":")
        if sep and label.strip():
            last = label.strip()
            values.setdefault(last, []).append(value.strip())
        elif line.strip():
            problems.append(f"line {number} is not 'Label: value'")
    for label, found in values.items():
        if len(found) > 1:
            problems.append(f"{shown(label)} appears {len(found)} times")
    report.bag_info = {shown(label): shown(" | ".join(found)) for label, found in values.items()}
    report.add("bag-info.txt", not problems, "; ".join(problems[:_SHOWN]) if problems else f"{len(values)} fields")
    expected = f"{report.payload_bytes}.{report.payload_files}"
    oxum = values.get("Payload-Oxum", [])
    declared = shown(" | ".join(oxum)) or "nothing"
    ok = len(oxum) == 1 and _OXUM.fullmatch(oxum[0]) is not None and oxum[0] == expected
    report.add("Payload-Oxum", ok, f"declared {declared}, found {expected}")


def _path_problem(path: str) -> str:
    if "\\" in path or path.startswith("/") or _DRIVE.match(path) or not all(ch.isprintable() for ch in path):
        return "unsafe path"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "unsafe path"
    return ""


def _parse_manifest(content: bytes, algorithm: str) -> tuple[dict[str, str], list[str]]:
    """`path -> digest` of a (tag) manifest, and what is malformed in it (bad lines, unsafe paths, repeats)."""
    entries: dict[str, str] = {}
    problems = []
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"not valid UTF-8 (byte {exc.start})")
        text = content.decode("utf-8", "replace")
    twice = set()
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        digest, sep, rest = line.partition(" ")
        path = decode_manifest_path(rest.lstrip(" ").removeprefix("*"))
        if not sep or not path:
            problems.append(f"line {number} is not '<digest> <path>'")
        elif not _HEX[algorithm].fullmatch(digest):
            problems.append(f"line {number}: the digest is not a {algorithm} hex digest")
        elif problem := _path_problem(path):
            problems.append(f"line {number}: {problem} {shown(path)!r}")
        elif path in entries:
            twice.add(shown(path))
        else:
            entries[path] = digest.lower()
    if twice:
        problems.append(f"{len(twice)} path(s) listed more than once: {', '.join(sorted(twice)[:_SHOWN])}")
    return entries, problems


def _check_manifest(
    report: VerifyReport,
    name: str,
    listed: dict[str, str],
    problems: list[str],
    scope: set[str],
    files: dict[str, _Entry],
    reader: _BagReader,
) -> None:
    algorithm = name.split("-")[1].removesuffix(".txt")
    details = [f"malformed: {'; '.join(problems[:3])}"] if problems else []
    payload_manifest = name.startswith("manifest-")
    if payload_manifest:
        outside = {shown(p) for p in listed if not p.startswith("data/")}
        if outside:
            details.append(f"{_listed(outside, 'file(s) outside data/')}; a payload manifest lists payload only")
    else:
        inside = {shown(p) for p in listed if p.startswith(("data/", "tagmanifest-"))}
        if inside:
            details.append(
                f"{_listed(inside, 'file(s) inside data/ or tag manifest(s)')}; a tag manifest lists tag files only"
            )
    in_scope = {p: d for p, d in listed.items() if p in scope}
    unlisted = {files[p].shown_in_bag for p in scope - set(listed)}
    absent = {shown(p) for p in listed if p not in files}
    unreadable, mismatched = set(), set()
    for path, digest in in_scope.items():
        digests = reader.digests(path)
        if digests is None:
            unreadable.add(files[path].shown_in_bag)
        elif digests[algorithm] != digest:
            mismatched.add(files[path].shown_in_bag)
    if unlisted:
        details.append(f"{len(unlisted)} file(s) not listed: {', '.join(sorted(unlisted)[:_SHOWN])}")
    if absent:
        details.append(f"{len(absent)} listed file(s) missing from the archive: {', '.join(sorted(absent)[:_SHOWN])}")
    if unreadable:
        details.append(f"{_listed(unreadable, 'listed file(s) could not be checked (see zip integrity)')}")
    if mismatched:
        details.append(f"{len(mismatched)} checksum mismatch(es): {', '.join(sorted(mismatched)[:_SHOWN])}")
    report.add(name, not details, "; ".join(details) if details else f"{len(listed)} entries match")
