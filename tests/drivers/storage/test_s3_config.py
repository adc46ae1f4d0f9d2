"""The S3 driver's configuration and credentials: validated at start, naming the key, never showing a secret."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from archived.config import parse_config
from archived.errors import ConfigError
from archived.plugins import storage_drivers
from archived.targets import build_targets
from archived_s3.config import S3Config
from archived_s3.credentials import load_credentials
from archived_s3.storage import S3Storage
from tests.support.s3_server import ACCESS_KEY_ID, SECRET_KEY, write_credentials


def config(**options: Any) -> S3Config:
    return S3Config.model_validate({"bucket": "exam-archive", **options})


def test_the_driver_is_registered_as_s3() -> None:
    assert storage_drivers()["s3"] is S3Storage


def test_defaults() -> None:
    c = config()
    assert (c.endpoint_url, c.region, c.prefix, c.addressing_style) == (None, "us-east-1", "", "auto")
    assert (c.verify_tls, c.legacy_checksums, c.read_back, c.part_size) == (True, False, "auto", 16 * 1024 * 1024)
    assert (c.lock_mode, c.legal_hold, c.allow_governance_bypass, c.sse) == (None, False, False, "none")


def test_lock_mode_is_case_insensitive() -> None:
    assert config(lock_mode="compliance").lock_mode == "COMPLIANCE"


@pytest.mark.parametrize(
    "options,message",
    [
        ({"endpoint_url": "s3.example.edu"}, "base URL"),
        ({"endpoint_url": "http://s3.example.edu"}, "allow_insecure_http"),
        ({"bucket": "a/b"}, "without slashes"),
        ({"prefix": "/moodle/"}, "no leading"),
        ({"prefix": "moodle/../x/"}, "no leading '/', no '..'"),
        ({"part_size_mib": 4}, "greater than or equal to 5"),
        ({"lock_mode": "FOREVER"}, "COMPLIANCE"),
        ({"sse": "aws:kms-dsse"}, "AES256"),
        ({"kms_key_id": "arn:aws:kms:eu:1:key/x"}, 'sse = "aws:kms"'),
        ({"credentials_file": "relative/credentials"}, "absolute"),
        ({"secret_access_key": "inline"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**options)


def test_plain_http_is_allowed_on_loopback_or_when_allowed() -> None:
    assert config(endpoint_url="http://127.0.0.1:9000/").endpoint_url == "http://127.0.0.1:9000"
    assert config(endpoint_url="http://s3.lan", allow_insecure_http=True).endpoint_url == "http://s3.lan"


def test_credentials_from_a_file(tmp_path: Path) -> None:
    path = write_credentials(tmp_path / "credentials", profile="archive")
    credentials = load_credentials("worm", config(credentials_file=path, profile="archive"))
    assert (credentials.access_key_id, credentials.secret_access_key) == (ACCESS_KEY_ID, SECRET_KEY)
    assert SECRET_KEY not in repr(credentials) and str(path) in credentials.source


def test_credentials_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = write_credentials(tmp_path / "credentials")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"storage\.worm\.credentials_file: .* readable by others.*chmod o-rwx"):
        load_credentials("worm", config(credentials_file=path))


def test_credentials_file_missing_profile(tmp_path: Path) -> None:
    path = write_credentials(tmp_path / "credentials")
    with pytest.raises(ConfigError, match=r"storage\.worm\.profile: .* no \[archive\] section \(sections: default\)"):
        load_credentials("worm", config(credentials_file=path, profile="archive"))


@pytest.mark.parametrize(
    "text",
    [
        f"aws_secret_access_key = {SECRET_KEY}\n",  # no section header: configparser quotes the line
        f"[default]\naws_access_key_id = A\n{SECRET_KEY}\n",  # a line that is no option
        f"[default]\naws_secret_access_key = {SECRET_KEY}\naws_secret_access_key = {SECRET_KEY}\n",
    ],
)
def test_a_broken_credentials_file_is_named_without_its_content(tmp_path: Path, text: str) -> None:
    path = tmp_path / "credentials"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        load_credentials("worm", config(credentials_file=path))
    assert "not an INI file" in str(caught.value) or "needs aws_access_key_id" in str(caught.value)
    assert SECRET_KEY not in "".join(traceback.format_exception(caught.value))


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORM_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("WORM_SECRET", SECRET_KEY)
    monkeypatch.setenv("WORM_TOKEN", "session-token-value")
    credentials = load_credentials(
        "worm",
        config(access_key_id_env="WORM_KEY_ID", secret_access_key_env="WORM_SECRET", session_token_env="WORM_TOKEN"),
    )
    assert credentials.secrets() == [SECRET_KEY, "session-token-value"]
    assert "session-token-value" not in repr(credentials) and SECRET_KEY not in repr(credentials)


def test_missing_environment_credentials_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(ConfigError, match="credentials_file, or the environment variables AWS_ACCESS_KEY_ID and"):
        load_credentials("worm", config())


def test_the_daemon_configuration_builds_the_target(tmp_path: Path) -> None:
    path = write_credentials(tmp_path / "credentials")
    raw = {"storage": {"worm": {"driver": "s3", "bucket": "exam-archive", "credentials_file": str(path),
                                "lock_mode": "GOVERNANCE", "tier": "remote-slow"}}}  # fmt: skip
    targets = build_targets(parse_config(raw, "test.toml"), storage_drivers())
    driver = targets["worm"].driver
    assert isinstance(driver, S3Storage) and driver.s3.lock_mode == "GOVERNANCE"
    assert SECRET_KEY not in repr(driver) and SECRET_KEY not in repr(driver.conn)


def test_configuration_errors_name_the_key(tmp_path: Path) -> None:
    raw = {"storage": {"worm": {"driver": "s3", "bucket": "exam-archive", "part_size_mib": 1}}}
    with pytest.raises(ConfigError, match=r"storage\.worm\.part_size_mib: "):
        build_targets(parse_config(raw, "test.toml"), storage_drivers())
    raw = {"storage": {"worm": {"driver": "s3", "bucket": "b", "credentials_file": str(tmp_path / "none")}}}
    with pytest.raises(ConfigError, match=r"storage\.worm\.credentials_file: .*none does not exist"):
        build_targets(parse_config(raw, "test.toml"), storage_drivers())
