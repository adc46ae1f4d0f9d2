"""What every screen is given: the link to the daemon, the clock, the display time zone, the page sizes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from archived_tui.link import DaemonLink


@dataclass(frozen=True)
class TuiContext:
    """Shared, read-only surroundings of the screens (passed in, so no screen reaches for the app)."""

    link: DaemonLink
    clock: Callable[[], float]
    tz: tzinfo | None
    page_size: int = 100
    log_page_size: int = 200
