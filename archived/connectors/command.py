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
from archived.connectors.transport import Delivery, DeliveryFailed, truncate

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
                stdout, stderr = await process.communicate(delivery.body.to_json().encode("utf-8"))
        except TimeoutError:
            await self._kill(process)
            raise DeliveryFailed(f"{options.argv[0]} ran longer than {self.timeout} s and was killed") from None
        except BaseException:
            await self._kill(process)  # cancelled (the daemon stops): leave no program behind
            raise
        output = self._output(stdout, stderr)
        if process.returncode != 0:
            raise DeliveryFailed(f"{options.argv[0]} exited with status {process.returncode}", output=output)
        return output

    def _output(self, stdout: bytes, stderr: bytes) -> str:
        limit = self.options.output_limit
        parts = []
        if stdout.strip():
            parts.append("stdout: " + truncate(stdout.decode("utf-8", "replace").strip(), limit))
        if stderr.strip():
            parts.append("stderr: " + truncate(stderr.decode("utf-8", "replace").strip(), limit))
        return "\n".join(parts)

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
