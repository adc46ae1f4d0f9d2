"""`Site`: the running simulated site as every endpoint sees it.

The app owns one and hands it to the endpoint handlers, so the endpoints depend on this small record instead of
on the app that routes to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from archived.simulator.data.world import World
from archived.simulator.faults import Faults
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.stats import RequestStats


@dataclass
class Site:
    """The seeded records, the release, the primary token, the fault knobs, the counters and the live settings."""

    world: World
    profile: ReleaseProfile
    token: str  # the archiver's token: the control API checks it, the counters record where it travelled
    faults: Faults
    stats: RequestStats
    debug: bool  # flipped by the control API or `MoodleSimulator.debug` while serving
    # Rebound once the server knows its port; URLs in answers are built from it.
    wwwroot: str = "http://127.0.0.1"
    # Mixed into fresh /login/token.php tokens so each new one differs.
    token_generation: int = 0
