"""Writing one BagIt 1.0 bag (RFC 8493) inside one ZIP file, deterministically.

Layout (ARCHITECTURE §3): `<name>/bagit.txt`, `bag-info.txt`, `manifest-sha256.txt`, `manifest-sha512.txt`,
`tagmanifest-sha256.txt`, `tagmanifest-sha512.txt`, `README.txt`, `data/…`. Entries are sorted, carry a fixed
timestamp and fixed permissions, so the same payload gives the same payload bytes. The ZIP is written to a
temporary file, fsynced and renamed into place; nothing half-written ever has the final name.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from archived.archive.payload import CHUNK, PayloadFile
from archived.durable import fsync_dir, sha256_of_file
from archived.errors import IntegrityError
from archived.storable_text import storable_text

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
TIMESTAMP_FOLDER = "timestamps"  # RFC 3161 replies over the tag manifest, and their certificate chains
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ALGORITHMS = ("sha256", "sha512")
# Formats that are compressed already: deflating them again costs CPU and gains nothing.
STORED_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".gif", ".zip", ".mbz", ".gz", ".docx", ".xlsx"})


@dataclass(frozen=True)
class BuiltArchive:
    """The ZIP that was written."""

    path: Path
    size: int
    sha256: str
    payload_oxum: str
    payload_files: int


def encode_manifest_path(path: str) -> str:
    """Percent-encode what RFC 8493 §2.1.3 requires in manifest paths (CR, LF, %)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_manifest_path(path: str) -> str:
    """Inverse of `encode_manifest_path`."""
    return path.replace("%0D", "\r").replace("%0A", "\n").replace("%0d", "\r").replace("%0a", "\n").replace("%25", "%")


def format_bag_info(fields: Sequence[tuple[str, str]]) -> str:
    """bag-info.txt: one `Label: value` per line; line breaks inside values are folded with a space.

    Control characters are dropped: the verifier refuses them (a terminal escape in a course name must not reach
    whoever prints bag-info.txt).
    """
    lines = []
    for label, value in fields:
        clean = " ".join(str(value).split())
        clean = storable_text("".join(ch for ch in clean if unicodedata.category(ch) != "Cc"))
        lines.append(f"{label}: {clean}")
    return "\n".join(lines) + "\n"


def payload_oxum(files: Sequence[PayloadFile]) -> str:
    """`<octets>.<files>` over the payload."""
    return f"{sum(f.size for f in files)}.{len(files)}"


def _manifest(entries: Sequence[tuple[str, str]]) -> str:
    return "".join(f"{digest}  {encode_manifest_path(path)}\n" for path, digest in entries)


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.external_attr = 0o100644 << 16
    info.create_system = 3  # Unix, so the permissions above are honoured by unzip
    suffix = Path(name).suffix.lower()
    info.compress_type = zipfile.ZIP_STORED if suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
    return info


def tag_files_for(
    *,
    payload: Sequence[PayloadFile],
    bag_info: Sequence[tuple[str, str]],
    readme: str,
    extra_tag_files: dict[str, bytes] | None = None,
) -> dict[str, bytes]:
    """Every tag file of the bag, the tag manifests included (pure; the same inputs give the same bytes).

    A timestamp is requested over `tagmanifest-sha512.txt` of this result before the ZIP is written.
    """
    oxum = payload_oxum(payload)
    info_fields = [*bag_info, ("Payload-Oxum", oxum)]
    tag_files: dict[str, bytes] = {
        "bagit.txt": BAGIT_TXT.encode(),
        "bag-info.txt": format_bag_info(info_fields).encode("utf-8"),
        "README.txt": readme.encode("utf-8"),
    }
    for algorithm in ALGORITHMS:
        entries = [(f"data/{f.path}", getattr(f, algorithm)) for f in payload]
        tag_files[f"manifest-{algorithm}.txt"] = _manifest(entries).encode("utf-8")
    tag_files.update(extra_tag_files or {})
    covered = sorted(tag_files.items())  # both tag manifests cover the same files (not each other)
    for algorithm in ALGORITHMS:
        entries = [(name, hashlib.new(algorithm, data).hexdigest()) for name, data in covered]
        tag_files[f"tagmanifest-{algorithm}.txt"] = _manifest(entries).encode("utf-8")
    return tag_files


def build_bag_zip(
    *,
    payload_dir: Path,
    payload: Sequence[PayloadFile],
    dest: Path,
    bag_name: str,
    bag_info: Sequence[tuple[str, str]],
    readme: str,
    extra_tag_files: dict[str, bytes] | None = None,
    timestamp_files: dict[str, bytes] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BuiltArchive:
    """Write the bag as a ZIP at `dest` (blocking I/O; run it in a thread).

    Each payload file's bytes are hashed while they are streamed into the ZIP and compared with `payload`
    (the activity stage's checkpoint): a mismatch raises `IntegrityError` and leaves nothing at `dest`.
    `timestamp_files` (names under `timestamps/`) go into the bag unlisted: they prove the tag manifest, so no
    manifest can list them.
    """
    oxum = payload_oxum(payload)
    tag_files = tag_files_for(payload=payload, bag_info=bag_info, readme=readme, extra_tag_files=extra_tag_files)
    for name, data in (timestamp_files or {}).items():
        if not name.startswith(f"{TIMESTAMP_FOLDER}/") or "/" in name[len(TIMESTAMP_FOLDER) + 1 :]:
            raise ValueError(f"timestamp files go directly under {TIMESTAMP_FOLDER}/, not {name!r}")
        tag_files[name] = data

    temp = dest.with_name(f".{dest.name}.part")
    temp.unlink(missing_ok=True)
    total = sum(f.size for f in payload)
    done = 0
    try:
        with zipfile.ZipFile(temp, "w", allowZip64=True) as archive:
            for name in sorted(tag_files):
                archive.writestr(_zip_info(f"{bag_name}/{name}"), tag_files[name], compresslevel=6)
            for item in payload:
                source = payload_dir / item.path
                sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
                info = _zip_info(f"{bag_name}/data/{item.path}")
                with source.open("rb") as handle, archive.open(info, "w", force_zip64=item.size > 2**31) as out:
                    while chunk := handle.read(CHUNK):
                        sha256.update(chunk)
                        sha512.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                if (size, sha256.hexdigest(), sha512.hexdigest()) != (item.size, item.sha256, item.sha512):
                    raise IntegrityError(
                        f"payload file {item.path} changed after the activity stage hashed it "
                        f"(expected {item.size} bytes, sha256 {item.sha256[:12]}…); the activity stage must run again"
                    )
                done += size
                if on_progress:
                    on_progress(done, total)
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        size, digest = sha256_of_file(temp)
        os.replace(temp, dest)
        fsync_dir(dest.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return BuiltArchive(dest, size, digest, oxum, len(payload))
