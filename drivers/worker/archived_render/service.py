"""The daemon's render service: one pool of PDF/A worker processes and one MathJax child for every job and driver.

The daemon builds it once from `[workers]` at start, hands it to the activity drivers in their
`DriverEnvironment` and closes it at shutdown; drivers never start render processes of their own, so
`[workers] render_processes` holds for the whole daemon however many jobs run. A driver opens one session per job
(`service.session(job_id)`): the job's renders wait in the job's own lane and the pool serves lanes in turn, so
concurrent jobs progress side by side. Formula conversions share the one MathJax child (and its cache) in the
order they arrive: each attempt sends its formulas as one batch, so no job waits behind more than a batch.

PDFs never pass through the service: a task names its output file and the worker writes it there. With
`[workers] backend = "dask"` the documents render on a Dask cluster's render hosts instead (`dask_pool`): each job
chooses at its start — the cluster when it is reachable with enough matching workers, else the local pool
(`fallback_local`) or a retryable failure — and keeps that choice for its run; the daemon writes the PDFs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from archived_render.dask_pool import ClusterSettings, ClusterUnavailable, DaskRenderPool
from archived_render.math import MathRenderer, MathResult
from archived_render.render_pool import PoolStats, RenderPool
from archived_render.render_task import RenderResult, RenderTask
from archived_render.weasy_patches import PatchDecision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderLimits:
    """How the render service runs (`[workers]`): processes, their quota and timeout, retries, the patches switch."""

    processes: int = 1
    max_tasks_per_child: int = 500
    timeout_seconds: float = 120.0
    retries: int = 2
    weasyprint_patches: bool = True


class RenderBackend(Protocol):
    """What renders a job's documents: the local pool or the Dask cluster."""

    @property
    def processes(self) -> int: ...

    async def render(self, task: RenderTask, lane: Any = None) -> RenderResult: ...


@dataclass(frozen=True)
class RenderStatus:
    """The service's counters for `daemon.status`: the limit, live workers, tasks and what went wrong."""

    processes: int  # the limit on render worker processes
    workers_alive: int
    workers_started: int  # over the daemon's life: first starts, quota recycling and replacements
    worker_restarts: int  # workers killed and replaced (timeouts, crashes)
    tasks: int  # documents rendered
    failures: int  # documents that failed after their retries
    retries: int
    waiting: int  # documents waiting for a worker now
    weasyprint: str  # the rendering path: 'patched', 'stock' or 'patched (…)'
    math_available: bool
    math_restarts: int  # MathJax children replaced because they died or got stuck
    math_recycles: int  # MathJax children replaced after their quota
    backend: str = "local"  # 'local' or 'dask'
    cluster: dict[str, Any] | None = None  # ClusterSnapshot.to_dict() with backend 'dask'

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class RenderSession:
    """One job's use of the render service: its documents wait for a worker in the job's own lane."""

    def __init__(self, service: RenderService, name: str) -> None:
        self.service = service
        self.name = name
        self._backend: RenderBackend | None = None
        self._choosing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RenderSession({self.name!r})"

    @property
    def processes(self) -> int:
        """How many documents the service renders at once (for sizing a job's prefetching)."""
        return (self._backend or self.service.pool).processes

    @property
    def math_problem(self) -> str | None:
        """Why formulas cannot be typeset (they are shown as TeX source), or None."""
        return self.service.math_problem

    async def render(self, task: RenderTask) -> RenderResult:
        """Render one document in this session's turn; raises the pool's RenderError subclasses naming the task."""
        backend = self._backend or await self._choose()
        return await backend.render(task, lane=self)

    async def on_cluster(self) -> DaskRenderPool | None:
        """The render cluster when this session renders there (chosen now if not yet), else None (local)."""
        backend = self._backend or await self._choose()
        return backend if isinstance(backend, DaskRenderPool) else None

    async def _choose(self) -> RenderBackend:
        """The local pool, or the cluster when it is configured and ready; decided once per session (job run)."""
        async with self._choosing:
            if self._backend is not None:
                return self._backend
            cluster = self.service.cluster
            if cluster is None:
                self._backend = self.service.pool
                return self._backend
            problem = await cluster.ready()
            if problem is None:
                self._backend = cluster
            elif cluster.settings.fallback_local:
                log.warning("%s renders locally: %s (workers.dask.fallback_local)", self.name, problem)
                self._backend = self.service.pool
            else:
                raise ClusterUnavailable(self.name, problem)
            return self._backend

    async def render_math(self, formulas: Iterable[tuple[str, bool]]) -> dict[tuple[str, bool], MathResult]:
        """TeX → SVG for (tex, display) pairs, cached across jobs."""
        return await self.service.math.render_many(formulas)


