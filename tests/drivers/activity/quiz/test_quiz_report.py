"""Quiz reports from the real attempt page (16 questions, 15 types): text, TeX, DnD, toggles, PDF/A."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lhtml

from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_render.math import MathRenderer, MathResult
from archived_render.render_pool import RenderPool
from archived_render.render_task import RenderOptions, RenderTask
from tests.support.fixtures import REAL_ATTEMPT as FIXTURE


def _questions() -> list[QuestionInput]:
    page = lhtml.parse(str(FIXTURE)).getroot()
    blocks = page.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " que ")]')
    return [QuestionInput(slot=i + 1, html=lhtml.tostring(b, encoding="unicode")) for i, b in enumerate(blocks)]


HEADER = AttemptHeader(attempt_id=23, attempt_number=1, username="student", quiz="Real quiz",
                       archived_at=datetime(2024, 6, 1, tzinfo=UTC), job_id="job-1")  # fmt: skip


async def _build(settings: QuizSettings, math: MathRenderer | None = None):
    prepared = prepare_report(HEADER, _questions(), settings)
    formulas = await math.render_many(prepared.formulas) if math else {}
    return prepared, finish_report(prepared, formulas, {})


def _pdftotext(pdf: bytes, tmp: Path) -> str:
    path = tmp / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[str, str]:
    import asyncio

    async def run() -> tuple[str, str, bytes]:
        math = MathRenderer()
        try:
            _, document = await _build(QuizSettings(), math)
        finally:
            await math.close()
        async with RenderPool(1, timeout=120) as pool:
            result = await pool.render(RenderTask("attempt 23", document.html, document.resources,
                                                  RenderOptions(page_size="210mm 297mm")))  # fmt: skip
        assert result.check is not None and result.check.variant == "pdf/a-2u"
        assert result.pdf is not None
        return document.html, result.pdf

    html, pdf = asyncio.run(run())
    return html, _pdftotext(pdf, tmp_path_factory.mktemp("pdf"))


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.render
def test_every_question_keeps_text_right_answer_and_history(rendered) -> None:
    _, text = rendered
    flat = _flat(text)
    for question in _questions():
        que = lhtml.fragment_fromstring(question.html)
        qtext = que.find_class("qtext")
        if qtext:
            for helper in qtext[0].xpath('.//*[contains(@class,"accesshide") or contains(@class,"sr-only")]|.//select'):
                helper.drop_tree()
            pieces = [_flat(p) for p in qtext[0].itertext()]
            longest = max(pieces, key=len)
            probe = re.split(r"\\\(|\\\[|\$\$", longest)[0].strip()[:40]
            assert probe in flat, f"slot {question.slot}: question text missing"
        right = que.find_class("rightanswer")
        if right:
            answer = _flat(right[0].text_content())
            if "\\(" not in answer:
                assert answer[:60] in flat, f"slot {question.slot}: right answer missing"
        for cell in que.xpath('.//div[contains(@class,"history")]//td[contains(@class,"c2")]'):
            assert _flat(cell.text_content())[:30] in flat, f"slot {question.slot}: history row missing"
    assert len(re.findall(r"Response history", text, re.IGNORECASE)) == 16


@pytest.mark.render
def test_helpers_and_hidden_inputs_are_gone(rendered) -> None:
    html, text = rendered
    assert "sequencecheck" not in html and 'type="hidden"' not in html
    assert "Flag question" not in text and "Blank 1 Question 11" not in text and "Question text" not in text
    assert "299.75,297" not in html  # ddmarker's hidden coordinates only appear in our sentence


@pytest.mark.render
def test_tex_is_rendered_and_searchable(rendered) -> None:
    html, text = rendered
    assert "<svg" in html and 'class="tex-fallback' not in html
    assert "\\(" not in text and "\\[" not in text
    assert "\\sum_{k=1}^n a_k b_k" in _flat(text)  # the Cauchy-Schwarz source, searchable
    assert "\\begin{align}" in text


@pytest.mark.render
def test_drag_and_drop_placements_are_text(rendered) -> None:
    _, text = rendered
    flat = _flat(text)
    assert "Blank 1 → Lorem" in flat and "Blank 3 → laborum" in flat  # ddwtos
    assert "Drop zone 4 → Germany" in flat and "Drop zone 5 → Greece" in flat  # ddimageortext
    assert "Bull (middle) → placed at x=299, y=299" in flat  # ddmarker
    assert "ipsum" in flat and "laborum" in flat  # gapselect selections


async def test_section_toggles_remove_their_sections() -> None:
    full = (await _build(QuizSettings()))[1].html
    assert "Response history" in full and "The correct answer is" in full and "General feedback" in full
    assert "Your answer is partially correct" in full and "Started" in full
    cases = {
        "section_history": "Response history",
        "section_rightanswer": "The correct answer is",
        "section_general_feedback": "This is the general feedback",
        "section_question_feedback": "Your answer is partially correct",
        "section_header": "Archived at",
    }
    for key, phrase in cases.items():
        html = (await _build(QuizSettings(**{key: False})))[1].html
        assert phrase not in html, key
    no_questions = (await _build(QuizSettings(section_question=False)))[1].html
    assert "Lorem" not in no_questions and "Archived at" in no_questions
    assert QuizSettings(section_header=False).section_quiz_feedback is False


async def test_missing_image_becomes_a_placeholder() -> None:
    question = QuestionInput(slot=1, html='<div class="que description"><div class="formulation"><div class="qtext">'
                             '<p>See <img src="https://moodle.example/pluginfile.php/5/question/questiontext/1/1/1/'
                             'plot.png" alt="the plot"></p></div></div></div>')  # fmt: skip
    prepared = prepare_report(HEADER, [question], QuizSettings())
    assert prepared.image_urls == ["https://moodle.example/pluginfile.php/5/question/questiontext/1/1/1/plot.png"]
    document = finish_report(prepared, {}, {prepared.image_urls[0]: None})
    assert "[image not available: the plot]" in document.html
    assert document.warnings and "plot.png" in document.warnings[0]
    async with RenderPool(1) as pool:
        result = await pool.render(RenderTask("attempt 1", document.html, document.resources))
    assert result.check is not None and result.pages == 1


async def test_tex_falls_back_visibly_without_mathjax() -> None:
    question = QuestionInput(
        slot=1, html='<div class="que"><div class="formulation"><p>Let \\( a = 6 \\).</p></div></div>'
    )
    prepared = prepare_report(HEADER, [question], QuizSettings())
    assert prepared.formulas == {("a = 6", False)}
    html = finish_report(prepared, {}, {}).html
    assert '<code class="tex-fallback">\\(a = 6\\)</code>' in html


HISTORY = (
    '<div class="que essay"><div class="formulation"><div class="qtext"><p>Explain.</p></div></div>'
    '<div class="history"><h3 class="responsehistoryheader">Response history</h3><table class="generaltable">'
    "<thead><tr><th>Step</th><th>Time</th><th>Action</th><th>State</th><th>Marks</th></tr></thead><tbody>"
    '<tr><td class="c0">1</td><td>28/11/23, 12:12:32</td><td class="c2">Started</td><td>Not yet answered</td>'
    "<td></td></tr>"
    '<tr class="current"><td class="c0">2</td><td>28/11/23, 12:14:00</td><td class="c2">Saved: \\(x^2\\) and'
    "<br/>more</td><td>Complete</td><td>0.50</td></tr></tbody></table></div></div>"
)


def test_history_becomes_one_line_per_step_with_every_cell() -> None:
    prepared = prepare_report(HEADER, [QuestionInput(slot=1, html=HISTORY)], QuizSettings())
    steps = prepared.root.find_class("steps")
    assert len(steps) == 1 and not prepared.root.xpath("//div[contains(@class,'history')]//table")
    lines = [" ".join(p.text_content().split()) for p in steps[0].iter("p")]
    assert lines[0] == "1. 28/11/23, 12:12:32 — Started — State: Not yet answered"  # empty marks left out
    assert lines[1].startswith("2. 28/11/23, 12:14:00 — Saved: ")
    assert lines[1].endswith("more — State: Complete — Marks: 0.50")
    second = steps[0].findall("p")[1]
    assert "current" in second.get("class", "") and second.find("br") is not None  # markup kept
    assert ("x^2", False) in prepared.formulas  # TeX in a history cell is still typeset


def test_unusual_history_table_is_kept_as_a_table() -> None:
    ragged = HISTORY.replace("<td></td></tr>", "</tr>", 1)  # first row one cell short
    prepared = prepare_report(HEADER, [QuestionInput(slot=1, html=ragged)], QuizSettings())
    assert not prepared.root.find_class("steps") and prepared.root.xpath("//table//td[.='Started']")


def test_formula_source_lies_over_its_svg() -> None:
    question = QuestionInput(slot=1, html='<div class="que"><div class="formulation"><p>Let \\( a \\).</p></div></div>')
    prepared = prepare_report(HEADER, [question], QuizSettings())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1.2ex" height="1ex" viewBox="0 0 9 9"><path d="M0 0H1"/></svg>'
    )

    html = finish_report(prepared, {("a", False): MathResult("a", False, svg)}, {}).html
    box = lhtml.fragment_fromstring(html.split("<body>")[1].split("</body>")[0], create_parent="div")
    math = box.find_class("math")[0]
    source, image = math[0], math[1]
    assert source.get("class") == "tex-source" and source.text == "a" and image.tag.endswith("svg")
    # 1 character of DejaVu Sans Mono is 0.60205 em; the formula is 0.6 em wide (1.2ex): size and pull-back.
    assert source.get("style") == "font-size: 0.9966em; margin-right: -0.6020em"


def test_whitespace_between_blocks_goes_but_not_between_words_or_in_pre() -> None:
    html = (
        '<div class="que"><div class="formulation"><div class="qtext">\n  <p>One <b>two</b> <i>three</i></p>\n'
        "  <p>Four \\( x \\) five</p>\n  <pre>  keep\n   this  </pre>\n</div></div></div>"
    )
    document = finish_report(prepare_report(HEADER, [QuestionInput(slot=1, html=html)], QuizSettings()), {}, {})
    assert "<p>One <b>two</b> <i>three</i></p><p>Four" in document.html  # spaces between words stay
    assert "<pre>  keep\n   this  </pre>" in document.html
    assert '<code class="tex-fallback">\\(x\\)</code> five' in document.html


@pytest.mark.render
async def test_long_unbroken_text_wraps_instead_of_leaving_the_page(tmp_path: Path) -> None:
    """A student's 300-character token, a long file name and a wide code line all stay on the page."""
    token = "A" * 300
    name = "x" * 250 + ".pdf"
    code = "print(" + "y" * 200 + ")"
    question = QuestionInput(slot=1, html=(
        '<div class="que essay"><div class="formulation"><div class="qtext">Q</div>'
        f'<div class="qtype_essay_response readonly"><p>{token}</p><pre>{code}</pre></div>'
        f'<div class="attachments"><a href="https://moodle.example/pluginfile.php/1/a.pdf">{name}</a></div>'
        "</div></div>"
    ))  # fmt: skip
    document = finish_report(prepare_report(HEADER, [question], QuizSettings()), {}, {})
    async with RenderPool(1) as pool:
        result = await pool.render(RenderTask("attempt 1", document.html, document.resources))
    assert result.pdf is not None
    text = "".join(_pdftotext(result.pdf, tmp_path).split())
    for piece in (token, name, code):
        assert piece in text


def test_parsed_formulas_kept_are_bounded_and_recurring_ones_stay(monkeypatch) -> None:
    """Formulas with an attempt's own numbers never recur: they must not pile up in the daemon's memory."""
    from archived_quiz import tex

    kept = tex._ParsedSvgs(4)
    monkeypatch.setattr(tex, "PARSED_SVGS", kept)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1ex" height="1ex" viewBox="0 0 9 9"><path d="M0 0H1"/></svg>'
    for number in range(10):  # the question's own formula in every attempt, and one with this attempt's value
        html = f'<div class="que"><div class="formulation"><p>\\( a \\) and \\( x = {number} \\)</p></div></div>'
        prepared = prepare_report(HEADER, [QuestionInput(slot=1, html=html)], QuizSettings())
        rendered = {formula: MathResult(formula[0], False, svg) for formula in prepared.formulas}
        assert finish_report(prepared, rendered, {}).html.count("<svg") == 2
        assert len(kept) <= 4
    assert (("a", False), svg) in kept._items  # used by every attempt: never the least recently used
