"""The render pool: real worker processes, real WeasyPrint, real PDF checks."""

from __future__ import annotations

import asyncio
import io
import os
import signal

import pytest
from PIL import Image

from archived.errors import FatalError, RecoverableError
from archived_render.pdf_check import PdfCheckError, check_pdf
from archived_render.render_pool import RenderPool, RenderTimeout
from archived_render.render_task import PdfVariant, RenderOptions, RenderTask, Resource

HTML = (
    "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>Hello Zoë, 2 × 3 = 6.</p>"
    '<p><img src="res:one" alt="dot"/><img src="https://moodle.example/pluginfile.php/1/x.png" alt="gone"/></p>'
    "</body></html>"
)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def pool():
    async with RenderPool(1, timeout=20, retries=1, max_tasks_per_child=3) as render_pool:
        yield render_pool


@pytest.mark.render
async def test_renders_checked_pdfa_deterministically(pool: RenderPool) -> None:
    resources = {"res:one": Resource(_png(3000, 200), "image/png")}
    options = RenderOptions(pdf_variant=PdfVariant.PDFA_3U, identifier="attempt-1", created="2024-05-01T10:00:00Z")
    first = await pool.render(RenderTask("attempt 1", HTML, resources, options))
    second = await pool.render(RenderTask("attempt 1", HTML, resources, options))
    assert first.pdf is not None and first.check is not None
    assert first.check.variant == "pdf/a-3u" and first.check.has_output_intent and first.pages == 1
    assert first.sha256 == second.sha256  # same input, same bytes
    assert first.missing_resources == ("https://moodle.example/pluginfile.php/1/x.png",)
    assert check_pdf(first.pdf).text_chars > 0


@pytest.mark.render
async def test_writes_to_output_path_and_survives_worker_recycling(pool: RenderPool, tmp_path) -> None:
    for number in range(4):  # more than max_tasks_per_child: a fresh worker takes over
        target = tmp_path / "a" / f"attempt-{number}.pdf"
        result = await pool.render(RenderTask(f"attempt {number}", HTML, output_path=target))
        assert result.pdf is None and result.path == target and target.stat().st_size == result.size
    assert pool.stats.workers_started >= 2
    assert not list(tmp_path.rglob("*.part"))


async def test_timeout_kills_the_worker_and_names_the_attempt() -> None:
    async with RenderPool(1, timeout=1.5, retries=1) as render_pool:
        await render_pool.warm_up()
        [pid] = render_pool.worker_pids()
        with pytest.raises(RenderTimeout) as caught:
            await render_pool.render(RenderTask("attempt 812", HTML, debug_sleep=60))
        assert "attempt 812" in str(caught.value) and "after 2 tries" in str(caught.value)
        assert isinstance(caught.value, RecoverableError) and caught.value.task_id == "attempt 812"
        assert render_pool.stats.timeouts == 2
        await asyncio.sleep(0.1)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        # The pool is usable afterwards.
        assert (await render_pool.render(RenderTask("attempt 813", HTML))).pages == 1


async def _running(render_pool: RenderPool, task: RenderTask) -> tuple[asyncio.Task, int]:
    """Start rendering `task` and wait until a worker has it; the task and that worker's pid."""
    await render_pool.warm_up()
    [pid] = render_pool.worker_pids()
    rendering = asyncio.create_task(render_pool.render(task))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if render_pool._busy:
            await asyncio.sleep(0.3)  # the task is on its way through the pipe: let the worker have it
            return rendering, pid
    raise AssertionError("the task never reached a worker")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_worker_killed_mid_task_is_replaced_and_the_task_tried_again() -> None:
    async with RenderPool(1, timeout=60, retries=1) as render_pool:
        rendering, pid = await _running(render_pool, RenderTask("attempt 7", HTML, debug_sleep=2))
        os.kill(pid, signal.SIGKILL)  # the OOM killer, an operator, a segfault
        result = await rendering  # the second try sleeps too, then renders
        assert result.pages == 1 and result.tries == 2
        assert render_pool.stats.crashes == 1 and render_pool.stats.workers_started == 2
        assert render_pool.worker_pids() and render_pool.worker_pids() != [pid]


