"""The command driver: runs a configured program (an argv list, never a shell) with the event's JSON on stdin.

Exit status 0 is delivered; any other status, or running past the connector's timeout (the program and its
children are killed), is tried again. The program gets a small environment of its own (the daemon's may hold the
Moodle token): PATH, LANG, the event's id and kind, and what `env` adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from pydantic import Field

from archived.config import ConnectorConfig
from archived.connectors.options import DriverOptions, driver_options
from archived.connectors.transport import Delivery, DeliveryFailed

KILL_GRACE_SECONDS = 5.0  # after SIGTERM at the timeout, before SIGKILL


class CommandOptions(DriverOptions):
    """The command driver's keys."""

    argv: list[str] = Field(min_length=1)  # the program and its arguments
    workdir: Path | None = None
    env: dict[str, str] = Field(default_factory=dict)
    output_limit: int = Field(default=4000, ge=0)  # characters of stdout and stderr kept in the delivery record


class CommandTransport:
    """Runs one program per event."""

    def __init__(self, name: str, config: ConnectorConfig) -> None:
        self.options = driver_options(CommandOptions, name, config)
        self.timeout = config.timeout_seconds

    @property
    def secrets(self) -> list[str]:
        """A command connector holds none."""
        return []

    def describe(self) -> str:
        """The program."""
        return self.options.argv[0]

    def template_names(self) -> frozenset[str]:
        """A command gets the event's JSON, no template."""
        return frozenset()

    def environment(self, delivery: Delivery) -> dict[str, str]:
        """What the program sees in its environment."""
        env = {key: os.environ[key] for key in ("PATH", "LANG", "TZ") if key in os.environ}
        env.update(ARCHIVED_EVENT_ID=str(delivery.body.id), ARCHIVED_EVENT_KIND=delivery.body.kind)
        env.update(self.options.env)
        return env

    async def send(self, delivery: Delivery) -> str:
        """Run the program with the event on stdin; its exit status decides."""
        options = self.options
        try:
            process = await asyncio.create_subprocess_exec(
                *options.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, cwd=options.workdir, env=self.environment(delivery),
                start_new_session=True,  # its own process group: a timeout kills the children too
            )  # fmt: skip
        except OSError as exc:
            raise DeliveryFailed(f"cannot run {options.argv[0]}: {exc}") from None
        try:
            async with asyncio.timeout(self.timeout):
                _, stdout, stderr, _ = await asyncio.gather(
                    self._feed(process, delivery.body.to_json().encode("utf-8")),
                    self._collect(process.stdout), self._collect(process.stderr), process.wait(),
                )  # fmt: skip
        except TimeoutError:
            await self._kill(process)
            raise DeliveryFailed(f"{options.argv[0]} ran longer than {self.timeout} s and was killed") from None
        except BaseException:
            await self._kill(process)  # cancelled (the daemon stops): leave no program behind
            raise
        output = "\n".join(part for part in (self._shown("stdout", *stdout), self._shown("stderr", *stderr)) if part)
        if process.returncode != 0:
            raise DeliveryFailed(f"{options.argv[0]} exited with status {process.returncode}", output=output)
        return output

    @staticmethod
    async def _feed(process: asyncio.subprocess.Process, data: bytes) -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(data)
            await process.stdin.drain()
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the program did not read the event: its exit status says whether that is fine

    async def _collect(self, stream: asyncio.StreamReader | None) -> tuple[bytes, int]:
        """The start of a stream (as much as is kept) and its whole length: a chatty program never fills memory."""
        assert stream is not None
        keep = 4 * self.options.output_limit  # a UTF-8 character takes at most four bytes
        kept, total = bytearray(), 0
        while chunk := await stream.read(65536):
            total += len(chunk)
            kept += chunk[: max(0, keep - len(kept))]
        return bytes(kept), total

    def _shown(self, name: str, kept: bytes, total: int) -> str:
        limit = self.options.output_limit
        text = kept.decode("utf-8", "replace").strip()
        if not text:
            return ""
        if total > len(kept) or len(text) > limit:
            return f"{name}: {text[:limit]}… ({total} bytes in all)"
        return f"{name}: {text}"

    @staticmethod
    async def _kill(process: asyncio.subprocess.Process) -> None:
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(KILL_GRACE_SECONDS):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def close(self) -> None:
        """Nothing stays open between events."""
