"""One SSH connection with its SFTP channel, and the file operations the SFTP driver builds on.

Every step has a timeout (`timeout_seconds`); every failure leaves the session as `StorageUnavailable` or
`FatalError` (see `failures`). Nothing of the user's SSH setup is read (no ~/.ssh/config, default keys or agent):
what the target's table says is all that is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import posixpath
import re
import shlex
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import asyncssh

from archived.errors import ArchivedError, FatalError
from archived_sftp.config import SftpConfig
from archived_sftp.credentials import SftpCredentials
from archived_sftp.failures import classify, reason_of
from archived_sftp.host_keys import HostKeyCheck, client_factory, parse_pin

CHUNK = 1024 * 1024
SHA256SUM_OUTPUT = re.compile(r"\\?([0-9a-f]{64}) ")
HASHING_BYTES_PER_SECOND = 10_000_000  # a slow disk: sha256sum of a 2 GB archive may take minutes


@dataclass(frozen=True)
class RemoteFile:
    """An entry of the target folder."""

    name: str
    size: int
    mtime: float | None
    regular: bool


class SftpSession:
    """An open SFTP channel on a logged-in SSH connection (use `SftpConnector.session`)."""

    def __init__(self, connection: asyncssh.SSHClientConnection, sftp: asyncssh.SFTPClient, config: SftpConfig,
                 where: str) -> None:  # fmt: skip
        self.connection = connection
        self.sftp = sftp
        self.config = config
        self.where = where
        self.timeout = config.timeout_seconds

    def path(self, name: str) -> str:
        """A file of the target folder."""
        return posixpath.join(self.config.folder, name)

    async def stat(self, name: str) -> RemoteFile | None:
        """The file `name` in the folder, or None when there is none."""
        try:
            async with asyncio.timeout(self.timeout):
                attrs = await self.sftp.stat(self.path(name))
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            return None
        return RemoteFile(name, attrs.size or 0, attrs.mtime, attrs.type == asyncssh.FILEXFER_TYPE_REGULAR)

    async def check_folder(self) -> None:
        """Fail clearly when the configured folder is missing or not a folder."""
        try:
            async with asyncio.timeout(self.timeout):
                attrs = await self.sftp.stat(self.config.folder)
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            attrs = None
        if attrs is None or attrs.type != asyncssh.FILEXFER_TYPE_DIRECTORY:
            raise FatalError(
                f"{self.where}: the folder {self.config.folder!r} does not exist on the server; create it "
                f"(writable by {self.config.username}) or correct the folder key"
            )

    async def listing(self) -> list[RemoteFile]:
        """Every entry of the folder."""
        entries = []
        async with asyncio.timeout(self.timeout * 10):  # a folder of a hundred thousand archives takes a while
            async for entry in self.sftp.scandir(self.config.folder):
                attrs = entry.attrs
                name = entry.filename if isinstance(entry.filename, str) else entry.filename.decode(errors="replace")
                regular = attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
                entries.append(RemoteFile(name, attrs.size or 0, attrs.mtime, regular))
        return entries

    async def remove(self, name: str) -> bool:
        """Remove a file; False when there was none."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.sftp.remove(self.path(name))
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            return False
        return True

    async def upload(self, source: Path, name: str) -> int:
        """Copy `source` into a new file `name` (exclusive create: never an existing file); returns the bytes sent."""
        async with asyncio.timeout(self.timeout):
            remote = await self.sftp.open(self.path(name), "xb")
        sent = 0
        try:
            with source.open("rb") as handle:
                while chunk := await asyncio.to_thread(handle.read, CHUNK):
                    async with asyncio.timeout(self.timeout):
                        await remote.write(chunk, sent)
                    sent += len(chunk)
        except BaseException:
            with contextlib.suppress(Exception):  # the write's failure is the one to report
                async with asyncio.timeout(self.timeout):
                    await remote.close()
            raise
        # A server may report a write error only when the file is closed.
        async with asyncio.timeout(self.timeout):
            await remote.close()
        return sent

    async def put_bytes(self, name: str, data: bytes) -> None:
        """Write a small new file (exclusive create)."""
        async with asyncio.timeout(self.timeout):
            async with self.sftp.open(self.path(name), "xb") as remote:
                await remote.write(data, 0)

    async def read(self, name: str) -> AsyncGenerator[bytes, None]:
        """Stream a file's bytes."""
        async with asyncio.timeout(self.timeout):
            remote = await self.sftp.open(self.path(name), "rb")
        try:
            offset = 0
            while True:
                async with asyncio.timeout(self.timeout):
                    chunk = cast(bytes, await remote.read(CHUNK, offset))  # opened in binary mode
                if not chunk:
                    return
                offset += len(chunk)
                yield chunk
        finally:
            with contextlib.suppress(Exception):  # closing a file we only read cannot lose anything
                async with asyncio.timeout(self.timeout):
                    await remote.close()

    async def read_back(self, name: str) -> tuple[int, str]:
        """Size and SHA-256 of a file, computed here from its bytes."""
        digest, size = hashlib.sha256(), 0
        async with contextlib.aclosing(self.read(name)) as stream:
            async for chunk in stream:
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    async def sha256_on_server(self, name: str, size: int) -> str:
        """The SHA-256 of a file as the server's `sha256sum` computes it (no bytes travel back)."""
        command = f"sha256sum -b -- {shlex.quote(self.path(name))}"
        try:
            async with asyncio.timeout(self.timeout + size / HASHING_BYTES_PER_SECOND):
                result = await self.connection.run(command, check=False, stdin=asyncssh.DEVNULL)
        except asyncssh.ChannelOpenError as exc:
            if exc.code != asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED:
                raise
            result = None
            problem = f"the server does not allow commands ({reason_of(exc)})"
        if result is not None:
            output = result.stdout if isinstance(result.stdout, str) else ""
            found = SHA256SUM_OUTPUT.match(output)
            if result.exit_status == 0 and found:
                return found.group(1)
            errors = result.stderr if isinstance(result.stderr, str) else ""
            problem = f"exit status {result.exit_status}" + (f": {reason_of(Exception(errors))}" if errors else "")
        raise FatalError(
            f'{self.where}: verify = "sha256sum" but the server could not run sha256sum on {self.path(name)} '
            f"({problem}); allow the user {self.config.username} a shell with sha256sum, or set "
            f'verify = "read-back"'
        )

    async def link_no_replace(self, temp: str, final: str) -> bool:
        """Hard-link `temp` as `final`, which fails when `final` exists; False if the server cannot link."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.sftp.link(self.path(temp), self.path(final))
        except asyncssh.SFTPOpUnsupported:
            return False
        except asyncssh.SFTPError:
            # `final` appeared, or a file system without hard links (FAT, SMB): the caller looks and decides.
            return False
        return True

    async def rename(self, temp: str, final: str) -> None:
        """SFTP's own rename (not posix-rename@openssh.com): the protocol defines it to fail when `final` exists."""
        async with asyncio.timeout(self.timeout):
            await self.sftp.rename(self.path(temp), self.path(final))

    async def free_space(self) -> tuple[int | None, int | None]:
        """Free and total bytes of the folder's file system, where the server tells (statvfs@openssh.com)."""
        try:
            async with asyncio.timeout(self.timeout):
                vfs = await self.sftp.statvfs(self.config.folder)
        except asyncssh.SFTPOpUnsupported:
            return None, None
        return vfs.bavail * vfs.frsize, vfs.blocks * vfs.frsize


