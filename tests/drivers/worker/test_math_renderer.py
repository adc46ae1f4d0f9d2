"""MathJax in a Node child: real Node, the real MathJax bundle (scripts/setup builds it; never skipped)."""

from __future__ import annotations

import pytest

from archived_render import math as math_module
from archived_render.math import MathRenderer


async def test_renders_caches_and_reports_errors() -> None:
    renderer = MathRenderer()
    try:
        results = await renderer.render_many([("\\frac{a}{b}", False), ("\\sum_i i", True), ("\\frac{", False)])
        assert results[("\\frac{a}{b}", False)].svg.startswith("<svg")
        assert results[("\\sum_i i", True)].svg.startswith("<svg")
        assert results[("\\frac{", False)].svg is None and results[("\\frac{", False)].error
        again = await renderer.render("\\frac{a}{b}")
        assert again is results[("\\frac{a}{b}", False)]  # from the cache
    finally:
        await renderer.close()


async def test_restarts_a_dead_child() -> None:
    renderer = MathRenderer()
    try:
        await renderer.render("x^2")
        assert renderer._process is not None
        renderer._process.kill()
        await renderer._process.wait()
        result = await renderer.render("y^3")
        assert result.svg and renderer.restarts == 1
    finally:
        await renderer.close()


async def test_the_child_runs_with_a_bounded_heap() -> None:
    """V8's default sizing let the child grow to ~150 MiB over thousands of distinct formulas."""
    from pathlib import Path

    from archived_render.math import NODE_FLAGS

    renderer = MathRenderer()
    try:
        assert (await renderer.render("x^2")).svg
        assert renderer._process is not None
        arguments = Path(f"/proc/{renderer._process.pid}/cmdline").read_bytes().split(b"\0")
        assert "--max-old-space-size=64" in NODE_FLAGS
        assert all(flag.encode() in arguments for flag in NODE_FLAGS)
    finally:
        await renderer.close()


