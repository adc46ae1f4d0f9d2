"""Write the SVG screenshots in docs/screenshots/ from the recorded state (the same one the snapshots use).

.venv/bin/python -m tests.tui.screenshots            # writes docs/screenshots/*.svg
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from tests.tui.test_snapshots import open_detail, recorded_app, show

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "screenshots"
SIZE = (120, 36)

SHOTS: dict[str, tuple[str, Callable[[Pilot[None]], Awaitable[None]]]] = {
    "dashboard": ("dashboard", show),
    "courses": ("courses", show),
    "jobs": ("jobs", show),
    "job-detail": ("jobs", lambda pilot: open_detail(pilot, "a")),
    "jobs-retry-all": ("jobs", lambda pilot: show(pilot, "f", "f", "R")),  # failed jobs, then "retry all"
    "storage": ("storage", show),
}


async def shoot(name: str, mode: str, prepare: Callable[[Pilot[None]], Awaitable[None]]) -> Path:
    """Run the app on the recorded state, prepare the view, save the SVG."""
    app = recorded_app(mode)
    app.title = f"archived tui — {name.replace('-', ' ')}"
    async with app.run_test(size=SIZE) as pilot:
        await prepare(pilot)
        await pilot.pause(0.2)
        return Path(app.save_screenshot(f"{name}.svg", str(OUT)))


async def main() -> None:
    """Every screenshot."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (mode, prepare) in SHOTS.items():
        print(await shoot(name, mode, prepare))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    asyncio.run(main())
