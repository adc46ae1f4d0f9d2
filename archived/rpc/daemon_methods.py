"""`daemon.status` and `storage.status`: the daemon, its store, its connections and its storage targets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from functools import partial
from typing import Any, Protocol

from archived.interfaces.activity import ActivityDriver
from archived.protocol import daemon as wire
from archived.protocol.base import NoParams
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import DAEMON_STATUS, STORAGE_STATUS
from archived.protocol.storage import StorageStatusParams, StorageStatusResult
from archived.rpc.identity import DaemonIdentity
from archived.rpc.limits import ConnectionLimits
from archived.rpc.method import Method, method
from archived.rpc.target_probes import TargetProbes
from archived.store.jobs import JobStore
from archived.store.pending_copies import PendingCopyStore
from archived.targets import StorageTarget
from archived_render.service import RenderStatus

DAY_SECONDS = 24 * 3600


class EngineLoad(Protocol):
    """How busy the engine is."""

    @property
    def draining(self) -> bool: ...

    def running_count(self) -> int: ...

    @property
    def max_retries(self) -> int: ...


class ConnectionStats(Protocol):
    """The socket's connections (the server)."""

    @property
    def connection_count(self) -> int: ...

    @property
    def refused_connections(self) -> int: ...

    @property
    def limits(self) -> ConnectionLimits: ...


class RenderCounters(Protocol):
    """The render service every job shares."""

    def status(self) -> RenderStatus: ...


class MoodleReachability(Protocol):
    """The Moodle site as last seen (the course overview, when Moodle is configured)."""

    def moodle_status(self) -> Mapping[str, Any]: ...


class NextRuns(Protocol):
    """The daemon's schedules and when each runs next."""

    async def next_runs(self) -> list[wire.ScheduledRun]: ...


async def daemon_status(
    _: NoParams,
    *,
    identity: DaemonIdentity,
    store: JobStore,
    engine: EngineLoad,
    connections: ConnectionStats,
    drivers: Mapping[str, ActivityDriver],
    targets: Mapping[str, StorageTarget],
    moodle: MoodleReachability | None,
    render: RenderCounters | None = None,
    schedules: NextRuns | None = None,
) -> wire.DaemonStatus:
    """Version, uptime, job counts, drivers and targets, Moodle, the store's health and the socket's connections."""
    now = time.time()
    return wire.DaemonStatus(
        version=identity.version,
        pid=identity.pid,
        started_at=identity.started_at,
        uptime_seconds=round(now - identity.started_at, 1),
        draining=engine.draining,
        running=engine.running_count(),
        max_retries=engine.max_retries,
        jobs=await store.count_by_state(),
        jobs_last_24h=await store.count_by_state(since=now - DAY_SECONDS),
        drivers=sorted(drivers),
        targets=sorted(targets),
        moodle=wire.MoodleStatus.model_validate(moodle.moodle_status()) if moodle is not None else None,
        connections=connections.connection_count,
        connections_refused=connections.refused_connections,
        connection_limits=wire.ConnectionLimits.model_validate(connections.limits.to_dict()),
        store=wire.StoreHealth.model_validate(store.health()),
        render=wire.RenderStatus.model_validate(render.status().to_dict()) if render is not None else None,
        schedules=await schedules.next_runs() if schedules is not None else None,
    )


async def storage_status(
    params: StorageStatusParams, *, store: JobStore, targets: Mapping[str, StorageTarget], probes: TargetProbes
) -> StorageStatusResult:
    """Every target (or one) with what it holds and its probe, run now or the last one."""
    names = [params.target] if params.target else sorted(targets)
    missing = [name for name in names if name not in targets]
    if missing:
        raise RpcError(ErrorCode.NOT_FOUND, f"no storage target named {missing[0]!r}")
    totals = await store.storage_totals()
    statuses = await asyncio.gather(
        *(
            probes.status(targets[name], probe=params.probe, archives=totals.get(name, (0, 0))[0],
                          stored_bytes=totals.get(name, (0, 0))[1])
            for name in names
        )
    )  # fmt: skip
    pending = await PendingCopyStore(store.db).count_by_target()
    return StorageStatusResult(
        targets=[status.model_copy(update={"pending_copies": pending.get(status.name, 0)}) for status in statuses]
    )


def daemon_methods(
    *,
    identity: DaemonIdentity,
    store: JobStore,
    engine: EngineLoad,
    connections: ConnectionStats,
    drivers: Mapping[str, ActivityDriver],
    targets: Mapping[str, StorageTarget],
    moodle: MoodleReachability | None,
    probes: TargetProbes,
    render: RenderCounters | None = None,
    schedules: NextRuns | None = None,
) -> list[Method[Any, Any]]:
    """`daemon.status` and `storage.status`, bound to the parts of the running daemon they report on."""
    status = partial(
        daemon_status, identity=identity, store=store, engine=engine, connections=connections, drivers=drivers,
        targets=targets, moodle=moodle, render=render, schedules=schedules,
    )  # fmt: skip
    return [
        method(DAEMON_STATUS, status),
        method(STORAGE_STATUS, partial(storage_status, store=store, targets=targets, probes=probes)),
    ]
