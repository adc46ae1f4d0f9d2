"""The socket methods of protocol version 1 and their parameters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from archived import __version__
from archived.daemon.services import DaemonServices
from archived.errors import ArchivedError
from archived.jobs.engine import InvalidJobState, ShuttingDown, UnknownJob
from archived.jobs.model import Initiator, iso
from archived.jobs.settings import InvalidSetting
from archived.jobs.states import JobState
from archived.rpc import protocol
from archived.rpc.protocol import ErrorCode, RpcError
from archived.rpc.server import Call, Method, RpcServer


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HelloParams(_Params):
    """`hello`."""

    protocol: int
    client: str = ""


class JobRef(_Params):
    """Methods about one job; `job_id` may be a unique prefix of at least 4 characters."""

    job_id: str = Field(min_length=1)


class CreateJobParams(_Params):
    """`jobs.create`."""

    course_id: int = Field(gt=0)
    cmid: int = Field(gt=0)
    driver: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class ListJobsParams(_Params):
    """`jobs.list`."""

    states: list[JobState] | None = None
    cmid: int | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)
    include_deleted: bool = False


class LogsParams(JobRef):
    """`jobs.logs`: a page of lines, newest first, older than `before_id`."""

    before_id: int | None = None
    limit: int = Field(200, ge=1, le=5000)
    min_level: Literal["debug", "info", "warning", "error"] = "debug"


class DeleteParams(JobRef):
    """`jobs.delete`."""

    force: bool = False


class SubscribeParams(_Params):
    """`events.subscribe`: kinds are exact (`job.state`) or families (`job`); no filter means everything."""

    kinds: list[str] | None = None
    job_ids: list[str] | None = None


class UnsubscribeParams(_Params):
    """`events.unsubscribe`: one subscription (by the id `events.subscribe` returned), or all of them."""

    subscription_id: int | None = None


class DriverRef(_Params):
    """`settings.describe`."""

    driver: str


class StorageStatusParams(_Params):
    """`storage.status`: with `probe`, each target runs its write/read/delete probe now; without, the last
    probe's result (and its `checked_at`) is returned, probing only targets never probed."""

    probe: bool = True
    target: str | None = None


def _initiator(call: Call) -> Initiator:
    return Initiator(kind="operator", name=call.peer.username, uid=call.peer.uid)


# Errors of other parts (e.g. the course overview) that have a protocol meaning, by their stable code.
_CODE_TO_RPC = {"not_found": ErrorCode.NOT_FOUND, "unsupported_activity": ErrorCode.INVALID_SETTING}


def _translate(exc: Exception) -> RpcError:
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, UnknownJob):
        return RpcError(ErrorCode.NOT_FOUND, str(exc))
    if isinstance(exc, InvalidJobState):
        return RpcError(ErrorCode.INVALID_STATE, str(exc))
    if isinstance(exc, InvalidSetting):
        return RpcError(ErrorCode.INVALID_SETTING, str(exc))
    if isinstance(exc, ShuttingDown):
        return RpcError(ErrorCode.SHUTTING_DOWN, str(exc))
    if isinstance(exc, ArchivedError) and exc.code in _CODE_TO_RPC:
        return RpcError(_CODE_TO_RPC[exc.code], str(exc))
    if isinstance(exc, ArchivedError):
        return RpcError(ErrorCode.UPSTREAM_ERROR, str(exc), {"code": exc.code, "recoverable": exc.recoverable})
    raise exc


def _guarded(handler: Callable[[Any, Call], Awaitable[Any]]) -> Callable[[Any, Call], Awaitable[Any]]:
    async def run(params: Any, call: Call) -> Any:
        try:
            return await handler(params, call)
        except Exception as exc:
            raise _translate(exc) from None

    return run