class RenderService:
    """The render worker processes and the MathJax child the daemon owns; drivers use it through sessions."""

    def __init__(
        self,
        limits: RenderLimits | None = None,
        *,
        start_method: str = "forkserver",
        cluster: ClusterSettings | None = None,
    ) -> None:
        self.limits = limits or RenderLimits()
        # The WeasyPrint patch decision is made (and logged once) here, before any worker exists. Processes start
        # on first use: an idle daemon holds no render memory.
        self.pool = RenderPool(
            self.limits.processes,
            max_tasks_per_child=self.limits.max_tasks_per_child,
            timeout=self.limits.timeout_seconds,
            retries=self.limits.retries,
            start_method=start_method,
            weasyprint_patches=self.limits.weasyprint_patches,
        )
        self.math = MathRenderer()
        # `[workers] backend = "dask"`: the cluster, with the local pool above as the fallback (its processes
        # start only if a job falls back).
        self.cluster: DaskRenderPool | None = None
        if cluster is not None:  # distributed itself is imported at the first connection
            self.cluster = DaskRenderPool(cluster, timeout=self.limits.timeout_seconds, retries=self.limits.retries)

    def start(self) -> None:
        """Begin what runs in the background: the connection to the render cluster, when there is one."""
        if self.cluster is not None:
            self.cluster.start()

    async def __aenter__(self) -> RenderService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def processes(self) -> int:
        """The limit on render worker processes."""
        return self.pool.processes

    @property
    def patches(self) -> PatchDecision:
        """The WeasyPrint speed patches decision every worker starts with."""
        return self.pool.patches

    @property
    def math_problem(self) -> str | None:
        """Why formulas cannot be typeset here (Node or the MathJax bundle missing), or None."""
        return self.math.reason

    def session(self, name: str) -> RenderSession:
        """A session for one job (`name` identifies it in logs); each session is its own lane."""
        return RenderSession(self, name)

    def status(self) -> RenderStatus:
        """The counters as they are now: documents, failures and retries of the local pool and the cluster."""
        stats = self.pool.stats
        remote = self.cluster.stats if self.cluster is not None else PoolStats()
        return RenderStatus(
            processes=self.pool.processes,
            workers_alive=len(self.pool.worker_pids()),
            workers_started=stats.workers_started,
            worker_restarts=stats.timeouts + stats.crashes + remote.timeouts + remote.crashes,
            tasks=stats.tasks + remote.tasks,
            failures=stats.failures + remote.failures,
            retries=stats.retries + remote.retries,
            waiting=self.pool.waiting + (self.cluster.waiting if self.cluster is not None else 0),
            weasyprint=stats.weasyprint or self.pool.patches.label,
            math_available=self.math.available,
            math_restarts=self.math.restarts,
            math_recycles=self.math.recycles,
            backend="local" if self.cluster is None else "dask",
            cluster=None if self.cluster is None else self.cluster.snapshot.to_dict(),
        )

    async def close(self) -> None:
        """Stop the worker processes and the MathJax child; renders still waiting fail as `RenderPoolClosed`."""
        try:
            if self.cluster is not None:
                await self.cluster.close()
            await self.pool.close()
        finally:
            await self.math.close()
