"""The storage targets' status checks for `storage.status`: run now, or the last result of each target."""

from __future__ import annotations

import asyncio
import time

from archived.interfaces.storage import StorageStatus
from archived.protocol.base import wire_time
from archived.protocol.storage import TargetStatus
from archived.targets import StorageTarget

PROBE_TIMEOUT_SECONDS = 30.0


class TargetProbes:
    """Runs targets' write/read/delete probes and remembers each target's last result."""

    def __init__(self, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._last: dict[str, TargetStatus] = {}

    async def status(self, target: StorageTarget, *, probe: bool, archives: int, stored_bytes: int) -> TargetStatus:
        """The target with its probe: run now with `probe` (or when it never ran), else the last result."""
        probed = self._last.get(target.name)
        if probe or probed is None:
            probed = await self._probe(target)
            self._last[target.name] = probed
        return probed.model_copy(update={"archives": archives, "bytes": stored_bytes})

    async def _probe(self, target: StorageTarget) -> TargetStatus:
        status: StorageStatus
        try:
            status = await asyncio.wait_for(target.driver.status(), self.timeout)
        except Exception as exc:  # a target that hangs or breaks is reported, not fatal to the call
            status = StorageStatus(reachable=False, probe_ok=False, message=f"status check failed: {exc}")
        return TargetStatus(
            name=target.name,
            driver=target.driver_name,
            tier=target.tier.value,
            required=target.required,
            reachable=status.reachable,
            latency_ms=status.latency_ms,
            free_bytes=status.free_bytes,
            total_bytes=status.total_bytes,
            probe_ok=status.probe_ok,
            message=status.message,
            checked_at=wire_time(time.time()),
        )
