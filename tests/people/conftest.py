"""The in-process engine of `tests/jobs` (test driver, real store and local storage), for the people index tests."""

from tests.jobs.conftest import harness

__all__ = ["harness"]
