"""One question attempt of a quiz attempt: the generated response, its grading and its step history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import QuestionDef
from archived.simulator.storedfile import StoredFile

# Moodle question states -> (stateclass, status string) as `question_state` reports them.
STATES: dict[str, tuple[str, str]] = {
    "todo": ("notyetanswered", "Not yet answered"),
    "invalid": ("invalidanswer", "Incomplete answer"),
    "complete": ("answersaved", "Answer saved"),
    "needsgrading": ("requiresgrading", "Requires grading"),
    "finished": ("complete", "Complete"),
    "gaveup": ("notanswered", "Not answered"),
    "gradedwrong": ("incorrect", "Incorrect"),
    "gradedpartial": ("partiallycorrect", "Partially correct"),
    "gradedright": ("correct", "Correct"),
    "manfinished": ("complete", "Complete"),
    "mangaveup": ("notanswered", "Not answered"),
    "mangrwrong": ("incorrect", "Incorrect"),
    "mangrpartial": ("partiallycorrect", "Partially correct"),
    "mangrright": ("correct", "Correct"),
}


def graded_state(fraction: float, manual: bool) -> str:
    """The state name of a graded question (`gradedright`, `mangrpartial`, ...)."""
    prefix = "mangr" if manual else "graded"
    if fraction >= 0.9999999:
        return prefix + "right"
    if fraction <= 0.0000001:
        return prefix + "wrong"
    return prefix + "partial"


@dataclass
class Step:
    """One row of the response history."""

    id: int
    time: int
    action: str
    state: str
    marks: str = ""


@dataclass
class QuestionAttempt:
    """The state of one slot in one quiz attempt."""

    slot: int
    page: int
    maxmark: float
    question: QuestionDef
    number: str | None
    variant: dict[str, Any]
    response: Any
    fraction: float | None
    state: str
    steps: list[Step] = field(default_factory=list)
    comment: str | None = None
    attachments: list[StoredFile] = field(default_factory=list)
    flagged: bool = False
    lastactiontime: int = 0
    response_stepid: int = 0
    seen: bool = True

    @property
    def mark(self) -> float | None:
        """The mark (fraction × maximum mark, rounded like Moodle stores it), or None when not graded."""
        if self.fraction is None:
            return None
        return round(self.fraction * self.maxmark, 7)

    @property
    def sequencecheck(self) -> int:
        """Number of steps (`question_attempt::get_sequence_check_count`)."""
        return len(self.steps)

    @property
    def stateclass(self) -> str:
        """The `stateclass` of the JSON question structure."""
        return STATES[self.state][0]

    @property
    def status(self) -> str:
        """The human status string."""
        return STATES[self.state][1]

    @property
    def graded(self) -> bool:
        """True once the question has a mark."""
        return self.fraction is not None and self.state not in ("todo", "complete", "invalid", "needsgrading")
