"""The job state machine: every legal and every illegal transition."""

from __future__ import annotations

import itertools

import pytest

from archived.protocol.states import STAGES, JobState, Outcome
from archived.store.state_chart import (
    TRANSITIONS,
    IllegalTransition,
    backoff_delay,
    check_transition,
    next_stage,
)

S = JobState

# The state chart of ARCHITECTURE §2, written out independently of the implementation's table.
EXPECTED_LEGAL = {
    (S.UNINITIALIZED, S.QUEUED),
    (S.QUEUED, S.ACTIVITY_ARCHIVING),
    (S.QUEUED, S.POST_PROCESSING),
    (S.QUEUED, S.STORE),
    (S.QUEUED, S.CLEANUP),
    (S.ACTIVITY_ARCHIVING, S.POST_PROCESSING),
    (S.ACTIVITY_ARCHIVING, S.ERROR),
    (S.ACTIVITY_ARCHIVING, S.CLEANUP),
    (S.POST_PROCESSING, S.STORE),
    (S.POST_PROCESSING, S.ERROR),
    (S.POST_PROCESSING, S.CLEANUP),
    (S.STORE, S.CLEANUP),
    (S.STORE, S.ERROR),
    (S.ERROR, S.RECOVERABLE_ERROR),
    (S.ERROR, S.FAILURE),
    (S.ERROR, S.CLEANUP),
    (S.RECOVERABLE_ERROR, S.ACTIVITY_ARCHIVING),
    (S.RECOVERABLE_ERROR, S.POST_PROCESSING),
    (S.RECOVERABLE_ERROR, S.STORE),
    (S.RECOVERABLE_ERROR, S.CLEANUP),
    (S.FAILURE, S.ERROR_HANDLING),
    (S.ERROR_HANDLING, S.CLEANUP),
    (S.CLEANUP, S.COMPLETED),
    (S.CLEANUP, S.FAILED),
    (S.CLEANUP, S.CANCELED),
    (S.CLEANUP, S.TIMED_OUT),
    (S.FAILED, S.QUEUED),
    (S.CANCELED, S.QUEUED),
    (S.TIMED_OUT, S.QUEUED),
}


def _outcome_for(current: JobState, target: JobState) -> Outcome | None:
    """A valid outcome for transitions that need one."""
    if current is S.CLEANUP:
        return Outcome(target.value) if target.value in {o.value for o in Outcome} else Outcome.FAILED
    if target is S.CLEANUP:
        return {
            S.QUEUED: Outcome.CANCELED,
            S.STORE: Outcome.COMPLETED,
            S.ERROR_HANDLING: Outcome.FAILED,
        }.get(current, Outcome.CANCELED)
    return None


def test_the_table_is_exactly_the_chart() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_LEGAL


@pytest.mark.parametrize("current,target", sorted(EXPECTED_LEGAL))
def test_legal_transition_is_accepted(current: JobState, target: JobState) -> None:
    check_transition(current, target, outcome=_outcome_for(current, target))


ILLEGAL = sorted(set(itertools.product(JobState, JobState)) - EXPECTED_LEGAL)


@pytest.mark.parametrize("current,target", ILLEGAL)
def test_illegal_transition_is_refused(current: JobState, target: JobState) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, target, outcome=_outcome_for(current, target) or Outcome.FAILED)


def test_terminal_states_only_lead_back_to_queue_by_retry() -> None:
    assert TRANSITIONS[S.COMPLETED] == frozenset()
    for state in (S.FAILED, S.CANCELED, S.TIMED_OUT):
        assert TRANSITIONS[state] == {S.QUEUED}


@pytest.mark.parametrize(
    "current,outcome",
    [
        (S.ACTIVITY_ARCHIVING, Outcome.COMPLETED),  # only Store completes a job
        (S.POST_PROCESSING, Outcome.FAILED),  # failures go through ErrorHandling
        (S.QUEUED, Outcome.TIMED_OUT),  # a queued job has used no time
        (S.ERROR_HANDLING, Outcome.CANCELED),
        (S.STORE, None),
    ],
)
def test_cleanup_needs_an_outcome_that_fits(current: JobState, outcome: Outcome | None) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, S.CLEANUP, outcome=outcome)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_cleanup_ends_in_the_state_of_its_outcome(outcome: Outcome) -> None:
    for final in (S.COMPLETED, S.FAILED, S.CANCELED, S.TIMED_OUT):
        if final.value == outcome.value:
            check_transition(S.CLEANUP, final, outcome=outcome)
        else:
            with pytest.raises(IllegalTransition):
                check_transition(S.CLEANUP, final, outcome=outcome)


def test_a_timeout_is_its_own_end_state_not_a_failure() -> None:
    check_transition(S.ACTIVITY_ARCHIVING, S.CLEANUP, outcome=Outcome.TIMED_OUT)
    check_transition(S.CLEANUP, S.TIMED_OUT, outcome=Outcome.TIMED_OUT)
    with pytest.raises(IllegalTransition):
        check_transition(S.CLEANUP, S.FAILED, outcome=Outcome.TIMED_OUT)


def test_recoverable_error_retries_the_failed_stage_only() -> None:
    check_transition(S.RECOVERABLE_ERROR, S.STORE, stage=S.STORE)
    with pytest.raises(IllegalTransition):
        check_transition(S.RECOVERABLE_ERROR, S.ACTIVITY_ARCHIVING, stage=S.STORE)


def test_stage_order() -> None:
    assert [next_stage(s) for s in STAGES] == [S.POST_PROCESSING, S.STORE, S.CLEANUP]


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff_delay(n, base=2, maximum=20) for n in range(1, 6)] == [2, 4, 8, 16, 20]
    with pytest.raises(ValueError):
        backoff_delay(0, base=1, maximum=1)
