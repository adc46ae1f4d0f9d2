"""The keys of one S3 target, from an INI file (like AWS's shared credentials file) or the environment.

They are read once, when the daemon starts, so that a missing or unsafe file stops the start with a message that
names the key. The secret key and the session token are never printed: `S3Credentials` shows only the access key
id and where the keys came from, and `secrets()` lists what `errors.redact` removes from every message.
"""

from __future__ import annotations

import configparser
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from archived.errors import ConfigError
from archived_s3.config import S3Config


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair (and session token); its repr never shows the secret parts."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    source: str = ""

    def secrets(self) -> list[str]:
        """The values that must never appear in a log line or an error."""
        return [s for s in (self.secret_access_key, self.session_token) if s]


def load_credentials(target: str, config: S3Config) -> S3Credentials:
    """The target's keys: from `credentials_file` (section `profile`) if set, else from the environment."""
    if config.credentials_file is not None:
        return _from_file(target, config.credentials_file, config.profile)
    return _from_environment(target, config)


def _from_file(target: str, path: Path, profile: str) -> S3Credentials:
    key = f"storage.{target}.credentials_file"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{key}: {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"{key}: {path} cannot be reached by the daemon's user") from None
    if info.st_mode & stat.S_IRWXO:
        raise ConfigError(
            f"{key}: {path} is readable by others (mode {stat.filemode(info.st_mode)}); run: chmod o-rwx {path}"
        )
    parser = configparser.ConfigParser(interpolation=None, default_section="\0no default section")
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except PermissionError:
        raise ConfigError(f"{key}: {path} is not readable by the daemon's user") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        # configparser quotes the offending line, which may hold the secret: say only where it is.
        line = getattr(exc, "lineno", None) or next((n for n, _ in getattr(exc, "errors", [])), None)
        where = f" (line {line})" if line else ""
        raise ConfigError(f"{key}: {path} is not an INI file like AWS's credentials file{where}") from None
    if not parser.has_section(profile):
        known = ", ".join(parser.sections()) or "none"
        raise ConfigError(f"storage.{target}.profile: {path} has no [{profile}] section (sections: {known})")
    section = parser[profile]
    access, secret = section.get("aws_access_key_id", "").strip(), section.get("aws_secret_access_key", "").strip()
    if not access or not secret:
        raise ConfigError(f"{key}: [{profile}] in {path} needs aws_access_key_id and aws_secret_access_key")
    token = section.get("aws_session_token", "").strip() or None
    return S3Credentials(access, secret, token, source=f"{path} [{profile}]")


def _from_environment(target: str, config: S3Config) -> S3Credentials:
    access = os.environ.get(config.access_key_id_env, "").strip()
    secret = os.environ.get(config.secret_access_key_env, "").strip()
    if not access or not secret:
        raise ConfigError(
            f"storage.{target}: no credentials: set credentials_file, or the environment variables "
            f"{config.access_key_id_env} and {config.secret_access_key_env} (names set by access_key_id_env "
            "and secret_access_key_env)"
        )
    token = os.environ.get(config.session_token_env, "").strip() or None
    return S3Credentials(access, secret, token, source=f"environment {config.access_key_id_env}")