async def test_a_cancelled_render_kills_its_worker_and_the_pool_goes_on() -> None:
    async with RenderPool(1, timeout=60, retries=0) as render_pool:
        rendering, pid = await _running(render_pool, RenderTask("attempt 8", HTML, debug_sleep=60))
        rendering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await rendering
        for _ in range(100):
            if _gone(pid):
                break
            await asyncio.sleep(0.05)
        assert _gone(pid)  # nobody waits for that render any more
        assert (await render_pool.render(RenderTask("attempt 9", HTML))).pages == 1


async def test_close_ends_waiting_and_running_renders_at_once() -> None:
    from archived_render.render_pool import RenderPoolClosed

    render_pool = RenderPool(1, timeout=60, retries=2)
    try:
        running, pid = await _running(render_pool, RenderTask("attempt 10", HTML, debug_sleep=60))
        waiting = asyncio.create_task(render_pool.render(RenderTask("attempt 11", HTML)))
        await asyncio.sleep(0.1)
        await asyncio.wait_for(render_pool.close(), 10)  # not the 60 s of the running task
        for rendering in (running, waiting):
            with pytest.raises(RenderPoolClosed):
                await asyncio.wait_for(rendering, 10)  # not when the running task's 60 s are over
        assert _gone(pid)
        with pytest.raises(RenderPoolClosed):
            await render_pool.render(RenderTask("attempt 12", HTML))
    finally:
        await render_pool.close()


async def test_one_worker_serves_a_queue_of_tasks_in_turn() -> None:
    async with RenderPool(1, timeout=60) as render_pool:
        results = await asyncio.gather(*(render_pool.render(RenderTask(f"attempt {n}", HTML)) for n in range(5)))
        assert [r.task_id for r in results] == [f"attempt {n}" for n in range(5)]
        assert render_pool.stats.tasks == 5 and render_pool.stats.workers_started == 1


def test_plain_pdf_fails_the_check() -> None:
    from weasyprint import HTML as WeasyHTML

    plain = WeasyHTML(string="<p>not archival</p>").write_pdf()
    with pytest.raises(PdfCheckError) as caught:
        check_pdf(plain, task_id="attempt 5")
    assert "attempt 5" in str(caught.value) and isinstance(caught.value, FatalError)


def test_garbage_fails_the_check() -> None:
    with pytest.raises(PdfCheckError, match="does not open"):
        check_pdf(b"%PDF-1.7 nothing here", task_id="attempt 6")


def test_page_size_is_validated() -> None:
    with pytest.raises(ValueError):
        RenderOptions(page_size="A4 } body { color: red")


def test_text_check_decodes_like_a_text_extractor() -> None:
    from pypdf import PdfReader
    from weasyprint import HTML as WeasyHTML

    from archived_render.pdf_check import _decoded_chars

    html = "<p>Grüße, Zoë! ∑ 2 × 3 = 6 — “quoted” ﬁne</p><p><b>Bold</b> <i>italic</i> <code>mono()</code></p>"
    pdf = WeasyHTML(string=html).write_pdf(pdf_variant="pdf/a-2u")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    expected = sum(1 for ch in page.extract_text() if ch.isprintable() and not ch.isspace())
    assert _decoded_chars(page) == expected > 30
    assert check_pdf(pdf).text_chars == expected


def test_pdfa_without_text_fails_the_check() -> None:
    from weasyprint import HTML as WeasyHTML

    pdf = WeasyHTML(string='<div style="width:20px;height:20px;background:red"></div>').write_pdf(
        pdf_variant="pdf/a-2u"
    )
    with pytest.raises(PdfCheckError, match="no extractable text"):
        check_pdf(pdf, task_id="attempt 7")
