"""Each socket method's handler on its own, in process: called with its typed parameters and exactly the
collaborators it uses (a real engine and store on a temporary folder, real storage targets, a real socket pair for
the connection), without the socket server in between. `test_protocol.py` covers the same methods over the socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from archived_testplugins.slow_driver import SlowTestDriver

from archived.config import AccessConfig, MoodleConfig
from archived.errors import ArchivedError
from archived.events.bus import Event, EventBus
from archived.interfaces.activity import DriverEnvironment
from archived.interfaces.storage import Tier
from archived.moodle.factory import build_moodle_api
from archived.overview.index import CourseIndex
from archived.overview.methods import courses_refresh
from archived.protocol import wire
from archived.protocol.base import NoParams
from archived.protocol.courses import RefreshParams
from archived.protocol.drivers import DriverRef
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.jobs import CreateJobParams, DeleteParams, JobRef, ListJobsParams, LogsParams
from archived.protocol.session import HelloParams, SubscribeParams, UnsubscribeParams
from archived.protocol.states import JobState
from archived.protocol.storage import StorageStatusParams
from archived.rpc.connection import Connection
from archived.rpc.daemon_methods import daemon_status, storage_status
from archived.rpc.driver_methods import drivers_list, settings_describe
from archived.rpc.errors import rpc_error
from archived.rpc.identity import DaemonIdentity
from archived.rpc.job_methods import (
    jobs_cancel,
    jobs_create,
    jobs_delete,
    jobs_get,
    jobs_list,
    jobs_logs,
    jobs_retry,
)
from archived.rpc.method import Call
from archived.rpc.peer import AccessPolicy, peer_of
from archived.rpc.server import RpcServer
from archived.rpc.session_methods import events_subscribe, events_unsubscribe, hello
from archived.rpc.target_probes import TargetProbes
from archived.store.records import Initiator
from archived.targets import StorageTarget
from archived_local.storage import LocalDirectoryConfig, LocalDirectoryStorage
from tests.jobs.conftest import EngineHarness

OPERATOR = Initiator("operator", "tester", os.getuid())


@pytest.fixture
async def call() -> AsyncIterator[tuple[Call, asyncio.StreamReader]]:
    """A call on a real connection (one end of a socket pair), and the reader of the client's end."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    client_reader, client_writer = await asyncio.open_unix_connection(sock=theirs)
    peer = peer_of(ours)
    yield Call(peer, Connection(reader, writer, peer, operator=True), may_mutate=True), client_reader
    writer.close()
    client_writer.close()


async def create(harness: EngineHarness, **settings: object) -> str:
    answer = await jobs_create(
        CreateJobParams(course_id=2, cmid=7, driver="slowtest", settings=settings),
        OPERATOR,
        commands=harness.engine,
        activities=None,
    )
    return answer.job.id


# -- session --------------------------------------------------------------------------------------------------


async def test_hello_greets_the_connection_with_the_daemons_identity(call) -> None:
    on, _ = call
    answer = await hello(HelloParams(protocol=1, client="tests/1"), on, identity=DaemonIdentity("9.9", 4242, 0.0))
    assert (answer.protocol, answer.version, answer.pid) == (wire.PROTOCOL_VERSION, "9.9", 4242)
    assert answer.peer.uid == os.getuid() and answer.peer.operator
    assert on.connection.greeted and on.connection.client_name == "tests/1"


async def test_hello_refuses_another_protocol_version_and_names_both(call) -> None:
    on, _ = call
    with pytest.raises(RpcError) as refused:
        await hello(HelloParams(protocol=99), on, identity=DaemonIdentity("9.9"))
    assert refused.value.code == ErrorCode.UNSUPPORTED_PROTOCOL
    assert "[1]" in refused.value.message and "99" in refused.value.message
    assert not on.connection.greeted


async def test_a_subscription_sends_matching_events_down_the_connection_until_unsubscribed(call) -> None:
    on, client = call
    bus = EventBus()
    server = RpcServer(AccessPolicy(AccessConfig()))
    answer = await events_subscribe(SubscribeParams(kinds=["job.state"]), on, bus=bus, host=server)
    assert answer.subscribed and answer.kinds == ["job.state"]
    bus.publish(Event("job.log", {"message": "not wanted"}, "j1"))
    bus.publish(Event("job.state", {"job": {"state": "queued"}}, "j1"))
    line = json.loads(await asyncio.wait_for(client.readline(), 5))
    assert line["method"] == wire.EVENT_METHOD and line["params"]["kind"] == "job.state"
    ended = await events_unsubscribe(UnsubscribeParams(subscription_id=answer.subscription_id), on, host=server)
    assert ended.unsubscribed == 1 and bus.subscriber_count == 0


# -- jobs -----------------------------------------------------------------------------------------------------


