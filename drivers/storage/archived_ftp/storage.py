"""FTP/FTPS storage: archives as files in one folder of an FTP server, over explicit TLS unless configured off.

A write uploads to a temporary name in the folder, verifies it, then renames it to the final name:

- Verification: the size the server reports (SIZE), and the SHA-256 of the file read back over a second transfer
  (FTP has no standard way to make the server hash a file).
- FTP's rename (RNFR/RNTO) does not say what happens when the target exists, and most servers (vsftpd, ProFTPD
  unless `AllowOverwrite off`, pure-ftpd, pyftpdlib) replace it. So the final name is checked before the upload and
  again right before the rename, after the upload and its verification; a server that refuses the rename because
  the name exists is understood as such. Another writer could still create the name in the round trip between that
  last check and RNTO: the protocol has no way to close that window (archive names carry the activity and the time,
  and one daemon writes one name, so two writers would have to be two daemons writing the same archive).
  `archived storage status` says whether the server replaces on rename.
- A final name that exists already is adopted when it holds our size and SHA-256 (a resumed job finding its own
  write), else refused with `StorageConflict`.

Temporary files are named after the archive (`.archived-part-<digest of name and SHA-256>`): a job resumed after
the daemon was killed mid-upload removes what its own earlier attempt left before it writes again. Any other
`.archived-part-*` file (a job that never resumed) is removed by a later write once it is a day old, as the local
driver does; a younger one may be another daemon's write in progress.

Free space: FTP does not tell, so status reports it as unknown.
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

import aioftp

from archived.config import read_secret
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
from archived_ftp.config import FtpConfig
from archived_ftp.session import FtpConnector, FtpSession

TEMP_PREFIX = ".archived-part-"
STALE_TEMP_SECONDS = 24 * 3600  # no write takes a day; a younger temporary file may be a write in progress
SWEEP_INTERVAL_SECONDS = 3600  # the folder may hold a hundred thousand archives: list it at most hourly
PLAIN_FTP_WARNING = "WARNING: plain FTP (tls = false): the password and the archives cross the network unencrypted"

# Errors a tidy-up step may meet without failing the write it belongs to.
_TIDY_ERRORS = (aioftp.AIOFTPException, OSError, TimeoutError)


def temp_name(name: str, sha256: str) -> str:
    """The temporary name of one archive's upload: the same for every attempt, unique to name and content."""
    return TEMP_PREFIX + hashlib.sha256(f"{name}\n{sha256}".encode()).hexdigest()[:32]


