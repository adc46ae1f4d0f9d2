"""One target's S3 client: created on first use, configured from the target's table, every request translated.

The client takes its settings only from the target's table: the credentials passed in, no `~/.aws/config` or
shared credentials file of the daemon's user. botocore's own debug lines carry request headers (a session token
among them), so its loggers are kept at WARNING whatever the daemon's log level.

Checksums: botocore is told to add checksums only where an operation requires one, because the driver sends its
own SHA-256 of every part as a plain header (never botocore's default CRC32 as an `aws-chunked` trailer, which
many S3-compatible servers reject).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from archived_s3.config import S3Config
from archived_s3.credentials import S3Credentials
from archived_s3.errors import Context, translate

CHUNK = 1024 * 1024


def version_of(answer: dict[str, Any]) -> dict[str, str]:
    """`{"VersionId": …}` of an answer that names an object version; empty on an unversioned bucket ("null")."""
    version = answer.get("VersionId")
    return {"VersionId": str(version)} if version and version != "null" else {}


def quiet_botocore() -> None:
    """Keep botocore's request dumps (headers, bodies) out of the daemon's log."""
    for name in ("botocore", "aiobotocore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


class S3Connection:
    """The client of one target's bucket; `call` names the target and hides secrets in every error."""

    def __init__(self, target: str, config: S3Config, credentials: S3Credentials) -> None:
        self.config = config
        self.bucket = config.bucket
        self.credentials = credentials
        endpoint = config.endpoint_url or f"AWS S3 in {config.region}"
        self.context = Context(target, config.bucket, endpoint, credentials.source, tuple(credentials.secrets()))
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._stack = contextlib.AsyncExitStack()
        quiet_botocore()

    def __repr__(self) -> str:
        return f"S3Connection(target={self.context.target!r}, bucket={self.bucket!r})"

    async def _get(self) -> Any:
        async with self._lock:
            if self._client is None:
                self._client = await self._create()
        return self._client

    async def _create(self) -> Any:
        config = self.config
        session = AioSession()
        # The target's table is the only source of settings: not the daemon user's ~/.aws files.
        session.set_config_variable("config_file", os.devnull)
        session.set_config_variable("credentials_file", os.devnull)
        client_config = AioConfig(
            region_name=config.region,
            signature_version="s3v4",
            s3={"addressing_style": config.addressing_style},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=config.connect_timeout_seconds,
            read_timeout=config.read_timeout_seconds,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=10,
        )
        verify: bool | str = str(config.ca_file) if config.ca_file and config.verify_tls else config.verify_tls
        return await self._stack.enter_async_context(
            session.create_client(
                "s3",
                endpoint_url=config.endpoint_url,
                region_name=config.region,
                aws_access_key_id=self.credentials.access_key_id,
                aws_secret_access_key=self.credentials.secret_access_key,
                aws_session_token=self.credentials.session_token,
                verify=verify,
                config=client_config,
            )
        )

    async def call(self, operation: str, doing: str, **params: Any) -> dict[str, Any]:
        """Run one S3 operation on the bucket; failures become `S3Unavailable` or `S3Refused` (see errors.py)."""
        client = await self._get()
        try:
            answer: dict[str, Any] = await getattr(client, operation)(Bucket=self.bucket, **params)
            return answer
        except Exception as exc:
            failure = translate(exc, self.context, doing)
            if failure is None:
                raise
        # Raised here, outside the handler, so that the botocore exception is not its __context__.
        raise failure

    async def stream(self, body: Any, doing: str) -> AsyncIterator[bytes]:
        """The chunks of a GET answer's body; a broken stream becomes `S3Unavailable`."""
        try:
            while chunk := await self._read(body, doing):
                yield chunk
        finally:
            body.close()

    async def _read(self, body: Any, doing: str) -> bytes:
        try:
            chunk: bytes = await body.read(CHUNK)
            return chunk
        except Exception as exc:
            failure = translate(exc, self.context, doing)
            if failure is None:
                raise
        raise failure

    async def close(self) -> None:
        """Close the client's connections."""
        client, self._client = self._client, None
        if client is not None:
            await self._stack.aclose()
            self._stack = contextlib.AsyncExitStack()
