"""One setting in the new-job dialog: its editor, preset value, description and lock."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Switch

from archived.protocol.drivers import SettingDescription
from archived_tui.safe_text import literal, visible
from archived_tui.widgets.safe_static import SafeStatic


class InvalidValue(ValueError):
    """What the user typed is not a value of the setting's type."""


class SettingField(Vertical):
    """A labelled editor for one setting; locked settings are shown but cannot be changed."""

    def __init__(self, setting: SettingDescription) -> None:
        super().__init__(classes="setting")
        self.setting = setting
        self.set_class(setting.locked, "-locked")

    def compose(self) -> ComposeResult:
        """Label, editor, description."""
        setting = self.setting
        with Horizontal(classes="setting-row"):
            yield Label(Content.from_markup("[b]$key[/b]", key=visible(setting.key)), classes="setting-key")
            yield self._editor()
        note = setting.description
        if setting.locked:
            by = f" of {setting.locked_by}" if setting.locked_by and setting.locked_by != "site" else ""
            note = f"Locked by the preset{by} (the daemon enforces it). {note}".strip()
        elif setting.value != setting.default:
            note = f"{note} (preset; default {_show(setting.default)})".strip()
        yield SafeStatic(note, classes="setting-description")  # descriptions and defaults come from the daemon

    def _editor(self) -> Widget:
        setting = self.setting
        editor_id = f"setting-{setting.key}"
        if setting.type == "bool":
            return Switch(bool(setting.value), disabled=setting.locked, id=editor_id)
        if setting.type == "choice" and setting.choices:
            return Select(
                [(literal(str(c)), c) for c in setting.choices],
                value=setting.value if setting.value in setting.choices else setting.choices[0],
                allow_blank=False,
                disabled=setting.locked,
                compact=True,
                id=editor_id,
            )
        input_type = {"int": "integer", "float": "number"}.get(setting.type, "text")
        return Input(
            _show(setting.value),
            type=input_type,  # type: ignore[arg-type]
            disabled=setting.locked,
            compact=True,
            id=editor_id,
        )

    def value(self) -> Any:
        """The value in the editor, typed; raises `InvalidValue` with a message naming the setting."""
        setting = self.setting
        editor = self.query_one(f"#setting-{setting.key}")
        if isinstance(editor, Switch):
            return editor.value
        if isinstance(editor, Select):
            return editor.value
        assert isinstance(editor, Input)
        raw = editor.value.strip()
        try:
            if setting.type == "int":
                return int(raw)
            if setting.type == "float":
                return float(raw)
            if setting.type == "list":
                return _parse_list(raw)
        except ValueError:
            raise InvalidValue(f"{setting.key}: {raw!r} is not a valid {setting.type}") from None
        return editor.value

    @property
    def changed(self) -> bool:
        """Whether the user changed an unlocked setting away from its preset value."""
        if self.setting.locked:
            return False
        try:
            return bool(self.value() != self.setting.value)
        except InvalidValue:
            return True  # an invalid value is a change; `value()` reports it on submit


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _parse_list(raw: str) -> list[Any]:
    """A list typed as `a, b` (or as JSON `["a", "b"]`)."""
    if raw.startswith("["):
        value = json.loads(raw)
        if not isinstance(value, list):
            raise ValueError("not a list")
        return value
    return [part.strip() for part in raw.split(",") if part.strip()]
