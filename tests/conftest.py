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