class SftpConnector:
    """Opens sessions to one target's server with its host key policy and credentials."""

    def __init__(self, target: str, config: SftpConfig, credentials: SftpCredentials) -> None:
        self.target = target
        self.config = config
        self.credentials = credentials
        self.where = f"storage target {target} (sftp://{config.host}:{config.port})"
        self.pin = parse_pin(config.host_key) if config.host_key else None

    @contextlib.asynccontextmanager
    async def session(self, doing: str) -> AsyncIterator[SftpSession]:
        """A logged-in session; any failure inside leaves as `StorageUnavailable` or `FatalError` naming `doing`."""
        config = self.config
        check = HostKeyCheck(self.target, config.host, config.port, self.pin, config.known_hosts_file)
        try:
            try:
                connection = await asyncssh.connect(
                    config.host,
                    config.port,
                    config=None,  # no ~/.ssh/config: the target's table is the whole truth
                    known_hosts=check.trusted_keys,
                    client_factory=client_factory(check),
                    username=self.credentials.username,
                    client_keys=[self.credentials.key] if self.credentials.key else None,
                    password=self.credentials.password,
                    agent_path=None,
                    connect_timeout=config.timeout_seconds,
                    login_timeout=config.timeout_seconds,
                )
            except asyncssh.HostKeyNotVerifiable:
                raise check.refusal() from None
            except FileNotFoundError as exc:
                if config.known_hosts_file is not None and exc.filename == str(config.known_hosts_file):
                    raise FatalError(
                        f"storage.{self.target}.known_hosts_file: {config.known_hosts_file} does not exist"
                    ) from None
                raise
            async with connection:
                async with asyncio.timeout(config.timeout_seconds):
                    sftp = await connection.start_sftp_client()
                async with sftp:
                    yield SftpSession(connection, sftp, config, self.where)
        except ArchivedError:
            raise
        except Exception as exc:
            raise classify(exc, self.where, doing, username=config.username) from exc
