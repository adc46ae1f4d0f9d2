"""A real SFTP server on loopback for tests: asyncssh in its own thread, serving one folder as its root.

A generated ed25519 host key; one user who may log in with a generated key or a password; the SFTP subsystem
chrooted to the folder; an exec channel that runs the real `sha256sum` inside that folder (the only command it
knows), so drivers can verify on the server. Behaviours of other servers can be switched on: no hard links
(`hard_links=False`), a rename that replaces an existing file (`rename_replaces=True`), no commands
(`commands=False`). `gate` freezes uploads mid-way (see `tests/support/upload_gate.py`).

It runs its own event loop in a thread, so it serves a daemon child process and async or sync tests alike.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from tests.support.upload_gate import UploadGate

USERNAME = "archiver"


@dataclass(frozen=True)
class ClientFiles:
    """What a client needs, as files readable only by their owner: the private key, the password, known_hosts."""

    key_file: Path
    password_file: Path
    known_hosts_file: Path


class SftpTestServer:
    """See the module docstring; use as a context manager or call `start()`/`stop()`."""

    def __init__(self, root: Path, *, hard_links: bool = True, rename_replaces: bool = False,
                 commands: bool = True) -> None:  # fmt: skip
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.hard_links = hard_links
        self.rename_replaces = rename_replaces
        self.commands = commands
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.username = USERNAME
        self.password = secrets.token_urlsafe(18)
        self.gate = UploadGate()
        self.port = 0
        self.logins: list[str] = []  # the method of every successful login ("publickey", "password")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sftp-server", daemon=True)
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()

    def __enter__(self) -> SftpTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def fingerprint(self) -> str:
        """The host key's SHA256 fingerprint, as `ssh-keygen -lf` prints it."""
        return str(self.host_key.get_fingerprint("sha256"))

    @property
    def public_host_key(self) -> str:
        """The host key as a public key line (`ssh-ed25519 AAAA…`)."""
        return self.host_key.export_public_key().decode().strip()

    def write_client_files(self, folder: Path, *, passphrase: str | None = None) -> ClientFiles:
        """The client key (encrypted with `passphrase` if given), the password and a known_hosts line, mode 0600."""
        folder.mkdir(parents=True, exist_ok=True)
        files = ClientFiles(folder / "id_ed25519", folder / "password", folder / "known_hosts")
        if passphrase is None:
            files.key_file.write_bytes(self.client_key.export_private_key())
        else:
            files.key_file.write_bytes(self.client_key.export_private_key(passphrase=passphrase))
        files.password_file.write_text(self.password + "\n")
        files.known_hosts_file.write_text(f"[127.0.0.1]:{self.port} {self.public_host_key}\n")
        for path in (files.key_file, files.password_file, files.known_hosts_file):
            path.chmod(0o600)
        return files

    def start(self) -> None:
        """Listen on a free loopback port (`self.port`)."""
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        self.port = self._acceptor.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close every connection and the listener (once; later calls do nothing)."""
        if not self._thread.is_alive():
            return

        async def close() -> None:
            for connection in list(self._connections):
                connection.close()
            if self._acceptor is not None:
                self._acceptor.close()
                await self._acceptor.wait_closed()

        self.gate.release()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def drop_connections(self) -> None:
        """Close every open connection at once (a server restart, as the client sees it)."""

        async def close() -> None:
            for connection in list(self._connections):
                connection.abort()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(
            lambda: _Server(self),
            "127.0.0.1",
            0,
            server_host_keys=[self.host_key],
            sftp_factory=lambda channel: _GatedSftp(channel, self),
            process_factory=self._run_command,
            allow_scp=False,
        )

    async def _run_command(self, process: asyncssh.SSHServerProcess) -> None:
        argv = shlex.split(process.command or "")
        if not self.commands or not argv or argv[0] != "sha256sum":
            process.stderr.write(f"{argv[0] if argv else 'sh'}: command not found\n")
            process.exit(127)
            return
        # Absolute paths are inside the chroot, as for the SFTP subsystem.
        args = [str(self.root / a.lstrip("/")) if a.startswith("/") else a for a in argv[1:]]
        child = await asyncio.create_subprocess_exec(
            "sha256sum", *args, cwd=self.root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await child.communicate()
        process.stdout.write(out.decode(errors="replace"))
        process.stderr.write(err.decode(errors="replace"))
        process.exit(child.returncode or 0)


class _Server(asyncssh.SSHServer):
    def __init__(self, owner: SftpTestServer) -> None:
        self.owner = owner
        self.connection: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.connection = conn
        self.owner._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.connection is not None:
            self.owner._connections.discard(self.connection)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = username == self.owner.username and secrets.compare_digest(password, self.owner.password)
        if ok:
            self.owner.logins.append("password")
        return ok

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        ok = username == self.owner.username and key.public_data == self.owner.client_key.public_data
        if ok:
            self.owner.logins.append("publickey")
        return ok


class _GatedSftp(asyncssh.SFTPServer):
    """The stock SFTP server, chrooted, with the switchable behaviours and the upload gate."""

    def __init__(self, channel: asyncssh.SSHServerChannel, owner: SftpTestServer) -> None:
        super().__init__(channel, chroot=os.fsencode(owner.root))
        self.owner = owner

    def write(self, file_obj: object, offset: int, data: bytes):  # type: ignore[no-untyped-def]
        if self.owner.gate.must_wait(offset + len(data)):
            return self._held_write(file_obj, offset, data)
        return super().write(file_obj, offset, data)

    async def _held_write(self, file_obj: object, offset: int, data: bytes) -> int:
        while self.owner.gate.must_wait(offset + len(data)):  # noqa: ASYNC110 - the test thread releases it
            await asyncio.sleep(0.02)
        return super().write(file_obj, offset, data)  # type: ignore[return-value]

    def link(self, oldpath: bytes, newpath: bytes):  # type: ignore[no-untyped-def]
        if not self.owner.hard_links:
            raise asyncssh.SFTPOpUnsupported("hard links are not supported")
        return super().link(oldpath, newpath)

    def rename(self, oldpath: bytes, newpath: bytes):  # type: ignore[no-untyped-def]
        if self.owner.rename_replaces:
            return super().posix_rename(oldpath, newpath)
        return super().rename(oldpath, newpath)
