"""What every question type provides: seeded variants and responses, grading, and review HTML parts.

A question attempt is generated from a seed in two steps: `make_variant` fixes the random start state
(shuffled choices, calculated values), `make_response` picks a response that reaches a requested outcome
(`right`, `partial`, `wrong`, `blank`). Grading and rendering are pure functions of those two.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from archived.simulator.questions.endcode import EndCode
from archived.simulator.questions.filters import emoticons, filter_text, formulas, strip_formulas
from archived.simulator.questions.markup import Markup

RIGHT, PARTIAL, WRONG, BLANK = "right", "partial", "wrong", "blank"
OUTCOMES = (RIGHT, PARTIAL, WRONG, BLANK)


@dataclass
class RenderContext:
    """Everything a qtype renderer needs besides the question attempt itself."""

    markup: Markup
    wwwroot: str
    qubaid: int
    slot: int
    number: str
    question_contextid: int
    endcode: EndCode
    finished: bool
    quiz_contextid: int = 0
    theme_revision: int = 0
    attachments: list[Any] = field(default_factory=list)
    question_id: int = 0
    attemptid: int = 0
    grader: bool = False  # the token's user may grade (`mod/quiz:grade`) and the attempt is finished

    @property
    def prefix(self) -> str:
        """Field name prefix `q{qubaid}:{slot}_`."""
        return f"q{self.qubaid}:{self.slot}_"

    @property
    def dom_id(self) -> str:
        """The outer div id `question-{qubaid}-{slot}`."""
        return f"question-{self.qubaid}-{self.slot}"

    def fmt(self, text: str) -> str:
        """`format_text()` of a question part: rewrite `@@PLUGINFILE@@`, then the MathJax and emoticon filters."""
        if "@@PLUGINFILE@@/" in text:
            base = (
                f"{self.wwwroot}/pluginfile.php/{self.question_contextid}/question/questiontext/"
                f"{self.qubaid}/{self.slot}/{self.question_id}/"
            )
            text = text.replace("@@PLUGINFILE@@/", base)
        text = filter_text(text, self.endcode.typeset)
        return emoticons(text, f"{self.wwwroot}/theme/image.php/boost/core/{self.theme_revision}")

    def pluginfile(self, area: str, itemid: int, filename: str) -> str:
        """Web `pluginfile.php` URL of a question file, as `question_attempt::rewrite_pluginfile_urls` builds it."""
        from urllib.parse import quote

        return (
            f"{self.wwwroot}/pluginfile.php/{self.question_contextid}/question/{area}/"
            f"{self.qubaid}/{self.slot}/{itemid}/{quote(filename)}"
        )

    def action_link_id(self, purpose: str) -> str:
        """A stable id for one of the question's action links (Moodle draws `action_link` + random hex per page)."""
        return "action_link" + hashlib.sha1(f"{self.qubaid}:{self.slot}:{purpose}".encode()).hexdigest()[:14]

    def icon(self, kind: str) -> str:
        """Grading icon."""
        return self.markup.icon(kind)


@dataclass
class Feedback:
    """The `.outcome` parts of a reviewed question."""

    specific: str = ""
    parts_correct: str = ""
    general: str = ""
    right_answer: str | None = None


@dataclass
class QuestionDef(ABC):
    """A question in the bank. `text` and feedback strings are HTML and may contain TeX."""

    id: int
    name: str
    text: str
    generalfeedback: str = ""
    defaultmark: float = 1.0
    contextid: int = 0
    files: dict[str, str] = field(default_factory=dict)

    qtype: ClassVar[str] = ""
    manual: ClassVar[bool] = False
    info_item: ClassVar[bool] = False

    @abstractmethod
    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """The random start state of one attempt at this question."""

    @abstractmethod
    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """A response reaching `outcome`; None for a blank response."""

    @abstractmethod
    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """The fraction (0..1) for `response`; None when a human must grade it."""

    @abstractmethod
    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """HTML inside `div.formulation` after the sequencecheck input."""

    @abstractmethod
    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """The outcome parts shown once the attempt is finished."""

    @abstractmethod
    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """`summarise_response()`: the plain response as the history table shows it."""

    def settings(self) -> str | None:
        """`json_encode(get_question_definition_for_external_rendering())`, or None."""
        return None

    @property
    def type_name(self) -> str:
        """The `type` the review reports (the qtype plugin name)."""
        return self.qtype

    def recorded_html(self, ctx: RenderContext) -> str | None:
        """Complete review HTML replayed from a recording, or None to render the question normally."""
        return None

    def fixed_outcome(self) -> tuple[str, float | None] | None:
        """(state, fraction) pinned by a recording, or None when grading decides."""
        return None

    def file_for(self, component: str, filearea: str, itemid: int, filename: str) -> str | None:
        """The asset (path below `assets/`) behind a question file URL; by default question text files."""
        if (component, filearea) == ("question", "questiontext") and itemid == self.id:
            return self.files.get(filename)
        return None

    def right_answer_summary(self, variant: dict[str, Any]) -> str:
        """The correct response in plain text (history and expectations)."""
        return ""

    # --- expectations ----------------------------------------------------------------------------------
    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """Plain-text fragments of the question text that a rendered PDF must contain."""
        return text_fragments(self.text_for(variant))

    def text_for(self, variant: dict[str, Any]) -> str:
        """The question text of this variant (calculated questions substitute their values)."""
        return self.text

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Plain-text fragments of the response visible in the review."""
        return []

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """Plain-text fragments of the `.rightanswer` line."""
        return []

    def tex(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Every TeX formula that the review HTML of this question contains."""
        found = formulas(self.text_for(variant)) + formulas(self.generalfeedback)
        return found


def parts_right(outcome: str, count: int, rng: random.Random) -> int:
    """How many of `count` parts a response reaching `outcome` gets right (`partial:N` forces N)."""
    if outcome == RIGHT:
        return count
    if outcome.startswith(PARTIAL + ":"):
        return max(0, min(count, int(outcome.split(":", 1)[1])))
    if outcome == PARTIAL:
        return rng.randrange(1, count) if count > 1 else 0
    return 0


def plain_text(html_text: str) -> str:
    """HTML as one line of plain text, formulas kept verbatim (`html_to_text` for history summaries)."""
    import html as htmllib
    import re

    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


def text_fragments(html_text: str) -> list[str]:
    """Split HTML into whitespace-normalised visible text fragments, TeX formulas removed."""
    import html as htmllib
    import re

    # Formulas become SVG once typeset, so the text around them is split there.
    plain = strip_formulas(html_text, "\n")
    plain = re.sub(r"<(br|/p|/div|/li|/h[1-6]|/td|/tr)\b[^>]*>", "\n", plain)
    plain = re.sub(r"<[^>]+>", "", plain)
    plain = htmllib.unescape(plain)
    fragments = []
    for piece in re.split(r"\n+", plain):
        piece = " ".join(piece.split())
        if piece and any(ch.isalnum() for ch in piece):
            fragments.append(piece)
    return fragments


def format_number(value: float, decimals: int = 2) -> str:
    """`format_float($value, $decimals)` with the English decimal point."""
    return f"{value:.{decimals}f}"
