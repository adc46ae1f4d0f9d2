"""Which daemon answers: its version, process and start time (for `hello` and `daemon.status`)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from archived import __version__


@dataclass(frozen=True)
class DaemonIdentity:
    """The running daemon as clients are told about it."""

    version: str = __version__
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)