async def test_jobs_create_needs_a_driver_without_moodle(harness: EngineHarness) -> None:
    with pytest.raises(RpcError) as refused:
        await jobs_create(CreateJobParams(course_id=2, cmid=7), OPERATOR, commands=harness.engine, activities=None)
    assert refused.value.code == ErrorCode.INVALID_PARAMS and "driver is required" in refused.value.message


async def test_jobs_create_queues_the_job_and_names_the_locked_settings(harness: EngineHarness) -> None:
    answer = await jobs_create(
        CreateJobParams(course_id=2, cmid=7, driver="slowtest", settings={"files": 1, "retention_years": 50}),
        OPERATOR,
        commands=harness.engine,
        activities=None,
    )
    assert answer.forced == ["retention_years"]
    assert answer.job.driver == "slowtest" and answer.job.initiator.name == "tester"
    assert answer.job.state in (JobState.QUEUED, JobState.ACTIVITY_ARCHIVING)


async def test_jobs_list_pages_newest_first_and_filters_by_state(harness: EngineHarness) -> None:
    ids = [await create(harness, files=1) for _ in range(3)]
    for job_id in ids:
        await harness.wait(job_id, {"completed"})
    written = await jobs_list(ListJobsParams(limit=2), store=harness.store)
    page = written.page()
    # The summaries' JSON, written once per change of a job, is the page the models would write.
    assert json.loads(written.model_dump_json()) == json.loads(page.model_dump_json(by_alias=True))
    assert page.total == 3 and [job.id for job in page.jobs] == ids[::-1][:2]
    assert all(job.state is JobState.COMPLETED and job.progress == 100 for job in page.jobs)
    rest = (await jobs_list(ListJobsParams(limit=2, offset=2), store=harness.store)).page()
    assert [job.id for job in rest.jobs] == ids[:1] and rest.offset == 2
    none = (await jobs_list(ListJobsParams(states=[JobState.FAILED]), store=harness.store)).page()
    assert none.total == 0 and none.jobs == []


async def test_jobs_get_resolves_a_prefix_and_shows_timeline_and_stored_archive(harness: EngineHarness) -> None:
    job_id = await create(harness, files=2)
    await harness.wait(job_id, {"completed"})
    view = await jobs_get(JobRef(job_id=job_id[:8]), jobs=harness.engine, store=harness.store)
    assert view.job.id == job_id and view.job.settings["activity"]["files"] == 2
    assert [step.to_state for step in view.timeline if step.from_state != step.to_state][-1] is JobState.COMPLETED
    [artifact] = view.artifacts
    assert artifact.locations[0].target == "local" and artifact.locations[0].sha256 == artifact.sha256
    with pytest.raises(ArchivedError) as unknown:
        await jobs_get(JobRef(job_id="ffffffff"), jobs=harness.engine, store=harness.store)
    assert rpc_error(unknown.value).code == ErrorCode.NOT_FOUND


async def test_jobs_logs_pages_back_through_the_log(harness: EngineHarness) -> None:
    job_id = await create(harness, files=1)
    await harness.wait(job_id, {"completed"})
    first = await jobs_logs(LogsParams(job_id=job_id, limit=2), jobs=harness.engine, store=harness.store)
    assert len(first.entries) == 2 and first.next_before_id == first.entries[-1].id
    assert first.entries[0].id > first.entries[1].id  # newest first
    older = await jobs_logs(
        LogsParams(job_id=job_id, limit=1000, before_id=first.next_before_id), jobs=harness.engine, store=harness.store
    )
    assert older.next_before_id is None and all(e.id < first.entries[-1].id for e in older.entries)
    errors = await jobs_logs(LogsParams(job_id=job_id, min_level="error"), jobs=harness.engine, store=harness.store)
    assert errors.entries == []


async def test_cancel_retry_and_delete_act_for_the_caller(harness: EngineHarness) -> None:
    job_id = await create(harness, files=50, delay_seconds=0.05)
    await harness.wait(job_id, {"activity_archiving"})
    canceled = await jobs_cancel(JobRef(job_id=job_id), OPERATOR, commands=harness.engine)
    assert canceled.job.state is JobState.CANCELED
    with pytest.raises(ArchivedError) as again:
        await jobs_cancel(JobRef(job_id=job_id), OPERATOR, commands=harness.engine)
    assert rpc_error(again.value).code == ErrorCode.INVALID_STATE
    retried = await jobs_retry(JobRef(job_id=job_id), OPERATOR, commands=harness.engine)
    assert retried.job.state not in (JobState.CANCELED, JobState.FAILED)
    await harness.wait(job_id, {"completed"})
    with pytest.raises(ArchivedError) as retained:
        await jobs_delete(DeleteParams(job_id=job_id), OPERATOR, commands=harness.engine)
    assert rpc_error(retained.value).code == ErrorCode.INVALID_STATE and "retained until" in str(retained.value)
    deleted = await jobs_delete(DeleteParams(job_id=job_id, force=True), OPERATOR, commands=harness.engine)
    assert deleted.job.deleted and len(deleted.deleted) == 1 and deleted.deleted[0].startswith("local:")


