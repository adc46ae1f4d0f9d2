"""Offline verification of an archive ZIP: the BagIt structure and every checksum, without Moodle or a daemon.

Checks: the ZIP opens and every entry's CRC is right; one top-level bag folder and no unsafe entry names;
`bagit.txt`; `bag-info.txt` with a Payload-Oxum that matches; `manifest-sha256.txt` and `manifest-sha512.txt`
cover every payload file exactly (none missing, none extra) and every digest matches; the tag manifests cover
every tag file and match.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from archived.archive.bag import ALGORITHMS, decode_manifest_path
from archived.archive.payload import CHUNK


@dataclass
class Check:
    """One named check and its outcome."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyReport:
    """Everything `archived verify` found."""

    archive: str
    bag_name: str = ""
    payload_files: int = 0
    payload_bytes: int = 0
    bag_info: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

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


def _parse_manifest(text: str) -> tuple[dict[str, str], list[str]]:
    entries: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, path = line.partition(" ")
        if not sep:
            problems.append(f"line {number} is not '<digest> <path>'")
            continue
        entries[decode_manifest_path(path.lstrip(" *"))] = digest.lower()
    return entries, problems


def _parse_bag_info(text: str) -> dict[str, str]:
    info: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and last:
            info[last] += " " + line.strip()
            continue
        label, sep, value = line.partition(":")
        if sep:
            last = label.strip()
            info[last] = value.strip()
    return info


def _digests(archive: zipfile.ZipFile, name: str) -> dict[str, str]:
    hashers = {algorithm: hashlib.new(algorithm) for algorithm in ALGORITHMS}
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {algorithm: hasher.hexdigest() for algorithm, hasher in hashers.items()}


def verify_archive(path: Path) -> VerifyReport:
    """Verify one archive ZIP; never raises for a defect, only records it."""
    report = VerifyReport(archive=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        report.add("zip", False, f"{path} does not exist")
        return report
    except (zipfile.BadZipFile, OSError) as exc:
        report.add("zip", False, f"not a readable ZIP file: {exc}")
        return report
    with archive:
        _verify_bag(archive, report)
    return report


def _verify_bag(archive: zipfile.ZipFile, report: VerifyReport) -> None:
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    unsafe = [n for n in names if PurePosixPath(n).is_absolute() or ".." in PurePosixPath(n).parts or "\\" in n]
    if not report.add(
        "entry names", not unsafe, f"unsafe entries: {unsafe[:5]}" if unsafe else f"{len(names)} entries"
    ):
        return
    tops = {n.split("/", 1)[0] for n in names}
    if not report.add("layout", len(tops) == 1 and all("/" in n for n in names), f"top-level entries: {sorted(tops)}"):
        return
    bag = tops.pop()
    report.bag_name = bag
    files = {n[len(bag) + 1 :] for n in names}

    digests: dict[str, dict[str, str]] = {}
    bad_crc = []
    for name in sorted(files):
        try:
            digests[name] = _digests(archive, f"{bag}/{name}")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            bad_crc.append(f"{name} ({exc})")
    report.add("zip integrity", not bad_crc, "; ".join(bad_crc[:5]) or "every entry's CRC matches")

    bagit = archive.read(f"{bag}/bagit.txt").decode("utf-8", "replace") if "bagit.txt" in files else ""
    report.add(
        "bagit.txt",
        "BagIt-Version: 1.0" in bagit and "Tag-File-Character-Encoding: UTF-8" in bagit,
        "BagIt 1.0, UTF-8" if bagit else "missing",
    )

    payload = {f for f in files if f.startswith("data/")}
    report.payload_files = len(payload)
    report.payload_bytes = sum(archive.getinfo(f"{bag}/{f}").file_size for f in payload)
    if "bag-info.txt" in files:
        report.bag_info = _parse_bag_info(archive.read(f"{bag}/bag-info.txt").decode("utf-8", "replace"))
        expected_oxum = f"{report.payload_bytes}.{report.payload_files}"
        oxum = report.bag_info.get("Payload-Oxum", "")
        report.add("Payload-Oxum", oxum == expected_oxum, f"declared {oxum or 'nothing'}, found {expected_oxum}")
    else:
        report.add("bag-info.txt", False, "missing")

    for algorithm in ALGORITHMS:
        _check_manifest(archive, bag, files, digests, algorithm, report, payload)


def _check_manifest(
    archive: zipfile.ZipFile,
    bag: str,
    files: set[str],
    digests: dict[str, dict[str, str]],
    algorithm: str,
    report: VerifyReport,
    payload: set[str],
) -> None:
    for kind, expected_set in (("manifest", payload), ("tagmanifest", None)):
        manifest_name = f"{kind}-{algorithm}.txt"
        if manifest_name not in files:
            report.add(manifest_name, False, "missing")
            continue
        entries, problems = _parse_manifest(archive.read(f"{bag}/{manifest_name}").decode("utf-8", "replace"))
        if expected_set is None:  # tag files: everything outside data/ except the tag manifests themselves
            expected_set = {f for f in files if not f.startswith("data/") and not f.startswith("tagmanifest-")}
        missing = sorted(expected_set - set(entries))
        extra = sorted(set(entries) - files)
        mismatched = sorted(p for p, d in entries.items() if p in digests and digests[p][algorithm] != d)
        details = []
        if problems:
            details.append("malformed: " + ", ".join(problems[:3]))
        if missing:
            details.append(f"{len(missing)} file(s) not listed: {', '.join(missing[:5])}")
        if extra:
            details.append(f"{len(extra)} listed file(s) missing from the archive: {', '.join(extra[:5])}")
        if mismatched:
            details.append(f"{len(mismatched)} checksum mismatch(es): {', '.join(mismatched[:5])}")
        ok = not details
        report.add(manifest_name, ok, "; ".join(details) if details else f"{len(entries)} entries match")
