"""The durable job store: SQLite (WAL) through aiosqlite; the only code that speaks SQL."""
