"""Files an earlier run left in the payload folder: still intact (then kept), or no longer wanted (then removed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from archived.errors import ArchivedError
from archived_quiz.attempt_record import AttemptRecord
from archived_render.pdf_check import check_pdf


def record_intact(payload: Path, record: AttemptRecord) -> bool:
    """Whether an attempt finished earlier is still complete: its PDF and every other file with its checksum."""
    path = payload / record.path
    if not path.is_file():
        return False
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.sha256:
        return False
    try:
        check_pdf(data, task_id=str(path.name))
    except ArchivedError:
        return False
    return all(sha256_of(payload / relative) == digest for relative, digest in record.files.items())


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256 (hex), read in chunks; None when it is not a file."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def prune(payload: Path, top: str, keep: set[str]) -> int:
    """Remove files under `payload/top` that are not in `keep` (relative paths), then empty folders."""
    root = payload / top
    if not root.is_dir():
        return 0
    removed = 0
    for path in sorted(root.rglob("*"), reverse=True):  # children before their folders
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.relative_to(payload).as_posix() not in keep:
            path.unlink()
            removed += 1
    return removed
