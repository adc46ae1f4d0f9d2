"""The daemon's lifecycle (modelled on uvicorn's Server): start, serve, drain on the first signal, stop hard
on the second.

Start: configuration → single-instance lock → open-file limit raised → store (migrated) → render service
(its processes start on first use) → drivers → event dispatcher (outbox → live bus) → engine (resumes unfinished
jobs) → socket (connections capped so that jobs keep file descriptors) → `READY=1`. Run: watchdog pings and a
one-line status for systemd; repeated log lines are rate-limited; the retention sweep. Stop: the first
SIGTERM/SIGINT drains (running stages finish, nothing new starts); the second cancels everything at once — every
job keeps a durable state and resumes after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import time
from collections.abc import Sequence
from typing import Any

from archived import __version__
from archived.archive.timestamps import client_from_config
from archived.config import Config, WorkersConfig, read_secret
from archived.connectors.service import Connectors
from archived.daemon.housekeeping import Housekeeping, PendingCopySweep
from archived.daemon.lock import InstanceLock
from archived.daemon.logging_limits import RepeatLimits
from archived.daemon.open_files import open_file_count, raise_open_file_limit
from archived.daemon.systemd import Notifier, inherited_socket
from archived.errors import ConfigError
from archived.events.bus import BusConsumer, EventBus
from archived.events.consumer import EventConsumer
from archived.events.dispatcher import EventDispatcher
from archived.interfaces.activity import ActivityDriver, DriverEnvironment, DriverSettings
from archived.jobs.category_presets import CategoryPresets
from archived.jobs.engine import Engine
from archived.jobs.settings import JOB_PRESET, JobSettings, Preset
from archived.moodle.api import MoodleApi
from archived.moodle.factory import build_moodle_api
from archived.overview.index import CourseIndex
from archived.overview.methods import overview_methods
from archived.people.index import ArchiveReader, PeopleIndexer
from archived.people.requests import PeopleRequests
from archived.plugins import activity_drivers, storage_drivers
from archived.retention.evidence import EvidenceRenewal
from archived.retention.sweep import ArchiveRetention
from archived.rpc.archive_methods import ArchiveTransfers, archive_methods
from archived.rpc.attach_methods import Uploads, attach_methods
from archived.rpc.audit_methods import audit_methods
from archived.rpc.connector_methods import connector_methods
from archived.rpc.daemon_methods import daemon_methods
from archived.rpc.driver_methods import driver_methods
from archived.rpc.identity import DaemonIdentity
from archived.rpc.job_methods import job_methods
from archived.rpc.limits import ConnectionLimits
from archived.rpc.peer import AccessPolicy
from archived.rpc.people_methods import people_methods
from archived.rpc.renewal_methods import renewal_methods
from archived.rpc.retention_methods import retention_methods
from archived.rpc.schedule_methods import schedule_methods
from archived.rpc.server import RpcServer
from archived.rpc.session_methods import session_methods
from archived.rpc.target_probes import TargetProbes
from archived.schedules.desk import ScheduleDesk
from archived.schedules.failures import ScheduledJobFailures
from archived.schedules.records import ScheduleRecords
from archived.schedules.service import ScheduleService
from archived.store.course_users import CourseUserStore
from archived.store.database import Database
from archived.store.jobs import JobStore
from archived.store.records import Initiator
from archived.targets import StorageTarget, build_targets
from archived_render.dask_pool import ClusterSettings
from archived_render.service import RenderLimits, RenderService

log = logging.getLogger("archived.daemon")

STATUS_INTERVAL = 5.0


PRIVATE_UMASK = 0o027


def restrict_umask() -> None:
    """Keep student data from other local users, whatever umask the daemon inherited: the store, work files and
    archives it creates are readable by its group at most (systemd's `UMask=` only helps under systemd)."""
    os.umask(os.umask(0) | PRIVATE_UMASK)


def cluster_settings(workers: WorkersConfig) -> ClusterSettings | None:
    """`[workers.dask]` for the render service when `[workers] backend = "dask"`, else None (the local pool)."""
    if workers.backend != "dask" or workers.dask is None:
        return None
    if importlib.util.find_spec("distributed") is None:
        raise ConfigError("[workers] backend = \"dask\" needs Dask distributed: pip install 'archived[cluster]'")
    dask = workers.dask
    return ClusterSettings(
        scheduler=dask.scheduler,
        tls_ca_file=dask.tls_ca_file,
        tls_cert=dask.tls_cert,
        tls_key=dask.tls_key,
        connect_timeout_seconds=dask.connect_timeout_seconds,
        fallback_local=dask.fallback_local,
        min_workers=dask.min_workers,
        html_on_hosts=dask.html_on_hosts,
    )


def build_presets(config: Config, drivers: dict[str, ActivityDriver]) -> dict[str, Preset]:
    """Validate `[presets.*]` against the job settings and each driver's settings."""
    unknown = set(config.presets) - {JOB_PRESET, *drivers}
    if unknown:
        name = sorted(unknown)[0]
        raise ConfigError(
            f"presets.{name}: no activity driver named {name!r} is installed "
            f"(known: {', '.join(sorted([JOB_PRESET, *drivers]))})"
        )
    presets = {JOB_PRESET: Preset.from_config(JOB_PRESET, config.presets.get(JOB_PRESET), JobSettings)}
    # A preset (perhaps locked: "always local + S3") naming a target that is not configured would fail every job.
    unknown_targets = [t for t in presets[JOB_PRESET].values.get("storage_targets", []) if t not in config.storage]
    if unknown_targets:
        raise ConfigError(
            f"presets.job.storage_targets: no storage target named {unknown_targets[0]!r} "
            f"(configured: {', '.join(sorted(config.storage)) or 'none'}; add a [storage.{unknown_targets[0]}] table)"
        )
    for name, driver in drivers.items():
        presets[name] = Preset.from_config(name, config.presets.get(name), driver.settings_model)
    return presets


def build_category_presets(
    config: Config, drivers: dict[str, ActivityDriver], presets: dict[str, Preset]
) -> CategoryPresets:
    """Validate `[category_presets.*]` against the settings models and the site presets' locks."""
    if config.category_presets and config.moodle is None:
        raise ConfigError(
            "category_presets: needs [moodle] (a job's course category is read from Moodle); remove the category "
            "presets or configure Moodle"
        )
    models: dict[str, type[DriverSettings]] = {JOB_PRESET: JobSettings}
    models.update((name, driver.settings_model) for name, driver in drivers.items())
    storage = list(config.storage)
    return CategoryPresets.from_config(config.category_presets, site=presets, models=models, storage=storage)


class Daemon:
    """One daemon process."""

    def __init__(self, config: Config, *, event_consumers: Sequence[EventConsumer] = ()) -> None:
        self.config = config
        self._event_consumers = list(event_consumers)  # durable consumers beside the live bus (connectors)
        self.events: EventDispatcher | None = None
        self.housekeeping: Housekeeping | None = None
        self.notifier = Notifier()
        self.lock = InstanceLock(config.lock_path)
        self._stop = asyncio.Event()
        self._hard_stop = asyncio.Event()
        self._signals = 0
        self.rpc: RpcServer | None = None
        self._closers: list[Any] = []
        self._owns_socket = False
        self._open_files_limit: int | None = None
        self._log_limits: RepeatLimits | None = None
        self.render: RenderService | None = None
        self.pending_copies: PendingCopySweep | None = None
        self.retention: ArchiveRetention | None = None
        self.people: PeopleRequests | None = None

    def request_stop(self, *, hard: bool = False) -> None:
        """Begin the shutdown as if signalled (used when the daemon runs inside another command)."""
        self._stop.set()
        if hard:
            self._hard_stop.set()

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        if self._signals == 1:
            log.warning("%s received: draining (send it again to stop at once)", signal.Signals(signum).name)
            self._stop.set()
        else:
            log.warning("%s received again: stopping now", signal.Signals(signum).name)
            self._hard_stop.set()

    async def run(self) -> None:
        """Run until signalled; raises `ConfigError` for anything that prevents a start."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
        restrict_umask()
        self.lock.acquire()
        self._log_limits = RepeatLimits()
        try:
            await self._startup()
            await self._main_loop()
            await self._shutdown()
        finally:
            # Also after a failed start: an open store or worker pool would keep the process alive.
            await self._close_resources()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            self._log_limits.remove()
            self.lock.release()

    async def _close_resources(self) -> None:
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                await close()

    async def _startup(self) -> None:
        config = self.config
        config.daemon.state_dir.mkdir(parents=True, exist_ok=True)
        self._open_files_limit = raise_open_file_limit()  # before render workers start: they inherit it
        db = await Database.open(config.store_path)
        self._closers.append(db.close)
        store = JobStore(db)
        self._closers.append(store.close)  # its read connections close before the store's own
        secrets: list[str] = []
        moodle_api = None
        if config.moodle is not None:
            token = read_secret(file=config.moodle.token_file, env=config.moodle.token_env, what="moodle token")
            secrets.append(token)
            moodle_api = await self._moodle(token)
        self.render = self._render_service()
        env = DriverEnvironment(
            moodle=moodle_api, temp_dir=config.work_dir, render=self.render, course_users=CourseUserStore(db)
        )
        drivers = {name: cls(env) for name, cls in activity_drivers().items()}
        for driver in drivers.values():
            await driver.start()
            self._closers.append(driver.close)
        targets = build_targets(config, storage_drivers({target.driver for target in config.storage.values()}))
        for target in targets.values():
            self._closers.append(target.driver.close)
        presets = build_presets(config, drivers)
        category_presets = build_category_presets(config, drivers, presets)
        bus = EventBus()
        connectors = Connectors(config, store)  # secrets read and templates compiled before anything runs
        self._closers.append(connectors.close)
        secrets += connectors.secrets
        timestamper = client_from_config(config.timestamp)
        secrets += timestamper.secrets if timestamper else []
        # Before the engine: deleting a job removes its stored copies the way retention does (tombstones, renewals,
        # the audit trail for an early deletion).
        self.retention = ArchiveRetention(db=db, outbox=store.outbox, targets=targets, job_log=store)
        # Before the engine: a job's course category (for the category presets) is read through the overview.
        overview = await self._overview(moodle_api, drivers, store, bus)
        engine = Engine(
            config=config,
            store=store,
            bus=bus,
            activity_drivers=drivers,
            targets=targets,
            presets=presets,
            secrets=secrets,
            moodle_site=config.moodle.url if config.moodle else "",
            timestamper=timestamper,
            stored_copies=self.retention,
            category_presets=category_presets,
            course_categories=overview,
        )
        self.engine = engine
        schedule_records = ScheduleRecords(db, store.outbox)
        self.events = await self._event_dispatcher(
            store, bus, [*connectors.consumers.values(), ScheduledJobFailures(schedule_records)]
        )
        connectors.use_course_overview(overview)
        resumed = await engine.start()
        identity = DaemonIdentity()
        rpc = RpcServer(AccessPolicy(config.access), self._connection_limits())
        rpc.register(session_methods(identity=identity, bus=bus, host=rpc))
        transfers = await self._transfers()
        rpc.register(archive_methods(store=store, targets=targets, copies=engine.stages.copies, transfers=transfers))
        schedules = ScheduleService(
            records=schedule_records, index=overview, jobs=engine, store=store, policy=config.policy
        )
        self.pending_copies = PendingCopySweep(engine.stages.copies.sweep, db=db)
        self._closers.append(self.pending_copies.close)
        rpc.register(
            daemon_methods(
                identity=identity, store=store, engine=engine, connections=rpc, drivers=drivers, targets=targets,
                moodle=overview, probes=TargetProbes(), render=self.render, schedules=schedules,
            )
        )  # fmt: skip
        rpc.register(job_methods(commands=engine, store=store, activities=overview))
        rpc.register(attach_methods(uploads=await self._uploads(engine)))
        rpc.register(driver_methods(drivers=drivers, catalogue=engine))
        rpc.register(connector_methods(connectors=connectors))
        rpc.register(retention_methods(retention=self.retention, jobs=engine))
        renewal = EvidenceRenewal(
            db=db, store=store, targets=targets, timestamper=timestamper, work_dir=config.work_dir
        )
        rpc.register(renewal_methods(renewal=renewal, jobs=engine))
        self.people = self._people(db, store, targets)
        rpc.register(people_methods(requests=self.people, transfers=transfers))
        rpc.register(audit_methods(audit=self.people.audit))
        if overview is not None:
            rpc.register(overview_methods(overview))
        await schedules.start()
        self._closers.append(schedules.close)
        rpc.register(schedule_methods(desk=ScheduleDesk(schedules)))
        inherited = inherited_socket()
        self._owns_socket = inherited is None
        if inherited is not None:
            await rpc.start_on(inherited)
        else:
            try:
                await rpc.start(
                    config.daemon.socket, mode=config.daemon.socket_mode_bits, group=config.daemon.socket_group
                )
            except (OSError, KeyError) as exc:
                raise ConfigError(
                    f"daemon.socket: cannot create the control socket {config.daemon.socket}: {exc} "
                    "(check the folder exists and is writable, and daemon.socket_group names a group)"
                ) from None
        self.rpc = rpc
        log.info(
            "archived %s ready: socket %s, store %s, %d job(s) resumed, drivers %s, targets %s",
            __version__,
            config.daemon.socket,
            config.store_path,
            resumed,
            sorted(drivers) or "none",
            sorted(targets) or "none",
        )
        self.notifier.ready(self._status_line())

    async def _event_dispatcher(
        self, store: JobStore, bus: EventBus, connectors: Sequence[EventConsumer]
    ) -> EventDispatcher:
        """The one path from the outbox to the live bus, the connectors and every other consumer (started before
        jobs resume, so that their events flow), and the retention sweep of the outbox and the job logs."""
        consumers = [BusConsumer(bus), *connectors, *self._event_consumers]
        dispatcher = EventDispatcher(store.outbox, consumers)
        await dispatcher.start()
        self._closers.append(dispatcher.stop)
        self.housekeeping = Housekeeping(
            self.config.retention, outbox=store.outbox, delivered_up_to=dispatcher.delivered_up_to,
            archive_sweep=self._sweep_archives, people_index=self._index_people,
        )  # fmt: skip
        self._closers.append(self.housekeeping.close)
        return dispatcher

    async def _sweep_archives(self) -> None:
        """The hourly retention sweep of stored archives."""
        if self.retention is not None:
            await self.retention.sweep(by=Initiator(kind="schedule", name="retention"))

    async def _index_people(self) -> None:
        """New archives (and older ones never read) join the people index soon after they are stored."""
        if self.people is not None:
            await self.people.indexer.index_new()

    def _people(self, db: Database, store: JobStore, targets: dict[str, StorageTarget]) -> PeopleRequests:
        """GDPR requests, reading verified copies of stored archives into the work folder."""
        reader = ArchiveReader(store=store, targets=targets, folder=self.config.work_dir / "people")
        return PeopleRequests(db=db, reader=reader, indexer=PeopleIndexer(db=db, reader=reader))

    async def _uploads(self, engine: Engine) -> Uploads:
        """Files operators send for their jobs (`jobs.attach`), received in a folder of the daemon's own."""
        uploads = Uploads(self.config.daemon.state_dir / "uploads", engine.stages.operator_files, engine)
        await uploads.start()
        self._closers.append(uploads.close)
        return uploads

    async def _transfers(self) -> ArchiveTransfers:
        """Where retrieved archives wait, verified, for their client to read them (emptied at start and stop)."""
        transfers = ArchiveTransfers(self.config.daemon.state_dir / "transfers")
        await transfers.start()
        self._closers.append(transfers.close)
        return transfers

    def _render_service(self) -> RenderService:
        """The one render service of every job and driver (`[workers]`); its processes start on first use."""
        workers = self.config.workers
        render = RenderService(
            RenderLimits(
                processes=workers.processes,
                max_tasks_per_child=workers.max_tasks_per_child,
                timeout_seconds=workers.render_timeout_seconds,
                retries=workers.render_retries,
                weasyprint_patches=workers.weasyprint_patches,
            ),
            cluster=cluster_settings(workers),
        )
        self._closers.append(render.close)
        render.start()  # the render hosts show in the status before the first job needs them
        if render.math_problem:  # cheap (no Node started); `archived doctor` checks everything
            log.warning("formulas will be shown as TeX source: %s (run archived doctor)", render.math_problem)
        return render

    def _connection_limits(self) -> ConnectionLimits:
        """The connection cap, leaving `daemon.file_descriptor_reserve` descriptors to jobs beyond those open now."""
        limits = ConnectionLimits.derive(
            self.config.daemon, open_files_limit=self._open_files_limit, open_files=open_file_count()
        )
        if limits.bounded_by_open_files:
            log.warning(
                "the open-file limit %s leaves room for only %d socket connections (daemon.max_connections is %d, "
                "daemon.file_descriptor_reserve %d); raise LimitNOFILE= in the service unit",
                self._open_files_limit,
                limits.max_connections,
                self.config.daemon.max_connections,
                self.config.daemon.file_descriptor_reserve,
            )
        log.info(
            "control socket: at most %d connections, %d per user, %d kept for operators; open-file limit %s",
            limits.max_connections,
            limits.max_connections_per_user,
            limits.operator_connections,
            self._open_files_limit,
        )
        return limits

    async def _moodle(self, token: str) -> MoodleApi:
        """The Moodle API client (only when [moodle] is configured)."""
        assert self.config.moodle is not None
        api = build_moodle_api(self.config.moodle, token)
        self._closers.append(api.client.aclose)
        return api

    async def _overview(
        self, api: MoodleApi | None, drivers: dict[str, ActivityDriver], store: JobStore, bus: EventBus
    ) -> CourseIndex | None:
        """The course index (only when Moodle is configured)."""
        if api is None or self.config.moodle is None:
            return None
        index = CourseIndex(
            api=api, moodle=self.config.moodle, refresh_cooldown=self.config.daemon.overview_refresh_cooldown_seconds,
            drivers=drivers, store=store, bus=bus,
        )  # fmt: skip
        await index.start()
        self._closers.append(index.close)
        return index

    def _status_line(self) -> str:
        engine = self.engine
        return f"{engine.running_count()} running" + (", draining" if engine.draining else "")

    async def _main_loop(self) -> None:
        interval = STATUS_INTERVAL
        if self.notifier.watchdog_interval:
            interval = min(interval, self.notifier.watchdog_interval)
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)
            self.notifier.watchdog()
            self.notifier.status(self._status_line())
            if self._log_limits is not None:
                self._log_limits.flush()
            if self.housekeeping is not None:
                self.housekeeping.tick()
            if self.pending_copies is not None:
                self.pending_copies.tick()

    async def _shutdown(self) -> None:
        self.notifier.stopping()
        started = time.monotonic()
        drain = asyncio.create_task(self.engine.drain())
        hard = asyncio.create_task(self._hard_stop.wait())
        while not drain.done():
            done, _ = await asyncio.wait(
                {drain, hard}, timeout=self.notifier.watchdog_interval or 5.0, return_when=asyncio.FIRST_COMPLETED
            )
            self.notifier.watchdog()
            if hard in done:
                await self.engine.stop_hard()
                break
        hard.cancel()
        with contextlib.suppress(BaseException):
            await drain
        if self.events is not None:
            await self.events.stop()  # subscribers get the last state changes before the socket closes
        if self.rpc:
            await self.rpc.close()
        if self._owns_socket:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.config.daemon.socket)
        await self._close_resources()
        log.info("archived stopped after %.1f s of draining", time.monotonic() - started)
