"""Files operators add to a job before it is packed (seating plans, signed protocols): kept in the job's work folder
until the post-processing stage seals them into the payload under `data/operator/`, with `operator-files.json`
saying who added each file, when and why.

Adding and sealing take the same lock, and sealing leaves a mark (in the work folder, and in memory for when the
job's cleanup has removed that folder): a file is either in the archive or its adding was refused, never accepted
and then lost. The work folder outlives the activity stage's retries (which
start the payload afresh), so files added while the activity was archived stay.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archived.archive.names import sanitise_segment
from archived.archive.payload import PayloadFile, hash_file
from archived.durable import write_atomic
from archived.errors import FatalError
from archived.storable_text import storable_text
from archived.store.records import Initiator

OPERATOR_FOLDER = "operator"  # under data/ in the archive
INDEX_NAME = "operator-files.json"
_KEPT = "operator-files"  # in the job's work folder, beside the payload
_SEALED = ".sealed"


class AttachRefused(FatalError):
    """The job no longer takes operator files (it is being packed, or has ended)."""

    code = "attach_refused"


@dataclass(frozen=True)
class OperatorFileRecord:
    """One added file as `operator-files.json` lists it."""

    name: str
    path: str  # relative to data/
    size: int
    sha256: str
    note: str
    added_by: dict[str, Any]
    added_at: str  # ISO 8601, UTC

    @property
    def added_at_unix(self) -> float:
        """`added_at` as a Unix time."""
        return datetime.fromisoformat(self.added_at.replace("Z", "+00:00")).timestamp()


class OperatorFiles:
    """The operator files of every job, in the jobs' work folders."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._lock = asyncio.Lock()  # adding is rare and quick: one lock for every job
        self._sealed: set[str] = set()

    def _folder(self, job_id: str) -> Path:
        return self.work_dir / job_id / _KEPT

    async def add(self, job_id: str, source: Path, *, name: str, note: str, by: Initiator) -> OperatorFileRecord:
        """Move `source` (a complete, checked upload) into the job's operator files; refused once sealed."""
        async with self._lock:
            folder = self._folder(job_id)
            if job_id in self._sealed or await asyncio.to_thread((folder / _SEALED).exists):
                raise AttachRefused(f"job {job_id} is being packed or was packed: it takes no more files")
            records = await asyncio.to_thread(_read_index, folder)
            safe = _unique(sanitise_segment(name), {r.name.casefold() for r in records})
            size, sha256, _ = await asyncio.to_thread(hash_file, source)
            record = OperatorFileRecord(
                name=safe, path=f"{OPERATOR_FOLDER}/{safe}", size=size, sha256=sha256, note=storable_text(note),
                added_by=by.to_dict(), added_at=_iso(time.time()),
            )  # fmt: skip
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, source, folder / safe)
            await asyncio.to_thread(_write_index, folder, [*records, record])
            return record

    async def seal(self, job_id: str, payload_dir: Path) -> list[PayloadFile]:
        """Take no more files for the job, copy those added into `payload_dir/operator/` with their index, and
        return them as payload files (none: nothing is written)."""
        async with self._lock:
            self._sealed.add(job_id)
            folder = self._folder(job_id)
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread((folder / _SEALED).touch)
            records = await asyncio.to_thread(_read_index, folder)
            return await asyncio.to_thread(_copy_into, folder, records, payload_dir)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _unique(name: str, taken: set[str]) -> str:
    if name.casefold() not in taken and name != INDEX_NAME:
        return name
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, f".{suffix}") if dot and stem else (name, "")
    number = 2
    while f"{stem}_{number}{suffix}".casefold() in taken:
        number += 1
    return f"{stem}_{number}{suffix}"


def _read_index(folder: Path) -> list[OperatorFileRecord]:
    path = folder / INDEX_NAME
    if not path.is_file():
        return []
    return [OperatorFileRecord(**item) for item in json.loads(path.read_text(encoding="utf-8"))["files"]]


def _write_index(folder: Path, records: list[OperatorFileRecord]) -> None:
    document = {"format": "archived-operator-files/1", "files": [asdict(r) for r in records]}
    write_atomic(folder / INDEX_NAME, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def _copy_into(folder: Path, records: list[OperatorFileRecord], payload_dir: Path) -> list[PayloadFile]:
    target = payload_dir / OPERATOR_FOLDER
    shutil.rmtree(target, ignore_errors=True)  # a retried stage copies afresh
    if not records:
        return []
    target.mkdir(parents=True)
    files = []
    for record in records:
        shutil.copyfile(folder / record.name, target / record.name)
        size, sha256, sha512 = hash_file(target / record.name)
        if (size, sha256) != (record.size, record.sha256):
            raise FatalError(f"operator file {record.name} changed in the work folder since it was added")
        files.append(PayloadFile(record.path, size, sha256, sha512))
    shutil.copyfile(folder / INDEX_NAME, target / INDEX_NAME)
    size, sha256, sha512 = hash_file(target / INDEX_NAME)
    files.append(PayloadFile(f"{OPERATOR_FOLDER}/{INDEX_NAME}", size, sha256, sha512))
    return files
