"""Job settings: presets, locks forced on the server side, and errors that name the setting."""

from __future__ import annotations

import pytest
from archived_testplugins.slow_driver import SlowTestSettings

from archived.errors import ConfigError
from archived.jobs.settings import (
    InvalidSetting,
    JobSettings,
    Preset,
    describe,
    resolve,
    split_request,
)


def test_request_overrides_preset_which_overrides_default() -> None:
    preset = Preset.from_config("slowtest", {"files": 7, "flavour": "site"}, SlowTestSettings)
    resolved = resolve(SlowTestSettings, preset, {"flavour": "mine"})
    assert resolved.values["files"] == 7
    assert resolved.values["flavour"] == "mine"
    assert resolved.values["file_size"] == 2048
    assert resolved.forced == []


def test_locked_value_is_forced_whoever_asks() -> None:
    preset = Preset.from_config("slowtest", {"flavour": "site", "locked": ["flavour"]}, SlowTestSettings)
    resolved = resolve(SlowTestSettings, preset, {"flavour": "mine"})
    assert resolved.values["flavour"] == "site"
    assert resolved.forced == ["flavour"]


def test_lock_without_preset_value_locks_the_default() -> None:
    preset = Preset.from_config("slowtest", {"locked": ["files"]}, SlowTestSettings)
    assert resolve(SlowTestSettings, preset, {"files": 99}).values["files"] == 3


def test_retention_is_locked_by_default() -> None:
    preset = Preset.from_config("job", None, JobSettings)
    resolved = resolve(JobSettings, preset, {"retention_years": 1})
    assert resolved.values["retention_years"] == 3
    assert resolved.forced == ["retention_years"]
    unlocked = Preset.from_config("job", {"locked": []}, JobSettings)
    assert resolve(JobSettings, unlocked, {"retention_years": 1}).values["retention_years"] == 1


def test_string_values_from_the_command_line_are_converted() -> None:
    preset = Preset.from_config("slowtest", {}, SlowTestSettings)
    resolved = resolve(SlowTestSettings, preset, {"files": "12", "fatal": "true", "delay_seconds": "0.5"})
    assert (resolved.values["files"], resolved.values["fatal"], resolved.values["delay_seconds"]) == (12, True, 0.5)


def test_invalid_value_names_the_setting() -> None:
    preset = Preset.from_config("slowtest", {}, SlowTestSettings)
    with pytest.raises(InvalidSetting, match=r"setting files: .*(greater|less).*'-1'"):
        resolve(SlowTestSettings, preset, {"files": "-1"})
    with pytest.raises(InvalidSetting, match="setting fatal"):
        resolve(SlowTestSettings, preset, {"fatal": "perhaps"})


def test_unknown_setting_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidSetting, match="setting colour: unknown setting; known settings: .*files"):
        split_request({"colour": "red"}, {"job": JobSettings, "slowtest": SlowTestSettings})


def test_archive_name_pattern_must_use_known_variables() -> None:
    preset = Preset.from_config("job", None, JobSettings)
    with pytest.raises(InvalidSetting, match=r"setting archive_name: unknown variable \$\{username\}"):
        resolve(JobSettings, preset, {"archive_name": "x-${username}"})


def test_presets_are_validated_and_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match="presets.slowtest.colour: unknown setting"):
        Preset.from_config("slowtest", {"colour": "red"}, SlowTestSettings)
    with pytest.raises(ConfigError, match="presets.slowtest.files"):
        Preset.from_config("slowtest", {"files": "many"}, SlowTestSettings)
    with pytest.raises(ConfigError, match="presets.slowtest.nothing: unknown setting"):
        Preset.from_config("slowtest", {"locked": ["nothing"]}, SlowTestSettings)


def test_describe_shows_presets_and_locks() -> None:
    preset = Preset.from_config("slowtest", {"files": 9, "locked": ["files"]}, SlowTestSettings)
    described = {d.key: d for d in describe(SlowTestSettings, preset)}
    assert described["files"].value == 9
    assert described["files"].default == 3
    assert described["files"].locked
    assert described["files"].type == "int"
    assert not described["flavour"].locked
    assert described["fatal"].type == "bool"
