"""Questions replayed from review pages recorded on real sites.

Two recordings: the 16-question real attempt from a Moodle 4.4 site (`REAL_ATTEMPT`), which covers qtypes the
generator does not produce (description, calculated, calculatedmulti, gapselect, ddimageortext, ddmarker), and
the 13-question review recorded on real Moodle 4.5.6 and 5.0 sites by a user who may grade (`LIVE_45`,
`LIVE_50`: teacher links, cloze feedback, ddwtos, gapselect, an essay with attachments and a comment). The block
HTML is served as recorded, with the usage id, the site URL, the question bank context, the attempt id and the
attachments' addresses rewritten, and its images served through pluginfile like any question file. The
response is the recorded one in every attempt.
"""

from __future__ import annotations

import html as htmllib
import random
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any
from urllib.parse import quote

from archived.simulator.questions.attempt import graded_state
from archived.simulator.questions.base import Feedback, QuestionDef, RenderContext, text_fragments
from archived.simulator.questions.filters import formulas


@dataclass(frozen=True)
class RecordedPage:
    """A review page recorded on a real site: where its blocks are kept and the ids and address they carry."""

    blocks_asset: str  # below `assets/`: the `.que` blocks, separated by `<!-- next question -->`
    wwwroot: str
    qubaid: int
    contextid: int  # the question bank's context
    attemptid: int
    # Files of the blocks whose bodies were not recorded: served from another asset (a stand-in).
    stand_ins: tuple[tuple[str, str], ...] = ()

    def blocks(self) -> list[str]:
        """The recorded `.que` blocks, in slot order."""
        text = resources.files("archived.simulator").joinpath("assets", *self.blocks_asset.split("/")).read_text()
        return [block.strip() for block in text.split("<!-- next question -->")]

    def asset_for(self, filename: str) -> str:
        """The asset that serves a file of the blocks (next to the blocks unless a stand-in is named)."""
        folder = self.blocks_asset.rsplit("/", 1)[0]
        return dict(self.stand_ins).get(filename, f"{folder}/{filename}")

    @cached_property
    def question_file_url(self) -> re.Pattern[str]:
        """A question file's address in the blocks: (component, filearea, slot, itemid, filename)."""
        root = re.escape(self.wwwroot)
        return re.compile(
            rf"{root}/pluginfile\.php/{self.contextid}/(question|qtype_\w+)/(\w+)/{self.qubaid}/(\d+)/(\d+)/([^\"?]+)"
        )

    @cached_property
    def attachment_url(self) -> re.Pattern[str]:
        """A response attachment's address in the blocks: (context, slot, filename)."""
        root = re.escape(self.wwwroot)
        return re.compile(
            rf"{root}/pluginfile\.php/(\d+)/question/response_attachments/{self.qubaid}/(\d+)/\d+/([^\"?]+)"
        )


REAL_ATTEMPT = RecordedPage("real-attempt/questions.html", "http://moodle", 56, 64, 23)
# The recorded image of slot 12 (a triangle) has no recorded body: the recorded site's triangle diagram stands in.
_LIVE_STAND_INS = (("image.png", "triangle_diagram.png"),)
LIVE_45 = RecordedPage("live-2026-12/questions-4.5.html", "http://moodle.example", 2, 28, 2, _LIVE_STAND_INS)
LIVE_50 = RecordedPage("live-2026-12/questions-5.0.html", "http://moodle.example", 2, 138, 2, _LIVE_STAND_INS)


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
    page: RecordedPage = REAL_ATTEMPT

    qtype = "recorded"

    @classmethod
    def from_block(
        cls, block: str, question_id: int, contextid: int, page: RecordedPage = REAL_ATTEMPT
    ) -> RecordedBlockQuestion:
        """Parse type, state, mark and files out of a block of `page`."""
        head = re.match(rf'<div id="question-{page.qubaid}-(\d+)" class="que (\S+) (\S+) (\S+)"', block)
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
            (m.group(1), m.group(2), int(m.group(4)), m.group(5)): page.asset_for(m.group(5))
            for m in page.question_file_url.finditer(block)
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
            page=page,
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
        """The block with this attempt's usage id, site URL, bank context, attempt id and attachments."""
        page, qubaid = self.page, str(ctx.qubaid)
        block = page.question_file_url.sub(
            lambda m: (
                f"{ctx.wwwroot}/pluginfile.php/{ctx.question_contextid}/{m.group(1)}/{m.group(2)}/"
                f"{qubaid}/{m.group(3)}/{m.group(4)}/{m.group(5)}"
            ),
            self.block,
        )
        block = page.attachment_url.sub(lambda m: _attachment_url(m, ctx), block)
        block = re.sub(
            rf"{re.escape(page.wwwroot)}/theme/image\.php/boost/(\w+)/\d+/",
            rf"{ctx.wwwroot}/theme/image.php/boost/\1/"
            f"{ctx.theme_revision}/",
            block,
        )
        block = re.sub(rf"\battempt={page.attemptid}(?=&)", f"attempt={ctx.attemptid}", block)
        block = block.replace(page.wwwroot + "/", ctx.wwwroot + "/")
        block = block.replace(f"question-{page.qubaid}-", f"question-{qubaid}-")
        return block.replace(f"q{page.qubaid}:", f"q{qubaid}:").replace(f'"q{page.qubaid}_', f'"q{qubaid}_')

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


def _attachment_url(match: re.Match[str], ctx: RenderContext) -> str:
    """The address of a recorded attachment link: the attempt's stored file of that name where there is one."""
    slot, filename = match.group(2), match.group(3)
    stored = next((f for f in ctx.attachments if filename in (f.filename, quote(f.filename))), None)
    where = f"{match.group(1)}/question/response_attachments/{ctx.qubaid}/{slot}/0/{filename}"
    if stored is not None:
        where = f"{stored.contextid}/question/response_attachments/{ctx.qubaid}/{slot}/{stored.itemid}/"
        where += quote(stored.filename)
    return f"{ctx.wwwroot}/pluginfile.php/{where}"
