"""Reports from hostile or unusual Moodle HTML and names: nothing is cut off, dropped or fatal without a word.

A 10 MB inline image, embedded media, SVG drawings, MathML and characters that XML cannot carry each used to cut
the question short, vanish silently or fail the attempt; each now ends up in the report (or as a visible
placeholder) with a warning for the job log.
"""

from __future__ import annotations

import base64
import io
import random
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from archived_quiz.html_tree import IncompleteHtmlError
from archived_quiz.report import (
    AttemptHeader,
    QuestionInput,
    ReportDocument,
    finish_report,
    prepare_report,
)
from archived_quiz.settings import QuizSettings
from archived_render.images import sniff_image_mime
from archived_render.render_pool import RenderPool
from archived_render.render_task import RenderTask, Resource

HEADER = AttemptHeader(attempt_id=12, attempt_number=1, username="zotsuka", user_fullname="Zoë Ōtsuka",
                       idnumber="4711002", course="Linear Algebra I (LA1)", quiz="Midterm quiz",
                       archived_at=datetime(2026, 1, 2, tzinfo=UTC), job_id="job-1")  # fmt: skip
HOSTILE = {"NUL": "\x00", "escape": "\x1b", "DEL": "\x7f", "C1": "\x85", "surrogate": "\ud800", "U+FFFE": "\ufffe",
           "U+FFFF": "\uffff"}  # fmt: skip


def png(width: int = 40, height: int = 30, noise: bool = False) -> bytes:
    """A PNG; with `noise`, random pixels that do not compress (a big file)."""
    if noise:
        pixels = random.Random(7).randbytes(width * height * 3)
        image = Image.frombytes("RGB", (width, height), pixels)
    else:
        image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def question(body: str, slot: int = 1) -> QuestionInput:
    """A question of Moodle's review markup with `body` as its text, a response and a right answer after it."""
    html = (
        f'<div class="que shortanswer"><div class="content"><div class="formulation clearfix">'
        f'<div class="qtext">{body}</div><div class="ablock">Answer: <input type="text" value="forty-two"></div>'
        '</div><div class="outcome"><div class="rightanswer">The correct answer is: 42</div></div></div></div>'
    )
    return QuestionInput(slot=slot, html=html, qtype="shortanswer")


def build(*questions: QuestionInput, header: AttemptHeader = HEADER, images=None) -> ReportDocument:
    """The finished report of `questions` (no formulas typeset; images as given)."""
    prepared = prepare_report(header, list(questions), QuizSettings())
    return finish_report(prepared, {}, images or {url: None for url in prepared.image_urls})


def well_formed(document: ReportDocument) -> ET.Element:
    """The report HTML parsed as XML, as the render worker's fast path parses it."""
    return ET.fromstring(document.html.split("\n", 1)[1])


def text_of(document: ReportDocument) -> str:
    """All text of the report, white space collapsed."""
    return " ".join("".join(well_formed(document).itertext()).split())


# -- size -------------------------------------------------------------------------------------------------------


def test_a_ten_megabyte_inline_image_keeps_the_answer_and_is_scaled_as_an_image() -> None:
    data = png(2100, 1400, noise=True)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert len(url) > 10_000_000
    document = build(question(f'<p>Look at the scan:</p><p><img src="{url}" alt="scan"></p><p>What is it?</p>'))
    text = text_of(document)
    assert "What is it?" in text and "forty-two" in text and "The correct answer is: 42" in text
    assert list(document.resources.values()) == [Resource(data, "image/png")]  # the worker scales image/* down
    assert url not in document.html


def test_an_inline_image_without_its_type_is_still_known_as_an_image() -> None:
    """The render worker only scales down what is labelled an image: an untyped data: URL must not get past."""
    data = png()
    for header in ("data:;base64,", "data:application/octet-stream;base64,"):
        url = header + base64.b64encode(data).decode()
        document = build(question(f'<img src="{url}" alt="x">'))
        assert list(document.resources.values()) == [Resource(data, "image/png")]


@pytest.mark.parametrize(
    ("data", "mime"),
    [(png(), "image/png"), (b"\xff\xd8\xff\xe0rest", "image/jpeg"), (b"GIF89a...", "image/gif"),
     (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"<svg xmlns='x'/>", "image/svg+xml"),
     (b"%PDF-1.7", None), (b"", None)],
    ids=["png", "jpeg", "gif", "webp", "svg", "pdf", "empty"],
)  # fmt: skip
def test_image_types_are_known_by_their_first_bytes(data: bytes, mime: str | None) -> None:
    assert sniff_image_mime(data) == mime


