"""What a faithful rendering of an attempt must contain, for tests of the quiz report driver.

Texts are plain, whitespace-normalised fragments of what Moodle shows as text once MathJax has typeset the
formulas (formulas are listed separately in `tex`, without delimiters). Where Moodle itself shows a response
only through form controls, the fragment is still listed: a report must make it visible (input values,
selected options, drag-and-drop placements).
"""

from __future__ import annotations

from dataclasses import dataclass

from archived.simulator.data.attempts import AttemptDetail
from archived.simulator.data.model import Attempt, Quiz, User
from archived.simulator.questions.attempt import QuestionAttempt
from archived.simulator.questions.base import format_number


@dataclass(frozen=True)
class SlotExpectation:
    """One slot of one attempt."""

    slot: int
    qtype: str
    number: str | None
    question_texts: tuple[str, ...]
    response_texts: tuple[str, ...]
    right_answer_texts: tuple[str, ...]
    tex: tuple[str, ...]
    state: str
    status: str
    mark: str
    maxmark: str
    attachments: tuple[str, ...]
    comment: str | None
    history_actions: tuple[str, ...]


@dataclass(frozen=True)
class AttemptExpectations:
    """Expectations for a whole attempt."""

    attemptid: int
    quizid: int
    userid: int
    username: str
    fullname: str
    idnumber: str
    state: str
    sumgrades: float | None
    grade: float | None
    slots: tuple[SlotExpectation, ...]

    def all_response_texts(self) -> list[str]:
        """Every response fragment of every slot."""
        return [text for slot in self.slots for text in slot.response_texts]

    def slot(self, number: int) -> SlotExpectation:
        """The expectation for slot `number`."""
        for expectation in self.slots:
            if expectation.slot == number:
                return expectation
        raise KeyError(number)


def _slot(qa: QuestionAttempt, finished: bool, decimals: int) -> SlotExpectation:
    question = qa.question
    comment_plain = None
    if qa.comment:
        comment_plain = " ".join(qa.comment.replace("<p>", " ").replace("</p>", " ").split())
    return SlotExpectation(
        slot=qa.slot,
        qtype=question.type_name,
        number=qa.number,
        question_texts=tuple(question.visible_question_texts(qa.variant)),
        response_texts=tuple(question.visible_response_texts(qa.variant, qa.response)),
        right_answer_texts=tuple(question.visible_right_answer_texts(qa.variant)) if finished else (),
        tex=tuple(question.tex(qa.variant, qa.response)),
        state=qa.state,
        status=qa.status,
        mark=format_number(qa.mark, decimals) if qa.mark is not None and finished else "",
        maxmark=format_number(qa.maxmark, decimals),
        attachments=tuple(stored.filename for stored in qa.attachments),
        comment=comment_plain,
        history_actions=tuple(step.action for step in qa.steps),
    )


def build_expectations(quiz: Quiz, attempt: Attempt, user: User, detail: AttemptDetail) -> AttemptExpectations:
    """Collect the expectations of one attempt by `user` from its generated `detail`."""
    finished = attempt.state in ("finished", "abandoned", "submitted")
    grade = None
    if detail.sumgrades is not None:
        grade = detail.sumgrades * quiz.grade / quiz.sumgrades
    return AttemptExpectations(
        attemptid=attempt.id,
        quizid=quiz.id,
        userid=user.id,
        username=user.username,
        fullname=user.fullname,
        idnumber=user.idnumber,
        state=attempt.state,
        sumgrades=detail.sumgrades,
        grade=grade,
        slots=tuple(_slot(qa, finished, quiz.decimalpoints) for qa in detail.questions),
    )
