"""qtype_ddwtos: drag words into gaps of a text.

The review HTML shows each gap as an empty drop zone; the placed words exist only as hidden inputs
(`q…_p1` = choice number within the gap's group) plus the `draghome` spans. A PDF renderer must resolve
them itself, exactly as with a real Moodle.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import BLANK, Feedback, QuestionDef, RenderContext, parts_right, text_fragments
from archived.simulator.questions.markup import esc, grade_kind

_GAP = re.compile(r"\[\[(\d+)\]\]")


@dataclass
class DragChoice:
    """A draggable word of a group."""

    text: str
    group: int


@dataclass
class DdwtosQuestion(QuestionDef):
    """`text` has `[[n]]` gaps; gap n is right when it holds choice n."""

    choices: list[DragChoice] = field(default_factory=list)
    correctfeedback: str = "Well done!"
    partiallycorrectfeedback: str = "Parts, but only parts, of your response are correct."
    incorrectfeedback: str = "That is not right at all."

    qtype = "ddwtos"

    def _gaps(self) -> list[int]:
        return [int(m) for m in _GAP.findall(self.text)]

    def _group_members(self, group: int) -> list[int]:
        return [i + 1 for i, c in enumerate(self.choices) if c.group == group]

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """Choices are not shuffled (the recorded question has `shufflechoices=0`)."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """Choice number (1-based, global) per gap; None = empty gap."""
        if outcome == BLANK:
            return None
        gaps = self._gaps()
        right = parts_right(outcome, len(gaps), rng)
        correct = set(rng.sample(range(len(gaps)), right))
        response: list[int | None] = []
        for position, gap in enumerate(gaps):
            if position in correct:
                response.append(gap)
            else:
                group = self.choices[gap - 1].group
                others = [n for n in self._group_members(group) if n != gap]
                response.append(rng.choice(others) if others else None)
        return response

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """Share of gaps holding their own choice."""
        if response is None:
            return 0.0
        gaps = self._gaps()
        right = sum(1 for position, gap in enumerate(gaps) if response[position] == gap)
        return round(right / len(gaps), 7)

    def _in_group(self, number: int) -> int:
        group = self.choices[number - 1].group
        return self._group_members(group).index(number) + 1

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Text with drop zones, the drag homes and the hidden inputs."""
        gaps = self._gaps()
        pieces = _GAP.split(self.text)
        out = [ctx.fmt(pieces[0])]
        for position, gap in enumerate(gaps):
            group = self.choices[gap - 1].group
            icon = ""
            if ctx.finished and response is not None and response[position] is not None:
                icon = ctx.icon("correct" if response[position] == gap else "incorrect")
            out.append(
                f'<span class="place{position + 1} drop active group{group} readonly">&#160;'
                f'<span class="accesshide">Blank {position + 1} Question {ctx.number}</span></span> {icon}'
            )
            out.append(ctx.fmt(pieces[2 * position + 2]))
        groups = sorted({c.group for c in self.choices})
        homes = "".join(
            f'<div class="user-select-none draggrouphomes{group}">'
            + "".join(
                f'<span class="draghome user-select-none choice{self._in_group(n)} group{group}">'
                f"{esc(self.choices[n - 1].text)}</span> "
                for n in self._group_members(group)
            )
            + "</div>"
            for group in groups
        )
        inputs = ""
        for position, gap in enumerate(gaps):
            group = self.choices[gap - 1].group
            placed = response[position] if response is not None else None
            value = self._in_group(placed) if placed is not None else 0
            inputs += (
                f'<input type="hidden" id="q{ctx.qubaid}_{ctx.slot}_p{position + 1}" '
                f'class="placeinput place{position + 1} '
                f'group{group}" name="{ctx.prefix}p{position + 1}" value="{value}" />'
            )
        ctx.endcode.amd("qtype_ddwtos/ddwtos", f'init("{ctx.dom_id}", true)')
        return f'<div class="qtext">{"".join(out)}</div><div class="answercontainer readonly">{homes}</div>{inputs}'

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """Combined feedback and the text with the right words in brackets."""
        result = Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")
        if response is not None and fraction is not None:
            kind = grade_kind(fraction)
            result.specific = {
                "correct": self.correctfeedback,
                "partiallycorrect": self.partiallycorrectfeedback,
                "incorrect": self.incorrectfeedback,
            }[kind]
            if kind == "partiallycorrect":
                right = round(fraction * len(self._gaps()))
                result.parts_correct = f'<div class="numpartscorrect">You have correctly selected {right}.</div>'
        result.right_answer = "The correct answer is: " + esc(self.right_answer_summary(variant))
        return result

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """`{word} {word} ...` as Moodle summarises gap responses."""
        if response is None:
            return ""
        return " ".join("{" + (self.choices[n - 1].text if n else "") + "}" for n in response)

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The text with `[word]` in every gap."""
        return _GAP.sub(lambda m: "[" + self.choices[int(m.group(1)) - 1].text + "]", self.text)

    def settings(self) -> str | None:
        """Choice shuffling."""
        return json.dumps({"shufflechoices": "0"}, separators=(",", ":"))

    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """The text around the gaps."""
        return text_fragments(_GAP.sub("\n", self.text))

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The placed words (only in hidden inputs + drag homes: the renderer must place them)."""
        return [] if response is None else [self.choices[n - 1].text for n in response if n]

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """The right answer line."""
        return ["The correct answer is: " + self.right_answer_summary(variant)]
