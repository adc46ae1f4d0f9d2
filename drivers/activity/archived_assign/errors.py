"""The assignment driver's errors: an assignment that is not there, one participant that could not be archived."""

from __future__ import annotations

from archived.errors import ArchivedError, FatalError, RecoverableError


class AssignNotFoundError(FatalError):
    """The course module is not an assignment the service user can see."""

    code = "assign_not_found"


class ParticipantFailedError(ArchivedError):
    """One participant could not be archived; the job fails and names them. Recoverable when the cause was."""

    code = "participant_failed"

    def __init__(self, who: str, cause: BaseException) -> None:
        reason = str(cause) if isinstance(cause, ArchivedError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"participant {who} could not be archived: {reason}")
        self.code = getattr(cause, "code", self.code)


class ParticipantFailedRecoverable(ParticipantFailedError, RecoverableError):
    """A participant failed for a transient reason (network, timeout): the stage may be retried."""


class ParticipantFailedFatal(ParticipantFailedError, FatalError):
    """A participant failed for a reason retrying cannot fix."""


def participant_failed(who: str, cause: BaseException) -> ParticipantFailedError:
    """The typed error for a failed participant: recoverable exactly when its cause was."""
    if isinstance(cause, ArchivedError) and cause.recoverable:
        return ParticipantFailedRecoverable(who, cause)
    return ParticipantFailedFatal(who, cause)
