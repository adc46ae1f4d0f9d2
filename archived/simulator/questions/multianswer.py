"""qtype_multianswer (Cloze): short-answer and drop-down gaps embedded in the text.

Per-gap feedback (including the right answer) lives only in the popover's `data-content` attribute; the
outcome shows just the general feedback, exactly like Moodle.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import (
    BLANK,
    Feedback,
    QuestionDef,
    RenderContext,
    format_number,
    parts_right,
    text_fragments,
)
from archived.simulator.questions.markup import esc

_MARKER = re.compile(r"\{#(\d+)\}")


def _selected(flag: bool) -> str:
    return ' selected="selected"' if flag else ""


@dataclass
class ClozeGap:
    """One embedded subquestion: `shortanswer` (first answer right) or `multichoice` (index `right`)."""

    kind: str
    answers: list[str]
    right: int = 0
    wrong_pool: list[str] = field(default_factory=list)
    feedback_right: str = "Well done!"


@dataclass
class MultianswerQuestion(QuestionDef):
    """`text` holds `{#n}` markers for the gaps."""

    gaps: list[ClozeGap] = field(default_factory=list)

    qtype = "multianswer"

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state (gap choices keep their order)."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """One value per gap: typed text or the chosen option index."""
        if outcome == BLANK:
            return None
        count = len(self.gaps)
        right = parts_right(outcome, count, rng)
        correct = set(rng.sample(range(count), right))
        response: list[Any] = []
        for index, gap in enumerate(self.gaps):
            if gap.kind == "shortanswer":
                response.append(gap.answers[0] if index in correct else rng.choice(gap.wrong_pool or ["?"]))
            else:
                wrong = [i for i in range(len(gap.answers)) if i != gap.right]
                response.append(gap.right if index in correct else rng.choice(wrong))
        return response

    def _gap_right(self, gap: ClozeGap, value: Any) -> bool:
        if value is None:
            return False
        if gap.kind == "shortanswer":
            return str(value).strip().lower() == gap.answers[0].lower()
        return bool(value == gap.right)

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """Share of right gaps."""
        if response is None:
            return 0.0
        right = sum(1 for gap, value in zip(self.gaps, response, strict=True) if self._gap_right(gap, value))
        return round(right / len(self.gaps), 7)

    def _popover(self, gap: ClozeGap, value: Any, ctx: RenderContext) -> str:
        right = self._gap_right(gap, value)
        answer = gap.answers[0] if gap.kind == "shortanswer" else gap.answers[gap.right]
        lines = ["Correct" if right else "Incorrect"]
        if right and gap.feedback_right:
            lines.append(gap.feedback_right)
        lines.append(f"The correct answer is: {answer}")
        lines.append(f"Mark {format_number(1.0 if right else 0.0)} out of {format_number(1.0)}")
        content = '<span class="feedbackspan">' + "<br />".join(lines) + "</span>"
        bs = ctx.markup.data_bs
        icon = ctx.icon("correct" if right else "incorrect")
        ctx.endcode.amd("qtype_multianswer/feedback", "initPopovers()")
        return (
            f'<a role="button" tabindex="0" class="feedbacktrigger btn btn-link p-0" {bs}toggle="popover" '
            f'{bs}container="body" {bs}content="{esc(content)}" {bs}placement="right" {bs}trigger="hover focus" '
            f'{bs}html="true" href="#">{icon}</a>'
        )

    def _render_gap(self, number: int, gap: ClozeGap, value: Any, ctx: RenderContext) -> str:
        markup = ctx.markup
        name = f"{ctx.prefix}sub{number}_answer"
        label = f'<label class="subq accesshide" for="{name}">Answer {number} Question {ctx.number}</label>'
        graded = ctx.finished and value is not None
        kind = ("correct" if self._gap_right(gap, value) else "incorrect") if graded else ""
        if gap.kind == "shortanswer":
            size = max(len(gap.answers[0]), len(str(value or ""))) + (1 if value is not None else 0)
            css = "form-control d-inline mb-1" + (f" {kind}" if kind else "")
            shown = f' value="{esc(str(value))}"' if value is not None else ""
            control = (
                f'<input type="text" name="{name}"{shown} id="{name}" size="{size}" class="{css}" '
                'readonly="readonly" />'
            )
        else:
            options = '<option value="">&nbsp;</option>' + "".join(
                f'<option{_selected(value == i)} value="{i}">{esc(text)}</option>' for i, text in enumerate(gap.answers)
            )
            extra = kind if kind else f"menu{name}"
            if markup.profile.bootstrap5:
                # 5.0 prints `class` before `disabled` on this select.
                attributes = f'class="select {markup.select} {extra}" disabled="disabled"'
            else:
                attributes = f'disabled="disabled" class="select {markup.select} {extra}"'
            control = f'<select id="{name}" {attributes} name="{name}">{options}</select>'
        popover = self._popover(gap, value, ctx) if graded else ""
        return f'<span class="subquestion">{label}{control}{popover}</span>'

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """The text with its gaps (no `.qtext` wrapper, as Moodle renders Cloze)."""
        pieces = _MARKER.split(self.text)
        out = [ctx.fmt(pieces[0])]
        for index in range(1, len(pieces), 2):
            number = int(pieces[index])
            value = response[number - 1] if response is not None else None
            out.append(self._render_gap(number, self.gaps[number - 1], value, ctx))
            out.append(ctx.fmt(pieces[index + 1]))
        return "".join(out)

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """Only the general feedback."""
        return Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """`part 1: Owl; part 2: Pussy-cat`."""
        if response is None:
            return ""
        parts = []
        for index, (gap, value) in enumerate(zip(self.gaps, response, strict=True), start=1):
            shown = value if gap.kind == "shortanswer" else gap.answers[value]
            parts.append(f"part {index}: {shown}")
        return "; ".join(parts)

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The right value of every gap."""
        return "; ".join(
            f"part {i}: {g.answers[0] if g.kind == 'shortanswer' else g.answers[g.right]}"
            for i, g in enumerate(self.gaps, start=1)
        )

    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """The text around the gaps."""
        return text_fragments(_MARKER.sub("\n", self.text))

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Typed values and the selected options."""
        if response is None:
            return []
        return [str(v) if g.kind == "shortanswer" else g.answers[v] for g, v in zip(self.gaps, response, strict=True)]
