"""The gate in front of WeasyPrint's speed patches: proven versions only, a switch that turns them off, stock
rendering otherwise.

Stock rendering is tested for real: with the switch off, or with the version lookup answering another
WeasyPrint release (one WeasyPrint can be installed, so the gate's lookup is what is faked), not one WeasyPrint
or pydyf function is replaced, and the real attempt still becomes a checked PDF/A whose text is all there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lhtml

from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_render import weasy_patches
from archived_render.math import MathRenderer
from archived_render.pdf_engine import PdfEngine
from archived_render.render_pool import RenderPool
from archived_render.render_task import RenderOptions, RenderTask
from archived_render.weasy_patches import ENV_VAR, PATCHES, PROVEN
from tests.support.fixtures import REAL_ATTEMPT

OPTIONS = RenderOptions(identifier="patch-gate", created="2024-05-01T10:00:00Z", page_size="A4")


def _replaceable() -> dict[str, Any]:
    """Every WeasyPrint/pydyf object a patch replaces, as it is now, by where it lives."""
    import pydyf
    from weasyprint import css, images, svg
    from weasyprint.draw import text as draw_text
    from weasyprint.formatting_structure import boxes
    from weasyprint.text import line_break

    return {
        "Layout.reactivate": line_break.Layout.reactivate,
        "first_line_metrics": line_break.first_line_metrics,
        "ComputedStyle.__missing__": css.ComputedStyle.__missing__,
        "Box.is_in_normal_flow": boxes.Box.is_in_normal_flow,
        "draw_first_line": draw_text.draw_first_line,
        "RasterImage.get_x_object": images.RasterImage.get_x_object,
        "SVGImage.__init__": images.SVGImage.__init__,
        "SVGImage.draw": images.SVGImage.draw,
        "svg.TAGS[path]": svg.TAGS["path"],
        "pydyf.Stream.data": pydyf.Stream.__dict__["data"].fget,
        "pydyf.PDF.write": pydyf.PDF.write,
        "pydyf.zlib": pydyf.zlib,
    }


def _library_code(obj: Any) -> bool:
    """Whether `obj` is WeasyPrint's, pydyf's or the standard library's own (not one of archived's wrappers)."""
    import zlib

    module = getattr(obj, "__module__", None) or ""
    return obj is zlib or module.split(".")[0] in ("weasyprint", "pydyf")


@pytest.fixture
def originals():
    """WeasyPrint's and pydyf's own functions; the patches as every other test expects them afterwards."""
    weasy_patches.remove()
    found = _replaceable()
    assert all(_library_code(obj) for obj in found.values()), "remove() left a wrapper in place"
    PdfEngine(weasy_patches.decide(environ={}))  # all patches on: the gate must take them out again
    assert _replaceable() != found
    yield found
    weasy_patches.apply(weasy_patches.decide())


def _unproven(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"weasyprint": "71.0", "pydyf": "0.14.0"}
    monkeypatch.setattr(weasy_patches, "_installed_version", found.get)


@pytest.fixture(scope="module")
def report_html() -> str:
    """The real attempt's report, formulas drawn by MathJax."""
    page = lhtml.parse(str(REAL_ATTEMPT)).getroot()
    blocks = page.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " que ")]')
    questions = [QuestionInput(slot=i + 1, html=lhtml.tostring(b, encoding="unicode")) for i, b in enumerate(blocks)]
    header = AttemptHeader(attempt_id=23, attempt_number=1, username="gate-student", quiz="Gate quiz")
    prepared = prepare_report(header, questions, QuizSettings())

    async def formulas() -> dict[str, Any]:
        math = MathRenderer()
        try:
            return await math.render_many(prepared.formulas)
        finally:
            await math.close()

    return finish_report(prepared, asyncio.run(formulas()), {}).html


def _pdftotext(pdf: bytes, tmp: Path) -> str:
    path = tmp / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


