"""The operator's TUI settings file and the catalogue of remappable bindings."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from archived_tui.keymap import binding_catalogue, known_binding_ids
from archived_tui.settings_file import default_settings_path, load_tui_settings


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_tui_settings(tmp_path / "absent.toml")
    assert settings.keys == {} and settings.theme is None and settings.problems == []
    assert settings.tz() is None  # local time


def test_keys_theme_and_timezone_are_read(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text('[tui]\ntheme = "nord"\ntimezone = "UTC"\n\n[keys]\n"job.retry" = "R"\n"app.jobs" = "f3, 3"\n')
    settings = load_tui_settings(path)
    assert settings.keys == {"job.retry": "R", "app.jobs": "f3,3"}
    assert settings.theme == "nord" and settings.tz() is UTC
    assert settings.problems == []


def test_problems_are_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text('[tui]\ntimezone = "Mars/Olympus"\ncolour = 3\n[keys]\n"job.retyr" = "R"\n"job.retry" = 5\n[x]\n')
    settings = load_tui_settings(path)
    settings.check_keys(known_binding_ids())
    text = "\n".join(settings.problems)
    assert "unknown section [x]" in text
    assert "'Mars/Olympus' is not a known time zone" in text and settings.timezone == "local"
    assert "colour" in text
    assert "[keys] job.retry must be a key name" in text
    assert "'job.retyr' is not a binding id" in text and settings.keys == {}


def test_broken_toml_falls_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text("[keys\n")
    settings = load_tui_settings(path)
    assert settings.keys == {} and len(settings.problems) == 1 and "using the defaults" in settings.problems[0]


def test_default_path_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ARCHIVED_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_settings_path() == tmp_path / "archived" / "tui.toml"
    monkeypatch.setenv("ARCHIVED_TUI_CONFIG", str(tmp_path / "mine.toml"))
    assert default_settings_path() == tmp_path / "mine.toml"


def test_every_binding_has_an_id_and_shared_ids_mean_the_same_action() -> None:
    catalogue = binding_catalogue()
    ids = [info.binding_id for info in catalogue]
    assert len(ids) == len(set(ids))
    assert {"app.quit", "app.help", "job.retry", "job.cancel", "job.delete", "storage.test", "courses.archive"} <= set(
        ids
    )
    from archived_tui.screens.job_detail import JobDetailScreen
    from archived_tui.screens.jobs import JobsScreen

    def actions(screen: type) -> dict[str, str]:
        return {b.id: b.action for b in screen.BINDINGS if b.id}

    shared = set(actions(JobsScreen)) & set(actions(JobDetailScreen))
    assert {"job.retry", "job.cancel", "job.delete"} <= shared
    assert all(actions(JobsScreen)[i] == actions(JobDetailScreen)[i] for i in shared)
