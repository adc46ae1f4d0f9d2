"""A fresh simulator per test (building the seeded world and binding a port take milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from archived.simulator import MoodleSimulator


@pytest.fixture
def sim() -> Iterator[MoodleSimulator]:
    """The recorded site in the 4.5 profile."""
    with MoodleSimulator(seed=1, release="4.5") as simulator:
        yield simulator


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A synchronous HTTP client with a short timeout."""
    with httpx.Client(timeout=10.0) as http:
        yield http