def _assert_complete_report(pdf: bytes, tmp: Path) -> None:
    text = _pdftotext(pdf, tmp)
    assert "Gate quiz" in text and "gate-student" in text
    assert text.lower().count("response history") == 16  # one history per question (in capitals)
    assert "Blank 1 → Lorem" in text and "Drop zone 4 → Germany" in text
    assert "\\sum_{k=1}^n a_k b_k" in text  # a formula's TeX source, searchable over its drawing


@pytest.mark.render
@pytest.mark.parametrize("why", ["switch off", "unproven version"])
def test_stock_path_replaces_nothing_and_renders_a_complete_pdfa(
    why, originals, report_html, monkeypatch, tmp_path
) -> None:
    if why == "switch off":
        monkeypatch.setenv(ENV_VAR, "off")
    else:
        monkeypatch.delenv(ENV_VAR, raising=False)
        _unproven(monkeypatch)
    engine = PdfEngine()
    assert engine.patches.enabled == frozenset()
    assert engine.patches.label == "stock"
    assert _replaceable() == originals  # the very same function objects as WeasyPrint's and pydyf's own

    def parsed_document(*args: Any) -> Any:
        raise AssertionError("the stock path must not build its own WeasyPrint document")

    monkeypatch.setattr(engine, "_document", parsed_document)
    result = engine.render(RenderTask("attempt 23", report_html, options=OPTIONS))
    assert _replaceable() == originals
    assert result.check is not None and result.check.variant == "pdf/a-2u" and result.check.has_output_intent
    assert result.pdf is not None
    _assert_complete_report(result.pdf, tmp_path)