def build_methods(services: DaemonServices, server_ref: Callable[[], RpcServer]) -> dict[str, Method]:
    """The method table, bound to a running daemon's services."""
    engine = services.engine
    store = services.store

    async def hello(params: HelloParams, call: Call) -> dict[str, Any]:
        if params.protocol not in protocol.SUPPORTED_VERSIONS:
            raise RpcError(
                ErrorCode.UNSUPPORTED_PROTOCOL,
                f"this daemon (archived {__version__}) speaks protocol {sorted(protocol.SUPPORTED_VERSIONS)}, "
                f"the client speaks {params.protocol}; use matching versions of archived",
            )
        call.connection.greeted = True
        call.connection.client_name = params.client
        return {
            "protocol": protocol.PROTOCOL_VERSION,
            "server": "archived",
            "version": __version__,
            "pid": services.pid,
            "peer": {"uid": call.peer.uid, "user": call.peer.username, "operator": call.may_mutate},
        }

    async def daemon_status(_: Any, call: Call) -> dict[str, Any]:
        counts = await store.count_by_state()
        recent = await store.count_by_state(since=time.time() - 24 * 3600)
        moodle: dict[str, Any] | None = None
        if services.overview is not None:
            moodle = services.overview.moodle_status()
        return {
            "version": __version__,
            "pid": services.pid,
            "started_at": services.started_at,
            "uptime_seconds": round(time.time() - services.started_at, 1),
            "draining": engine.draining,
            "running": engine.running_count(),
            "jobs": counts,
            "jobs_last_24h": recent,
            "drivers": sorted(services.drivers),
            "targets": sorted(services.targets),
            "moodle": moodle,
            "connections": server_ref().connection_count,
            "connections_refused": server_ref().refused_connections,
            "connection_limits": server_ref().limits.to_dict(),
            "store": store.health(),
        }

    async def jobs_create(params: CreateJobParams, call: Call) -> dict[str, Any]:
        driver = params.driver
        course_name = activity_name = ""
        if services.overview is not None:
            try:
                activity = await services.overview.find_activity(params.course_id, params.cmid)
            except ArchivedError:
                if driver is None:
                    raise
            else:  # the names show in job lists at once; an explicit driver still wins
                driver = driver or activity.driver
                course_name, activity_name = activity.course_name, activity.name
        if driver is None:
            raise RpcError(
                ErrorCode.INVALID_PARAMS, "driver is required (no Moodle is configured to look the activity up)"
            )
        job, forced = await engine.create_job(
            driver=driver,
            course_id=params.course_id,
            cmid=params.cmid,
            requested=params.settings,
            initiator=_initiator(call),
            course_name=course_name,
            activity_name=activity_name,
        )
        return {"job": job.summary(), "forced": forced}

    async def jobs_list(params: ListJobsParams, call: Call) -> dict[str, Any]:
        jobs, total = await store.list_summaries(
            states=params.states,
            cmid=params.cmid,
            include_deleted=params.include_deleted,
            limit=params.limit,
            offset=params.offset,
        )
        return {"jobs": jobs, "total": total, "offset": params.offset}

    async def jobs_get(params: JobRef, call: Call) -> dict[str, Any]:
        job_id = await engine.resolve_job_id(params.job_id)
        job = await engine.get_job(job_id)
        timeline = await store.timeline(job_id)
        artifacts = await store.artifacts(job_id)
        return {
            "job": job.detail(),
            "timeline": [t.to_dict() for t in timeline],
            "artifacts": [a.to_dict() for a in artifacts],
        }

    async def jobs_logs(params: LogsParams, call: Call) -> dict[str, Any]:
        job_id = await engine.resolve_job_id(params.job_id)
        entries = await store.logs(job_id, before_id=params.before_id, limit=params.limit, min_level=params.min_level)
        return {
            "job_id": job_id,
            "entries": [e.to_dict() for e in entries],
            "next_before_id": entries[-1].id if len(entries) == params.limit else None,
        }

    async def jobs_cancel(params: JobRef, call: Call) -> dict[str, Any]:
        job = await engine.cancel(await engine.resolve_job_id(params.job_id), by=_initiator(call))
        return {"job": job.summary()}

    async def jobs_retry(params: JobRef, call: Call) -> dict[str, Any]:
        job = await engine.retry(await engine.resolve_job_id(params.job_id), by=_initiator(call))
        return {"job": job.summary()}

    async def jobs_delete(params: DeleteParams, call: Call) -> dict[str, Any]:
        job, deleted = await engine.delete(
            await engine.resolve_job_id(params.job_id), by=_initiator(call), force=params.force
        )
        return {"job": job.summary(), "deleted": deleted}

    async def settings_describe(params: DriverRef, call: Call) -> dict[str, Any]:
        return {"driver": params.driver, "settings": [s.to_dict() for s in engine.describe_settings(params.driver)]}

    async def drivers_list(_: Any, call: Call) -> dict[str, Any]:
        return {
            "activity": [
                {"name": name, "title": d.title, "modname": d.modname} for name, d in sorted(services.drivers.items())
            ]
        }

    last_status: dict[str, dict[str, Any]] = {}  # the latest probe of each target, for probe=False

    async def storage_status(params: StorageStatusParams, call: Call) -> dict[str, Any]:
        totals = await store.storage_totals()
        names = [params.target] if params.target else sorted(services.targets)
        missing = [n for n in names if n not in services.targets]
        if missing:
            raise RpcError(ErrorCode.NOT_FOUND, f"no storage target named {missing[0]!r}")

        async def one(name: str) -> dict[str, Any]:
            target = services.targets[name]
            entry: dict[str, Any] = {
                "name": name,
                "driver": target.driver_name,
                "tier": target.tier.value,
                "required": target.required,
                "archives": totals.get(name, (0, 0))[0],
                "bytes": totals.get(name, (0, 0))[1],
            }
            cached = last_status.get(name)
            if params.probe or cached is None:
                try:
                    status = (await asyncio.wait_for(target.driver.status(), 30)).to_dict()
                except Exception as exc:  # a target that hangs or breaks is reported, not fatal to the call
                    status = {"reachable": False, "probe_ok": False, "message": f"status check failed: {exc}"}
                cached = {**status, "checked_at": iso(time.time())}
                last_status[name] = cached
            entry.update(cached)
            return entry

        return {"targets": list(await asyncio.gather(*(one(n) for n in names)))}

    async def events_subscribe(params: SubscribeParams, call: Call) -> dict[str, Any]:
        subscription = services.bus.subscribe(kinds=params.kinds, job_ids=params.job_ids)
        server_ref().subscribe(call.connection, subscription)
        return {
            "subscribed": True,
            "subscription_id": subscription.id,
            "kinds": params.kinds,
            "job_ids": params.job_ids,
        }

    async def events_unsubscribe(params: UnsubscribeParams, call: Call) -> dict[str, Any]:
        return {"unsubscribed": server_ref().unsubscribe(call.connection, params.subscription_id)}

    table = [
        Method("hello", hello, HelloParams, description="protocol version negotiation; must come first"),
        Method("daemon.status", daemon_status, description="version, uptime, job counts, Moodle reachability"),
        Method("jobs.create", jobs_create, CreateJobParams, mutating=True, description="queue a new archive job"),
        Method("jobs.list", jobs_list, ListJobsParams, description="jobs, newest first"),
        Method("jobs.get", jobs_get, JobRef, description="one job with its timeline and artifacts"),
        Method("jobs.logs", jobs_logs, LogsParams, description="a page of a job's log"),
        Method("jobs.cancel", jobs_cancel, JobRef, mutating=True, description="cancel a job"),
        Method("jobs.retry", jobs_retry, JobRef, mutating=True, description="retry a failed/canceled job"),
        Method("jobs.delete", jobs_delete, DeleteParams, mutating=True, description="delete a job's archives"),
        Method("settings.describe", settings_describe, DriverRef, description="a driver's settings and presets"),
        Method("drivers.list", drivers_list, description="installed activity drivers"),
        Method("storage.status", storage_status, StorageStatusParams, description="storage targets and probes"),
        Method("events.subscribe", events_subscribe, SubscribeParams, description="receive event notifications"),
        Method("events.unsubscribe", events_unsubscribe, UnsubscribeParams, description="stop event notifications"),
    ]
    methods = {m.name: Method(m.name, _guarded(m.handler), m.params, m.mutating, m.description) for m in table}
    return methods
