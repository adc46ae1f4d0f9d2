"""qtype_truefalse: a statement judged True or False."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from archived.simulator.questions.base import BLANK, RIGHT, Feedback, QuestionDef, RenderContext


@dataclass
class TrueFalseQuestion(QuestionDef):
    """The response is True or False (None when blank)."""

    correct: bool = True
    truefeedback: str = "This is the right answer."
    falsefeedback: str = "This is the wrong answer."

    qtype = "truefalse"

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """The right value for `right`, the other one for anything but blank."""
        if outcome == BLANK:
            return None
        return self.correct if outcome == RIGHT else not self.correct

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """1 or 0."""
        return 1.0 if response is not None and response == self.correct else 0.0

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text and the two radio buttons."""
        markup = ctx.markup
        rows = []
        for position, (value, label) in enumerate(((True, "True"), (False, "False"))):
            checked = response is not None and response == value
            css = f"r{position}"
            icon = ""
            if checked and ctx.finished:
                kind = "correct" if value == self.correct else "incorrect"
                css += " " + kind
                icon = ctx.icon(kind)
            input_id = f"{ctx.prefix}answer{label.lower()}"
            check = ' checked="checked"' if checked else ""
            rows.append(
                f'<div class="{css}"><input type="radio" name="{ctx.prefix}answer" value="{int(value)}" '
                f'id="{input_id}" disabled="disabled"{check} />'
                f'<label for="{input_id}" class="{markup.ms1}">{label}</label> {icon}</div>'
            )
        legend = (
            f'<legend class="prompt h6 {markup.fw_normal} {markup.sr_only}">'
            f'<span class="{markup.sr_only}">Question {ctx.number}</span> Answer</legend>'
        )
        qtext = markup.wrap_text(ctx.fmt(self.text))
        answers = "".join(rows)
        if not markup.profile.fieldset_answers:
            return (
                f'<div class="qtext">{qtext}</div><div class="ablock"><div class="prompt">Select one:</div>'
                f'<div class="answer">{answers}</div></div>'
            )
        return (
            f'<div class="qtext">{qtext}</div><fieldset class="ablock">{legend}'
            f'<div class="answer">{answers}</div></fieldset>'
        )

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """The chosen answer's feedback and "The correct answer is 'True'."."""
        result = Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")
        if response is not None:
            result.specific = ctx.fmt(self.truefeedback if response else self.falsefeedback)
        result.right_answer = f"The correct answer is '{'True' if self.correct else 'False'}'."
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """True or False."""
        return "" if response is None else ("True" if response else "False")

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """True or False."""
        return "True" if self.correct else "False"

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The chosen label."""
        return [] if response is None else ["True" if response else "False"]

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """The right answer line."""
        return [f"The correct answer is '{'True' if self.correct else 'False'}'."]
