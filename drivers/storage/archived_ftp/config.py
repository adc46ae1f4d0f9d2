"""`[storage.<name>]` with `driver = "ftp"`: the server, TLS, the login and the folder.

Explicit TLS (AUTH TLS) with certificate verification is the default; plain FTP only with `tls = false`. The
password is a file the daemon reads at start (readable by its user, not by others), never in the config file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from archived.interfaces.storage import StorageConfig


class FtpConfig(StorageConfig):
    """An FTP or FTPS target."""

    host: str = Field(min_length=1)
    port: int = Field(21, ge=1, le=65535)
    username: str = Field(min_length=1)
    password_file: Path
    folder: str = "."  # relative to the login folder, or absolute
    tls: bool = True
    ca_file: Path | None = None  # CA certificates (PEM) to verify the server with; absent: the system's
    timeout_seconds: float = Field(30.0, gt=0, le=3600)

    @field_validator("host", "username", "folder")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value

    @field_validator("password_file", "ca_file")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError(f"expected an absolute file path (got {str(value)!r})")
        return value
