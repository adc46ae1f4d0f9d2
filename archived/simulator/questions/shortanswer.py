"""qtype_shortanswer: a typed word or phrase matched against accepted answers."""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import (
    BLANK,
    PARTIAL,
    RIGHT,
    Feedback,
    QuestionDef,
    RenderContext,
    text_fragments,
)
from archived.simulator.questions.markup import esc, grade_kind

_BLANK = re.compile(r"_{5,}")


@dataclass
class AcceptedAnswer:
    """An answer pattern (`*` is a wildcard) with its fraction and feedback."""

    pattern: str
    fraction: float
    feedback: str = ""


@dataclass
class ShortAnswerQuestion(QuestionDef):
    """`text` contains a run of underscores where the input box goes."""

    answers: list[AcceptedAnswer] = field(default_factory=list)
    right_variants: list[str] = field(default_factory=list)
    wrong_pool: list[str] = field(default_factory=list)

    qtype = "shortanswer"

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """A right spelling, a half-right answer if there is one, or a word from the wrong pool."""
        if outcome == BLANK:
            return None
        if outcome == RIGHT:
            return rng.choice(self.right_variants or [self.answers[0].pattern])
        halves = [a.pattern for a in self.answers if 0 < a.fraction < 1 and "*" not in a.pattern]
        if outcome.startswith(PARTIAL) and halves:
            return rng.choice(halves)
        return rng.choice(self.wrong_pool or ["no idea"])

    def _match(self, response: str | None) -> AcceptedAnswer | None:
        if response is None:
            return None
        for answer in self.answers:
            if fnmatch.fnmatch(response.strip().lower(), answer.pattern.lower()):
                return answer
        return None

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """The fraction of the first matching answer."""
        matched = self._match(response)
        return matched.fraction if matched else 0.0

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text with the input box in place of the blank."""
        markup = ctx.markup
        blank = _BLANK.search(self.text)
        size = round(len(blank.group(0)) * 1.1) if blank else 80
        css = "form-control d-inline"
        icon = ""
        if ctx.finished and response is not None and fraction is not None:
            kind = grade_kind(fraction)
            css += " " + kind
            icon = ctx.icon(kind)
        value = f' value="{esc(response)}"' if response is not None else ""
        control = (
            f'<label for="{ctx.prefix}answer" class="{markup.sr_only}">Answer Question {ctx.number}</label>'
            f'<input type="text" name="{ctx.prefix}answer"{value} id="{ctx.prefix}answer" size="{size}" '
            f'class="{css}" readonly="readonly" />{icon}'
        )
        if blank:
            text = ctx.fmt(self.text[: blank.start()] + "\x00" + self.text[blank.end() :]).replace("\x00", control)
            return f'<div class="qtext">{markup.wrap_text(text)}</div>'
        qtext = markup.wrap_text(ctx.fmt(self.text))
        return f'<div class="qtext">{qtext}</div><div class="ablock form-inline">{control}</div>'

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """The matched answer's feedback and the first right answer."""
        result = Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")
        matched = self._match(response)
        if matched and matched.feedback:
            result.specific = ctx.fmt(matched.feedback)
        result.right_answer = "The correct answer is: " + esc(self.right_answer_summary(variant))
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """The typed text."""
        return response or ""

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The best answer pattern."""
        return max(self.answers, key=lambda a: a.fraction).pattern

    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """The text around the blank."""
        return text_fragments(_BLANK.sub("\n", self.text))

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The typed answer (shown as the input's value)."""
        return [response] if response else []

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """The right answer line."""
        return ["The correct answer is: " + self.right_answer_summary(variant)]
