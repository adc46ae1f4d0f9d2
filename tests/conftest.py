"""Shared fixtures: the test-only plugins on sys.path, and a real daemon process on a temporary store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PLUGINS = TESTS / "plugins"
if str(PLUGINS) not in sys.path:
    # The committed dist-info there registers the test-only drivers through entry points.
    sys.path.insert(0, str(PLUGINS))
if str(TESTS.parent) not in sys.path:
    sys.path.insert(0, str(TESTS.parent))

from tests.support.daemon import DaemonProcess, write_config  # noqa: E402

# End-to-end modules that take seconds each (daemons, simulators, render workers, the TUI): marked `slow`, so that
# `scripts/test -m "not slow"` is a quick loop of about a minute. CI and a plain `scripts/test` run everything.
SLOW_MODULES = frozenset({
    "daemon/test_dask_render.py",
    "drivers/worker/test_dask_outages.py",
    "drivers/worker/test_dask_pool.py",
    "archive/test_verify_hostile.py",
    "assign/test_assign_daemon.py",
    "assign/test_assign_rubric_comments.py",
    "cli/test_bulk_jobs.py",
    "cli/test_doctor_cluster.py",
    "cli/test_hostile_names.py",
    "connectors/test_daemon.py",
    "daemon/test_crash.py",
    "daemon/test_event_delivery.py",
    "daemon/test_hostile_site.py",
    "daemon/test_lifecycle.py",
    "daemon/test_log_flood.py",
    "daemon/test_quiz_jobs.py",
    "daemon/test_render_sharing.py",
    "daemon/test_store_disk_full.py",
    "daemon/test_timestamp_jobs.py",
    "drivers/activity/quiz/test_quiz_driver.py",
    "drivers/activity/quiz/test_quiz_driver_hostile.py",
    "drivers/storage/test_s3_errors.py",
    "drivers/worker/test_render_pool.py",
    "drivers/worker/test_render_service.py",
    "drivers/worker/test_weasy_patches.py",
    "jobs/test_category_presets_daemon.py",
    "jobs/test_disk_faults.py",
    "overview/test_overview.py",
    "overview/test_secrets.py",
    "rpc/test_connection_limits.py",
    "tui/test_attach_files.py",
    "tui/test_connectors_screen.py",
    "tui/test_dialogs.py",
    "tui/test_functional.py",
    "tui/test_hostile_names.py",
    "tui/test_render_hosts_screen.py",
    "tui/test_resumed_timeline.py",
    "tui/test_retrieve.py",
    "tui/test_snapshots.py",
})  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of `SLOW_MODULES` as slow."""
    for item in items:
        if item.path.relative_to(TESTS).as_posix() in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def daemon_factory(tmp_path: Path):
    """Start real daemon processes on a temporary store; all are killed at the end of the test."""
    started: list[DaemonProcess] = []

    def start(**config_overrides: object) -> DaemonProcess:
        config = write_config(tmp_path, **config_overrides)
        process = DaemonProcess(config, tmp_path)
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def daemon(daemon_factory):
    """One running daemon with the test driver and a local storage target."""
    return daemon_factory()
