"""qtype_description: an information item without marks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from archived.simulator.questions.base import Feedback, QuestionDef, RenderContext


@dataclass
class DescriptionQuestion(QuestionDef):
    """Shown, never answered."""

    qtype = "description"
    info_item = True

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """Nothing to answer."""
        return None

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """No marks."""
        return None

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Just the text."""
        return f'<div class="qtext">{ctx.markup.wrap_text(ctx.fmt(self.text))}</div>'

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """None."""
        return Feedback()

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """Nothing."""
        return ""
