"""The SFTP login secrets, read once at start from files only the daemon may read (never from the config file).

Messages name the config key and the file, never the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncssh

from archived.config import read_secret
from archived.errors import ConfigError
from archived_sftp.config import SftpConfig


@dataclass(frozen=True)
class SftpCredentials:
    """A private key and/or a password; `repr` shows neither."""

    username: str
    key: asyncssh.SSHKey | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def load_credentials(target: str, config: SftpConfig) -> SftpCredentials:
    """Read the key (decrypted with its passphrase file) and the password file; `ConfigError` names the key."""
    key = None
    if config.key_file is not None:
        what = f"storage.{target}.key_file"
        text = read_secret(file=config.key_file, env=None, what=what)
        passphrase = None
        if config.key_passphrase_file is not None:
            passphrase = read_secret(
                file=config.key_passphrase_file, env=None, what=f"storage.{target}.key_passphrase_file"
            )
        try:
            key = asyncssh.import_private_key(text, passphrase)
        except (asyncssh.KeyImportError, ValueError) as exc:
            # asyncssh's reasons ("Incorrect passphrase", "Passphrase must be specified …") hold no secret.
            raise ConfigError(f"{what}: {config.key_file} is not a usable private key: {exc}") from None
    password = None
    if config.password_file is not None:
        password = read_secret(file=config.password_file, env=None, what=f"storage.{target}.password_file")
    return SftpCredentials(config.username, key, password)
