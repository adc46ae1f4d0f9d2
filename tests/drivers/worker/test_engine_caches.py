"""The render engine's cross-document caches (weasy_caches) and fast paths: same bytes, same drawing, faster.

Every test renders with real WeasyPrint. The reference for "the same drawing" is a cold engine in a fresh
state of the caches; a warm engine (caches filled by earlier documents) must write byte-identical PDFs.
"""

from __future__ import annotations

import io
import re
import zlib

from PIL import Image
from pypdf import PdfReader

from archived_render import weasy_caches
from archived_render.pdf_check import check_pdf
from archived_render.pdf_engine import PdfEngine
from archived_render.render_task import RenderOptions, RenderTask, Resource

# A MathJax-like formula: glyph outlines placed by transforms, plus a fraction bar.
FORMULA = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="4.2ex" height="2.4ex" viewBox="0 -800 1900 1100" '
    'style="vertical-align: -0.7ex;"><g fill="currentColor" stroke="none">'
    '<path transform="matrix(0.707 0 0 -0.707 220 -394)" d="M52 289Q59 331 106 386T222 442Q257 442 286 424'
    'T329 379Q371 442 430 442Q467 442 494 420T522 361Q522 332 508 314T481 292T458 288Q439 288 427 299Z"></path>'
    '<path d="M120 -220H1700V-280H120 Z"></path></g></svg>'
)
# An SVG that needs its document (text): drawn, but neither cached nor memoised.
LABELLED = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20" viewBox="0 0 80 20">'
    '<rect width="80" height="20" fill="#eee"/><text x="2" y="14" font-size="12">Drop zone A</text></svg>'
)


def _png_with_alpha() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


def _html(body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>t</title><style>body { font-family: 'DejaVu Sans' }</style></head>"
        f"<body>{body}</body></html>"
    )


PAGE = _html(
    f"<p>Let {FORMULA} be given.</p><p>{LABELLED}</p>"
    '<p><img src="res:dot" alt="dot"/> and again <img src="res:dot" alt="dot"/></p>'
    '<p><img src="https://moodle.example/gone.png" alt="gone"/></p>'
)
RESOURCES = {"res:dot": Resource(_png_with_alpha(), "image/png")}
OPTIONS = RenderOptions(identifier="cache-test", created="2024-05-01T10:00:00Z")


