"""One FTP control connection (explicit TLS unless configured off), logged in and in the target folder, and the file
operations the FTP driver builds on.

Data connections are passive (EPSV, then PASV) and go to the control connection's host whatever address the server
names; with TLS they are encrypted too (PROT P) and resume the control connection's TLS session, as servers that
check it expect. Every step has a timeout (`timeout_seconds`); every failure leaves the session as
`StorageUnavailable` or `FatalError` (see `failures`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aioftp

from archived.errors import ArchivedError, FatalError
from archived_ftp.config import FtpConfig
from archived_ftp.failures import classify, reply_code, reply_of

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class RemoteFile:
    """An entry of the target folder."""

    name: str
    size: int
    mtime: float | None
    regular: bool


def _mtime(modify: str | None) -> float | None:
    """A listing's `modify` fact (YYYYMMDDHHMMSS, UTC) as a timestamp."""
    try:
        return datetime.strptime(str(modify)[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class FtpSession:
    """A logged-in control connection whose working folder is the target folder (use `FtpConnector.session`)."""

    def __init__(self, client: aioftp.Client, config: FtpConfig, where: str) -> None:
        self.client = client
        self.config = config
        self.where = where
        self.timeout = config.timeout_seconds

    async def round_trip(self) -> None:
        """One command and its answer (NOOP), for the latency."""
        async with asyncio.timeout(self.timeout):
            await self.client.command("NOOP", "2xx")

    async def size_of(self, name: str) -> int | None:
        """The size of file `name` in the folder, or None when there is none."""
        async with asyncio.timeout(self.timeout):
            code, info = await self.client.command(f"SIZE {name}", ("2xx", "5xx"))
        if code.matches("213"):
            return int(info[-1].strip().split()[-1])
        if code.matches("550"):
            return None
        # A server without SIZE: MLST (or a listing of the folder), which aioftp falls back to.
        try:
            async with asyncio.timeout(self.timeout):
                facts = await self.client.stat(name)
        except aioftp.StatusCodeError as exc:
            if reply_code(exc) == "550":
                return None
            raise
        return int(facts.get("size", 0)) if facts.get("type") == "file" else None

    async def listing(self) -> list[RemoteFile]:
        """Every entry of the folder (MLSD, or LIST where the server has no MLSD)."""
        async with asyncio.timeout(self.timeout * 10):  # a folder of a hundred thousand archives takes a while
            found = await self.client.list()
        return [
            RemoteFile(path.name, int(facts.get("size", 0) or 0), _mtime(facts.get("modify")), facts["type"] == "file")
            for path, facts in found
        ]

    async def remove(self, name: str) -> bool:
        """Remove a file; False when there was none."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.remove_file(name)
        except aioftp.StatusCodeError as exc:
            if reply_code(exc) == "550" and await self.size_of(name) is None:
                return False
            raise
        return True

    async def upload(self, source: Path, name: str) -> int:
        """Send `source` as file `name` (STOR); returns the bytes sent once the server confirmed the transfer."""
        sent = 0
        async with asyncio.timeout(self.timeout):
            stream = await self.client.upload_stream(name)
        try:
            with source.open("rb") as handle:
                while chunk := await asyncio.to_thread(handle.read, CHUNK):
                    async with asyncio.timeout(self.timeout):
                        await stream.write(chunk)
                    sent += len(chunk)
        except BaseException:
            stream.close()
            raise
        async with asyncio.timeout(self.timeout):
            await stream.finish()  # the server's "226 transfer complete" (or why not)
        return sent

    async def put_bytes(self, name: str, data: bytes) -> None:
        """Write a small file."""
        async with asyncio.timeout(self.timeout):
            stream = await self.client.upload_stream(name)
            try:
                await stream.write(data)
            except BaseException:
                stream.close()
                raise
            await stream.finish()

    async def read(self, name: str) -> AsyncGenerator[bytes, None]:
        """Stream a file's bytes (RETR)."""
        async with asyncio.timeout(self.timeout):
            stream = await self.client.download_stream(name)
        try:
            while True:
                async with asyncio.timeout(self.timeout):
                    chunk = await stream.read(CHUNK)
                if not chunk:
                    break
                yield chunk
        except BaseException:
            stream.close()
            raise
        async with asyncio.timeout(self.timeout):
            await stream.finish()

    async def read_back(self, name: str) -> tuple[int, str]:
        """Size and SHA-256 of a file, computed here from its bytes."""
        digest, size = hashlib.sha256(), 0
        async with contextlib.aclosing(self.read(name)) as chunks:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    async def rename(self, temp: str, final: str) -> None:
        """RNFR/RNTO. FTP does not say what happens when `final` exists; most servers replace it."""
        async with asyncio.timeout(self.timeout):
            await self.client.rename(temp, final)


class FtpConnector:
    """Opens sessions to one target's server with its TLS settings and login."""

    def __init__(self, target: str, config: FtpConfig, password: str) -> None:
        self.target = target
        self.config = config
        self._password = password
        scheme = "ftps" if config.tls else "ftp"
        self.where = f"storage target {target} ({scheme}://{config.host}:{config.port})"

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name verification, against `ca_file` when set (else the system's CAs)."""
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        try:
            context = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise FatalError(f"storage.{self.target}.ca_file: cannot load {cafile}: {exc}") from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    @contextlib.asynccontextmanager
    async def session(self, doing: str) -> AsyncIterator[FtpSession]:
        """A logged-in session in the folder; any failure inside leaves as `StorageUnavailable` or `FatalError`."""
        config = self.config
        timeout = config.timeout_seconds
        client = aioftp.Client(socket_timeout=timeout, connection_timeout=timeout, path_timeout=timeout)
        try:
            try:
                async with asyncio.timeout(timeout):
                    await client.connect(config.host, config.port)
                if config.tls:
                    await self._start_tls(client)
                async with asyncio.timeout(timeout):
                    await client.login(config.username, self._password)
                    await client.command("TYPE I", "200")  # sizes in bytes: some servers refuse SIZE in ASCII mode
                await self._enter_folder(client)
                yield FtpSession(client, config, self.where)
            finally:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(min(timeout, 5)):
                        await client.quit()
                client.close()
        except ArchivedError:
            raise
        except Exception as exc:
            raise classify(exc, self.where, doing, username=config.username) from exc

    async def _start_tls(self, client: aioftp.Client) -> None:
        context = self.tls_context()
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                await client.upgrade_to_tls(context)
        except aioftp.StatusCodeError as exc:
            if reply_code(exc) in ("500", "502", "504", "534", "431"):
                raise FatalError(
                    f"{self.where}: the server does not offer explicit TLS (AUTH TLS answered {reply_of(exc)!r}); "
                    f"ask for FTPS, or set storage.{self.target}.tls = false to send the password and the archives "
                    "unencrypted"
                ) from None
            raise

    async def _enter_folder(self, client: aioftp.Client) -> None:
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                await client.change_directory(self.config.folder)
        except aioftp.StatusCodeError as exc:
            if reply_code(exc) == "550":
                raise FatalError(
                    f"{self.where}: the folder {self.config.folder!r} does not exist on the server or cannot be "
                    f"entered ({reply_of(exc)!r}); create it (writable by {self.config.username}) or correct the "
                    "folder key"
                ) from None
            raise
