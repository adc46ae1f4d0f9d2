"""SFTP storage: archives as files in one folder of a file server reached over SSH.

A write uploads to a temporary name in the folder, verifies it, then publishes it under the final name:

- Verification: the size from the server, and the SHA-256 computed by the server's `sha256sum` (verify =
  "sha256sum", for accounts with a shell: no bytes travel back) or by reading the file back (verify = "read-back",
  the default, works with SFTP-only accounts).
- Publishing never replaces a file. Where the server offers hard links (hardlink@openssh.com, every OpenSSH
  server), the final name is a hard link to the temporary file, and link() fails when the name exists: atomic,
  whatever another writer does. Otherwise SFTP's own rename (SSH_FXP_RENAME, not posix-rename@openssh.com), which
  the protocol defines to fail when the target exists (OpenSSH implements it as link + unlink). For a server that
  replaces anyway the name is checked right before the rename: another writer could still slip into that one round
  trip, which the protocol gives no way to close. `archived storage status` says which of these the server does.
- A final name that exists already is adopted when it holds our size and SHA-256 (a resumed job finding its own
  write), else refused with `StorageConflict`.

Temporary files are named after the archive (`.archived-part-<digest of name and SHA-256>`): a job resumed after
the daemon was killed mid-upload removes what its own earlier attempt left before it writes again. Any other
`.archived-part-*` file (a job that never resumed) is removed by a later write once it is a day old, as the local
driver does; a younger one may be another daemon's write in progress.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import asyncssh

from archived.errors import ArchivedError, FatalError, IntegrityError
from archived.interfaces.storage import (
    StorageConfig,
    StorageConflict,
    StorageDriver,
    StorageStatus,
    StorageUnavailable,
    StoredObject,
    Tier,
)
from archived_sftp.config import SftpConfig
from archived_sftp.credentials import load_credentials
from archived_sftp.session import RemoteFile, SftpConnector, SftpSession

TEMP_PREFIX = ".archived-part-"
STALE_TEMP_SECONDS = 24 * 3600  # no write takes a day; a younger temporary file may be a write in progress
SWEEP_INTERVAL_SECONDS = 3600  # the folder may hold a hundred thousand archives: list it at most hourly


def temp_name(name: str, sha256: str) -> str:
    """The temporary name of one archive's upload: the same for every attempt, unique to name and content."""
    return TEMP_PREFIX + hashlib.sha256(f"{name}\n{sha256}".encode()).hexdigest()[:32]