def test_html_that_cannot_be_read_to_its_end_fails_naming_the_question() -> None:
    deep = "<div>" * 3000 + "the answer" + "</div>" * 3000
    with pytest.raises(IncompleteHtmlError, match="question in slot 3: the HTML could not be read to its end"):
        prepare_report(HEADER, [question("<p>fine</p>"), question(deep, slot=3)], QuizSettings())


# -- embedded content -------------------------------------------------------------------------------------------

EMBEDDED = {
    "embed": ('<embed src="https://media.example.org/clip.swf" type="application/x-shockwave-flash">', "object",
              ["https://media.example.org/clip.swf"]),
    "iframe": ('<iframe src="https://video.example.org/embed/42" width="560"></iframe>', "web page",
               ["https://video.example.org/embed/42"]),
    "object": ('<object data="https://media.example.org/applet.swf"><param name="movie" value="https://media.example'
               '.org/movie.swf">Fallback words</object>', "object",
               ["https://media.example.org/applet.swf", "https://media.example.org/movie.swf"]),
    "video": ('<video controls poster="p.png"><source src="https://moodle.example/pluginfile.php/9/clip.mp4" '
              'type="video/mp4"><track src="https://moodle.example/pluginfile.php/9/clip.vtt">Fallback words</video>',
              "video", ["https://moodle.example/pluginfile.php/9/clip.mp4", "https://moodle.example/pluginfile.php/9/clip.vtt"]),
    "audio": ('<audio src="https://moodle.example/pluginfile.php/9/talk.mp3"></audio>', "audio",
              ["https://moodle.example/pluginfile.php/9/talk.mp3"]),
}  # fmt: skip


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_content_becomes_a_placeholder_with_its_address_and_a_warning(name: str) -> None:
    markup, kind, urls = EMBEDDED[name]
    document = build(question(f"<p>Watch this:</p><div>{markup}<p>Explain what you saw.</p></div><p>Last line.</p>"))
    text = text_of(document)
    placeholder = f"[embedded {kind} not archived: {', '.join(urls)}]"
    assert placeholder in text
    assert "Explain what you saw." in text and "Last line." in text and "forty-two" in text
    if "Fallback" in markup:
        assert "Fallback words" in text  # what a reader without the player would see
    assert [f"question in slot 1: embedded {kind} cannot be archived, placeholder shown: {', '.join(urls)}"] == [
        w for w in document.warnings if "embedded" in w
    ]
    root = well_formed(document)
    assert not [e for e in root.iter() if e.tag in ("embed", "iframe", "object", "video", "audio", "source", "a")]
    assert not any(url in (e.get("href") or "") + (e.get("src") or "") for e in root.iter() for url in urls)


def test_an_object_with_an_embed_for_older_browsers_is_one_placeholder() -> None:
    document = build(question('<object data="https://m.example/a.swf"><embed src="https://m.example/b.swf"></object>'
                              "<p>after</p>"))  # fmt: skip
    text = text_of(document)
    assert text.count("[embedded") == 1 and "after" in text
    assert "[embedded object not archived: https://m.example/a.swf, https://m.example/b.swf]" in text
    assert len([w for w in document.warnings if "embedded" in w]) == 1


def test_embedded_addresses_lose_their_tokens_and_inline_data_is_summarised() -> None:
    media = "data:video/mp4;base64," + "A" * 5000
    document = build(
        question(
            '<iframe src="https://moodle.example/webservice/pluginfile.php/9/x.mp4?token=s3cr3t&amp;x=1"></iframe>'
            f'<video src="{media}"></video>'
        )
    )
    assert "s3cr3t" not in document.html and "s3cr3t" not in " ".join(document.warnings)
    assert "token=***" in document.html
    assert "data:video/mp4;base64… (inline data, 5022 characters)" in text_of(document)
    assert "AAAA" not in document.html


def test_a_picture_keeps_its_image_and_loses_its_sources() -> None:
    prepared = prepare_report(
        HEADER,
        [question('<picture><source srcset="https://x.example/a.webp"><img src="https://x.example/b.png" alt="B">'
                  "</picture><p>after</p>")],
        QuizSettings(),
    )  # fmt: skip
    assert prepared.image_urls == ["https://x.example/b.png"]
    document = finish_report(prepared, {}, {"https://x.example/b.png": Resource(png(), "image/png")})
    assert "<source" not in document.html and "after" in text_of(document)


def test_an_image_with_only_a_srcset_is_fetched() -> None:
    prepared = prepare_report(HEADER, [question('<img srcset="https://x.example/a.png 1x, b.png 2x">')], QuizSettings())
    assert prepared.image_urls == ["https://x.example/a.png"]


# -- SVG and MathML ------------------------------------------------------------------------------------------------

