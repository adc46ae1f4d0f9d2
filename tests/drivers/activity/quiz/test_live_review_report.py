"""Reports of the reviews recorded on real Moodle 4.5.6 and 5.0 sites by a user who may grade.

Teacher controls never reach the report (the grader's comment does), each cloze blank's answer, feedback and mark
read as a numbered note, and drag-and-drop choices are a labelled list — checked in the report HTML and, for
the 4.5 review, in the text of the rendered PDF/A.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lxml import html as lhtml

from archived.simulator import MoodleSimulator, SimulatorSize
from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_render.math import MathRenderer
from archived_render.render_pool import RenderPool
from archived_render.render_task import RenderOptions, RenderTask
from tests.simulator.rest import call
from tests.support.fixtures import FIXTURES, REAL_ATTEMPT
from tests.support.simulator import RAW_TEX

LIVE = FIXTURES / "live-2026-12"
HEADER = AttemptHeader(attempt_id=2, attempt_number=1, username="jose.nunez", quiz="Final exam Mathematics I",
                       archived_at=datetime(2026, 12, 7, tzinfo=UTC), job_id="job-1")  # fmt: skip
CLOZE_NOTES = [
    "[1] 5 ✔ — Correct — Correct — The correct answer is: 5 — Mark 1.00 out of 1.00",
    "[2] convex ✔ — Correct — Right — The correct answer is: convex — Mark 1.00 out of 1.00",
    "[3] unsure ✘ — Incorrect — Not the word we were looking for — The correct answer is: zero — Mark 0.00 out of 1.00",
]
GRADER_COMMENT = "Comment: Graded by H. Brandt: 4.5/5. Clear argument."


def recorded_questions(release: str) -> list[QuestionInput]:
    """The questions of the recorded grader's review of attempt 2."""
    path = LIVE / f"moodle-{release}" / "04-mod_quiz_get_attempt_review-2-grader-view.json"
    return [QuestionInput.from_ws(q) for q in json.loads(path.read_text())["response"]["questions"]]


def report_html(questions: list[QuestionInput], settings: QuizSettings | None = None) -> str:
    """The finished report without formulas or images (they do not matter here)."""
    return finish_report(prepare_report(HEADER, questions, settings or QuizSettings()), {}, {}).html


def sections(html: str) -> list[lhtml.HtmlElement]:
    """The report's question sections."""
    body = lhtml.fromstring(html.split("<body>", 1)[1].rsplit("</body>", 1)[0], parser=lhtml.HTMLParser())
    return [e for e in body.iter("section")]


def flat(element: lhtml.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def lines(section: lhtml.HtmlElement, css: str) -> list[str]:
    """The text of each `p`/`li` inside the elements of class `css`."""
    return [flat(e) for block in section.find_class(css) for e in block.iter("p", "li")]


def in_slot(html: str, slot: int) -> lhtml.HtmlElement:
    return sections(html)[slot - 1]


@pytest.mark.parametrize("release", ["4.5", "5.0"])
def test_teacher_controls_are_gone_and_the_graders_comment_stays(release: str) -> None:
    html = report_html(recorded_questions(release))
    assert "Make comment or override mark" not in html and "comment.php" not in html
    assert "Flag question" not in html and "v1 (latest)" not in html  # the flag and the version badge
    for label in ("Question text", "Blank 1 Question 8", "Answer 1 Question 10", "Answer text Question 12"):
        assert label not in html  # hidden accessibility labels
    comments = [flat(block) for section in sections(html) for block in section.find_class("comment")]
    assert comments == [GRADER_COMMENT]  # only the essay has a comment: no empty boxes where the links were


@pytest.mark.parametrize("release", ["4.5", "5.0"])
def test_cloze_feedback_becomes_numbered_notes(release: str) -> None:
    cloze = in_slot(report_html(recorded_questions(release)), 11)
    text = flat(cloze.find_class("qbody")[0])
    assert "5✔[1] , the graph of f is convex✔[2] and the positive root of f is called a unsure✘[3]." in text
    assert "Correct" not in text and "Mark 1.00" not in text  # nothing runs into the sentence
    assert lines(cloze, "partnotes") == CLOZE_NOTES
    assert flat(cloze.find_class("partnotes")[0]).startswith("Feedback on each part")


def test_cloze_notes_follow_the_feedback_and_right_answer_toggles() -> None:
    for settings in (QuizSettings(section_rightanswer=False), QuizSettings(section_question_feedback=False)):
        cloze = in_slot(report_html(recorded_questions("4.5"), settings), 11)
        assert not cloze.find_class("partnotes")
        text = flat(cloze)
        assert "The correct answer is: 5" not in text and "[1]" not in text
        assert "5✔ , the graph of f is convex✔ and the positive root of f is called a unsure✘." in text  # answers stay


@pytest.mark.parametrize("release", ["4.5", "5.0"])
def test_drag_and_drop_choices_are_a_labelled_list(release: str) -> None:
    html = report_html(recorded_questions(release))
    ddwtos, gapselect = in_slot(html, 9), in_slot(html, 10)
    assert lines(ddwtos, "choices") == [
        "Choices:",
        "Group 1: derivative · integral · limit · matrix · series",
        "Group 3: assiduous",
    ]
    assert "derivative integral limit" not in flat(ddwtos)  # the tray no longer runs together
    assert lines(ddwtos, "placements")[-3:] == ["Blank 1 → derivative", "Blank 2 → integral", "Blank 3 → limit"]
    assert lines(gapselect, "choices") == ["Choices:", "6 · 5 · 1 · 0"]  # the drop-down lists' options
    assert "the determinant is 6 ✔ and the trace is 5 ✔." in flat(gapselect)


def test_picture_and_marker_choices_of_the_real_attempt() -> None:
    """ddimageortext (pictures and texts) and ddmarker, from the real Moodle 4.4 attempt."""
    page = lhtml.parse(str(REAL_ATTEMPT)).getroot()
    blocks = page.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " que ")]')
    questions = [QuestionInput(slot=i + 1, html=lhtml.tostring(b, encoding="unicode")) for i, b in enumerate(blocks)]
    html = report_html(questions)
    ddmarker, ddimageortext = in_slot(html, 13), in_slot(html, 14)
    assert lines(ddmarker, "choices") == ["Markers:", "Bull (middle) · Tripple-20"]
    choices = ddimageortext.find_class("choices")[0]
    groups = choices.find("ul").findall("li")
    assert flat(groups[1]) == "Group 2: Germany · France · Greece"
    pictures = groups[0].find("ul").findall("li")  # group 1's flags: one per line, each with its placement label
    assert flat(groups[0]).startswith("Group 1:")
    assert [flat(p) for p in pictures] == ["image germany.png", "image france.png", "image greece.png"]
    assert all(p[0].tag == "img" and p[0].get("src") for p in pictures)
    assert not ddimageortext.find_class("draghomes") and not ddmarker.find_class("draghomes")


