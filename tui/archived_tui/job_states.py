"""Job states as the TUI groups and shows them (names come from the daemon's pure `JobState` enum)."""

from __future__ import annotations

from dataclasses import dataclass

from archived.protocol.states import ACTIVE_STATES, RETRYABLE_STATES, TERMINAL_STATES, JobState

ACTIVE = frozenset(s.value for s in ACTIVE_STATES | {JobState.CLEANUP})
TERMINAL = frozenset(s.value for s in TERMINAL_STATES)
RETRYABLE = frozenset(s.value for s in RETRYABLE_STATES)
# A job may be canceled until it ends or starts cleaning up (the daemon refuses later cancels).
CANCELABLE = frozenset(s.value for s in ACTIVE_STATES)

_STYLES: dict[str, str] = {
    JobState.COMPLETED: "green",
    JobState.FAILED: "bold red",
    JobState.TIMED_OUT: "red",
    JobState.CANCELED: "yellow",
    JobState.QUEUED: "cyan",
    JobState.RECOVERABLE_ERROR: "yellow",
    JobState.ERROR: "red",
    JobState.FAILURE: "red",
    JobState.ERROR_HANDLING: "red",
}
_ICONS: dict[str, str] = {
    JobState.COMPLETED: "✔",
    JobState.FAILED: "✖",
    JobState.TIMED_OUT: "◷",
    JobState.CANCELED: "⊘",
    JobState.QUEUED: "…",
    JobState.RECOVERABLE_ERROR: "↻",
    JobState.ERROR: "!",
    JobState.FAILURE: "!",
    JobState.ERROR_HANDLING: "!",
    JobState.UNINITIALIZED: "·",
}


def state_style(state: str) -> str:
    """The colour of a state (processing stages are blue)."""
    return _STYLES.get(state, "blue")


def state_icon(state: str) -> str:
    """A one-cell symbol for a state, so it reads without colour too."""
    return _ICONS.get(state, "▶")


@dataclass(frozen=True)
class StateFilter:
    """A named group of states the jobs table can be filtered by (None: every state)."""

    name: str
    states: frozenset[str] | None

    def matches(self, state: str) -> bool:
        """Whether a job in `state` belongs in the filtered table."""
        return self.states is None or state in self.states


STATE_FILTERS: tuple[StateFilter, ...] = (
    StateFilter("all", None),
    StateFilter("active", ACTIVE),
    StateFilter("failed", frozenset({JobState.FAILED.value, JobState.TIMED_OUT.value})),
    StateFilter("completed", frozenset({JobState.COMPLETED.value})),
    StateFilter("canceled", frozenset({JobState.CANCELED.value})),
)
