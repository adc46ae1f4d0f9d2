"""The quiz driver's errors: a quiz that is not there, and one attempt that could not be archived (named)."""

from __future__ import annotations

from archived.errors import ArchivedError, FatalError, RecoverableError


class QuizNotFoundError(FatalError):
    """The course module is not a quiz the service user can see."""

    code = "quiz_not_found"


class AttemptFailedError(ArchivedError):
    """One attempt could not be archived; the job fails and names it. Recoverable when the cause was."""

    code = "attempt_failed"

    def __init__(self, attempt_id: int, username: str, cause: BaseException) -> None:
        # An unexpected exception's text alone (a KeyError's "'slot'") says nothing; name its type too.
        reason = str(cause) if isinstance(cause, ArchivedError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"attempt {attempt_id} (user {username or '?'}) could not be archived: {reason}")
        self.attempt_id = attempt_id
        self.code = getattr(cause, "code", self.code)


class AttemptFailedRecoverable(AttemptFailedError, RecoverableError):
    """An attempt failed for a transient reason (network, timeout): the stage may be retried."""


class AttemptFailedFatal(AttemptFailedError, FatalError):
    """An attempt failed for a reason retrying cannot fix."""


def attempt_failed(attempt_id: int, username: str, cause: BaseException) -> AttemptFailedError:
    """The typed error for a failed attempt: recoverable exactly when its cause was."""
    if isinstance(cause, ArchivedError) and cause.recoverable:
        return AttemptFailedRecoverable(attempt_id, username, cause)
    return AttemptFailedFatal(attempt_id, username, cause)
