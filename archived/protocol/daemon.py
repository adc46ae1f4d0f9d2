"""`daemon.status`: the daemon at a glance (version, jobs, Moodle, the store, the socket's connections)."""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, UtcTime


class MoodleStatus(Answer):
    """The Moodle site as the daemon last saw it."""

    url: str = ""
    reachable: bool | None = Field(default=None, description="null until the daemon asked")
    release: str | None = None
    sitename: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    checked_at: UtcTime | None = None


class StoreHealth(Answer):
    """Whether the job store can be written; if not, why and since when."""

    path: str = ""
    writable: bool = True
    problem: str | None = None
    since: float | None = Field(default=None, description="Unix time the problem began")


class ConnectionLimits(Answer):
    """The socket's effective connection limits (configuration bounded by the open-file limit)."""

    max_connections: int
    max_connections_per_user: int
    operator_connections: int
    hello_timeout_seconds: float
    idle_timeout_seconds: float
    file_descriptor_reserve: int
    open_files_limit: int | None = None
    bounded_by_open_files: bool = False


class RenderHost(Answer):
    """One worker process of the render cluster (`[workers] backend = "dask"`)."""

    address: str
    name: str = ""
    host: str = ""
    slots: int = 0
    busy: int = Field(default=0, description="tasks it runs now")
    matches: bool = Field(default=False, description="same archived version, WeasyPrint and fonts: it gets work")
    archived: str = Field(default="", description="its archived version ('' until it answered)")
    weasyprint: str = Field(default="", description="its rendering path: patched, stock, …")
    tasks: int = Field(default=0, description="tasks its current process served")
    differences: list[str] = Field(default_factory=list, description="how its fingerprint differs from the daemon's")


class RenderCluster(Answer):
    """The Dask cluster the daemon renders on: connection, its fingerprint, the workers."""

    scheduler: str
    connected: bool = False
    problem: str = ""
    fingerprint: str = Field(default="", description="the daemon's engine fingerprint; workers must match it")
    hosts: list[RenderHost] = Field(default_factory=list)


class RenderStatus(Answer):
    """The render service every job shares: its limit on worker processes, those alive, what it rendered."""

    processes: int = Field(description="the limit on render worker processes ([workers] render_processes)")
    workers_alive: int = 0
    workers_started: int = Field(
        default=0, description="local worker processes started since the daemon started: first starts and replacements"
    )
    worker_restarts: int = Field(default=0, description="workers killed and replaced (timeouts, crashes)")
    tasks: int = Field(default=0, description="documents rendered")
    failures: int = Field(default=0, description="documents that failed after their retries")
    retries: int = 0
    waiting: int = Field(default=0, description="documents waiting for a worker now")
    weasyprint: str = Field(default="", description="the rendering path: patched, stock or patched (…)")
    math_available: bool = True
    math_restarts: int = Field(default=0, description="MathJax children replaced because they died or got stuck")
    math_recycles: int = Field(default=0, description="MathJax children replaced after their quota")
    backend: str = Field(default="local", description="local (worker processes here) or dask (render hosts)")
    cluster: RenderCluster | None = None


class ScheduledRun(Answer):
    """A schedule's next run."""

    name: str
    next_run_at: UtcTime | None = None
    description: str = ""


class DaemonStatus(Answer):
    """The daemon at a glance."""

    version: str
    pid: int
    started_at: float = Field(description="Unix time")
    uptime_seconds: float = 0.0
    draining: bool = Field(default=False, description="shutting down: running stages finish, nothing new starts")
    running: int = Field(default=0, description="jobs holding a processing slot")
    max_retries: int | None = Field(default=None, description="how often a recoverable error is retried ([retry])")
    jobs: dict[str, int] = Field(default_factory=dict, description="jobs (not deleted) by state")
    jobs_last_24h: dict[str, int] = Field(default_factory=dict, description="the same, updated in the last 24 h")
    drivers: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    moodle: MoodleStatus | None = Field(default=None, description="null without [moodle]")
    connections: int = 0
    connections_refused: int = 0
    connection_limits: ConnectionLimits | None = None
    store: StoreHealth = StoreHealth()
    render: RenderStatus | None = Field(default=None, description="null where the daemon renders nothing")
    schedules: list[ScheduledRun] | None = Field(default=None, description="null: this daemon runs no schedules")
