"""What runs inside a Dask worker process on a render host: warm-up at start, then one render per task.

`archived render-worker` starts each worker process with `cluster_preload` as its preload, which calls `warm_up`:
the PDF engine is built and renders a warm-up page (fonts, caches) before the worker joins the scheduler, so the
first real task does not pay for font discovery. `render_on_worker` is the task function the daemon submits: it
checks the process's fingerprint against the one the daemon expects (the proof on every task, not only at
joining), renders the task to bytes — a render host never writes into the daemon's archive — and, after
`max_tasks` tasks, asks its nanny for a fresh process so memory cannot creep (the quota the local pool's
workers have as `max_tasks_per_child`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from archived_render.fingerprint import local_fingerprint
from archived_render.render_task import RenderOptions, RenderResult, RenderTask

if TYPE_CHECKING:
    from archived_render.pdf_engine import PdfEngine

# WeasyPrint, pypdf and Pillow are imported where a render happens, not here: the daemon imports this module for
# the task functions it sends (and their exceptions) and must not carry the render stack in its own process.

log = logging.getLogger(__name__)


class FingerprintMismatch(RuntimeError):
    """This worker's libraries or fonts differ from the daemon's: its PDFs would not be the daemon's PDFs."""


class CheckFailed(RuntimeError):
    """The PDF was written but failed its PDF/A check (the pool reports it as `RenderFailed`)."""


class _Process:
    """The state of this worker process: its engine and how many tasks it has served."""

    engine: PdfEngine | None = None
    max_tasks: int = 500
    done: int = 0
    restarting: bool = False


def warm_up(max_tasks: int = 500) -> PdfEngine:
    """Build this process's engine and render the warm-up page once; freeze what it leaves out of the collector."""
    if _Process.engine is None:
        from archived_render.pdf_engine import PdfEngine
        from archived_render.render_worker import WARMUP_HTML

        engine = PdfEngine()
        with contextlib.suppress(Exception):  # a failing warm-up shows again, with its cause, on the real task
            engine.render(RenderTask("warm-up", WARMUP_HTML, options=RenderOptions(check=False)))
        local_fingerprint()  # fonts listed now, not during the first task
        gc.collect()
        gc.freeze()
        _Process.engine = engine
    _Process.max_tasks = max(1, max_tasks)
    return _Process.engine


def describe_worker() -> dict[str, Any]:
    """What the daemon shows about this worker process (run on every worker through `Client.run`)."""
    fingerprint = local_fingerprint()
    engine = _Process.engine
    return {
        "fingerprint": fingerprint.to_dict(),
        "weasyprint": engine.patches.label if engine is not None else "not warmed up",
        "tasks": _Process.done,
        "max_tasks": _Process.max_tasks,
    }


def check_fingerprint(expected: str) -> None:
    """Raise `FingerprintMismatch` unless this process's fingerprint is `expected` (every task's first step)."""
    fingerprint = local_fingerprint()
    if fingerprint.digest != expected:
        raise FingerprintMismatch(
            f"render host fingerprint {fingerprint.digest} (archived {fingerprint.archived_version}) does not match "
            f"the daemon's {expected}: install the daemon's versions and fonts there"
        )


def render_on_worker(task: RenderTask, expected_fingerprint: str) -> RenderResult:
    """Render `task` to PDF bytes here; refuses when this process's fingerprint is not `expected_fingerprint`."""
    from archived_render.pdf_check import PdfCheckError

    check_fingerprint(expected_fingerprint)
    engine = _Process.engine or warm_up()
    gc.disable()  # as in the local pool's workers (render_worker): one collection after the task instead
    try:
        if task.debug_sleep:
            time.sleep(task.debug_sleep)
        try:
            result = engine.render(replace(task, output_path=None))
        except PdfCheckError as exc:
            raise CheckFailed(exc.cause) from None
    finally:
        gc.enable()
        gc.collect()
        _Process.done += 1
        if _Process.done >= _Process.max_tasks:
            _restart_soon()
    return result


def _restart_soon() -> None:
    """Ask the nanny for a fresh process once this task's result is handed over (quota reached)."""
    if _Process.restarting:
        return
    try:
        from distributed import get_worker

        worker = get_worker()
    except ValueError:  # not inside a Dask worker (called directly, e.g. in a test)
        return
    _Process.restarting = True
    log.info("render worker %s served %d tasks: restarting", worker.name, _Process.done)
    worker.loop.add_callback(_restart_when_handed_over, worker)


async def _restart_when_handed_over(worker: Any) -> None:
    """Wait until the daemon has fetched what this worker holds (at most a minute), then restart through the nanny.

    close_gracefully would move held results to other workers first, but a lone worker has nowhere to move them;
    waiting for the daemon to take its PDF keeps the quota restart from costing a render.
    """
    import asyncio

    for _ in range(600):
        if not worker.data:
            break
        await asyncio.sleep(0.1)
    await worker.close_gracefully(restart=True, reason="archived render quota")