def test_a_review_for_a_grader_reports_like_one_without_the_links() -> None:
    """Whatever the token may do: the report of the recorded grader's review equals the report of the same review
    as a token without grading rights gets it (no comment links, no comment box where only a link was)."""
    path = LIVE / "moodle-4.5" / "04-mod_quiz_get_attempt_review-2-grader-view.json"

    def without_links(html: str) -> str:
        html = re.sub(r'<div class="commentlink">.*?</div>', "", html)
        return html.replace('<div class="comment clearfix"><h4 class="accesshide">Comments</h4></div>', "")

    plain = [
        QuestionInput.from_ws({**q, "html": without_links(q["html"])})
        for q in json.loads(path.read_text())["response"]["questions"]
    ]
    assert "commentlink" not in "".join(q.html for q in plain)
    assert report_html(recorded_questions("4.5")) == report_html(plain)


@pytest.mark.parametrize("release", ["4.1", "4.5", "5.0"])
def test_reports_are_the_same_whether_the_token_may_grade_or_not(release: str) -> None:
    """Generated questions, the real 4.4 attempt and the replayed live review, served by the simulator with and
    without `mod/quiz:grade`: the teacher links differ, the reports do not."""
    size = SimulatorSize.parse("realquiz=1,livequiz=1")
    with MoodleSimulator(release=release, size=size) as sim, httpx.Client(timeout=30) as client:
        attempts = [1] + [sim.world.quiz_attempts(q.id)[0].id for q in list(sim.world.quizzes.values())[-2:]]

        def questions(attempt: int) -> list[QuestionInput]:
            answer = call(sim, client, "mod_quiz_get_attempt_review", attemptid=attempt).json()
            return [QuestionInput.from_ws(q) for q in answer["questions"]]

        plain = {attempt: questions(attempt) for attempt in attempts}
        sim.grant("mod/quiz:grade")
        graded = {attempt: questions(attempt) for attempt in attempts}
    for attempt in attempts:
        assert "commentlink" not in "".join(q.html for q in plain[attempt])
        assert "commentlink" in "".join(q.html for q in graded[attempt])
        assert report_html(graded[attempt]) == report_html(plain[attempt]), attempt


def _pdftotext(pdf: bytes, tmp: Path) -> str:
    path = tmp / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.render
def test_the_rendered_report_reads_well(tmp_path: Path) -> None:
    """The 4.5 grader's review as a PDF/A: formulas typeset, notes and choices on their own lines, no controls."""

    async def render() -> bytes:
        math = MathRenderer()
        try:
            prepared = prepare_report(HEADER, recorded_questions("4.5"), QuizSettings())
            formulas = await math.render_many(prepared.formulas)
        finally:
            await math.close()
        document = finish_report(prepared, formulas, {})
        async with RenderPool(1, timeout=120) as pool:
            result = await pool.render(
                RenderTask("attempt 2", document.html, document.resources, RenderOptions(page_size="210mm 297mm"))
            )
        assert result.check is not None and result.pdf is not None
        return result.pdf

    text = _pdftotext(asyncio.run(render()), tmp_path)
    text_lines = [" ".join(line.split()) for line in text.splitlines()]
    assert not RAW_TEX.search(text)
    assert "Make comment or override mark" not in text and GRADER_COMMENT.split(": ", 1)[1] in text
    for note in CLOZE_NOTES[:2]:
        assert note in text_lines
    assert "Group 1: derivative · integral · limit · matrix · series" in text_lines
    assert "6 · 5 · 1 · 0" in text_lines
    assert "Mark 1.00 out of 1.00 , the graph" not in " ".join(text_lines)
