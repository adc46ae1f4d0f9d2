"""S3 servers for tests, on loopback: moto in server mode, a server that only answers one error, a corrupting proxy.

`S3Server` runs moto's HTTP server in a thread of the test process (so a daemon child process reaches it too) and
makes buckets with or without Object Lock; `client()` is a plain boto3 client for the tests' own checks.
`driver_factory` makes drivers on it, `archive` a test archive.
`ErrorServer` answers every request with one S3 error (503 SlowDown, 403 AccessDenied …), for what moto cannot be
made to do. `CorruptingProxy` forwards connections and flips one byte of each request that reaches `offset`
bytes: a network (or a server) that alters an upload, which moto itself never notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.server
import random
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from archived.interfaces.storage import Tier
from archived_s3.config import S3Config
from archived_s3.storage import S3Storage

ACCESS_KEY_ID = "AKIATESTARCHIVED0001"
SECRET_KEY = "s3cr3t-Archived-Test-Key-0123456789abcdef"  # searched for in every error and log line
MIB = 1024 * 1024
SMALL, LARGE = 100_000, 12 * MIB + 7  # one PUT; a multipart upload of three 5 MiB parts

MakeDriver = Callable[..., S3Storage]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_credentials(path: Path, *, profile: str = "default", secret: str = SECRET_KEY) -> Path:
    """An AWS-style credentials file readable by its owner only."""
    path.write_text(f"[{profile}]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {secret}\n")
    path.chmod(0o600)
    return path


class S3Server:
    """moto's S3 on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self) -> S3Server:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    @property
    def endpoint_url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        """A boto3 client for the tests' own reads and writes."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def bucket(self, *, object_lock: bool = False, default_retention: dict[str, Any] | None = None) -> str:
        """A new bucket (Object Lock implies versioning); `default_retention` e.g. {"Mode": "GOVERNANCE", "Days": 1}."""
        name = f"test-{uuid.uuid4().hex[:16]}"
        client = self.client()
        client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        if default_retention:
            client.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": default_retention},
                },
            )
        return name

    def uploads(self, bucket: str) -> list[dict[str, Any]]:
        """Unfinished multipart uploads in `bucket`."""
        return list(self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))

    def keys(self, bucket: str) -> list[str]:
        """Every key that has a version in `bucket` (delete markers excluded)."""
        versions = self.client().list_object_versions(Bucket=bucket).get("Versions", [])
        return sorted({v["Key"] for v in versions})


class ErrorServer:
    """An HTTP server that answers every request with one S3 error document."""

    def __init__(self, status: int, code: str, message: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
            "<RequestId>test</RequestId></Error>"
        ).encode()
        self.requests = 0

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body) if self.command != "HEAD" else 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ErrorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class CorruptingProxy:
    """Forwards loopback connections to a server, flipping the byte at `offset` of each request stream that long.

    Only the first `times` long enough connections are altered; `altered` counts them.
    """

    def __init__(self, port: int, *, offset: int, times: int = 1) -> None:
        self.target_port = port
        self.offset = offset
        self.times = times
        self.altered = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def __enter__(self) -> CorruptingProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
            seen = 0
            try:
                while data := await reader.read(65536):
                    if upstream and seen <= self.offset < seen + len(data) and self.altered < self.times:
                        self.altered += 1
                        at = self.offset - seen
                        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
                    seen += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        await asyncio.gather(pump(client_reader, server_writer, True), pump(server_reader, client_writer, False))


@contextlib.asynccontextmanager
async def driver_factory(server: S3Server, folder: Path) -> AsyncIterator[MakeDriver]:
    """`make(bucket, **options)`: S3 drivers (target "worm", prefix "moodle/", 5 MiB parts) on `server`, closed at
    the end."""
    drivers: list[S3Storage] = []
    credentials = write_credentials(folder / "credentials")

    def make(bucket: str, **options: Any) -> S3Storage:
        settings = {
            "endpoint_url": server.endpoint_url,
            "bucket": bucket,
            "prefix": "moodle/",
            "addressing_style": "path",
            "credentials_file": credentials,
            "part_size_mib": 5,
            **options,
        }
        driver = S3Storage("worm", S3Config.model_validate(settings), Tier.REMOTE_SLOW)
        drivers.append(driver)
        return driver

    try:
        yield make
    finally:
        for driver in drivers:
            await driver.close()


def archive(folder: Path, size: int, seed: str = "a") -> tuple[Path, str, int]:
    """A file of `size` deterministic random bytes: (path, SHA-256, size)."""
    data = random.Random(seed).randbytes(size)
    path = folder / f"{seed}-{size}.zip"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest(), size
