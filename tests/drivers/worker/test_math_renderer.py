"""MathJax in a Node child: real Node, real MathJax (skipped where `npm ci` was not run)."""

from __future__ import annotations

import pytest
from archived.drivers.worker.math import MathRenderer

needs_mathjax = pytest.mark.skipif(not MathRenderer().available, reason=str(MathRenderer().reason))


@needs_mathjax
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


@needs_mathjax
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


async def test_unavailable_without_mathjax(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ARCHIVED_MATHJAX_DIR", str(tmp_path))
    renderer = MathRenderer()
    assert not renderer.available and "npm ci" in (renderer.reason or "")
    result = await renderer.render("x^2")
    assert result.svg is None and "MathJax is not installed" in (result.error or "")
