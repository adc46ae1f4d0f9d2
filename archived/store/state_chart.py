"""The job state chart (ARCHITECTURE §2), pure: no I/O, testable on its own. The store refuses every transition
it does not allow, so no code path can write one.

    Uninitialized -> Queued -> ActivityArchiving -> PostProcessing -> Store -> Cleanup -> Completed
    any stage -> Error -> RecoverableError -> (the same stage again)
                       -> Failure -> ErrorHandling -> Cleanup -> Failed
    cancel: Queued / any stage / Error / RecoverableError -> Cleanup -> Canceled
    timeout: any stage / Error / RecoverableError -> Cleanup -> TimedOut
    operator retry: Failed / Canceled / TimedOut -> Queued

Cleanup knows where it leads through the job's `outcome`, recorded when Cleanup is entered, so a daemon that
dies during cleanup finishes it to the right end state after a restart. The states themselves are the protocol's
(`archived.protocol.states`).
"""

from __future__ import annotations

from archived.protocol.states import STAGES, JobState, Outcome

_S = JobState
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    _S.UNINITIALIZED: frozenset({_S.QUEUED}),
    _S.QUEUED: frozenset({*STAGES, _S.CLEANUP}),  # a queued job resumes at its first unfinished stage
    _S.ACTIVITY_ARCHIVING: frozenset({_S.POST_PROCESSING, _S.ERROR, _S.CLEANUP}),
    _S.POST_PROCESSING: frozenset({_S.STORE, _S.ERROR, _S.CLEANUP}),
    _S.STORE: frozenset({_S.CLEANUP, _S.ERROR}),
    _S.ERROR: frozenset({_S.RECOVERABLE_ERROR, _S.FAILURE, _S.CLEANUP}),
    _S.RECOVERABLE_ERROR: frozenset({*STAGES, _S.CLEANUP}),
    _S.FAILURE: frozenset({_S.ERROR_HANDLING}),
    _S.ERROR_HANDLING: frozenset({_S.CLEANUP}),
    _S.CLEANUP: frozenset({_S.COMPLETED, _S.FAILED, _S.CANCELED, _S.TIMED_OUT}),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset({_S.QUEUED}),
    _S.CANCELED: frozenset({_S.QUEUED}),
    _S.TIMED_OUT: frozenset({_S.QUEUED}),
}

# Which outcomes may be recorded when Cleanup is entered from a given state.
_CLEANUP_OUTCOMES: dict[JobState, frozenset[Outcome]] = {
    _S.QUEUED: frozenset({Outcome.CANCELED}),
    _S.ACTIVITY_ARCHIVING: frozenset({Outcome.CANCELED, Outcome.TIMED_OUT}),
    _S.POST_PROCESSING: frozenset({Outcome.CANCELED, Outcome.TIMED_OUT}),
    _S.STORE: frozenset({Outcome.COMPLETED, Outcome.CANCELED, Outcome.TIMED_OUT}),
    _S.ERROR: frozenset({Outcome.CANCELED, Outcome.TIMED_OUT}),
    _S.RECOVERABLE_ERROR: frozenset({Outcome.CANCELED, Outcome.TIMED_OUT}),
    _S.ERROR_HANDLING: frozenset({Outcome.FAILED}),
}


class IllegalTransition(ValueError):
    """A transition the state chart does not allow."""


def check_transition(
    current: JobState, target: JobState, *, outcome: Outcome | None = None, stage: JobState | None = None
) -> None:
    """Raise `IllegalTransition` unless `current -> target` is allowed.

    `outcome` is the job's recorded outcome: required when entering Cleanup and when leaving it.
    `stage` is the stage that failed: a recoverable error may only go back to that stage.
    """
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a job cannot go from {current} to {target}")
    if target is JobState.CLEANUP and (outcome is None or outcome not in _CLEANUP_OUTCOMES.get(current, ())):
        raise IllegalTransition(f"cleanup from {current} cannot lead to {outcome}")
    if current is JobState.CLEANUP and (outcome is None or outcome.final_state is not target):
        raise IllegalTransition(f"cleanup with outcome {outcome} cannot end as {target}")
    if current is JobState.RECOVERABLE_ERROR and target.is_stage and stage is not None and target is not stage:
        raise IllegalTransition(f"a recoverable error in {stage} is retried in {stage}, not {target}")


def next_stage(stage: JobState) -> JobState:
    """The state after a stage finishes successfully (Store leads to Cleanup)."""
    index = STAGES.index(stage)
    return STAGES[index + 1] if index + 1 < len(STAGES) else JobState.CLEANUP


def backoff_delay(attempt: int, *, base: float, maximum: float) -> float:
    """Exponential backoff before retry number `attempt` (1-based): base, 2·base, 4·base, … capped."""
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    return min(maximum, base * (1 << (attempt - 1)))
