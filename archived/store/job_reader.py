"""Reads that find jobs (`jobs.list`, the bulk actions) on a SQLite connection of their own, in a thread of their
own: they never wait behind the writer's commits on the shared connection (WAL lets readers run beside it), the
event loop never runs their queries, and one call is one hop to the thread, whatever the page needs. Only the
store's version (`version()`, a few microseconds) is asked on the caller's thread, on a connection of its own."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from archived.protocol.jobs import JobFilter
from archived.store.job_queries import LIST_COLUMNS, SortOrder, where_clause
from archived.store.versioned_cache import VersionedCache

T = TypeVar("T")

_THREAD_NAME = "archived-store-reader"


@dataclass(frozen=True)
class PageRows:
    """A page as the store holds it: each job's id and version (`updated_at`) in order, the full rows of the jobs
    the caller asked for, how many jobs match in all and the cursor of the next page."""

    keys: list[tuple[str, float]]
    rows: dict[str, tuple[Any, ...]]
    total: int
    next_cursor: str | None


class JobReader:
    """Runs the store's job-finding queries on their own read-only connection in one worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD_NAME)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._counts: VersionedCache[int] = VersionedCache()  # totals by filter; used in the reader's thread only
        self._probe: sqlite3.Connection | None = None  # asks for the store's version on the event loop
        self._finalizer = weakref.finalize(self, _close, self._executor, self._connections)

    def version(self) -> int:
        """The store's version as this reader sees it: it moves with every commit (of any connection). Asked on the
        caller's thread: reading it takes microseconds, less than the hop to the reader's thread."""
        if self._probe is None:
            self._probe = _open(self.path)
            self._connections.append(self._probe)
        return int(self._probe.execute("PRAGMA data_version").fetchone()[0])

    async def page(
        self,
        criteria: JobFilter,
        sort: SortOrder,
        *,
        limit: int,
        offset: int = 0,
        cursor: str | None = None,
        wanted: Callable[[str, float], bool] = lambda job_id, updated_at: True,
    ) -> PageRows:
        """A page of jobs in `sort` order after `cursor` (or `offset`), with the full rows of those `wanted`
        (job id, updated_at) says it needs, and the total; all from one snapshot of the store.
        `InvalidCursor` for a cursor of another sort."""
        where, params = where_clause(criteria)
        key = _filter_key(criteria)
        after, after_params = sort.after(cursor) if cursor else ("", [])
        page_where = where
        if after:
            page_where = f"{where} AND {after}" if where else f"WHERE {after}"

        def read(conn: sqlite3.Connection) -> PageRows:
            found = conn.execute(
                f"SELECT id, updated_at, {sort.expression} FROM jobs {page_where} {sort.order_by()} LIMIT ? OFFSET ?",
                (*params, *after_params, limit + 1, offset),
            ).fetchall()
            more = len(found) > limit
            found = found[:limit]
            total = self._count(conn, key, where, params)
            needed = [job_id for job_id, updated_at, _ in found if wanted(job_id, updated_at)]
            rows: dict[str, tuple[Any, ...]] = {}
            for start in range(0, len(needed), 500):  # within SQLite's limit of bound parameters
                chunk = needed[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for row in conn.execute(f"SELECT {LIST_COLUMNS} FROM jobs WHERE id IN ({marks})", chunk):
                    rows[row[0]] = row
            last = found[-1] if found and more else None
            return PageRows(
                keys=[(job_id, updated_at) for job_id, updated_at, _ in found],
                rows=rows,
                total=total,
                next_cursor=sort.cursor(last[2], last[0]) if last else None,
            )

        return await self._run(read)

    async def count(self, criteria: JobFilter) -> int:
        """How many jobs match."""
        where, params = where_clause(criteria)
        key = _filter_key(criteria)
        return await self._run(lambda conn: self._count(conn, key, where, params))

    def _count(self, conn: sqlite3.Connection, key: str, where: str, params: list[Any]) -> int:
        """How many jobs match, counted once per version of the store (inside a read transaction, whose snapshot
        the version names)."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        total = self._counts.get(version, key)
        if total is None:
            total = int(conn.execute(f"SELECT COUNT(*) FROM jobs {where}", params).fetchone()[0])
            self._counts.put(version, key, total)
        return total

    async def ids(self, criteria: JobFilter) -> list[str]:
        """The ids of every matching job, oldest first."""
        where, params = where_clause(criteria)
        order = SortOrder(descending=False).order_by()
        return await self._run(
            lambda conn: [row[0] for row in conn.execute(f"SELECT id FROM jobs {where} {order}", params)]
        )

    async def _run(self, read: Callable[[sqlite3.Connection], T]) -> T:
        """Run `read` in the reader's thread inside one read transaction (one snapshot)."""

        def in_thread() -> T:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                return read(conn)
            finally:
                conn.execute("COMMIT")

        return await asyncio.get_running_loop().run_in_executor(self._executor, in_thread)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if conn is None:
            conn = _open(self.path)
            self._local.connection = conn
            self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close the connection and end the thread (also done when the reader is collected)."""
        self._finalizer()


def _open(path: Path) -> sqlite3.Connection:
    """A connection that only reads (closed by the reader, from whichever thread closes it)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _filter_key(criteria: JobFilter) -> str:
    """A filter as canonical text (the key of its count)."""
    return criteria.model_dump_json(include=set(JobFilter.model_fields))


def _close(executor: ThreadPoolExecutor, connections: list[sqlite3.Connection]) -> None:
    # The reader may be collected by its own thread (the last reference was a read's); it cannot wait for itself.
    executor.shutdown(wait=not threading.current_thread().name.startswith(_THREAD_NAME))
    for conn in connections:
        conn.close()
    connections.clear()
