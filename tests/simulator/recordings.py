"""Loading and replaying the recorded Moodle fixtures against the simulator, and comparing structures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.fixtures import FIXTURES

RECORDED_HOST = "http://moodle.example"
FAKE_TOKEN = "0123456789abcdef0123456789abcdef"

# Files recorded while `moodle/course:managefiles` was granted for a moment (fixtures README).
MANAGEFILES = {"35", "36"}


@dataclass(frozen=True)
class Recording:
    """One recorded request/response pair."""

    release: str
    path: Path
    data: dict[str, Any]

    @property
    def number(self) -> str:
        """The two-digit file number."""
        return self.path.name[:2]

    @property
    def debug(self) -> bool:
        """Recorded with debugging on (DEBUG_NORMAL or more)."""
        return "-debug" in self.path.name

    @property
    def is_pluginfile(self) -> bool:
        """A GET on /webservice/pluginfile.php."""
        return "pluginfile" in self.path.name

    def __str__(self) -> str:
        return f"{self.release}/{self.path.name}"


def recordings(release: str) -> list[Recording]:
    """Every recorded JSON file of one release, in file order."""
    folder = FIXTURES / f"moodle-{release}"
    return [Recording(release, path, json.loads(path.read_text())) for path in sorted(folder.glob("[0-9][0-9]-*.json"))]


def replay(recording: Recording, url: str, token: str, client: httpx.Client) -> httpx.Response:
    """Send the recorded request to the simulator (token and host replaced)."""
    request = recording.data["request"]
    if recording.is_pluginfile:
        recorded = urlsplit(request["url"])
        target = f"{url}{recorded.path}?{recorded.query.replace('<TOKEN>', token)}"
        return client.get(target)
    body = request["body"].replace("<TOKEN>", token)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return client.post(f"{url}/webservice/rest/server.php", content=body.encode(), headers=headers)


def type_name(value: Any) -> str:
    """JSON type; numbers are one type because PHP prints whole floats without `.0`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def structure_differences(recorded: Any, simulated: Any, path: str = "$") -> list[str]:
    """Differences in keys, key order, types and nesting (lists element-wise when lengths match)."""
    problems: list[str] = []
    if type_name(recorded) != type_name(simulated):
        return [f"{path}: recorded {type_name(recorded)}, simulated {type_name(simulated)}"]
    if isinstance(recorded, dict):
        if list(recorded) != list(simulated):
            problems.append(f"{path}: keys {list(recorded)} != {list(simulated)}")
        for key in recorded:
            if key in simulated:
                problems += structure_differences(recorded[key], simulated[key], f"{path}.{key}")
    elif isinstance(recorded, list):
        if len(recorded) == len(simulated):
            for index, (left, right) in enumerate(zip(recorded, simulated, strict=True)):
                problems += structure_differences(left, right, f"{path}[{index}]")
        elif recorded and simulated:
            problems += structure_differences(recorded[0], simulated[0], f"{path}[0]")
        elif recorded and not simulated:
            problems.append(f"{path}: recorded {len(recorded)} items, simulated none")
    return problems
