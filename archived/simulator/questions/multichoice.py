"""qtype_multichoice: one or several right answers among shuffled choices."""

from __future__ import annotations

import json
import random
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
from archived.simulator.questions.filters import formulas
from archived.simulator.questions.markup import grade_kind

_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"]


@dataclass
class Choice:
    """One answer with its fraction and per-choice feedback."""

    text: str
    fraction: float
    feedback: str = ""


@dataclass
class MultichoiceQuestion(QuestionDef):
    """Single (radio) or multiple (checkbox) choice."""

    choices: list[Choice] = field(default_factory=list)
    single: bool = True
    answernumbering: str = "123"
    correctfeedback: str = "Well done!"
    partiallycorrectfeedback: str = "Parts, but only parts, of your response are correct."
    incorrectfeedback: str = "That is not right at all."

    qtype = "multichoice"

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """Shuffle the choices."""
        order = list(range(len(self.choices)))
        rng.shuffle(order)
        return {"order": order}

    def _right(self) -> list[int]:
        return [i for i, choice in enumerate(self.choices) if choice.fraction > 0]

    def _wrong(self) -> list[int]:
        return [i for i, choice in enumerate(self.choices) if choice.fraction <= 0]

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """Single: the chosen choice index; multiple: the sorted list of chosen indexes."""
        right, wrong = self._right(), self._wrong()
        if outcome == BLANK:
            return None
        if self.single:
            best = max(range(len(self.choices)), key=lambda i: self.choices[i].fraction)
            if outcome == RIGHT:
                return best
            partial = [i for i in right if i != best]
            if outcome.startswith(PARTIAL) and partial:
                return rng.choice(partial)
            return rng.choice(wrong)
        if outcome == RIGHT:
            return sorted(right)
        if outcome.startswith(PARTIAL):
            picked = [rng.choice(right)]
            if rng.random() < 0.5 and wrong:
                picked.append(rng.choice(wrong))
            return sorted(picked)
        return sorted(rng.sample(wrong, k=min(len(wrong), 1 + rng.randrange(2))))

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """Sum of the chosen fractions, clamped to 0..1."""
        if response is None:
            return 0.0
        chosen = [response] if self.single else list(response)
        total = float(sum(self.choices[i].fraction for i in chosen))
        return round(max(0.0, min(1.0, total)), 7)

    def _chosen(self, response: Any) -> set[int]:
        if response is None:
            return set()
        return {response} if self.single else set(response)

    def _number(self, position: int) -> str:
        if self.answernumbering == "abc":
            return chr(ord("a") + position) + ". "
        if self.answernumbering == "ABCD":
            return chr(ord("A") + position) + ". "
        if self.answernumbering == "iii":
            return _ROMAN[position] + ". "
        if self.answernumbering == "none":
            return ""
        return f"{position + 1}. "

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text and the choice list with the student's marks."""
        markup = ctx.markup
        chosen = self._chosen(response)
        show_feedback = ctx.finished
        qtext = markup.wrap_text(ctx.fmt(self.text))
        rows = []
        for position, index in enumerate(variant["order"]):
            choice = self.choices[index]
            css = f"r{position % 2}"
            checked = index in chosen
            if show_feedback and checked:
                css += " " + grade_kind(choice.fraction if choice.fraction > 0 else 0.0)
            if self.single:
                input_html = (
                    f'<input type="radio" name="{ctx.prefix}answer" disabled="disabled" value="{position}" '
                    f'id="{ctx.prefix}answer{position}" aria-labelledby="{ctx.prefix}answer{position}_label"'
                )
                label_id = f"{ctx.prefix}answer{position}_label"
            else:
                input_html = (
                    f'<input type="checkbox" name="{ctx.prefix}choice{position}" disabled="disabled" value="1" '
                    f'id="{ctx.prefix}choice{position}" aria-labelledby="{ctx.prefix}choice{position}_label"'
                )
                label_id = f"{ctx.prefix}choice{position}_label"
            input_html += ' checked="checked" />' if checked else " />"
            label = (
                f'<div class="d-flex w-auto" id="{label_id}" data-region="answer-label">'
                f'<span class="answernumber">{self._number(position)}</span>'
                f'<div class="flex-fill {markup.ms1}">{ctx.fmt(choice.text)}</div></div> '
            )
            extra = ""
            if show_feedback and checked:
                kind = grade_kind(choice.fraction if choice.fraction > 0 else 0.0)
                extra = f'<span class="{markup.ms1}">{ctx.icon(kind)}</span>'
                if choice.feedback:
                    extra += f'<div class="specificfeedback">{ctx.fmt(choice.feedback)}</div>'
            rows.append(f'<div class="{css}">{input_html}{label}{extra}</div>\n')
        ctx.endcode.amd("qtype_multichoice/answers", f'init("{ctx.dom_id}")')
        answers = "".join(rows)
        if ctx.markup.profile.fieldset_answers:
            legend = (
                f'<legend class="prompt h6 {markup.fw_normal} {markup.sr_only}">'
                f'<span class="{markup.sr_only}">Question {ctx.number}</span> Answer</legend>'
            )
            block = (
                f'<fieldset class="ablock no-overflow visual-scroll-x">{legend}'
                f'<div class="answer">{answers}</div></fieldset>'
            )
        else:
            prompt = "Select one:" if self.single else "Select one or more:"
            block = (
                f'<div class="ablock no-overflow visual-scroll-x"><div class="prompt">{prompt}</div>'
                f'<div class="answer">{answers}</div></div>'
            )
        return f'<div class="qtext">{qtext}</div>{block}'

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """Combined feedback, the number of right parts and the right answer line."""
        result = Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")
        if response is not None and fraction is not None:
            kind = grade_kind(fraction)
            result.specific = ctx.fmt(
                {
                    "correct": self.correctfeedback,
                    "partiallycorrect": self.partiallycorrectfeedback,
                    "incorrect": self.incorrectfeedback,
                }[kind]
            )
            if kind == "partiallycorrect" and not self.single:
                right = sum(1 for i in response if self.choices[i].fraction > 0)
                result.parts_correct = f'<div class="numpartscorrect">You have correctly selected {right}.</div>'
        texts = [ctx.fmt(self.choices[i].text) for i in variant["order"] if self.choices[i].fraction > 0]
        if self.single:
            best = max(range(len(self.choices)), key=lambda i: self.choices[i].fraction)
            result.right_answer = "The correct answer is: " + ctx.fmt(self.choices[best].text)
        else:
            result.right_answer = "The correct answers are: " + ", ".join(texts)
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """The chosen choices' texts, `; `-separated."""
        if response is None:
            return ""
        chosen = [response] if self.single else list(response)
        ordered = [i for i in variant["order"] if i in chosen]
        return "; ".join(self.choices[i].text for i in ordered)

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The right choices' texts."""
        return ", ".join(self.choices[i].text for i in variant["order"] if self.choices[i].fraction > 0)

    def settings(self) -> str | None:
        """Multichoice rendering settings (DB strings, as Moodle encodes them)."""
        return json.dumps(
            {
                "shuffleanswers": "1",
                "answernumbering": self.answernumbering,
                "showstandardinstruction": "0",
                "layout": 1,
            },
            separators=(",", ":"),
        )

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Texts of the chosen choices (those that are not pure formulas)."""
        chosen = self._chosen(response)
        found: list[str] = []
        for index in variant["order"]:
            if index in chosen:
                found.extend(text_fragments(self.choices[index].text))
        return found

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """Texts of the right choices."""
        found: list[str] = []
        for index in variant["order"]:
            if self.choices[index].fraction > 0:
                found.extend(text_fragments(self.choices[index].text))
        return found

    def tex(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Formulas of the text, the feedback and every choice."""
        found = super().tex(variant, response)
        for choice in self.choices:
            found += formulas(choice.text)
        return found
