"""What a render cluster's scheduler address may be: one rule for the daemon's `[workers.dask]` and for
`archived render-worker`'s options (exam data must not cross the network in clear text)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from archived.errors import ConfigError
from archived.moodle.urls import is_loopback_host

TlsFiles = tuple[Path | None, Path | None, Path | None]  # CA, certificate, key


def check_scheduler(scheduler: str, tls_files: TlsFiles, *, scheduler_key: str, tls_keys: str) -> None:
    """Raise `ConfigError` unless `scheduler` is tls:// with all three TLS files, or tcp:// on this machine; a TLS
    file given must exist. `scheduler_key`, `tls_keys`: how the caller's user names them (a key, an option)."""
    scheme = urlsplit(scheduler).scheme
    if scheme not in {"tcp", "tls"}:
        raise ConfigError(f"{scheduler_key}: expected tls://host:port (or tcp:// on loopback), got {scheduler!r}")
    if scheme == "tls" and not all(tls_files):
        raise ConfigError(f"{scheduler_key}: a tls:// scheduler needs {tls_keys}")
    if scheme == "tcp" and not is_loopback_host(urlsplit(scheduler).hostname or ""):
        raise ConfigError(
            f"{scheduler_key} {scheduler!r}: a scheduler on another host must be reached over tls:// with {tls_keys} "
            "(exam data would cross the network in clear text)"
        )
    for path in tls_files:
        if path is not None and not path.is_file():
            raise ConfigError(f"TLS file {path} does not exist or is not a file")