class FtpStorage(StorageDriver):
    """Stores archives as files in a folder on an FTP or FTPS server."""

    name = "ftp"
    config_model = FtpConfig

    def __init__(self, target: str, config: StorageConfig, tier: Tier) -> None:
        super().__init__(target, config, tier)
        assert isinstance(config, FtpConfig)
        self.settings = config
        password = read_secret(file=config.password_file, env=None, what=f"storage.{target}.password_file")
        self.connector = FtpConnector(target, config, password)
        if config.tls:
            self.connector.tls_context()  # a ca_file that cannot be loaded stops the start, not the first job
        self.where = self.connector.where
        self._last_sweep = float("-inf")
        # aioftp logs every command at DEBUG, the password as stars of its length.
        logging.getLogger("aioftp").setLevel(logging.WARNING)

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
            await self._sweep(session)
            existing = await session.size_of(name)
            if existing is not None:
                return await self._adopt(session, name, existing, temp, sha256, size)
            await session.remove(temp)  # left by a killed attempt to write this same archive
            renamed = False
            try:
                sent = await session.upload(source, temp)
                if sent != size:
                    raise IntegrityError(f"{self.where}: {source.name} changed while it was uploaded")
                await self._verify(session, temp, name, sha256, size)
                renamed = await self._publish(session, temp, name)
                if not renamed:
                    appeared = await session.size_of(name)
                    assert appeared is not None
                    return await self._adopt(session, name, appeared, temp, sha256, size)
            finally:
                if not renamed:  # a partial or refused copy; a broken connection leaves it to the next attempt
                    with contextlib.suppress(Exception):
                        await session.remove(temp)
            published = await session.size_of(name)
            if published != size:
                raise IntegrityError(
                    f"{self.where}: after renaming, {name} holds "
                    f"{'nothing' if published is None else f'{published} bytes'} instead of {size} bytes"
                )
        return StoredObject(location=name, size=size, sha256=sha256)

    async def _verify(self, session: FtpSession, temp: str, name: str, sha256: str, size: int) -> None:
        written_size = await session.size_of(temp) or 0
        digest = ""
        if written_size != size:
            # The server holds less (or more) than we sent: the transfer broke off (a data connection cut after
            # the client's last write) — an outage to retry, not damaged content.
            raise StorageUnavailable(
                f"{self.where}: the server holds {written_size} of the {size} bytes sent for {name}: the transfer "
                "broke off; the copy was removed and the upload is tried again"
            )
        if written_size == size:
            written_size, digest = await session.read_back(temp)
        if (written_size, digest) != (size, sha256):
            found = f"{written_size} bytes" + (f" sha256 {digest[:12]}…" if digest else "")
            raise IntegrityError(
                f"{self.where}: the upload of {name} reads back as {found} instead of {size} bytes "
                f"sha256 {sha256[:12]}…; the copy was removed"
            )

    async def _publish(self, session: FtpSession, temp: str, name: str) -> bool:
        """Rename the verified upload; False when the name exists (nothing was replaced)."""
        if await session.size_of(name) is not None:
            return False
        try:
            await session.rename(temp, name)
        except aioftp.StatusCodeError:
            if await session.size_of(name) is not None:
                return False  # a server that refuses to replace on rename
            raise
        return True

    async def _adopt(
        self, session: FtpSession, name: str, existing_size: int, temp: str, sha256: str, size: int
    ) -> StoredObject:
        with contextlib.suppress(*_TIDY_ERRORS):
            await session.remove(temp)  # a killed attempt may have left it
        if existing_size == size and (await session.read_back(name))[1] == sha256:
            # A resumed job finds its own earlier, complete write: nothing to overwrite, nothing to redo.
            return StoredObject(location=name, size=size, sha256=sha256)
        raise StorageConflict(f"{self.where}: {name} already exists with other content; it is never overwritten")

    async def _sweep(self, session: FtpSession) -> None:
        """Remove day-old temporary files of writes that were killed (see the module docstring)."""
        if time.monotonic() - self._last_sweep < SWEEP_INTERVAL_SECONDS:
            return
        self._last_sweep = time.monotonic()
        now = time.time()
        try:
            entries = await session.listing()
        except _TIDY_ERRORS:
            return  # tidying up must never fail a write
        for entry in entries:
            if not (entry.name.startswith(TEMP_PREFIX) and entry.regular and entry.mtime is not None):
                continue
            if now - entry.mtime > STALE_TEMP_SECONDS:
                # One file per try: another daemon's may vanish meanwhile, an old one may not be ours to remove.
                with contextlib.suppress(*_TIDY_ERRORS):
                    await session.remove(entry.name)

    async def retrieve(self, location: str) -> AsyncIterator[bytes]:
        """Stream a stored archive."""
        self._check_name(location)
        async with self.connector.session(f"reading {location}") as session:
            if await session.size_of(location) is None:
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
        """Login, round-trip latency, a probe write/read/delete, and whether the server replaces on rename."""
        reached = False
        notes = [PLAIN_FTP_WARNING] if not self.settings.tls else []
        try:
            async with self.connector.session("checking the target") as session:
                reached = True
                started = time.perf_counter()
                await session.round_trip()
                latency = (time.perf_counter() - started) * 1000
                probe_ok, probe_notes = await self._probe(session)
        except ArchivedError as exc:
            return StorageStatus(reachable=reached, message="; ".join([*notes, f"probe failed: {exc}"]))
        login = f"logged in as {self.settings.username}" + (" over TLS" if self.settings.tls else "")
        return StorageStatus(
            reachable=True,
            latency_ms=round(latency, 2),
            probe_ok=probe_ok,
            message="; ".join([*notes, login, *probe_notes, "free space: not reported over FTP"]),
        )

    async def _probe(self, session: FtpSession) -> tuple[bool, list[str]]:
        probe = f"{TEMP_PREFIX}probe-{uuid.uuid4().hex}"
        other = f"{probe}-existing"
        token = os.urandom(32)
        try:
            await session.put_bytes(probe, token)
            if await session.read_back(probe) != (len(token), hashlib.sha256(token).hexdigest()):
                return False, ["probe read back different bytes"]
            notes = ["probe write/read/delete ok", "verifies by reading back"]
            await session.put_bytes(other, b"existing")
            try:
                await session.rename(probe, other)
            except aioftp.StatusCodeError:
                notes.append("this server refuses to rename over an existing file")
            else:
                notes.append(
                    "this server's rename replaces existing files (as most do): archived checks the name right "
                    "before renaming"
                )
            return True, notes
        finally:
            for name in (probe, other):
                with contextlib.suppress(*_TIDY_ERRORS):
                    await session.remove(name)