SVG = (
    '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="60" viewBox="0 0 12 6" '
    'inkscape:label="layer"><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient>'
    '<rect width="12" height="6" fill="url(#g)"/><image xlink:href="https://moodle.example/pluginfile.php/1/d.png" '
    'width="6" height="6"/><text x="0" y="5">Label in the drawing</text></svg>'
)


def test_an_inline_svg_keeps_its_names_and_its_pictures_are_fetched() -> None:
    prepared = prepare_report(HEADER, [question(f"<p>Diagram:</p>{SVG}<p>after</p>")], QuizSettings())
    assert prepared.image_urls == ["https://moodle.example/pluginfile.php/1/d.png"]
    document = finish_report(prepared, {}, {prepared.image_urls[0]: Resource(png(), "image/png")})
    root = well_formed(document)
    svg = root.find(".//{http://www.w3.org/2000/svg}svg")
    assert svg is not None and svg.get("viewBox") == "0 0 12 6"  # not lower-cased, in SVG's namespace
    assert svg.find("{http://www.w3.org/2000/svg}linearGradient") is not None
    image = svg.find("{http://www.w3.org/2000/svg}image")
    assert image is not None and image.get("href") in document.resources
    assert "after" in text_of(document)


async def test_an_inline_svg_with_its_picture_renders(tmp_path: Path) -> None:
    prepared = prepare_report(HEADER, [question(SVG)], QuizSettings())
    document = finish_report(prepared, {}, {prepared.image_urls[0]: Resource(png(), "image/png")})
    async with RenderPool(1) as pool:
        result = await pool.render(RenderTask("attempt 12", document.html, document.resources))
    assert result.pdf is not None and result.missing_resources == () and result.broken_resources == ()
    (tmp_path / "r.pdf").write_bytes(result.pdf)
    listing = subprocess.run(["pdfimages", "-list", str(tmp_path / "r.pdf")], capture_output=True, text=True)
    assert len(listing.stdout.strip().splitlines()) >= 3  # header, rule, at least the drawing's picture


def test_an_svg_picture_that_is_not_available_is_left_out_with_a_warning() -> None:
    document = build(question(SVG))
    assert "<image" not in document.html
    assert document.warnings[-1] == (
        "image in a drawing not available, left out: https://moodle.example/pluginfile.php/1/d.png"
    )


def test_mathml_with_a_tex_annotation_is_typeset_other_mathml_is_text_with_a_warning() -> None:
    annotated = (
        '<math display="block"><semantics><mfrac><mi>a</mi><mi>b</mi></mfrac>'
        '<annotation encoding="application/x-tex">\\frac{a}{b}</annotation></semantics></math>'
    )
    prepared = prepare_report(HEADER, [question(f"<p>{annotated} and <math><mi>y</mi></math></p>")], QuizSettings())
    assert prepared.formulas == {("\\frac{a}{b}", True)}
    assert prepared.warnings == [
        "question in slot 1: MathML formula without a TeX annotation: shown as plain text, its layout is lost"
    ]


# -- characters XML cannot carry -------------------------------------------------------------------------------


@pytest.mark.parametrize("character", HOSTILE.values(), ids=HOSTILE.keys())
def test_names_with_characters_xml_cannot_carry_are_cleaned_with_a_warning(character: str) -> None:
    header = AttemptHeader(
        **{**vars(HEADER), "user_fullname": f"Zo{character}ë Ōtsuka", "idnumber": f"47{character}11",
           "quiz": f"Midterm{character}", "course": "Linear\nAlgebra"}
    )  # fmt: skip
    document = build(question("<p>Q</p>"), header=header)
    text = text_of(document)
    assert "Zo\ufffdë Ōtsuka" in text and "47\ufffd11" in text and "Midterm\ufffd" in text and "Linear Algebra" in text
    assert document.warnings == [
        "report header: user_fullname, idnumber, course, quiz contained characters that cannot be archived as text "
        "(control characters, lone surrogates, U+FFFE or U+FFFF); each was replaced by U+FFFD (\ufffd)"
    ]


@pytest.mark.parametrize("character", HOSTILE.values(), ids=HOSTILE.keys())
def test_question_html_with_characters_xml_cannot_carry_keeps_everything(character: str) -> None:
    document = build(question(f"<p>Before{character}after.</p><p>Second paragraph.</p>", slot=4))
    text = text_of(document)
    assert "Before\ufffdafter." in text and "Second paragraph." in text and "The correct answer is: 42" in text
    assert document.warnings == [
        "question in slot 4: HTML contained characters that cannot be archived as text (control characters, lone "
        "surrogates, U+FFFE or U+FFFF); each was replaced by U+FFFD (\ufffd)"
    ]
    document.html.encode("utf-8")
    assert build(question("<p>Before after: Zoë, Ōtsuka — ∑ 𝔸 tab\there</p>", slot=4)).warnings == []
