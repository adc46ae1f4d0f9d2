"""The parts of a running daemon, wired together once and handed to the socket methods."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from archived.config import Config
from archived.events.bus import EventBus
from archived.interfaces.activity import ActivityDriver
from archived.jobs.engine import Engine
from archived.store.jobs import JobStore
from archived.targets import StorageTarget


@dataclass
class DaemonServices:
    """Everything a socket method may use."""

    config: Config
    store: JobStore
    bus: EventBus
    engine: Engine
    drivers: dict[str, ActivityDriver]
    targets: dict[str, StorageTarget]
    moodle: Any = None  # archived.moodle.api.MoodleApi when [moodle] is configured
    overview: Any = None  # archived.overview.index.CourseIndex when [moodle] is configured
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)
