"""The operator's own TUI settings: `~/.config/archived/tui.toml` (key remapping, theme, time zone).

Per user, not in the daemon's configuration: key bindings are a matter of taste and muscle memory, and the
daemon's file is root's. The file is optional; a broken one never stops the TUI — its problems are shown
as notifications and the defaults apply.

    [tui]
    theme = "textual-dark"     # any Textual theme
    timezone = "local"         # or "UTC", "Europe/Berlin", …

    [keys]
    # binding id = key, or several keys separated by commas ("archived tui --list-keys" shows every id)
    "job.cancel" = "k"
    "app.jobs" = "f3,3"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_VAR = "ARCHIVED_TUI_CONFIG"


def default_settings_path() -> Path:
    """$ARCHIVED_TUI_CONFIG, else $XDG_CONFIG_HOME/archived/tui.toml, else ~/.config/archived/tui.toml."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "archived" / "tui.toml"


@dataclass
class TuiSettings:
    """What the file says (or the defaults), and what was wrong with it."""

    keys: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    timezone: str = "local"
    path: Path | None = None
    problems: list[str] = field(default_factory=list)

    def tz(self) -> tzinfo | None:
        """The display time zone (None: the system's local zone)."""
        if self.timezone == "local":
            return None
        if self.timezone.upper() == "UTC":
            return UTC
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    def check_keys(self, known_ids: set[str]) -> None:
        """Record a problem for every remapped id that no binding has."""
        for binding_id in sorted(set(self.keys) - known_ids):
            self.problems.append(
                f"{self.path}: [keys] {binding_id!r} is not a binding id; "
                "run `archived tui --list-keys` for the ids (this entry is ignored)"
            )
            del self.keys[binding_id]


def load_tui_settings(path: Path | None = None) -> TuiSettings:
    """Read the settings file; a missing file gives the defaults, a broken one the defaults plus problems."""
    path = path or default_settings_path()
    settings = TuiSettings(path=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return settings
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        settings.problems.append(f"{path}: cannot read the TUI settings ({exc}); using the defaults")
        return settings
    for section in sorted(set(data) - {"tui", "keys"}):
        settings.problems.append(f"{path}: unknown section [{section}] (expected [tui] and [keys]); ignored")
    tui = data.get("tui", {})
    if not isinstance(tui, dict):
        tui = {}
    for key, value in tui.items():
        if key == "theme" and isinstance(value, str):
            settings.theme = value
        elif key == "timezone" and isinstance(value, str):
            settings.timezone = value
            if value != "local" and value.upper() != "UTC" and settings.tz() is None:
                settings.problems.append(f"{path}: [tui] timezone {value!r} is not a known time zone; using local")
                settings.timezone = "local"
        else:
            settings.problems.append(f"{path}: [tui] {key} = {value!r} is not a TUI setting (theme, timezone); ignored")
    keys = data.get("keys", {})
    if isinstance(keys, dict):
        for binding_id, key in keys.items():
            if isinstance(key, str) and key.strip():
                settings.keys[binding_id] = key.replace(" ", "")
            else:
                settings.problems.append(f'{path}: [keys] {binding_id} must be a key name such as "R" or "ctrl+r"')
    return settings
