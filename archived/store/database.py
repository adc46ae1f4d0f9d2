"""Opening the SQLite store: WAL, durable commits, migrations, one writer at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from archived.errors import ConfigError, RecoverableError
from archived.store.migrations import MIGRATIONS

log = logging.getLogger("archived.store")

# SQLite's primary result codes that mean "the disk under the store", not "a bug in a statement".
_DISK_PROBLEMS = {
    sqlite3.SQLITE_FULL: "its disk is full",
    sqlite3.SQLITE_IOERR: "an input/output error occurred",
    sqlite3.SQLITE_READONLY: "it is read-only",
    sqlite3.SQLITE_CANTOPEN: "a file of it cannot be opened",
    sqlite3.SQLITE_PERM: "permission was denied",
}


class StoreUnwritable(RecoverableError):
    """The store's disk is full, read-only or failing: nothing was written; try again once it is fixed."""

    code = "store_unwritable"


@dataclass(frozen=True)
class StoreProblem:
    """Why the store could not be written, since when (for `daemon.status`)."""

    message: str
    since: float


def disk_problem(exc: BaseException) -> str | None:
    """What is wrong with the store's disk, if `exc` is SQLite reporting such a problem."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    return _DISK_PROBLEMS.get(code & 0xFF)


class Database:
    """One aiosqlite connection; `transaction()` serialises multi-statement writes between coroutines."""

    def __init__(self, connection: aiosqlite.Connection, path: Path | None = None) -> None:
        self.connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()
        self.problem: StoreProblem | None = None  # set while writes fail for a disk reason, cleared by a commit
        self._after_commit: list[Callable[[], None]] = []  # of the transaction being written

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) and migrate the store at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        # WAL lets readers (jobs.list) run beside the writer; FULL makes each commit survive power loss,
        # which the "transition written before its side effects" rule depends on.
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=FULL")
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute("PRAGMA busy_timeout=5000")
        db = cls(connection, path)
        await db.migrate()
        return db

    async def migrate(self) -> None:
        """Apply every migration newer than the store's `user_version`."""
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise ConfigError(
                f"the store was written by a newer archived (schema {current}, this version knows "
                f"{len(MIGRATIONS)}); upgrade archived or point state_dir elsewhere"
            )
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            async with self.transaction() as conn:
                for statement in _statements(script):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version={number}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE … COMMIT`, rolled back on any exception, safe against task cancellation.

        aiosqlite runs statements in its own thread, in order: a cancelled `await` does not stop the statement.
        So BEGIN, ROLLBACK and COMMIT are shielded, and a transaction is never left open on the connection.
        A full, read-only or failing disk raises `StoreUnwritable` naming the store's folder.
        """
        async with self._write_lock:
            try:
                try:
                    async with self._transaction() as connection:
                        yield connection
                except sqlite3.Error as exc:
                    problem = disk_problem(exc)
                    if problem is None:
                        raise
                    raise self._unwritable(problem, exc) from exc
            except BaseException:
                self._after_commit.clear()
                raise
            committed, self._after_commit = self._after_commit, []
            if self.problem is not None:
                log.warning("the job store can be written again (after: %s)", self.problem.message)
                self.problem = None
        for callback in committed:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the transaction being written commits; never if it rolls back. Only valid inside
        `transaction()` (e.g. to wake the event dispatcher for an outbox row)."""
        if not self._write_lock.locked():
            raise RuntimeError("after_commit() outside a transaction")
        self._after_commit.append(callback)

    @asynccontextmanager
    async def committed_view(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection while no transaction is open on it: reads see committed rows only (a reader on the shared
        connection would otherwise see another coroutine's uncommitted rows, which may still roll back)."""
        async with self._write_lock:
            yield self.connection

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        begin = asyncio.ensure_future(self.connection.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begin
                await self.connection.execute("ROLLBACK")
            raise
        try:
            yield self.connection
        except BaseException:
            # A failed COMMIT may already have rolled back (SQLITE_FULL does): nothing is open then.
            if self.connection.in_transaction:
                await asyncio.shield(self.connection.execute("ROLLBACK"))
            raise
        else:
            try:
                await asyncio.shield(self.connection.execute("COMMIT"))
            except BaseException:
                if self.connection.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await asyncio.shield(self.connection.execute("ROLLBACK"))
                raise

    def _unwritable(self, problem: str, exc: sqlite3.Error) -> StoreUnwritable:
        where = self.path.parent if self.path else "its folder"
        message = (
            f"the job store {self.path or ''} cannot be written: {problem} ({exc}); nothing was changed. "
            f"Free space in {where} or fix the disk; waiting jobs continue once the store can be written."
        ).replace("store  cannot", "store cannot")
        if self.problem is None:
            log.error("%s", message)
            self.problem = StoreProblem(message, time.time())
        return StoreUnwritable(message)

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
