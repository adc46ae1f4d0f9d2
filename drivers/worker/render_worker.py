"""The main loop of one render worker process: receive a task over a pipe, render it, answer, repeat.

Importing this module imports WeasyPrint, so the fork server preloads it once and every worker forked from
it shares those pages. A worker ends by itself after `max_tasks` tasks (bounded memory growth); the pool
starts a fresh one.
"""

from __future__ import annotations

import contextlib
import signal
import time
import traceback
from multiprocessing.connection import Connection

from archived.drivers.worker.pdf_check import PdfCheckError
from archived.drivers.worker.pdf_engine import PdfEngine
from archived.drivers.worker.render_task import RenderOptions, RenderTask

WARMUP_HTML = "<html><head><style>body{font-family:sans-serif}</style></head><body><p>Warm-up ä</p></body></html>"


def worker_main(conn: Connection, max_tasks: int) -> None:
    """Serve up to `max_tasks` tasks from `conn`; answers are ('ok', RenderResult) or ('error', …)."""
    # The daemon handles Ctrl-C and SIGTERM; a worker in the middle of a task is killed by the pool instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = PdfEngine()
    # The first document pays for font discovery: do it before the first real task arrives. A failing
    # warm-up shows up again, with its cause, on the real task.
    with contextlib.suppress(Exception):
        engine.render(RenderTask("warm-up", WARMUP_HTML, options=RenderOptions(check=False)))
    conn.send(("ready", None))
    for _ in range(max_tasks):
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            if task.debug_sleep:
                time.sleep(task.debug_sleep)
            conn.send(("ok", engine.render(task)))
        except PdfCheckError as exc:
            conn.send(("check", exc.cause, ""))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8)))
    conn.close()
