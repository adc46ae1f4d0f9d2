"""A test-only storage driver: local-directory storage that can be slowed down or made to fail."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from archived.interfaces.storage import StorageUnavailable, StoredObject
from archived_local.storage import LocalDirectoryConfig, LocalDirectoryStorage


class SlowLocalConfig(LocalDirectoryConfig):
    """Local storage plus knobs."""

    pause_before_publish: float = 0.0  # seconds between the complete temp file and its rename into place
    pause_after_publish: float = 0.0  # seconds between the rename and the answer (the daemon's record)
    fail_file: str = ""  # while this file exists, every store fails with a recoverable error


class SlowLocalStorage(LocalDirectoryStorage):
    """Pauses inside each store, where a crash hurts most."""

    name = "slowlocal"
    config_model = SlowLocalConfig

    def _publish(self, temp: Path, final: Path) -> None:  # type: ignore[override]
        config = self.config
        assert isinstance(config, SlowLocalConfig)
        time.sleep(config.pause_before_publish)  # runs in the driver's worker thread
        LocalDirectoryStorage._publish(temp, final)
        time.sleep(config.pause_after_publish)

    async def store(
        self, source: Path, name: str, *, sha256: str, size: int, retain_until: datetime | None
    ) -> StoredObject:
        """Store slowly, or fail while the fail file exists."""
        config = self.config
        assert isinstance(config, SlowLocalConfig)
        if config.fail_file and Path(config.fail_file).exists():
            raise StorageUnavailable(f"storage target {self.target}: simulated outage")
        return await super().store(source, name, sha256=sha256, size=size, retain_until=retain_until)
