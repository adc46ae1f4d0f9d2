"""Job states as they travel on the wire, and the groups clients act on (which jobs run, may be canceled or
retried). Which state may follow which is the state chart's business (`archived.store.state_chart`)."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Every state a job can be in."""

    UNINITIALIZED = "uninitialized"
    QUEUED = "queued"
    ACTIVITY_ARCHIVING = "activity_archiving"
    POST_PROCESSING = "post_processing"
    STORE = "store"
    CLEANUP = "cleanup"
    COMPLETED = "completed"
    ERROR = "error"
    RECOVERABLE_ERROR = "recoverable_error"
    FAILURE = "failure"
    ERROR_HANDLING = "error_handling"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"

    @property
    def is_terminal(self) -> bool:
        """A job in this state does nothing more unless an operator retries it."""
        return self in TERMINAL_STATES

    @property
    def is_stage(self) -> bool:
        """One of the three processing stages."""
        return self in STAGES


class Outcome(StrEnum):
    """Where a job's Cleanup leads (recorded when Cleanup is entered)."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"

    @property
    def final_state(self) -> JobState:
        """The terminal state this outcome ends in."""
        return JobState(self.value)


STAGES: tuple[JobState, ...] = (JobState.ACTIVITY_ARCHIVING, JobState.POST_PROCESSING, JobState.STORE)
TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELED, JobState.TIMED_OUT})
# An operator may retry a job that ended without completing.
RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.CANCELED, JobState.TIMED_OUT})
# States in which the job is doing (or waiting to do) work and may be canceled or time out.
ACTIVE_STATES = frozenset(
    {
        JobState.QUEUED,
        *STAGES,
        JobState.ERROR,
        JobState.RECOVERABLE_ERROR,
        JobState.FAILURE,
        JobState.ERROR_HANDLING,
    }
)
