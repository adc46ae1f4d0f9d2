"""A task of known cost that renders nothing: what the cluster's orchestration carries, without WeasyPrint's cost.

`bench/cluster.py` sends it through the same `DaskRenderPool` path as a real render (slots, submission, result,
the daemon's byte check and write) to workers that sleep `task.debug_sleep` seconds and answer a few fixed bytes;
it imports nothing heavy, so plain `dask worker` processes can serve it.
"""

from __future__ import annotations

import hashlib
import time

from archived_render.render_task import RenderResult, RenderTask

PROBE_BYTES = b"%PDF-probe\n"


def probe_on_worker(task: RenderTask, expected_fingerprint: str) -> RenderResult:
    """Sleep for the task's `debug_sleep`, then answer `PROBE_BYTES` as if they were its PDF."""
    del expected_fingerprint  # a probe proves nothing about the engine
    time.sleep(task.debug_sleep)
    return RenderResult(
        task.task_id, PROBE_BYTES, None, len(PROBE_BYTES), hashlib.sha256(PROBE_BYTES).hexdigest(), pages=0
    )
