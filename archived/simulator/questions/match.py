"""qtype_match: each stem is matched to one of the choices in a drop-down."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import BLANK, Feedback, QuestionDef, RenderContext, parts_right, text_fragments
from archived.simulator.questions.markup import esc, grade_kind


def _selected(flag: bool) -> str:
    return ' selected="selected"' if flag else ""


@dataclass
class MatchQuestion(QuestionDef):
    """`pairs` are (stem, right choice); `distractors` are extra choices without a stem."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    distractors: list[str] = field(default_factory=list)
    correctfeedback: str = "Well done!"
    partiallycorrectfeedback: str = "Parts, but only parts, of your response are correct."
    incorrectfeedback: str = "That is not right at all."

    qtype = "match"

    def _choices(self) -> list[str]:
        seen: list[str] = []
        for _, choice in self.pairs:
            if choice not in seen:
                seen.append(choice)
        return seen + [d for d in self.distractors if d not in seen]

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """Shuffle the stems and the choices."""
        stems = list(range(len(self.pairs)))
        rng.shuffle(stems)
        choices = self._choices()
        rng.shuffle(choices)
        return {"stems": stems, "choices": choices}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """The chosen choice text per displayed stem (None = "Choose...")."""
        if outcome == BLANK:
            return None
        count = len(self.pairs)
        right = parts_right(outcome, count, rng)
        correct_positions = set(rng.sample(range(count), right))
        answer = []
        for position, stem in enumerate(variant["stems"]):
            target = self.pairs[stem][1]
            if position in correct_positions:
                answer.append(target)
            else:
                answer.append(rng.choice([c for c in variant["choices"] if c != target]))
        return answer

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """Share of right stems."""
        if response is None:
            return 0.0
        right = sum(1 for position, stem in enumerate(variant["stems"]) if response[position] == self.pairs[stem][1])
        return round(right / len(self.pairs), 7)

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text and the table of stems with their drop-downs."""
        markup = ctx.markup
        # 4.5.5+ added the accessibility attributes; 5.0.0 and 4.1 predate that change.
        accessible = markup.profile.at_least(4, 5) and not markup.profile.at_least(5, 0)
        role = ' role="presentation"' if accessible else ""
        qtext_id = f' id="{ctx.prefix}qtext"' if accessible else ""
        rows = []
        for position, stem in enumerate(variant["stems"]):
            text, target = self.pairs[stem]
            chosen = response[position] if response is not None else None
            options = [f'<option{_selected(chosen is None)} value="0">Choose...</option>'] + [
                f'<option{_selected(chosen == choice)} value="{number}">{esc(choice)}</option>'
                for number, choice in enumerate(variant["choices"], start=1)
            ]
            control_css = "control"
            icon = ""
            if ctx.finished and chosen is not None:
                kind = "correct" if chosen == target else "incorrect"
                control_css += " " + kind
                icon = ctx.icon(kind)
            item_id = f' id="{ctx.prefix}sub{position}_itemtext"' if accessible else ""
            if accessible:
                described = (
                    f"{ctx.prefix}qtext {ctx.prefix}sub{position}_itemtext"
                    if position == 0
                    else f"{ctx.prefix}sub{position}_itemtext"
                )
                aria = f' aria-describedby="{described}"'
                select_css = f"select {markup.select} {markup.select} {markup.ms1}"
            else:
                aria = ""
                select_css = (
                    f"select {markup.select} {markup.select} d-inline-block {markup.ms1}"
                    if markup.profile.bootstrap5
                    else f"select {markup.select} {markup.select} {markup.ms1}"
                )
            rows.append(
                f'<tr class="r{position % 2}"{role}><td class="text"{item_id}{role}>{ctx.fmt(text)}</td>'
                f'<td class="{control_css}"{role}><label class="accesshide" for="menu{ctx.prefix}sub{position}">'
                f"Answer {position + 1} Question {ctx.number}</label>"
                f'<select disabled="disabled" class="{select_css}"{aria} id="menu{ctx.prefix}sub{position}" '
                f'name="{ctx.prefix}sub{position}">{"".join(options)}</select> {icon}</td></tr>'
            )
        qtext = markup.wrap_text(ctx.fmt(self.text))
        return (
            f'<div class="qtext"{qtext_id}>{qtext}</div><div class="ablock"><table class="answer"{role}>'
            f"<tbody{role}>{''.join(rows)}</tbody></table></div>"
        )

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """Combined feedback, number of right parts and the right pairing."""
        result = Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")
        if response is not None and fraction is not None:
            kind = grade_kind(fraction)
            result.specific = {
                "correct": self.correctfeedback,
                "partiallycorrect": self.partiallycorrectfeedback,
                "incorrect": self.incorrectfeedback,
            }[kind]
            if kind == "partiallycorrect":
                right = round(fraction * len(self.pairs))
                result.parts_correct = f'<div class="numpartscorrect">You have correctly selected {right}.</div>'
        pairs = ", ".join(
            f"{esc(self.pairs[stem][0])} &#x2192; {esc(self.pairs[stem][1])}" for stem in variant["stems"]
        )
        result.right_answer = "The correct answer is: " + pairs
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """`stem -> choice; ...`."""
        if response is None:
            return ""
        return "; ".join(
            f"{self.pairs[stem][0]} -> {response[position]}" for position, stem in enumerate(variant["stems"])
        )

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """`stem → choice, ...`."""
        return ", ".join(f"{self.pairs[stem][0]} \u2192 {self.pairs[stem][1]}" for stem in variant["stems"])

    def settings(self) -> str | None:
        """Stem shuffling."""
        return json.dumps({"shufflestems": "1"}, separators=(",", ":"))

    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """Question text and every stem."""
        found = text_fragments(self.text)
        for stem, _ in self.pairs:
            found += text_fragments(stem)
        return found

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The selected choices (shown as the selected `<option>`)."""
        return [] if response is None else list(response)

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """`stem → choice` pairs."""
        return [f"{self.pairs[stem][0]} \u2192 {self.pairs[stem][1]}" for stem in variant["stems"]]
