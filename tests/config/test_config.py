"""Configuration: validation errors name the key; secrets come only from private files or the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from archived.config import load_config, parse_config, read_secret
from archived.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "archived.example.toml"


def test_the_example_configuration_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.moodle is not None
    assert config.storage


def test_defaults_without_any_file() -> None:
    config = parse_config({})
    assert config.daemon.max_running_jobs == 5
    assert config.daemon.job_timeout_minutes == 120
    assert config.daemon.socket_mode_bits == 0o660


@pytest.mark.parametrize(
    "data,message",
    [
        ({"daemon": {"max_running_jobs": "five"}}, "daemon.max_running_jobs: Input should be a valid integer"),
        ({"daemon": {"max_runing_jobs": 3}}, "daemon.max_runing_jobs: unknown key"),
        ({"daemon": {"socket_mode": "0666"}}, "daemon.socket_mode: the socket must not be accessible to others"),
        ({"daemon": {"job_timeout_minutes": 0}}, "daemon.job_timeout_minutes: Input should be greater than 0"),
        ({"moodle": {"url": "moodle.example"}}, "moodle.url: expected the site's base URL"),
        ({"moodle": {"url": "https://m.example"}}, "set token_file"),
        ({"moodle": {"url": "https://m.example", "token": "abc"}}, "moodle.token: unknown key"),
    ],
)
def test_errors_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "test.toml")
    assert message in str(err.value)
    assert str(err.value).startswith("test.toml: invalid configuration")


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[daemon\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")


def test_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("0123456789abcdef0123456789abcdef\n")
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by others .*chmod o-rwx") as err:
        read_secret(file=secret, env=None, what="moodle token")
    assert "0123456789abcdef" not in str(err.value)
    secret.chmod(0o640)
    assert read_secret(file=secret, env=None, what="moodle token") == "0123456789abcdef0123456789abcdef"


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TOKEN", "fromenv")
    assert read_secret(file=None, env="TEST_TOKEN", what="token") == "fromenv"
    monkeypatch.delenv("TEST_TOKEN")
    with pytest.raises(ConfigError, match="TEST_TOKEN is not set"):
        read_secret(file=None, env="TEST_TOKEN", what="token")


def test_empty_secret_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("\n")
    secret.chmod(0o600)
    with pytest.raises(ConfigError, match="is empty"):
        read_secret(file=secret, env=None, what="token")


def test_the_example_presets_fit_the_installed_drivers() -> None:
    from archived.daemon.server import build_presets
    from archived.interfaces.activity import DriverEnvironment
    from archived.plugins import activity_drivers

    config = load_config(EXAMPLE)
    drivers = {
        name: cls(DriverEnvironment(moodle=None, temp_dir=Path("/tmp"))) for name, cls in activity_drivers().items()
    }
    presets = build_presets(config, drivers)
    assert presets["quiz"].values["paper_format"] == "A4"
    assert presets["job"].locked == {"retention_years"}


def test_plain_http_to_another_host_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"moodle": {"url": "http://moodle.example.edu/", "token_env": "T"}}, "test.toml")
    message = str(err.value)
    assert "moodle.url: http://moodle.example.edu is plain http://" in message
    assert "token would travel unencrypted" in message
    assert "https://" in message and "moodle.allow_insecure_http = true" in message


def test_plain_http_when_allowed_explicitly() -> None:
    config = parse_config(
        {"moodle": {"url": "http://moodle.example.edu", "token_env": "T", "allow_insecure_http": True}}
    )
    assert config.moodle is not None and config.moodle.url == "http://moodle.example.edu"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.3.4.5/moodle", "http://[::1]:8080", "http://localhost", "http://LOCALHOST:1"],
)
def test_plain_http_on_loopback_is_allowed(url: str) -> None:
    config = parse_config({"moodle": {"url": url, "token_env": "T"}})
    assert config.moodle is not None and not config.moodle.allow_insecure_http


def test_download_limits() -> None:
    moodle = parse_config({"moodle": {"url": "https://m.example", "token_env": "T"}}).moodle
    assert moodle is not None
    assert (moodle.download_min_bytes_per_second, moodle.download_rate_window_seconds) == (4096.0, 30.0)
    assert moodle.download_timeout_seconds == 1800.0
    with pytest.raises(ConfigError, match="moodle.download_rate_window_seconds: Input should be greater than 0"):
        parse_config({"moodle": {"url": "https://m.example", "token_env": "T", "download_rate_window_seconds": 0}})