# -- drivers, settings, daemon, storage -----------------------------------------------------------------------


async def test_settings_describe_lists_the_jobs_then_the_drivers_settings(harness: EngineHarness) -> None:
    described = await settings_describe(DriverRef(driver="slowtest"), catalogue=harness.engine)
    keys = [s.key for s in described.settings]
    assert keys.index("retention_years") < keys.index("files")
    assert next(s for s in described.settings if s.key == "retention_years").locked
    with pytest.raises(ArchivedError) as unknown:
        await settings_describe(DriverRef(driver="assign"), catalogue=harness.engine)
    refusal = rpc_error(unknown.value)
    assert refusal.code == ErrorCode.INVALID_SETTING and "slowtest" in refusal.message


async def test_drivers_list_names_title_and_module(tmp_path: Path) -> None:
    drivers = {"slowtest": SlowTestDriver(DriverEnvironment(moodle=None, temp_dir=tmp_path))}
    answer = await drivers_list(NoParams(), drivers=drivers)
    assert [(d.name, d.title, d.modname) for d in answer.activity] == [("slowtest", "Test activity", "slowtest")]


def local_target(root: Path, name: str = "local") -> StorageTarget:
    """A real local-directory storage target."""
    config = LocalDirectoryConfig(path=root / name)
    return StorageTarget(name, "local", LocalDirectoryStorage(name, config, Tier.LOCAL), Tier.LOCAL, True)


async def test_daemon_status_reports_jobs_store_and_connections(harness: EngineHarness, tmp_path: Path) -> None:
    job_id = await create(harness, files=1)
    await harness.wait(job_id, {"completed"})
    status = await daemon_status(
        NoParams(),
        identity=DaemonIdentity("9.9", 4242, 1000.0),
        store=harness.store,
        engine=harness.engine,
        connections=RpcServer(AccessPolicy(AccessConfig())),
        drivers={},
        targets={"local": local_target(tmp_path)},
        moodle=None,
    )
    assert (status.version, status.pid, status.started_at) == ("9.9", 4242, 1000.0)
    assert status.jobs == {"completed": 1} and status.jobs_last_24h == {"completed": 1}
    assert status.targets == ["local"] and status.moodle is None and status.connections == 0
    assert (status.store.writable and status.store.path.endswith(".sqlite")) or status.store.path
    assert status.connection_limits is not None and status.connection_limits.max_connections > 0
    assert status.max_retries == harness.engine.config.retry.max_retries


async def test_storage_status_probes_now_or_returns_the_last_probe(harness: EngineHarness, tmp_path: Path) -> None:
    targets = {"local": local_target(tmp_path)}
    probes = TargetProbes()
    [probed] = (
        await storage_status(StorageStatusParams(), store=harness.store, targets=targets, probes=probes)
    ).targets
    assert probed.healthy and probed.free_bytes and probed.checked_at is not None
    await asyncio.sleep(1.1)  # a new probe would carry a later time
    [cached] = (
        await storage_status(StorageStatusParams(probe=False), store=harness.store, targets=targets, probes=probes)
    ).targets
    assert cached.checked_at == probed.checked_at
    with pytest.raises(RpcError) as missing:
        await storage_status(StorageStatusParams(target="nas"), store=harness.store, targets=targets, probes=probes)
    assert missing.value.code == ErrorCode.NOT_FOUND and "'nas'" in missing.value.message


async def test_a_storage_target_that_breaks_is_reported_not_raised(harness: EngineHarness, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the folder should be")
    config = LocalDirectoryConfig(path=tmp_path / "blocker", create=False)
    broken = StorageTarget("nas", "local", LocalDirectoryStorage("nas", config, Tier.LOCAL), Tier.LOCAL, False)
    answer = await storage_status(
        StorageStatusParams(), store=harness.store, targets={"nas": broken}, probes=TargetProbes()
    )
    [target] = answer.targets
    assert not target.healthy and target.message and target.required is False


# -- courses --------------------------------------------------------------------------------------------------


async def test_forcing_a_course_refresh_is_for_operators_only(call, harness: EngineHarness) -> None:
    """Refused before Moodle is asked (the URL below is never contacted)."""
    on, _ = call
    on.may_mutate = False
    moodle = MoodleConfig(url="https://moodle.invalid", token_env="UNUSED")
    api = build_moodle_api(moodle, "not-a-token")
    index = CourseIndex(api=api, moodle=moodle, refresh_cooldown=60, drivers={}, store=harness.store, bus=EventBus())
    try:
        with pytest.raises(RpcError) as refused:
            await courses_refresh(RefreshParams(force=True), on, index=index)
        assert refused.value.code == ErrorCode.PERMISSION_DENIED and "not an operator" in refused.value.message
    finally:
        await api.client.aclose()
