"""Submitted and feedback files downloaded as they are, each checked against the ETag Moodle sends (its SHA-1)
as well as recorded with our SHA-256; and whether an earlier run's files are still intact."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from pathlib import Path

from archived.archive.names import sanitise_segment
from archived.errors import FatalError, IntegrityError
from archived.moodle.api import MoodleApi
from archived.moodle.files import FetchedFile
from archived.moodle.models import ExternalFile

FILE_MAX_BYTES = 1024 * 1024 * 1024
_SHA1 = re.compile(r'^(?:W/)?"?([0-9a-fA-F]{40})"?$')


def etag_sha1(etag: str | None) -> str | None:
    """The SHA-1 an ETag names (Moodle's pluginfile.php sends the stored file's content hash), else None."""
    found = _SHA1.match((etag or "").strip())
    return found.group(1).lower() if found else None


def file_name(file: ExternalFile, taken: set[str]) -> str:
    """A safe, unique (case-insensitively, within `taken`) name for a Moodle file inside its folder."""
    base = sanitise_segment(file.filename or "file") or "file"
    if base in {".", ".."} or "/" in base or "\\" in base:
        raise FatalError(f"file name {file.filename!r} would leave its folder")  # the belt to those braces
    stem, dot, suffix = base.rpartition(".")
    name, number = base, 1
    while name.casefold() in taken:
        number += 1
        name = f"{stem}-{number}.{suffix}" if dot and stem else f"{base}-{number}"
    taken.add(name.casefold())
    return name


async def download_checked(api: MoodleApi, url: str, dest: Path) -> FetchedFile:
    """Download `url` to `dest`; an ETag naming another SHA-1 than the bytes received removes them and fails."""
    fetched = await api.client.download(url, dest, max_bytes=FILE_MAX_BYTES)
    expected = etag_sha1(fetched.etag)
    if expected is not None and expected != fetched.sha1:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(dest.unlink)
        raise IntegrityError(
            f"{fetched.url}: Moodle's ETag names SHA-1 {expected}, the {fetched.size} bytes received have "
            f"{fetched.sha1}; the file changed or was damaged on the way — retry the job"
        )
    return fetched


def files_intact(payload: Path, files: dict[str, str]) -> bool:
    """Whether every file (relative path → SHA-256) is still in the payload with its checksum."""
    for relative, digest in files.items():
        path = payload / relative
        if not path.is_file():
            return False
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                sha.update(chunk)
        if sha.hexdigest() != digest:
            return False
    return True
