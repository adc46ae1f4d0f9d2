"""Local directory storage: archives as files in one folder (a local disk, a NAS mount).

Writes are atomic (temporary file in the same folder, fsync, rename, fsync of the folder), never overwrite
an existing file, and are verified by reading the file back (size and SHA-256). A temporary file left behind
by a daemon killed in the middle of a write is removed by a later write once it is a day old (a younger one
may belong to another daemon's write in progress to the same folder).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from pydantic import field_validator

from archived.durable import fsync_dir, sha256_of_file
from archived.errors import FatalError, IntegrityError
from archived.interfaces.storage import (
    StorageConfig,
    StorageConflict,
    StorageDriver,
    StorageStatus,
    StorageUnavailable,
    StoredObject,
    Tier,
)

CHUNK = 1024 * 1024
TEMP_PREFIX = ".archived-part-"
STALE_TEMP_SECONDS = 24 * 3600  # no write takes a day; a younger temporary file may be a write in progress
SWEEP_INTERVAL_SECONDS = 3600  # the folder may hold a hundred thousand archives: list it at most hourly


class LocalDirectoryConfig(StorageConfig):
    """`[storage.<name>]` with `driver = "local"`."""

    path: Path
    create: bool = True  # create the folder if it is missing

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError(f"expected an absolute folder path (got {str(value)!r})")
        return value


class LocalDirectoryStorage(StorageDriver):
    """Stores archives as files in a local folder."""

    name = "local"
    config_model = LocalDirectoryConfig

    def __init__(self, target: str, config: StorageConfig, tier: Tier) -> None:
        super().__init__(target, config, tier)
        assert isinstance(config, LocalDirectoryConfig)
        self.root = config.path
        self.create = config.create
        self._last_sweep = float("-inf")

    def _path_of(self, name: str) -> Path:
        if "/" in name or "\\" in name or name in ("", ".", "..") or name.startswith("."):
            raise FatalError(f"storage target {self.target}: refusing unsafe object name {name!r}")
        return self.root / name

    def _ensure_root(self) -> None:
        if not self.root.is_dir():
            if not self.create:
                raise StorageUnavailable(f"storage target {self.target}: folder {self.root} does not exist")
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageUnavailable(f"storage target {self.target}: cannot create {self.root}: {exc}") from exc

    def _sweep_stale_temps(self) -> None:
        """Remove temporary files of writes that were killed (see the module docstring)."""
        now = time.time()
        if time.monotonic() - self._last_sweep < SWEEP_INTERVAL_SECONDS:
            return
        self._last_sweep = time.monotonic()
        try:
            with os.scandir(self.root) as entries:
                temps = [entry for entry in entries if entry.name.startswith(TEMP_PREFIX)]
        except OSError:
            return  # tidying up must never fail a write
        for entry in temps:
            # One file per try: another daemon's temp file may vanish meanwhile, an old one may not be ours.
            try:
                if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > (
                    STALE_TEMP_SECONDS
                ):
                    Path(entry.path).unlink(missing_ok=True)
            except OSError:
                continue

    def _store_blocking(self, source: Path, name: str, sha256: str, size: int) -> StoredObject:
        try:
            return self._write_verified(source, name, sha256, size)
        except OSError as exc:
            # Whatever the folder does (full, read-only, gone, I/O errors), it is an outage of this target that
            # a later retry may not meet; the message names the folder and the cause, never "unexpected".
            raise StorageUnavailable(self._outage_message(exc, f"writing {name}")) from exc

    def _write_verified(self, source: Path, name: str, sha256: str, size: int) -> StoredObject:
        self._ensure_root()
        self._sweep_stale_temps()
        final = self._path_of(name)
        if final.exists():
            return self._adopt_existing(final, name, sha256, size)
        temp = self.root / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with source.open("rb") as src, temp.open("xb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
            self._publish(temp, final)
        except FileExistsError:
            return self._adopt_existing(final, name, sha256, size)
        finally:
            # On a read-only or vanished folder even removing a file that was never created fails (EROFS comes
            # before ENOENT); that must not hide the error that made the write fail. The sweep removes leftovers.
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
        fsync_dir(self.root)
        written_size, written_sha = sha256_of_file(final)
        if (written_size, written_sha) != (size, sha256):
            final.unlink(missing_ok=True)
            raise IntegrityError(
                f"storage target {self.target}: {name} reads back as {written_size} bytes sha256 {written_sha[:12]}… "
                f"instead of {size} bytes sha256 {sha256[:12]}…; the copy was removed"
            )
        return StoredObject(location=name, size=size, sha256=sha256)

    def _outage_message(self, exc: OSError, doing: str) -> str:
        reason = {
            errno.ENOSPC: "no space left",
            errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied",
            errno.EPERM: "operation not permitted",
            errno.EIO: "input/output error",
        }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        return f"storage target {self.target}: {reason} in {self.root} while {doing}"

    @staticmethod
    def _publish(temp: Path, final: Path) -> None:
        # link() fails if `final` exists, so nothing can ever be overwritten (rename would replace it).
        try:
            os.link(temp, final)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            # File systems without hard links (FAT, some SMB mounts): check, then rename.
            if final.exists():
                raise FileExistsError(final) from exc
            os.rename(temp, final)

    def _adopt_existing(self, final: Path, name: str, sha256: str, size: int) -> StoredObject:
        existing_size, existing_sha = sha256_of_file(final)
        if (existing_size, existing_sha) == (size, sha256):
            # A resumed job finds its own earlier, complete write: nothing to overwrite, nothing to redo.
            return StoredObject(location=name, size=size, sha256=sha256)
        raise StorageConflict(f"storage target {self.target}: {name} already exists with other content")

    async def store(
        self, source: Path, name: str, *, sha256: str, size: int, retain_until: datetime | None
    ) -> StoredObject:
        """Copy `source` into the folder as `name` (see `StorageDriver.store`)."""
        return await asyncio.to_thread(self._store_blocking, source, name, sha256, size)

    async def retrieve(self, location: str) -> AsyncIterator[bytes]:
        """Stream a stored archive."""
        path = self._path_of(location)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise FatalError(f"storage target {self.target}: {location} does not exist") from None
        except OSError as exc:
            raise StorageUnavailable(self._outage_message(exc, f"opening {location}")) from exc
        try:
            while True:
                try:
                    chunk = await asyncio.to_thread(handle.read, CHUNK)
                except OSError as exc:
                    raise StorageUnavailable(self._outage_message(exc, f"reading {location}")) from exc
                if not chunk:
                    break
                yield chunk
        finally:
            handle.close()

    async def delete(self, location: str) -> None:
        """Remove a stored archive (a missing file counts as deleted)."""
        path = self._path_of(location)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(self._outage_message(exc, f"deleting {location}")) from exc

    def _status_blocking(self) -> StorageStatus:
        started = time.perf_counter()
        try:
            self._ensure_root()
            usage = shutil.disk_usage(self.root)
            probe = self.root / f"{TEMP_PREFIX}probe-{uuid.uuid4().hex}"
            token = uuid.uuid4().bytes
            with probe.open("xb") as handle:
                handle.write(token)
                handle.flush()
                os.fsync(handle.fileno())
            read_back = probe.read_bytes()
            probe.unlink()
        except (OSError, StorageUnavailable) as exc:
            return StorageStatus(reachable=self.root.is_dir(), message=f"probe failed: {exc}")
        latency = (time.perf_counter() - started) * 1000
        ok = read_back == token
        return StorageStatus(
            reachable=True,
            latency_ms=round(latency, 2),
            free_bytes=usage.free,
            total_bytes=usage.total,
            probe_ok=ok,
            message="probe write/read/delete ok" if ok else "probe read back different bytes",
        )

    async def status(self) -> StorageStatus:
        """Free space and a probe write/read/delete."""
        return await asyncio.to_thread(self._status_blocking)
