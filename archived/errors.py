"""The error taxonomy shared by the engine, the Moodle client and every driver.

The job engine only needs one fact about an exception: may the failed stage be retried? Everything that can
reach the engine therefore derives from `RecoverableError` (network errors, timeouts, HTTP 5xx, Moodle's
transient errors, storage throttling) or `FatalError` (invalid token, missing capability, invalid parameters,
checksum mismatch, policy violations). Anything else that escapes a stage is treated as fatal: a bug must not
be retried into a loop.
"""

from __future__ import annotations

import errno


class ArchivedError(Exception):
    """Base of every error archived raises on purpose; `code` is a stable machine-readable name."""

    code: str = "error"
    recoverable: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human message (what happened, what was expected, what to do)."""
        return str(self)


class RecoverableError(ArchivedError):
    """A transient failure: the stage that raised it may be retried with backoff."""

    code = "transient"
    recoverable = True


class FatalError(ArchivedError):
    """A failure that retrying cannot fix; the job fails and says why."""

    code = "fatal"
    recoverable = False


class ConfigError(FatalError):
    """The configuration file or a secret is invalid; the message names the key or file."""

    code = "config"


class IntegrityError(FatalError):
    """Bytes did not match their recorded checksum or size."""

    code = "integrity"


class DiskError(RecoverableError):
    """A folder archived writes to is full, read-only or failing; retried, since an admin can free space."""

    code = "disk"


# The OS errors that describe the disk rather than a bug, each with words an operator understands.
_DISK_ERRNOS = {
    errno.ENOSPC: "no space left",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "input/output error",
}


def disk_error(exc: BaseException, folder: str) -> DiskError | None:
    """`exc` as a `DiskError` naming `folder` and the file, if it is an OS error about the disk; else None."""
    if not isinstance(exc, OSError) or exc.errno not in _DISK_ERRNOS:
        return None
    reason = _DISK_ERRNOS[exc.errno]
    file = f" (writing {exc.filename})" if exc.filename else ""
    return DiskError(f"{reason} in {folder}{file}; free space there or fix the disk, then the job is retried")


def is_recoverable(exc: BaseException) -> bool:
    """Whether an exception that escaped a job stage may be retried."""
    return isinstance(exc, ArchivedError) and exc.recoverable
