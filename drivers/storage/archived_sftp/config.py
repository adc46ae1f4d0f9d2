"""`[storage.<name>]` with `driver = "sftp"`: the server, how it is recognised, how we log in, where archives go.

Secrets are never in the configuration file: the private key, its passphrase and the password are files the
daemon reads at start (readable by its user, not by others).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from archived.interfaces.storage import StorageConfig
from archived_sftp.host_keys import parse_pin


class SftpConfig(StorageConfig):
    """An SFTP target."""

    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    username: str = Field(min_length=1)
    folder: str = "."  # relative to the login folder, or absolute
    known_hosts_file: Path | None = None
    host_key: str | None = None  # "SHA256:…" or "ssh-ed25519 AAAA…"
    key_file: Path | None = None
    key_passphrase_file: Path | None = None
    password_file: Path | None = None
    verify: Literal["read-back", "sha256sum"] = "read-back"
    timeout_seconds: float = Field(30.0, gt=0, le=3600)

    @field_validator("host", "username", "folder")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value

    @field_validator("known_hosts_file", "key_file", "key_passphrase_file", "password_file")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError(f"expected an absolute file path (got {str(value)!r})")
        return value

    @field_validator("host_key")
    @classmethod
    def _pin(cls, value: str | None) -> str | None:
        if value is not None:
            parse_pin(value)
        return value

    @model_validator(mode="after")
    def _credentials(self) -> SftpConfig:
        if self.key_file is None and self.password_file is None:
            raise ValueError("set key_file (a private key) or password_file (a file holding the password)")
        if self.key_passphrase_file is not None and self.key_file is None:
            raise ValueError("key_passphrase_file is set but key_file is not")
        return self