async def test_unavailable_without_the_mathjax_bundle(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(math_module, "SCRIPT", tmp_path / "tex2svg.bundle.js")
    renderer = MathRenderer()
    assert not renderer.available and "npm run build" in (renderer.reason or "")
    result = await renderer.render("x^2")
    assert result.svg is None and "MathJax bundle" in (result.error or "") and "is missing" in (result.error or "")


async def test_the_bundle_needs_no_node_modules(tmp_path, monkeypatch) -> None:
    """What the wheel ships: the one bundled file, run by Node from a folder without node_modules."""
    if not math_module.SCRIPT.is_file():
        pytest.fail(f"{math_module.SCRIPT} was not built (scripts/setup builds it)")
    alone = tmp_path / "tex2svg.bundle.js"
    alone.write_bytes(math_module.SCRIPT.read_bytes())
    monkeypatch.setattr(math_module, "SCRIPT", alone)
    renderer = MathRenderer()
    try:
        result = await renderer.render(r"\frac{a}{b}")
        assert result.error is None and (result.svg or "").startswith("<svg")
    finally:
        await renderer.close()


async def test_formulas_come_flat_and_tagged_equations_stay_whole() -> None:
    renderer = MathRenderer()
    try:
        results = await renderer.render_many(
            [("\\frac{a}{b} + \\sqrt{x^2}", False), ("\\begin{align} a &= b \\tag{1} \\end{align}", True)]
        )
    finally:
        await renderer.close()
    flat = results[("\\frac{a}{b} + \\sqrt{x^2}", False)].svg or ""
    # One group of paths (glyphs placed by a matrix, bars as rectangles): no <use>, <defs> or nested groups.
    assert flat.count("<g ") == 1 and "<use" not in flat and "<defs" not in flat
    assert flat.count("<path") == 8 and 'width="8.819ex"' in flat and 'viewBox="0 -1002 3898.1 1354.7"' in flat
    tagged = results[("\\begin{align} a &= b \\tag{1} \\end{align}", True)].svg or ""
    assert 'width="100%"' in tagged and "<use" in tagged  # MathJax's own SVG, nested viewports and all


async def test_flat_formula_has_the_same_outlines(monkeypatch) -> None:
    import re

    tex = [("\\sum_{k=1}^n a_k b_k \\leq \\left( \\int_0^1 f \\right)^2", True)]
    renderer = MathRenderer()
    try:
        flat = (await renderer.render_many(tex))[tex[0]].svg or ""
    finally:
        await renderer.close()
    monkeypatch.setenv("ARCHIVED_MATHJAX_NO_FLATTEN", "1")
    renderer = MathRenderer()
    try:
        whole = (await renderer.render_many(tex))[tex[0]].svg or ""
    finally:
        await renderer.close()
    # Every glyph MathJax placed (<use>) is one path of the flat SVG with that glyph's outline.
    glyphs = dict(re.findall(r'<path id="([^"]+)" d="([^"]*)"', whole))
    used = [glyphs[ref] for ref in re.findall(r'xlink:href="#([^"]+)"', whole)]
    drawn = re.findall(r'<path[^>]* d="([^"]*)"', flat)
    assert sorted(d for d in drawn if d in glyphs.values()) == sorted(used)
    for name in ("width", "height", "viewBox"):
        assert re.search(f'{name}="([^"]*)"', flat).group(1) == re.search(f'{name}="([^"]*)"', whole).group(1)


async def test_every_formula_stands_alone() -> None:
    """A `\\label` of one formula must not make the same formula fail later (every attempt repeats it).

    MathJax's TeX input remembers labels and equation numbers across conversions unless reset; with the cache
    off, the second conversion would be the one a later attempt gets after the first fell out of the cache.
    """
    renderer = MathRenderer(cache_size=0)
    formula = "\\begin{equation}E = mc^2 \\label{energy}\\end{equation}"
    try:
        first = await renderer.render(formula, display=True)
        second = await renderer.render(formula, display=True)
        assert first.svg is not None, first.error
        assert second.svg is not None, second.error
        assert second.svg == first.svg
    finally:
        await renderer.close()


async def test_child_is_recycled_between_batches() -> None:
    renderer = MathRenderer(cache_size=0, recycle_after=3)
    try:
        first = await renderer.render_many([(f"x_{i}", False) for i in range(3)])
        pid = renderer._process.pid if renderer._process else None
        assert renderer.recycles == 0
        more = await renderer.render_many([(f"y_{i}", False) for i in range(2)])
        assert renderer.recycles == 1 and renderer.restarts == 0
        assert renderer._process is not None and renderer._process.pid != pid
        assert all(r.svg for r in (*first.values(), *more.values()))
    finally:
        await renderer.close()


async def test_macros_survive_a_new_child() -> None:
    """A question text defines a macro once (its formula then comes from the cache); formulas with each attempt's
    own numbers use it. A recycled child must know the macro as the first one did."""
    definition = ("\\newcommand{\\RR}{\\mathbb{R}} x \\in \\RR", False)
    one_child = MathRenderer(recycle_after=10_000)
    recycled = MathRenderer(recycle_after=1)
    try:
        for renderer in (one_child, recycled):
            assert (await renderer.render(*definition)).svg
        expected = (await one_child.render("\\RR^{3}")).svg
        after_recycle = (await recycled.render("\\RR^{3}")).svg
        assert recycled.recycles == 1
        assert expected and after_recycle == expected
        stranger = MathRenderer()  # never saw the definition: the macro is unknown there
        try:
            assert (await stranger.render("\\RR^{3}")).svg != expected
        finally:
            await stranger.close()
    finally:
        await one_child.close()
        await recycled.close()


async def test_a_formula_that_kills_the_child_fails_alone(monkeypatch, caplog) -> None:
    """A formula too big for the child's heap: Node aborts, twice with the whole batch; then the batch's formulas
    go one by one, only the culprit fails (remembered, so a later attempt does not kill the child again), and
    the log says what Node said."""
    import archived_render.math as math_module

    # A smaller heap than in production, so that a formula of a few hundred kilobytes is enough to exhaust it.
    monkeypatch.setattr(math_module, "NODE_FLAGS", ("--max-semi-space-size=1", "--max-old-space-size=24"))
    huge = "\\begin{array}{" + "c" * 60 + "}" + " \\\\ ".join(["&".join(["x^{2}_{i}"] * 60)] * 400) + "\\end{array}"
    renderer = MathRenderer(timeout=60)
    try:
        with caplog.at_level("WARNING", logger="archived_render.math"):
            results = await renderer.render_many([("a+b", False), (huge, True), ("\\sqrt{c}", False)])
        assert results[("a+b", False)].svg and results[("\\sqrt{c}", False)].svg
        assert results[(huge, True)].svg is None and results[(huge, True)].error
        assert "exit code" in caplog.text and "heap" in caplog.text.lower()
        restarts = renderer.restarts
        again = await renderer.render(huge, display=True)
        assert again.svg is None and renderer.restarts == restarts  # from the cache, no new crash
    finally:
        await renderer.close()