class SftpStorage(StorageDriver):
    """Stores archives as files in a folder on an SFTP server."""

    name = "sftp"
    config_model = SftpConfig

    def __init__(self, target: str, config: StorageConfig, tier: Tier) -> None:
        super().__init__(target, config, tier)
        assert isinstance(config, SftpConfig)
        self.settings = config
        self.connector = SftpConnector(target, config, load_credentials(target, config))
        self.where = self.connector.where
        self._last_sweep = float("-inf")
        # asyncssh logs every connection and login at INFO: one store would add a dozen lines to the daemon's log.
        logging.getLogger("asyncssh").setLevel(logging.WARNING)

    def _check_name(self, name: str) -> None:
        if (
            "/" in name or "\\" in name or name in ("", ".", "..") or name.startswith(".") or not name.isprintable()
        ):  # fmt: skip
            raise FatalError(f"{self.where}: refusing unsafe object name {name!r}")

    async def store(
        self, source: Path, name: str, *, sha256: str, size: int, retain_until: datetime | None
    ) -> StoredObject:
        """Upload `source` as `name`, verified and never replacing a file (see the module docstring)."""
        self._check_name(name)
        temp = temp_name(name, sha256)
        async with self.connector.session(f"storing {name}") as session:
            await session.check_folder()
            await self._sweep(session)
            existing = await session.stat(name)
            if existing is not None:
                return await self._adopt(session, existing, temp, sha256, size)
            await session.remove(temp)  # left by a killed attempt to write this same archive
            try:
                sent = await session.upload(source, temp)
                if sent != size:
                    raise IntegrityError(f"{self.where}: {source.name} changed while it was uploaded")
                await self._verify(session, temp, name, sha256, size)
                if not await self._publish(session, temp, name):
                    appeared = await session.stat(name)
                    assert appeared is not None
                    return await self._adopt(session, appeared, temp, sha256, size)
            finally:
                # After a hard link the temporary name is a second name of the archive; after a failure it is a
                # partial copy. A broken connection cannot remove it: the resumed job or the sweep will.
                with contextlib.suppress(Exception):
                    await session.remove(temp)
            published = await session.stat(name)
            if published is None or published.size != size:
                raise IntegrityError(
                    f"{self.where}: after publishing, {name} holds "
                    f"{'nothing' if published is None else f'{published.size} bytes'} instead of {size} bytes"
                )
        return StoredObject(location=name, size=size, sha256=sha256)

    async def _verify(self, session: SftpSession, temp: str, name: str, sha256: str, size: int) -> None:
        written = await session.stat(temp)
        written_size = written.size if written else 0
        digest = ""
        if written_size != size:
            # The server holds less (or more) than we sent: the transfer broke off (a data connection cut after
            # the client's last write) — an outage to retry, not damaged content.
            raise StorageUnavailable(
                f"{self.where}: the server holds {written_size} of the {size} bytes sent for {name}: the transfer "
                "broke off; the copy was removed and the upload is tried again"
            )
        if written_size == size:
            written_size, digest = await self._digest(session, temp, size)
        if (written_size, digest) != (size, sha256):
            found = f"{written_size} bytes" + (f" sha256 {digest[:12]}…" if digest else "")
            raise IntegrityError(
                f"{self.where}: the upload of {name} reads back as {found} instead of {size} bytes "
                f"sha256 {sha256[:12]}…; the copy was removed"
            )

    async def _digest(self, session: SftpSession, name: str, size: int) -> tuple[int, str]:
        if self.settings.verify == "sha256sum":
            return size, await session.sha256_on_server(name, size)
        return await session.read_back(name)

    async def _publish(self, session: SftpSession, temp: str, name: str) -> bool:
        """Give the verified upload its final name; False when the name exists (nothing was replaced)."""
        if await session.link_no_replace(temp, name):
            return True
        if await session.stat(name) is not None:
            return False
        try:
            await session.rename(temp, name)
        except asyncssh.SFTPError:
            if await session.stat(name) is not None:
                return False
            raise
        return True

    async def _adopt(
        self, session: SftpSession, existing: RemoteFile, temp: str, sha256: str, size: int
    ) -> StoredObject:
        with contextlib.suppress(asyncssh.SFTPError):
            await session.remove(temp)  # a killed attempt may have linked the archive and not yet removed this
        if existing.regular and existing.size == size:
            _, digest = await self._digest(session, existing.name, size)
            if digest == sha256:
                # A resumed job finds its own earlier, complete write: nothing to overwrite, nothing to redo.
                return StoredObject(location=existing.name, size=size, sha256=sha256)
        raise StorageConflict(
            f"{self.where}: {existing.name} already exists with other content; it is never overwritten"
        )

    async def _sweep(self, session: SftpSession) -> None:
        """Remove day-old temporary files of writes that were killed (see the module docstring)."""
        if time.monotonic() - self._last_sweep < SWEEP_INTERVAL_SECONDS:
            return
        self._last_sweep = time.monotonic()
        now = time.time()
        try:
            entries = await session.listing()
        except (asyncssh.Error, OSError, TimeoutError):
            return  # tidying up must never fail a write
        for entry in entries:
            if not (entry.name.startswith(TEMP_PREFIX) and entry.regular and entry.mtime is not None):
                continue
            if now - entry.mtime > STALE_TEMP_SECONDS:
                # One file per try: another daemon's may vanish meanwhile, an old one may not be ours to remove.
                with contextlib.suppress(asyncssh.Error, OSError, TimeoutError):
                    await session.remove(entry.name)

    async def retrieve(self, location: str) -> AsyncIterator[bytes]:
        """Stream a stored archive."""
        self._check_name(location)
        async with self.connector.session(f"reading {location}") as session:
            if await session.stat(location) is None:
                raise FatalError(f"{self.where}: {location} does not exist in {self.settings.folder!r}")
            async with contextlib.aclosing(session.read(location)) as chunks:
                async for chunk in chunks:
                    yield chunk

    async def delete(self, location: str) -> None:
        """Remove a stored archive (a missing file counts as deleted)."""
        self._check_name(location)
        async with self.connector.session(f"deleting {location}") as session:
            await session.remove(location)

    async def status(self) -> StorageStatus:
        """Login, round-trip latency, free space, a probe write/read/delete, and how files are published."""
        reached = False
        try:
            async with self.connector.session("checking the target") as session:
                reached = True
                started = time.perf_counter()
                await session.check_folder()
                latency = (time.perf_counter() - started) * 1000
                free, total = await session.free_space()
                probe_ok, notes = await self._probe(session)
        except ArchivedError as exc:
            return StorageStatus(reachable=reached, message=f"probe failed: {exc}")
        return StorageStatus(
            reachable=True,
            latency_ms=round(latency, 2),
            free_bytes=free,
            total_bytes=total,
            probe_ok=probe_ok,
            message="; ".join([f"logged in as {self.settings.username}", *notes]),
        )

    async def _probe(self, session: SftpSession) -> tuple[bool, list[str]]:
        probe = f"{TEMP_PREFIX}probe-{uuid.uuid4().hex}"
        other, linked = f"{probe}-existing", f"{probe}-link"
        token = os.urandom(32)
        try:
            await session.put_bytes(probe, token)
            if await session.read_back(probe) != (len(token), hashlib.sha256(token).hexdigest()):
                return False, ["probe read back different bytes"]
            notes = ["probe write/read/delete ok"]
            if self.settings.verify == "sha256sum":
                if await session.sha256_on_server(probe, len(token)) != hashlib.sha256(token).hexdigest():
                    return False, [*notes, "the server's sha256sum disagrees with the probe's bytes"]
                notes.append("verifies with the server's sha256sum")
            else:
                notes.append("verifies by reading back")
            notes.append(await self._publishing_mode(session, probe, other, linked))
            return True, notes
        finally:
            for name in (probe, other, linked):
                with contextlib.suppress(asyncssh.Error, OSError, TimeoutError):
                    await session.remove(name)

    @staticmethod
    async def _publishing_mode(session: SftpSession, probe: str, other: str, linked: str) -> str:
        """Whether the server can publish without ever replacing a file (tried on probe files)."""
        if await session.link_no_replace(probe, linked):
            return "publishes by hard link (never replaces a file)"
        await session.put_bytes(other, b"existing")
        try:
            await session.rename(probe, other)
        except asyncssh.SFTPError:
            return "publishes by rename, which this server refuses over an existing file"
        return (
            "WARNING: this server's rename replaces existing files; archived checks the name right before renaming, "
            "but another writer could slip in between"
        )
