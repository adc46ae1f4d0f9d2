"""A test-only storage driver: local-directory storage that can be slowed down or made to fail."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from archived.drivers.storage.base import StorageUnavailable, StoredObject
from archived.drivers.storage.local import LocalDirectoryConfig, LocalDirectoryStorage


class SlowLocalConfig(LocalDirectoryConfig):
    """Local storage plus knobs."""

    delay_seconds: float = 0.0
    fail_file: str = ""  # while this file exists, every store fails with a recoverable error


class SlowLocalStorage(LocalDirectoryStorage):
    """Waits `delay_seconds` in the middle of each store (after the bytes are written, before the rename)."""

    name = "slowlocal"
    config_model = SlowLocalConfig

    async def store(
        self, source: Path, name: str, *, sha256: str, size: int, retain_until: datetime | None
    ) -> StoredObject:
        """Store slowly, or fail while the fail file exists."""
        config = self.config
        assert isinstance(config, SlowLocalConfig)
        if config.fail_file and Path(config.fail_file).exists():
            raise StorageUnavailable(f"storage target {self.target}: simulated outage")
        await asyncio.sleep(config.delay_seconds)
        return await super().store(source, name, sha256=sha256, size=size, retain_until=retain_until)
