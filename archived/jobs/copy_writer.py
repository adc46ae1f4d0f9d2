"""Writing one copy of an archive to one storage target: never over another archive, verified by the driver and
checked again against what the store recorded. Used by the store stage and by the catch-up of pending copies."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from archived.errors import IntegrityError
from archived.interfaces.activity import LogLevel
from archived.interfaces.storage import StorageConflict
from archived.jobs.recorder import JobRecorder
from archived.store.records import StoredLocation
from archived.targets import StorageTarget


async def write_copy(
    target: StorageTarget,
    source: Path,
    name: str,
    *,
    sha256: str,
    size: int,
    retain_until: datetime | None,
    job_id: str,
    recorder: JobRecorder,
) -> StoredLocation:
    """Store `source` on `target` as `name` and return the verified copy's location."""
    driver = target.driver
    try:
        obj = await driver.store(source, name, sha256=sha256, size=size, retain_until=retain_until)
    except StorageConflict:
        # Another archive already has this name (same activity, same second): never overwrite, rename ours.
        alternative = f"{Path(name).stem}_{job_id[:8]}{Path(name).suffix}"
        await recorder.log(job_id, LogLevel.WARNING, f"{target.name}: {name} exists; storing as {alternative}")
        obj = await driver.store(source, alternative, sha256=sha256, size=size, retain_until=retain_until)
    if (obj.size, obj.sha256) != (size, sha256):
        raise IntegrityError(f"{target.name} confirmed {obj.size} bytes sha256 {obj.sha256[:12]}… for {name}")
    return StoredLocation(target.name, obj.location, obj.size, obj.sha256, time.time())
