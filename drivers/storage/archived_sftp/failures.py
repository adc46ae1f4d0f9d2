"""What an SSH or SFTP failure means for a job: an outage to retry, or a fault that retrying cannot fix.

Transient: resets, timeouts, refused or lost connections, SSH disconnects, a full disk or quota (an administrator can
free space), the SFTP's generic failure (OpenSSH reports a full disk that way). Permanent: login refused, host key
refused, permission denied, no such folder, a server that cannot do what is needed.
"""

from __future__ import annotations

import asyncio
import socket

import asyncssh

from archived.errors import ArchivedError, FatalError
from archived.interfaces.storage import StorageUnavailable

# Reasons come from the server: keep them short in job logs.
REASON_LIMIT = 200

_PERMANENT_DISCONNECTS = (
    asyncssh.PermissionDenied,
    asyncssh.HostKeyNotVerifiable,
    asyncssh.KeyExchangeFailed,
    asyncssh.ProtocolNotSupported,
    asyncssh.IllegalUserName,
    asyncssh.ServiceNotAvailable,
)
_TRANSIENT_SFTP = (
    asyncssh.SFTPFailure,
    asyncssh.SFTPNoConnection,
    asyncssh.SFTPConnectionLost,
    asyncssh.SFTPNoSpaceOnFilesystem,
    asyncssh.SFTPQuotaExceeded,
    asyncssh.SFTPLockConflict,
)


def reason_of(exc: BaseException) -> str:
    """A short human reason for an exception (the server's words where it gave some)."""
    reason = getattr(exc, "reason", "") or str(exc) or type(exc).__name__
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"


def classify(exc: BaseException, where: str, doing: str, *, username: str) -> ArchivedError:
    """`exc` as `StorageUnavailable` or `FatalError`; `where` names the target and server, `doing` the step."""
    if isinstance(exc, ArchivedError):
        return exc
    reason = reason_of(exc)
    if isinstance(exc, asyncssh.PermissionDenied):
        return FatalError(
            f"{where}: login refused for user {username} ({reason}); check the username and that the server "
            "accepts the configured key_file or password_file"
        )
    if isinstance(exc, _PERMANENT_DISCONNECTS):
        return FatalError(f"{where}: the SSH connection was refused while {doing}: {reason}")
    if isinstance(exc, asyncssh.SFTPPermissionDenied | asyncssh.SFTPWriteProtect):
        return FatalError(
            f"{where}: permission denied while {doing} ({reason}); the user {username} needs to "
            "read, write, rename and delete files in the folder"
        )
    if isinstance(exc, asyncssh.SFTPNoSuchFile | asyncssh.SFTPNoSuchPath | asyncssh.SFTPNotADirectory):
        return FatalError(f"{where}: no such file or folder while {doing} ({reason})")
    if isinstance(exc, _TRANSIENT_SFTP):
        return StorageUnavailable(f"{where}: the server failed while {doing}: {reason}")
    if isinstance(exc, asyncssh.SFTPError):
        return FatalError(f"{where}: the SFTP server refused while {doing}: {reason}")
    if isinstance(exc, asyncssh.DisconnectError | asyncssh.ChannelOpenError):
        return StorageUnavailable(f"{where}: the SSH connection broke while {doing}: {reason}")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return StorageUnavailable(f"{where}: no answer in time while {doing}")
    if isinstance(exc, socket.gaierror):
        return StorageUnavailable(f"{where}: cannot resolve the host name while {doing}: {reason}")
    if isinstance(exc, OSError | EOFError | asyncssh.Error):
        return StorageUnavailable(f"{where}: network failure while {doing}: {reason}")
    return FatalError(f"{where}: unexpected {type(exc).__name__} while {doing}: {reason}")
