"""TUI test helpers: an app on a real daemon, waiting for what the screen shows, blocking socket calls."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from archived_tui.app import ArchivedApp
from archived_tui.settings_file import TuiSettings
from tests.tui.rendered import screen_text

# Short delays keep the tests fast; the link's logic is the same as with the defaults.
FAST_RECONNECT = (0.1, 0.2, 0.4)


def make_app(socket_path: Path, **options: Any) -> ArchivedApp:
    """The TUI on a socket, with the user's own settings file left out."""
    options.setdefault("settings", TuiSettings())
    options.setdefault("reconnect_delays", FAST_RECONNECT)
    options.setdefault("flush_interval", 0.05)
    return ArchivedApp(socket_path, **options)


async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Let the app run until `condition()` is true; fail with the screen's text if it never is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


def notifications(app: App[Any]) -> list[str]:
    """The texts of the notifications the app has shown (Textual keeps them on the app)."""
    return [n.message for n in app._notifications]


def blocking_call(socket_path: Path, method: str, params: dict[str, Any]) -> Any:
    """One socket call without the event loop (for moments when the TUI must not run in between)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(socket_path))
        stream = sock.makefile("rwb")
        for request_id, (name, args) in enumerate([("hello", {"protocol": 1}), (method, params)], start=1):
            line = {"jsonrpc": "2.0", "id": request_id, "method": name, "params": args}
            stream.write(json.dumps(line).encode() + b"\n")
            stream.flush()
            answer = json.loads(stream.readline())
        assert "result" in answer, answer
        return answer["result"]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the app has connected and every fetch has finished (the link itself runs forever)."""
    app = pilot.app
    await until(pilot, lambda: app.link.state.connected, "the connection")  # type: ignore[attr-defined]

    def idle() -> bool:
        return all(w.is_finished for w in app.workers if w.name != "daemon-link" and w.group != "action")

    await pilot.pause(0.1)
    await until(pilot, idle, "the fetches to finish")
    await pilot.pause(0.1)
