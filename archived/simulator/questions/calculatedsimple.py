"""qtype_calculatedsimple: a formula over wildcards whose values differ per attempt."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import BLANK, RIGHT, Feedback, QuestionDef, RenderContext, text_fragments
from archived.simulator.questions.filters import formulas
from archived.simulator.questions.markup import esc
from archived.simulator.questions.numerical import number_box


@dataclass
class CalculatedSimpleQuestion(QuestionDef):
    """`{x}`-style wildcards in the text are replaced by the attempt's values."""

    wildcards: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    formula: Callable[[dict[str, float]], float] = field(default=lambda values: 0.0)
    answer_decimals: int = 2
    relative_tolerance: float = 0.01
    fixed_values: dict[str, float] | None = None

    qtype = "calculatedsimple"

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """Draw each wildcard from its range with its number of decimals."""
        if self.fixed_values is not None:
            return {"values": dict(self.fixed_values)}
        values = {}
        for name, (low, high, decimals) in self.wildcards.items():
            values[name] = round(rng.uniform(low, high), decimals)
        return {"values": values}

    def _substitute(self, text: str, values: dict[str, float]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                return match.group(0)
            decimals = self.wildcards.get(name, (0, 0, 1))[2]
            return f"{values[name]:.{decimals}f}"

        return re.sub(r"\{([a-z][a-z0-9_]*)\}", replace, text)

    def text_for(self, variant: dict[str, Any]) -> str:
        """The text with this attempt's values."""
        return self._substitute(self.text, variant["values"])

    def _right(self, variant: dict[str, Any]) -> float:
        return self.formula(variant["values"])

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """The right value, or one that misses by more than the tolerance."""
        if outcome == BLANK:
            return None
        right = self._right(variant)
        if outcome == RIGHT:
            return f"{right:.{self.answer_decimals}f}"
        wrong = right + rng.choice([-1, 1]) * max(abs(right) * rng.uniform(0.05, 0.3), 0.5)
        return f"{wrong:.{self.answer_decimals}f}"

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """1 within the relative tolerance, else 0."""
        if response is None:
            return 0.0
        try:
            number = float(response)
        except ValueError:
            return 0.0
        right = self._right(variant)
        return 1.0 if abs(number - right) <= abs(right) * self.relative_tolerance + 1e-12 else 0.0

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text with values and the answer box."""
        qtext = ctx.markup.wrap_text(ctx.fmt(self.text_for(variant)))
        return f'<div class="qtext">{qtext}</div>' + number_box(ctx, response, fraction)

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """General feedback (with values) and the right value."""
        general = self._substitute(self.generalfeedback, variant["values"])
        result = Feedback(general=ctx.fmt(general) if general else "")
        result.right_answer = "The correct answer is: " + esc(self.right_answer_summary(variant))
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """The typed number."""
        return response or ""

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The right value with the answer's decimals."""
        return f"{self._right(variant):.{self.answer_decimals}f}"

    def settings(self) -> str | None:
        """Unit settings (calculated questions have no `unitsleft`)."""
        return json.dumps(
            {"unitgradingtype": "0", "unitpenalty": "0.1000000", "unitdisplay": "3", "unitsleft": None},
            separators=(",", ":"),
        )

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The typed number."""
        return [response] if response else []

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """The right answer line, which differs per attempt."""
        return ["The correct answer is: " + self.right_answer_summary(variant)]

    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """Text fragments with this attempt's values."""
        return text_fragments(self.text_for(variant))

    def tex(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Formulas with the values substituted."""
        return formulas(self.text_for(variant)) + formulas(self._substitute(self.generalfeedback, variant["values"]))
