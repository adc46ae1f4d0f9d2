"""The error taxonomy shared by the engine, the Moodle client and every driver.

The job engine only needs one fact about an exception: may the failed stage be retried? Everything that can
reach the engine therefore derives from `RecoverableError` (network errors, timeouts, HTTP 5xx, Moodle's
transient errors, storage throttling) or `FatalError` (invalid token, missing capability, invalid parameters,
checksum mismatch, policy violations). Anything else that escapes a stage is treated as fatal: a bug must not
be retried into a loop.
"""

from __future__ import annotations


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


def is_recoverable(exc: BaseException) -> bool:
    """Whether an exception that escaped a job stage may be retried."""
    return isinstance(exc, ArchivedError) and exc.recoverable