def test_patched_path_replaces_every_patched_function(originals, monkeypatch) -> None:
    """The comparison above means something: on the proven versions with the switch on, they are all replaced."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    engine = PdfEngine()
    assert engine.patches.label == "patched"
    assert [name for name, obj in _replaceable().items() if obj is originals[name]] == []


def test_private_modules_stay_unloaded_on_an_unproven_version() -> None:
    """A moved or removed WeasyPrint internal cannot break anything: the modules using them are never imported."""
    script = textwrap.dedent(
        """
        import sys
        from archived_render import weasy_patches
        weasy_patches._installed_version = {"weasyprint": "71.0", "pydyf": "0.14.0"}.get
        from archived_render.pdf_engine import PdfEngine
        from archived_render.render_task import RenderOptions, RenderTask
        engine = PdfEngine()
        result = engine.render(RenderTask("t", "<html><body><p>Hello stock</p></body></html>", options=RenderOptions()))
        assert result.check is not None, result
        print(engine.patches.label)
        print(sorted(name for name in sys.modules if name.startswith("archived_render.weasy_")))
        """
    )
    done = _python(script)
    assert done.stdout.splitlines() == ["stock", "['archived_render.weasy_patches']"], done.stderr


def test_a_patch_module_that_fails_to_import_leaves_stock_rendering_working() -> None:
    """As if a WeasyPrint internal had moved although the versions match: the engine falls back, and says why."""
    script = textwrap.dedent(
        """
        from weasyprint.css import computed_values
        del computed_values.PHYSICAL_FUNCTIONS  # a name weasy_fastpaths imports, as if a release had moved it
        from archived_render.pdf_engine import PdfEngine
        from archived_render.render_task import RenderOptions, RenderTask
        engine = PdfEngine()
        result = engine.render(RenderTask("t", "<html><body><p>Hello stock</p></body></html>", options=RenderOptions()))
        assert result.check is not None and result.check.text_chars > 0, result
        print(engine.patches.label)
        print(engine.patches.reason)
        """
    )
    done = _python(script)
    label, reason = done.stdout.splitlines()
    assert label == "stock"
    assert "putting them in place failed (ImportError" in reason and "stock WeasyPrint" in reason


def _python(script: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != ENV_VAR}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)


@pytest.mark.render
async def test_unproven_version_logs_one_line_and_workers_render_stock(monkeypatch, caplog) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(weasy_patches, "_logged", set())
    _unproven(monkeypatch)
    caplog.set_level(logging.INFO, logger="archived_render.weasy_patches")
    html = "<!DOCTYPE html>\n<html><body><p>Stock worker</p></body></html>"
    for _ in range(2):  # a second pool in the same daemon (a driver restarted) says nothing new
        async with RenderPool(1, timeout=60, max_tasks_per_child=1) as pool:
            for number in range(2):  # a second worker (the first one served its quota) says nothing either
                result = await pool.render(RenderTask(f"attempt {number}", html, options=OPTIONS))
                assert result.check is not None and result.check.text_chars > 0
            assert pool.stats.weasyprint == "stock" and pool.stats.workers_started == 2
    lines = [record for record in caplog.records if "WeasyPrint" in record.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    message = lines[0].getMessage()
    assert "found WeasyPrint 71.0 / pydyf 0.14.0" in message
    assert f"proven on WeasyPrint {PROVEN['weasyprint']} / pydyf {PROVEN['pydyf']}" in message
    assert "correct, but slower" in message


@pytest.mark.parametrize(
    ("setting", "env", "label"),
    [(True, None, "patched"), (False, None, "stock"), (True, "off", "stock"), (False, "on", "patched"),
     (True, "all,-zlib6,-glyphs", "patched (all,-glyphs,-kept_layouts,-zlib6)")],
)  # fmt: skip
async def test_setting_and_environment_reach_the_workers(setting, env, label, monkeypatch) -> None:
    if env is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, env)
    async with RenderPool(1, timeout=60, weasyprint_patches=setting) as pool:
        await pool.warm_up()
        assert pool.stats.weasyprint == label


def test_switch_values() -> None:
    everything = frozenset(PATCHES)
    assert weasy_patches.parse("off") == weasy_patches.parse(" False ") == frozenset()
    assert weasy_patches.parse("on") == weasy_patches.parse("all") == everything
    assert weasy_patches.parse("all,-zlib6") == everything - {"zlib6"}
    assert weasy_patches.parse("glyphs,svg_paths") == {"glyphs", "svg_paths"}
    assert weasy_patches.parse("kept_layouts") == frozenset()  # needs glyphs
    assert weasy_patches.parse("all,-glyphs") == everything - {"glyphs", "kept_layouts"}
    for value in ("off", "on", "all,-zlib6", "glyphs,svg_paths"):
        assert weasy_patches.parse(weasy_patches.describe(weasy_patches.parse(value))) == weasy_patches.parse(value)
    with pytest.raises(ValueError, match="unknown patch 'zlib'"):
        weasy_patches.parse("all,-zlib")


def test_environment_wins_over_the_setting_and_a_wrong_value_says_what_to_do(monkeypatch) -> None:
    assert weasy_patches.decide(True, {ENV_VAR: "off"}).enabled == frozenset()
    assert weasy_patches.decide(False, {ENV_VAR: "on"}).enabled == frozenset(PATCHES)
    off = weasy_patches.decide(False, {})
    assert off.enabled == frozenset() and "[workers] weasyprint_patches = false" in off.reason
    wrong = weasy_patches.decide(True, {ENV_VAR: "fast"})
    assert wrong.enabled == frozenset() and not wrong.understood
    assert f"{ENV_VAR}=fast is not understood" in wrong.reason and "zlib6" in wrong.reason
    _unproven(monkeypatch)
    unproven = weasy_patches.decide(True, {ENV_VAR: "on"})
    assert unproven.enabled == frozenset() and not unproven.proven


def test_daemon_hands_the_setting_to_its_render_pool(daemon_factory, monkeypatch) -> None:
    """`[workers] weasyprint_patches = false` in the daemon's configuration reaches its render service (once)."""
    monkeypatch.delenv(ENV_VAR, raising=False)  # the daemon inherits this environment
    daemon = daemon_factory(**{"workers.weasyprint_patches": False})
    daemon.terminate()
    assert daemon.log().count("WeasyPrint speed patches off ([workers] weasyprint_patches = false)") == 1
