"""Opening the SQLite store: WAL, durable commits, migrations, one writer at a time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from archived.errors import ConfigError
from archived.store.migrations import MIGRATIONS


class Database:
    """One aiosqlite connection; `transaction()` serialises multi-statement writes between coroutines."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self._write_lock = asyncio.Lock()

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
        db = cls(connection)
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
        """
        async with self._write_lock:
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
                await asyncio.shield(self.connection.execute("ROLLBACK"))
                raise
            else:
                await asyncio.shield(self.connection.execute("COMMIT"))

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
