"""`[storage.<name>]` with `driver = "s3"`: where the bucket is, how to reach it, how archives are locked.

Credentials never appear here: `credentials_file` names an INI file (like AWS's shared credentials file), or the
keys come from environment variables (`credentials.py` reads both).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from archived.interfaces.storage import StorageConfig

MIB = 1024 * 1024


def _is_loopback(host: str) -> bool:
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class S3Config(StorageConfig):
    """The options of one S3 target (see docs/configuration.md, `driver = "s3"`)."""

    # Declared before `endpoint_url`, whose validator reads it (pydantic validates fields in this order).
    allow_insecure_http: bool = False
    endpoint_url: str | None = None  # None: AWS itself, from `region`
    region: str = "us-east-1"
    bucket: str
    prefix: str = ""
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    credentials_file: Path | None = None
    profile: str = "default"
    access_key_id_env: str = "AWS_ACCESS_KEY_ID"
    secret_access_key_env: str = "AWS_SECRET_ACCESS_KEY"
    session_token_env: str = "AWS_SESSION_TOKEN"
    verify_tls: bool = True
    ca_file: Path | None = None
    legacy_checksums: bool = False  # servers that reject x-amz-checksum-* headers: Content-MD5 and a read-back
    read_back: Literal["auto", "always"] = "auto"
    part_size_mib: Annotated[int, Field(ge=5, le=1024)] = 16
    lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] | None = None
    legal_hold: bool = False
    allow_governance_bypass: bool = False
    sse: Literal["none", "AES256", "aws:kms"] = "none"
    kms_key_id: str | None = None
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0

    @property
    def part_size(self) -> int:
        """The multipart part size in bytes."""
        return self.part_size_mib * MIB

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"expected the server's base URL, e.g. https://s3.example.edu (got {value!r})")
        if parts.scheme == "http" and not info.data.get("allow_insecure_http") and not _is_loopback(parts.hostname):
            raise ValueError(
                f"{value} is plain http://, so archives (and a session token, if any) would travel unencrypted to "
                f"{parts.hostname}. Use https://; if the network path is trusted, set allow_insecure_http = true"
            )
        return value.rstrip("/")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not value or "/" in value or value != value.strip():
            raise ValueError(f"expected a bucket name without slashes or spaces (got {value!r})")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/") or "//" in value:
            raise ValueError(f"expected a key prefix such as 'moodle/' (no leading '/', no '..', got {value!r})")
        return value

    @field_validator("lock_mode", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("credentials_file", "ca_file")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError(f"expected an absolute file path (got {str(value)!r})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> S3Config:
        if self.kms_key_id is not None and self.sse != "aws:kms":
            raise ValueError('kms_key_id needs sse = "aws:kms"')
        return self
