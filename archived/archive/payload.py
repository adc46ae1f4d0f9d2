"""The payload of an archive: the files an activity driver wrote, checked and hashed once.

The activity stage ends by hashing every payload file (`scan_payload`); the result is the stage's checkpoint.
Post-processing streams the same files into the ZIP and compares each one's hashes with the checkpoint, so a
payload that changed between the stages is caught instead of being sealed.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from archived.errors import FatalError

CHUNK = 1024 * 1024
_PORTABLE = re.compile(r"[A-Za-z0-9._-]+")


class PayloadError(FatalError):
    """The payload folder holds something that cannot go into an archive (a link, an unsafe name)."""

    code = "invalid_payload"


@dataclass(frozen=True)
class PayloadFile:
    """One payload file: its path relative to `data/`, size and both digests."""

    path: str
    size: int
    sha256: str
    sha512: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for checkpoints)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PayloadFile:
        """Inverse of `to_dict`."""
        return cls(**data)


def check_relative_path(path: str) -> str:
    """Refuse a path that could escape the bag's `data/` folder or is not portable.

    Payload names are limited to `[A-Za-z0-9._-]` per segment (drivers sanitise with `archive.names`), so that
    `sha256sum -c manifest-sha256.txt` works on every system without BagIt's percent-encoding.
    """
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or any(part in ("", ".", "..") for part in pure.parts):
        raise PayloadError(f"unsafe payload path {path!r}: absolute paths and '..' are not allowed")
    bad = [part for part in pure.parts if not _PORTABLE.fullmatch(part) or part.startswith(".")]
    if bad or "\\" in path:
        raise PayloadError(
            f"payload path {path!r} is not portable: use only A-Z a-z 0-9 . _ - in names (no leading dot)"
        )
    return pure.as_posix()


def hash_file(path: Path) -> tuple[int, str, str]:
    """Size, SHA-256 and SHA-512 of a file, read once."""
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            sha256.update(chunk)
            sha512.update(chunk)
    return size, sha256.hexdigest(), sha512.hexdigest()


def scan_payload(payload_dir: Path) -> list[PayloadFile]:
    """Every regular file under `payload_dir`, sorted by path, with sizes and digests (blocking I/O)."""
    files = []
    for root, dirs, names in os.walk(payload_dir, followlinks=False):
        dirs.sort()
        for name in names:
            full = Path(root) / name
            relative = full.relative_to(payload_dir).as_posix()
            if full.is_symlink() or not full.is_file():
                raise PayloadError(f"payload entry {relative!r} is not a regular file (links are not archived)")
            size, sha256, sha512 = hash_file(full)
            files.append(PayloadFile(check_relative_path(relative), size, sha256, sha512))
        for name in dirs:
            if (Path(root) / name).is_symlink():
                raise PayloadError(f"payload folder {name!r} is a link; links are not archived")
    files.sort(key=lambda f: f.path)
    return files
