"""The main loop of one render worker process: receive a task over a pipe, render it, answer, repeat.

Importing this module imports WeasyPrint, pypdf and Pillow's image plugins, so the fork server preloads them
once and every worker forked from it shares those pages (and no worker imports them during its first task).
A worker ends by itself after `max_tasks` tasks (bounded memory growth); the pool starts a fresh one.

Garbage collection: what the warm-up leaves (modules, fonts, caches) is frozen out of the collector's sight,
and the collector is off while a document renders (WeasyPrint makes a great many objects, and the collector
walked them again and again during each report); one collection after each answer frees the cycles instead.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import time
import traceback
from multiprocessing.connection import Connection

import pypdf  # noqa: F401  (preloaded for pdf_check: see the module docstring)
from PIL import Image

from archived_render.pdf_check import PdfCheckError
from archived_render.pdf_engine import PdfEngine
from archived_render.render_task import RenderOptions, RenderTask
from archived_render.weasy_patches import PatchDecision

# The fonts and faces reports use (regular, bold, italic, mono for the TeX source) and an SVG path: the first
# real task should not pay for font discovery.
WARMUP_HTML = (
    "<!DOCTYPE html>\n<html><head><style>body { font-family: 'DejaVu Sans', sans-serif } "
    "code { font-family: 'DejaVu Sans Mono', monospace }</style></head><body><p>Warm-up ä ✔ ○ ☑ → "
    "<b>bold</b> <i>italic</i> <code>\\frac{a}{b}</code> "
    '<svg xmlns="http://www.w3.org/2000/svg" width="2ex" height="2ex" viewBox="0 0 10 10">'
    '<path d="M1 1Q5 9 9 1T1 1Z"/></svg></p></body></html>'
)
Image.preinit()  # the common image plugins, now rather than at the first image


def worker_main(conn: Connection, max_tasks: int, patches: PatchDecision | None = None) -> None:
    """Serve up to `max_tasks` tasks from `conn`; answers are ('ok', RenderResult) or ('error', …).

    `patches`: the daemon's decision on WeasyPrint's speed patches (None: decide here). The first message,
    ('ready', decision in force), tells the pool which rendering path this worker took.
    """
    # The daemon handles Ctrl-C and SIGTERM; a worker in the middle of a task is killed by the pool instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = PdfEngine(patches)
    # The first document pays for font discovery: do it before the first real task arrives. A failing
    # warm-up shows up again, with its cause, on the real task.
    with contextlib.suppress(Exception):
        engine.render(RenderTask("warm-up", WARMUP_HTML, options=RenderOptions(check=False)))
    gc.collect()
    gc.freeze()
    conn.send(("ready", engine.patches))
    for _ in range(max_tasks):
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        gc.disable()
        try:
            if task.debug_sleep:
                time.sleep(task.debug_sleep)
            conn.send(("ok", engine.render(task)))
        except PdfCheckError as exc:
            conn.send(("check", exc.cause, ""))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8)))
        finally:
            gc.enable()
            gc.collect()
    conn.close()
