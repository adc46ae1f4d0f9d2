"""qtype_numerical: a number within a tolerance of an accepted value."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import BLANK, PARTIAL, RIGHT, Feedback, QuestionDef, RenderContext
from archived.simulator.questions.markup import esc, grade_kind


@dataclass
class NumericalAnswer:
    """An accepted value: |response - value| <= tolerance earns `fraction`."""

    value: float
    tolerance: float
    fraction: float
    feedback: str = ""
    display: str = ""


def number_box(ctx: RenderContext, response: str | None, fraction: float | None) -> str:
    """The `Answer:` input row shared by numerical and calculated questions."""
    markup = ctx.markup
    css = "form-control d-inline"
    icon = ""
    if ctx.finished and response is not None and fraction is not None:
        kind = grade_kind(fraction)
        css += " " + kind
        icon = ctx.icon(kind)
    value = f' value="{esc(response)}"' if response is not None else ""
    layout = "ablock d-flex flex-wrap align-items-center" if markup.profile.at_least(4, 2) else "ablock form-inline"
    return (
        f'<div class="{layout}"><label for="{ctx.prefix}answer">Answer: '
        f'<span class="{markup.sr_only}">Question {ctx.number}</span></label><span class="answer">'
        f'<input type="text" name="{ctx.prefix}answer"{value} id="{ctx.prefix}answer" size="30" '
        f'class="{css}" readonly="readonly" />{icon}</span></div>'
    )


@dataclass
class NumericalQuestion(QuestionDef):
    """Responses are stored as the typed string."""

    answers: list[NumericalAnswer] = field(default_factory=list)
    right_variants: list[str] = field(default_factory=list)

    qtype = "numerical"

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """A value inside the best answer's tolerance, or a plausible wrong number."""
        if outcome == BLANK:
            return None
        best = max(self.answers, key=lambda a: a.fraction)
        if outcome == RIGHT:
            return rng.choice(self.right_variants or [best.display or str(best.value)])
        halves = [a for a in self.answers if 0 < a.fraction < 1]
        if outcome.startswith(PARTIAL) and halves:
            return halves[0].display or str(halves[0].value)
        wrong = best.value * rng.choice([0.5, 0.9, 1.1, 1.3, 2.0, -1.0]) + rng.choice([0.2, 0.7, 1.5])
        return f"{wrong:.2f}"

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """The fraction of the first answer whose tolerance contains the response."""
        if response is None:
            return 0.0
        try:
            number = float(str(response).replace(",", "."))
        except ValueError:
            return 0.0
        for answer in self.answers:
            if abs(number - answer.value) <= answer.tolerance + 1e-12:
                return answer.fraction
        return 0.0

    def _matched(self, response: Any) -> NumericalAnswer | None:
        if response is None:
            return None
        try:
            number = float(str(response).replace(",", "."))
        except ValueError:
            return None
        for answer in self.answers:
            if abs(number - answer.value) <= answer.tolerance + 1e-12:
                return answer
        return None

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text and the answer box."""
        qtext = ctx.markup.wrap_text(ctx.fmt(self.text))
        return f'<div class="qtext">{qtext}</div>' + number_box(ctx, response, fraction)

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """The matched answer's feedback and the best answer."""
        result = Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")
        matched = self._matched(response)
        if matched and matched.feedback:
            result.specific = ctx.fmt(matched.feedback)
        result.right_answer = "The correct answer is: " + esc(self.right_answer_summary(variant))
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """The typed number."""
        return response or ""

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The best answer as displayed."""
        best = max(self.answers, key=lambda a: a.fraction)
        return best.display or str(best.value)

    def settings(self) -> str | None:
        """Unit settings."""
        return json.dumps(
            {"unitgradingtype": "0", "unitpenalty": "0.1000000", "unitdisplay": "3", "unitsleft": "0"},
            separators=(",", ":"),
        )

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The typed number (the input's value)."""
        return [response] if response else []

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """The right answer line."""
        return ["The correct answer is: " + self.right_answer_summary(variant)]
