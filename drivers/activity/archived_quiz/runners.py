"""A fixed number of runners working through one shared iterator: bounded concurrency without a task per item.

A quiz may have thousands of attempts and a course thousands of students: one task per item would keep them
all waiting in memory. Here `runners` tasks take the items one by one from a shared iterator (the event loop
hands each item to exactly one of them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


class RunnersFailed(Exception):
    """One or more runners failed; `errors` holds every error, the one to report first (cancellations last)."""

    def __init__(self, errors: list[BaseException]) -> None:
        super().__init__(str(errors[0]) if errors else "runners failed")
        self.errors = errors


async def run_each(items: Iterable[T], work: Callable[[T], Awaitable[None]], runners: int) -> None:
    """Await `work(item)` for every item, at most `runners` at a time; the first failure stops them all.

    Raises `RunnersFailed` with the errors (not a task group around them: callers re-raise the error itself,
    for the engine to classify).
    """
    pending = iter(items)

    async def runner() -> None:
        for item in pending:
            await work(item)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, runners)):
                group.create_task(runner())
    except BaseExceptionGroup as group_error:
        raise RunnersFailed(_flatten(group_error)) from None


def _flatten(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The errors of a task group, nested groups flattened, cancellations last."""
    flat: list[BaseException] = []
    for error in group.exceptions:
        flat.extend(_flatten(error) if isinstance(error, BaseExceptionGroup) else [error])
    return sorted(flat, key=lambda error: isinstance(error, asyncio.CancelledError))
