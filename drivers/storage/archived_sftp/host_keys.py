"""Recognising the SFTP server: its host key must be pinned in the configuration or listed in a known_hosts file.

A key that neither names is refused, with a message that shows its fingerprint and the config key to set, so an
operator can confirm it with the server's administrator and pin it; a key that differs from the pinned one or from
the known_hosts entries for the host is refused as a possible interception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from archived.errors import FatalError

FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


@dataclass(frozen=True)
class HostKeyPin:
    """A pinned host key: its SHA256 fingerprint, and the key itself when the whole public key was given."""

    fingerprint: str
    key: asyncssh.SSHKey | None = None


def parse_pin(text: str) -> HostKeyPin:
    """`SHA256:…` (as `ssh-keygen -lf` prints it) or a public key line (`ssh-ed25519 AAAA…`); ValueError if neither."""
    text = text.strip()
    if FINGERPRINT.fullmatch(text):
        return HostKeyPin(text)
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError):
        raise ValueError(
            'expected a fingerprint such as "SHA256:…" (43 characters after the colon, from ssh-keygen -lf) '
            'or a public key line such as "ssh-ed25519 AAAA…"'
        ) from None
    return HostKeyPin(fingerprint_of(key), key)


def fingerprint_of(key: asyncssh.SSHKey) -> str:
    """The SHA256 fingerprint in OpenSSH's notation (`SHA256:…`)."""
    return str(key.get_fingerprint("sha256"))


@dataclass
class HostKeyCheck:
    """The host key policy of one connection attempt; remembers the key the server presented when it was refused."""

    target: str
    host: str
    port: int
    pin: HostKeyPin | None
    known_hosts_file: Path | None
    presented: asyncssh.SSHKey | None = None
    listed_for_host: bool = False  # the known_hosts file has entries for this host (so a new key is a mismatch)
    _trusted: list[asyncssh.SSHKey] = field(default_factory=list)

    def trusted_keys(self, host: str, addr: str, port: int | None) -> tuple[list[Any], list[Any], list[Any]]:
        """asyncssh's `known_hosts` callable: the keys, CA keys and revoked keys it may accept for this host."""
        keys: list[Any] = [self.pin.key] if self.pin and self.pin.key else []
        ca_keys: list[Any] = []
        revoked: list[Any] = []
        if self.known_hosts_file is not None:
            # Read at every connection, so an updated file needs no restart.
            matched = asyncssh.read_known_hosts(str(self.known_hosts_file)).match(host, addr, port)
            self.listed_for_host = bool(matched[0] or matched[1])
            keys += matched[0]
            ca_keys += matched[1]
            revoked += matched[2]
        return keys, ca_keys, revoked

    def accepts(self, key: asyncssh.SSHKey) -> bool:
        """Called for a key that known_hosts does not list: only a pinned fingerprint can still accept it."""
        self.presented = key
        return self.pin is not None and fingerprint_of(key) == self.pin.fingerprint

    def refusal(self) -> FatalError:
        """The error for a refused host key: unknown (with what to set) or a mismatch (with what it means)."""
        where = f"storage target {self.target}: the SFTP server {self.host}:{self.port}"
        if self.presented is None:
            return FatalError(
                f"{where} presented a host key that could not be verified (a revoked key or an "
                "untrusted certificate); ask the server's administrator which key it uses"
            )
        seen = f"{fingerprint_of(self.presented)} ({self.presented.get_algorithm()})"
        if self.pin is not None:
            return FatalError(
                f"{where} presented the host key {seen}, but storage.{self.target}.host_key pins "
                f"{self.pin.fingerprint}: someone may be intercepting the connection, or the server's key was "
                f"replaced. Confirm the new key with the server's administrator before changing "
                f"storage.{self.target}.host_key"
            )
        if self.listed_for_host:
            return FatalError(
                f"{where} presented the host key {seen}, which {self.known_hosts_file} does not list for this host "
                "although it lists others: someone may be intercepting the connection, or the server's key was "
                "replaced. Confirm the new key with the server's administrator before updating that file"
            )
        return FatalError(
            f"{where} presented an unknown host key {seen}. Confirm it with the server's administrator (on the "
            f"server: ssh-keygen -lf on its host key's .pub file), then set "
            f'storage.{self.target}.host_key = "{fingerprint_of(self.presented)}" or add the key to the file that '
            f"storage.{self.target}.known_hosts_file names"
        )


class _VerifyingClient(asyncssh.SSHClient):
    """asyncssh asks this client about host keys its known_hosts list does not trust."""

    def __init__(self, check: HostKeyCheck) -> None:
        self.check = check

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return self.check.accepts(key)


def client_factory(check: HostKeyCheck) -> Any:
    """A `client_factory` for `asyncssh.connect` that applies `check`."""
    return lambda: _VerifyingClient(check)
