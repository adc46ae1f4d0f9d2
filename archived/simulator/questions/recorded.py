"""Questions replayed from a recorded review page (the 16-question real attempt from a Moodle 4.4 site).

They cover qtypes the generator does not produce (description, calculated, calculatedmulti, gapselect,
ddimageortext, ddmarker). The block HTML is served as recorded, with the usage id, the site URL, the question
bank context and the attempt id rewritten, and its images served through pluginfile like any question file.
The response is the recorded one in every attempt.
"""

from __future__ import annotations

import html as htmllib
import random
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from archived.simulator.questions.attempt import graded_state
from archived.simulator.questions.base import Feedback, QuestionDef, RenderContext, text_fragments
from archived.simulator.questions.filters import formulas

RECORDED_QUBAID = 56
RECORDED_CONTEXT = 64
RECORDED_ATTEMPT = 23
_FILE_URL = re.compile(r"http://moodle/pluginfile\.php/64/(question|qtype_\w+)/(\w+)/56/(\d+)/(\d+)/([^\"?]+)")


def load_blocks() -> list[str]:
    """The 16 recorded `.que` blocks, in slot order."""
    text = resources.files("archived.simulator").joinpath("assets", "real-attempt", "questions.html").read_text()
    return [block.strip() for block in text.split("<!-- next question -->")]


def _inner_text(block: str, css: str) -> str:
    """The content of the first `<div class="{css}" ...>`, nested divs included."""
    start = re.search(rf'<div class="{css}"[^>]*>', block)
    if start is None:
        return ""
    depth = 1
    for tag in re.finditer(r"<(/?)div\b[^>]*>", block[start.end() :]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return block[start.end() : start.end() + tag.start()]
    return block[start.end() :]


@dataclass
class RecordedBlockQuestion(QuestionDef):
    """One recorded question block; `slot` is its slot on the recorded page (kept on the simulated quiz)."""

    block: str = ""
    slot: int = 0
    recorded_type: str = ""
    state: str = "finished"
    fraction: float | None = None
    maxmark: float = 1.0
    files_by_url: dict[tuple[str, str, int, str], str] = field(default_factory=dict)

    qtype = "recorded"

    @classmethod
    def from_block(cls, block: str, question_id: int, contextid: int) -> RecordedBlockQuestion:
        """Parse type, state, mark and files out of a recorded block."""
        head = re.match(r'<div id="question-56-(\d+)" class="que (\S+) (\S+) (\S+)"', block)
        if head is None:
            raise ValueError("not a recorded question block")
        slot, qtype, behaviour, stateclass = int(head.group(1)), head.group(2), head.group(3), head.group(4)
        grade = re.search(r'<div class="grade">(?:Mark (-?[0-9.]+) out of|Marked out of) ([0-9.]+)</div>', block)
        maxmark = float(grade.group(2)) if grade else 0.0
        mark = float(grade.group(1)) if grade and grade.group(1) is not None else None
        fraction = None if mark is None or not maxmark else round(mark / maxmark, 7)
        if behaviour == "informationitem":
            state = "finished"
        elif fraction is None:
            state = "needsgrading" if stateclass == "complete" else "gaveup"
        else:
            state = graded_state(fraction, manual=behaviour == "manualgraded")
        files = {
            (m.group(1), m.group(2), int(m.group(4)), m.group(5)): "real-attempt/" + m.group(5)
            for m in _FILE_URL.finditer(block)
        }
        text = _inner_text(block, "qtext")
        return cls(
            id=question_id,
            name=f"Recorded question {slot}",
            text=text,
            contextid=contextid,
            defaultmark=maxmark,
            block=block,
            slot=slot,
            recorded_type=qtype,
            state=state,
            fraction=fraction,
            maxmark=maxmark,
            files_by_url=files,
        )

    @property
    def info_item(self) -> bool:  # type: ignore[override]
        """Description blocks are information items."""
        return self.recorded_type == "description"

    @property
    def type_name(self) -> str:
        """The recorded qtype."""
        return self.recorded_type

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state: the recording is fixed."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """The recorded response (opaque)."""
        return None if self.info_item else "recorded"

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """The recorded fraction."""
        return self.fraction

    def fixed_outcome(self) -> tuple[str, float | None] | None:
        """State and fraction as recorded."""
        return self.state, self.fraction

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Unused: the whole block is replayed."""
        return ""

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """Unused: the whole block is replayed."""
        return Feedback()

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """The recorded response as the history shows it."""
        return "(as recorded)"

    def recorded_html(self, ctx: RenderContext) -> str | None:
        """The block with this attempt's usage id, site URL, bank context and attempt id."""
        qubaid = str(ctx.qubaid)
        block = _FILE_URL.sub(
            lambda m: (
                f"{ctx.wwwroot}/pluginfile.php/{ctx.question_contextid}/{m.group(1)}/{m.group(2)}/"
                f"{qubaid}/{m.group(3)}/{m.group(4)}/{m.group(5)}"
            ),
            self.block,
        )
        block = re.sub(
            r"http://moodle/theme/image\.php/boost/(\w+)/\d+/",
            rf"{ctx.wwwroot}/theme/image.php/boost/\1/"
            f"{ctx.theme_revision}/",
            block,
        )
        block = block.replace("attempt=23&amp;", f"attempt={ctx.attemptid}&amp;")
        block = block.replace("http://moodle/", ctx.wwwroot + "/")
        block = block.replace("question-56-", f"question-{qubaid}-")
        block = block.replace("q56:", f"q{qubaid}:").replace('"q56_', f'"q{qubaid}_')
        return block

    def file_for(self, component: str, filearea: str, itemid: int, filename: str) -> str | None:
        """Images of the recorded block (question text, drag-and-drop backgrounds and items)."""
        return self.files_by_url.get((component, filearea, itemid, filename))

    def visible_question_texts(self, variant: dict[str, Any]) -> list[str]:
        """Fragments of the question text."""
        return text_fragments(self.text)

    def visible_right_answer_texts(self, variant: dict[str, Any]) -> list[str]:
        """Fragments of the recorded right answer line."""
        right = _inner_text(self.block, "rightanswer")
        return [" ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", right)).split())] if right else []

    def tex(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Formulas in the block."""
        return formulas(self.block)
