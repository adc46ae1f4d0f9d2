"""The render engine's fast paths (weasy_fastpaths) write the very same PDF bytes as WeasyPrint's own code.

Each document is rendered twice by the same engine, once with WeasyPrint's original functions and once with
the fast paths, and the two PDFs are compared byte for byte. The documents exercise what the replaced
functions read: languages and text direction, font families, sizes, weights, styles, small caps, font
features and underlines, percentages, `calc()`, `auto`, min/max sizes, page margins and collapsed table
borders, and for the glyph drawing combining marks the shaper moves up or down, zero-width glyphs,
characters no font has, an ellipsis; and for computed values, logical properties that override physical
ones; and for layouts kept from line breaking to drawing, the text runs where they may and may not be kept.
"""

from __future__ import annotations

import pytest
from lxml import html as lhtml

from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_render import weasy_fastpaths
from archived_render.pdf_engine import PdfEngine
from archived_render.render_task import RenderOptions, RenderTask
from tests.support.fixtures import REAL_ATTEMPT

OPTIONS = RenderOptions(identifier="fastpaths", created="2024-05-01T10:00:00Z")

STYLED = """<!DOCTYPE html>
<html lang="de"><head><title>t</title><style>
@page { size: A5; margin: 5% 10mm calc(10mm + 2%) 8%; @bottom-center { content: counter(page) } }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt }
.box { width: 60%; min-width: 30mm; max-width: calc(100% - 20mm); padding: 2% 1em; margin: 0 auto;
       border: 1pt solid #333 }
.serif { font-family: 'DejaVu Serif', serif; font-weight: bold; font-style: italic }
.caps { font-variant: small-caps; font-feature-settings: "liga" 0, "kern" 1; letter-spacing: 0.5pt }
.under { text-decoration: underline; text-decoration-color: red }
.strike { text-decoration: line-through }
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 80%; white-space: pre-wrap }
table { border-collapse: collapse; width: 100% } td { border: 0.5pt solid #999; padding: 1% 2pt; height: 5% }
.tall { min-height: 12mm; max-height: 40%; height: auto }
</style></head><body>
<div class="box"><p>Prüfungsleistung: Straße, Größe, Übung — die Antwort des Studierenden bleibt erhalten.</p>
<p class="serif">Serif bold italic <span class="caps">Small Caps And Ligatures office</span></p>
<p class="under">Underlined text <span class="strike">struck out</span> back</p></div>
<p lang="en" class="mono">def f(x):\n    return x ** 2  # a long line of code that has to wrap inside the page box
somewhere, and then some more</p>
<p lang="fr">Le problème est résolu à l’aide d’une équation différentielle.</p>
<p dir="rtl" lang="ar">مرحبا بالعالم، هذا نص عربي.</p>
<p lang="tr" style="text-transform: uppercase">istanbul ıiİI</p>
<p>Marks placed by the shaper: e\u0301 a\u0308 q\u0323\u0307 \u0915\u094d\u0937\u093f;
zero\u200bwidth, soft\u00adhyphen,
no glyph in any font: \U0001e800 \ue000 \U000f0000.</p>
<div style="margin-inline-start: 12mm; padding-inline-end: 9mm; border-inline-start: 2pt solid blue">
<p dir="rtl" style="margin-inline-end: 20mm">Logical margins, ltr and rtl</p><p>inherited: <span>child</span></p></div>
<p style="width: 25mm; overflow: hidden; white-space: nowrap; text-overflow: ellipsis">cut off with an ellipsis</p>
<table><tr><td>1 %</td><td class="tall">Zelle mit Mindesthöhe</td></tr><tr><td colspan="2">Ende</td></tr></table>
</body></html>"""

