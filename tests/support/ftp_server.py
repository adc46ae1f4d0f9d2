"""A real FTP server on loopback for tests: pyftpdlib in its own thread, one user with a password, one folder.

Plain FTP, or explicit FTPS (AUTH TLS required on the control and the data connections) with a certificate from a
test CA (`tests/support/tls_certificates.py`). `gate` freezes uploads mid-way (see `tests/support/upload_gate.py`).

`ProxiedFtpServer` puts it behind loopback proxies (`tests/support/tcp_proxy.py`), one for the control connection
and one per passive data port, so a test can cut the data connection that carries an upload: the server listens
on 127.0.0.2, the proxies on the same port numbers on 127.0.0.1, and a client that connects to 127.0.0.1 finds its
EPSV data ports there.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from tests.support.tcp_proxy import TcpProxy
from tests.support.tls_certificates import TlsFiles
from tests.support.upload_gate import UploadGate

USERNAME = "archiver"
# A handler of its own keeps pyftpdlib from installing its stderr logging; it logs every command at INFO.
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())
logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


class _GatedFile:
    """A file opened for writing whose writes wait at the gate (blocking the server's one thread, on purpose)."""

    def __init__(self, handle: Any, gate: UploadGate) -> None:
        self._handle = handle
        self._gate = gate
        self._written = 0

    def write(self, data: bytes) -> int:
        while self._gate.must_wait(self._written + len(data)):
            time.sleep(0.02)
        self._written += len(data)
        return int(self._handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class FtpTestServer:
    """See the module docstring; use as a context manager or call `start()`/`stop()`."""

    def __init__(self, root: Path, *, tls: TlsFiles | None = None, address: str = "127.0.0.1",
                 passive_ports: list[int] | None = None, max_connections: int = 0) -> None:  # fmt: skip
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls = tls
        self.address = address
        self.passive_ports = passive_ports
        self.max_connections = max_connections  # 0: no limit; beyond it the server answers 421 (try later)
        self.username = USERNAME
        self.password = secrets.token_urlsafe(18)
        self.gate = UploadGate()
        self.port = 0
        self._server: FTPServer | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ftp-server", daemon=True)

    def __enter__(self) -> FtpTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_password_file(self, folder: Path) -> Path:
        """The password in a file only its owner may read."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "ftp-password"
        path.write_text(self.password + "\n")
        path.chmod(0o600)
        return path

    def start(self) -> None:
        """Listen on a free port of `address` (`self.port`)."""
        authorizer = DummyAuthorizer()
        authorizer.add_user(self.username, self.password, str(self.root), perm="elradfmwMT")
        gate = self.gate

        class GatedFS(AbstractedFS):
            def open(self, filename: str, mode: str) -> Any:
                handle = super().open(filename, mode)
                return _GatedFile(handle, gate) if any(m in mode for m in "wa") else handle

        # A class per server: pyftpdlib keeps settings (and the TLS context) on the handler class.
        attributes: dict[str, Any] = {"authorizer": authorizer, "abstracted_fs": GatedFS, "banner": "test FTP"}
        if self.passive_ports:
            attributes["passive_ports"] = self.passive_ports
        base: type[FTPHandler] = FTPHandler
        if self.tls is not None:
            base = TLS_FTPHandler
            attributes |= {
                "certfile": str(self.tls.cert_file),
                "keyfile": str(self.tls.key_file),
                "tls_control_required": True,
                "tls_data_required": True,
                "ssl_context": None,
            }
        handler = type("TestFtpHandler", (base,), attributes)
        # An IOLoop of its own: pyftpdlib's default is one per process, which two servers' threads would both run.
        self._server = FTPServer((self.address, 0), handler, ioloop=IOLoop())
        if self.max_connections:
            self._server.max_cons = self.max_connections
        self.port = self._server.address[1]
        self._thread.start()

    def _serve(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            self._server.ioloop.loop(0.05, blocking=False)  # serve_forever would log a start line each round
        self._server.close_all()

    def stop(self) -> None:
        """Release held uploads, close every connection and the listener."""
        self.gate.release()
        self._stopping.set()
        self._thread.join(10)


class ProxiedFtpServer:
    """An `FtpTestServer` on 127.0.0.2 reached through cuttable proxies on 127.0.0.1 (see the module docstring)."""

    def __init__(self, root: Path, *, tls: TlsFiles | None = None, data_ports: int = 4) -> None:
        self.data_proxies = [TcpProxy("127.0.0.2", 0) for _ in range(data_ports)]
        self.server = FtpTestServer(root, tls=tls, address="127.0.0.2")
        self.control: TcpProxy | None = None

    def __enter__(self) -> ProxiedFtpServer:
        for proxy in self.data_proxies:
            proxy.start()
            proxy.target = ("127.0.0.2", proxy.port)  # the server's passive port of the same number
        self.server.passive_ports = [proxy.port for proxy in self.data_proxies]
        self.server.start()
        self.control = TcpProxy("127.0.0.2", self.server.port)
        self.control.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        for proxy in [*self.data_proxies, *([self.control] if self.control else [])]:
            proxy.stop()

    @property
    def port(self) -> int:
        """Where clients connect (on 127.0.0.1)."""
        assert self.control is not None
        return self.control.port

    def cut_uploads_after(self, upstream_bytes: int) -> None:
        """New data connections are reset once `upstream_bytes` went from client to server."""
        for proxy in self.data_proxies:
            proxy.cut_after(upstream_bytes)

    def heal(self) -> None:
        """Data connections are no longer cut."""
        for proxy in self.data_proxies:
            proxy.heal()

    @property
    def cuts(self) -> int:
        """How many data connections were cut."""
        return sum(proxy.cuts for proxy in self.data_proxies)