def _content(pdf: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    return b"".join(page.get_contents().get_data() for page in reader.pages)


def test_warm_engine_writes_the_same_bytes_as_a_cold_one() -> None:
    task = RenderTask("attempt 1", PAGE, RESOURCES, OPTIONS)
    cold = PdfEngine().render(task)
    warm_engine = PdfEngine()
    warm_engine.render(RenderTask("other", _html(f"<p>Warm {FORMULA}</p>"), RESOURCES, OPTIONS))
    results = [warm_engine.render(task) for _ in range(3)]
    assert {r.sha256 for r in results} == {cold.sha256}
    memo = weasy_caches.svg_memo()
    assert memo is not None and memo.hits > 0  # the formula came from the memo
    # A failed image is not cached: every document reports it again.
    assert all(r.missing_resources == ("https://moodle.example/gone.png",) for r in [cold, *results])


def test_formulas_images_and_svg_text_are_drawn() -> None:
    with_all = PdfEngine().render(RenderTask("a", PAGE, RESOURCES, OPTIONS))
    without = PdfEngine().render(
        RenderTask("b", _html("<p>Let be given.</p><p></p><p>and again</p>"), RESOURCES, OPTIONS)
    )
    assert with_all.pdf is not None and without.pdf is not None
    drawn, bare = _content(with_all.pdf), _content(without.pdf)
    # The glyph outline (curves) and the bar (a filled path) of the formula are in the page content.
    assert drawn.count(b" c\n") >= bare.count(b" c\n") + 10
    assert re.search(rb"\bf\n", drawn)
    assert drawn.count(b" Do\n") >= 2  # the PNG (drawn twice, one image object)
    assert "Drop zone A" in PdfReader(io.BytesIO(with_all.pdf)).pages[0].extract_text()
    reader = PdfReader(io.BytesIO(with_all.pdf))
    images = [obj for obj in reader.pages[0]["/Resources"]["/XObject"].values()]
    assert any("/SMask" in image.get_object() for image in images)  # alpha kept as a soft mask


def test_inline_svg_keeps_its_size_as_an_image() -> None:
    # The engine draws inline SVGs as images; their box must be as wide as WeasyPrint's inline SVG box.
    from weasyprint import HTML

    def widths(document) -> list[float]:
        found: list[float] = []

        def walk(box) -> None:
            if type(box).__name__ == "InlineReplacedBox":
                found.append(round(box.width, 3))
            for child in getattr(box, "children", []):
                walk(child)

        walk(document.pages[0]._page_box)
        return found

    html = _html(f"<p>A {FORMULA} B</p>")
    inline = widths(HTML(string=html).render())
    engine = PdfEngine()
    task = RenderTask("w", html, {}, OPTIONS)
    from archived_render.pdf_engine import _ResourceFetcher

    fetcher = _ResourceFetcher({}, engine._images, task)
    document = engine._document(html, fetcher)
    assert document.etree_element.find(".//img") is not None  # it was swapped
    assert widths(document.render(font_config=engine._fonts)) == inline


def test_stylesheet_is_parsed_once_and_applies() -> None:
    engine = PdfEngine()
    html = _html('<p class="big">Big words</p>').replace("</style>", " .big { font-size: 30pt }</style>")
    first = engine.render(RenderTask("a", html, {}, OPTIONS))
    second = engine.render(RenderTask("b", html, {}, OPTIONS))
    assert len(engine._style_css) == 1 and first.sha256 == second.sha256
    assert first.pdf is not None
    assert b" 40 Tf" in _content(first.pdf)  # 30pt = 40px: the sheet's rule reached the text


def test_pdf_streams_are_serialised_once_and_still_valid() -> None:
    result = PdfEngine().render(RenderTask("a", PAGE, RESOURCES, OPTIONS))
    assert result.pdf is not None
    check = check_pdf(result.pdf)
    assert check.text_chars > 0 and check.has_output_intent
    # Every Flate stream inflates (level 6 instead of 9 changes sizes, not validity).
    for match in re.finditer(rb"/FlateDecode.*?stream\n(.*?)\nendstream", result.pdf, re.DOTALL):
        if b"/DecodeParms" not in result.pdf[match.start() - 200 : match.start()]:
            zlib.decompress(match.group(1))


def test_svg_text_is_never_replayed_from_another_document() -> None:
    # Text in an SVG names the document's font and registers glyphs for its subset: a replay from an earlier
    # document would show the wrong glyphs (this once turned "Drop zone A" into "'URS ]RQ H $").
    engine = PdfEngine()
    engine.render(RenderTask("a", PAGE, RESOURCES, OPTIONS))
    result = engine.render(RenderTask("b", _html(f"<p>Hi</p><p>{LABELLED}</p>"), {}, OPTIONS))
    assert result.pdf is not None
    assert PdfReader(io.BytesIO(result.pdf)).pages[0].extract_text().split() == ["Hi", "Drop", "zone", "A"]


def test_images_are_kept_only_under_content_addressed_names() -> None:
    def png(colour: tuple[int, int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (8, 8), colour).save(out, "PNG")
        return out.getvalue()

    engine = PdfEngine()
    html = _html('<p>Picture <img src="https://moodle.example/p.png" alt="p"/></p>')
    red = engine.render(
        RenderTask("a", html, {"https://moodle.example/p.png": Resource(png((255, 0, 0)), "image/png")})
    )
    blue = engine.render(
        RenderTask("b", html, {"https://moodle.example/p.png": Resource(png((0, 0, 255)), "image/png")})
    )
    assert red.sha256 != blue.sha256  # the second task got its own picture, not the first one's
    assert not any(key.startswith("https:") for key in engine._weasy_images)