# Text runs whose layout drawing may or may not take over from line breaking (weasy_fastpaths'
# `_keep_for_drawing`): justified lines, word and letter spacing, tabs, preserved and Unicode line breaks,
# hyphenation, right-to-left lines that fit and that wrap, SVG text; floats, also inside a flex container.
TEXT_RUNS = """<!DOCTYPE html>
<html lang="en"><head><style>
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; width: 90mm; overflow-wrap: break-word }
.j { text-align: justify } .ws { word-spacing: 3pt } .ls { letter-spacing: 1pt } .h { hyphens: auto }
pre { white-space: pre; tab-size: 6 } .pw { white-space: pre-wrap } .a { overflow-wrap: anywhere }
</style></head><body>
<p class="j">Justified text has to spread its words over the full width of the line, and the last line of
the paragraph stays as it is, so every line but the last one is drawn with more room between words.</p>
<p class="j">Short justified.</p>
<p class="ws">Word spacing widens every gap between words in this paragraph, which wraps over lines.</p>
<p class="ls">Letter spacing adds room after every letter of this longer paragraph that wraps, too.</p>
<p class="ws">x</p><p class="ls">y</p><p> </p>
<pre>col1\tcol2\tcol3\nvalue\t42\t\tend</pre>
<p class="pw">first line\nsecond line   with kept   spaces and a long tail that wraps around the box</p>
<p>Unicode line\u2028separator and paragraph\u2029separator in one run of text.</p>
<p class="h">Hyphenation: Donaudampfschifffahrtsgesellschaftskapitän, internationalization, incomprehensibilities
and characteristically extraordinary counterrevolutionaries.</p>
<p class="a">Averyveryverylongwordwithoutanyspacethatmustbreakanywhereinsidethelinebox1234567890abcdefghij</p>
<p dir="rtl" lang="he">שלום</p>
<p dir="rtl" lang="he">שלום עולם, זהו טקסט ארוך יותר בעברית שחייב לעבור לשורה הבאה בתוך התיבה הצרה הזאת.</p>
<p>Mixed <b>bold</b> and <i>italic</i> runs, <span style="font-size: 14pt">bigger</span> and
<code>monospaced code</code> on lines that wrap again and again within the narrow body.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="60mm" height="10mm"><text x="2" y="20">SVG text</text></svg>
<p style="line-clamp: 2; overflow: hidden">Clamped: Averyveryverylongwordwithoutanyspacethatmustwrapsomewhere
inside this box and more words after it that the clamp cuts off with an ellipsis at the end of line two.</p>
<p style="width: 30mm; overflow: hidden; white-space: nowrap; text-overflow: ellipsis">Ellipsised
Averyveryverylongwordwithoutanyspace</p>
<p>Hidden <span style="visibility: hidden">invisible words here</span> and visible again.</p>
<div style="display: flex; gap: 2mm"><p style="float: left">floated flex item (not floated)</p>
<p style="position: absolute; top: 0">absolute</p><p>plain item</p></div>
<p>Floats <span style="float: right; width: 20mm">right float</span> and
<span style="position: relative; left: 2mm">relative</span> text around them.</p>
</body></html>"""


def _report_html() -> str:
    page = lhtml.parse(str(REAL_ATTEMPT)).getroot()
    blocks = page.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " que ")]')
    questions = [QuestionInput(slot=i + 1, html=lhtml.tostring(b, encoding="unicode")) for i, b in enumerate(blocks)]
    header = AttemptHeader(attempt_id=23, attempt_number=1, username="student", quiz="Real quiz")
    prepared = prepare_report(header, questions, QuizSettings())
    return finish_report(prepared, {}, {}).html


@pytest.fixture
def engine():
    engine = PdfEngine()
    yield engine
    weasy_fastpaths.install()  # the state every other test (and every worker) runs in


def _render(engine: PdfEngine, html: str, fast: bool) -> bytes:
    (weasy_fastpaths.install if fast else weasy_fastpaths.uninstall)()
    result = engine.render(RenderTask("t", html, options=OPTIONS))
    assert result.pdf is not None
    return result.pdf


def test_text_runs_are_drawn_both_from_kept_layouts_and_new_ones(engine, monkeypatch):
    """The byte comparison below means something only if both kinds of drawing happen in it."""
    from weasyprint.text import line_break

    weasy_fastpaths.install()
    reused: list[bool] = []
    installed = line_break.Layout.reactivate

    def spy(layout, style):
        installed(layout, style)
        reused.append(layout.reused_for_drawing)

    monkeypatch.setattr(line_break.Layout, "reactivate", spy)
    _render(engine, TEXT_RUNS, fast=True)
    assert reused.count(True) >= 10 and reused.count(False) >= 3


@pytest.mark.parametrize("document", ["styled", "text runs", "real attempt report"])
def test_fast_paths_write_the_same_bytes(engine, document):
    html = {"styled": STYLED, "text runs": TEXT_RUNS}.get(document) or _report_html()
    original = _render(engine, html, fast=False)
    fast = _render(engine, html, fast=True)
    again = _render(engine, html, fast=True)  # shared contexts and descriptions, now warm
    assert fast == original
    assert again == original


def test_install_replaces_and_uninstall_restores():
    from weasyprint import css
    from weasyprint.draw import text as draw_text
    from weasyprint.formatting_structure import boxes
    from weasyprint.text import line_break

    def current() -> tuple[object, ...]:
        return (
            line_break.Layout.reactivate, line_break.first_line_metrics, draw_text.draw_first_line,
            css.ComputedStyle.__missing__, boxes.Box.is_in_normal_flow,
        )  # fmt: skip

    weasy_fastpaths.uninstall()
    originals = current()
    assert weasy_fastpaths.install() == set(weasy_fastpaths.NAMES)
    weasy_fastpaths.install()  # idempotent
    assert all(new is not old for new, old in zip(current(), originals, strict=True))
    weasy_fastpaths.uninstall()
    assert current() == originals
    assert weasy_fastpaths.install(["normal_flow", "kept_layouts"]) == {"normal_flow"}  # kept layouts need glyphs
    weasy_fastpaths.uninstall()
    weasy_fastpaths.install()
