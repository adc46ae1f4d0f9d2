"""Dask's preload hook for render hosts: `dask worker … --preload archived_render.cluster_preload` (what
`archived render-worker` passes) warms the PDF engine up before the worker joins its scheduler."""

from __future__ import annotations

import logging
import time
from typing import Any

import click

from archived_render.cluster_worker import warm_up
from archived_render.fingerprint import local_fingerprint

log = logging.getLogger(__name__)


@click.command()
@click.option("--max-tasks", type=int, default=500, help="tasks before the worker process is replaced")
def dask_setup(worker: Any, max_tasks: int) -> None:
    """Dask preload hook: warm up before the worker takes work."""
    started = time.perf_counter()
    engine = warm_up(max_tasks)
    fingerprint = local_fingerprint()
    log.info(
        "render worker %s ready in %.1f s: archived %s, WeasyPrint %s (%s), fingerprint %s",
        worker.name,
        time.perf_counter() - started,
        fingerprint.archived_version,
        fingerprint.versions.get("weasyprint"),
        engine.patches.label,
        fingerprint.digest,
    )
