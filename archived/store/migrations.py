"""Schema migrations of the job store, applied in order; `PRAGMA user_version` records the last one applied.

Never edit a migration that has shipped: add a new one. Each runs in its own transaction.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: jobs, their timeline, checkpoints, logs, artifacts and the event outbox.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        driver TEXT NOT NULL,
        course_id INTEGER NOT NULL,
        cmid INTEGER NOT NULL,
        course_name TEXT NOT NULL DEFAULT '',
        activity_name TEXT NOT NULL DEFAULT '',
        initiator TEXT NOT NULL,
        settings TEXT NOT NULL,
        state TEXT NOT NULL,
        outcome TEXT,
        failed_stage TEXT,
        retries INTEGER NOT NULL DEFAULT 0,
        next_retry_at REAL,
        progress REAL NOT NULL DEFAULT 0,
        progress_text TEXT NOT NULL DEFAULT '',
        error_code TEXT,
        error_message TEXT,
        error_recoverable INTEGER,
        run_seconds REAL NOT NULL DEFAULT 0,
        timeout_seconds REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        deleted_at REAL
    );
    CREATE INDEX jobs_by_state ON jobs(state, created_at);
    CREATE INDEX jobs_by_created ON jobs(created_at);
    CREATE INDEX jobs_by_activity ON jobs(cmid, created_at);

    CREATE TABLE job_transitions (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        at REAL NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX job_transitions_by_job ON job_transitions(job_id, id);

    CREATE TABLE job_checkpoints (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        stage TEXT NOT NULL,
        data TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (job_id, stage)
    );

    CREATE TABLE job_logs (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        at REAL NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX job_logs_by_job ON job_logs(job_id, id);

    CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at REAL NOT NULL,
        retain_until REAL,
        UNIQUE (job_id, name)
    );

    CREATE TABLE artifact_locations (
        id INTEGER PRIMARY KEY,
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
        target TEXT NOT NULL,
        location TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        stored_at REAL NOT NULL,
        deleted_at REAL,
        UNIQUE (artifact_id, target)
    );

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        job_id TEXT,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 2: the activity's fingerprint at archive time, for "changed since last archive".
    """
    ALTER TABLE jobs ADD COLUMN fingerprint TEXT;
    CREATE INDEX jobs_by_cmid_state ON jobs(cmid, state, finished_at);
    CREATE INDEX jobs_live_by_created ON jobs(created_at, id) WHERE deleted_at IS NULL;
    """,
    # 3: checkpoints kept entry by entry (a driver's finished units of work): recording one finished attempt
    # writes one row instead of rewriting a record of every attempt so far.
    """
    CREATE TABLE job_checkpoint_items (
        job_id TEXT NOT NULL REFERENCES jobs(id),
        stage TEXT NOT NULL,
        key TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (job_id, stage, key)
    );
    """,
    # 4: the outbox is read by the event dispatcher: each consumer's position (the last event id it was given), the
    # schema version of each event, and an index for the retention sweep of job log lines by level and age.
    """
    ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE event_consumers (
        name TEXT PRIMARY KEY,
        last_id INTEGER NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX job_logs_by_level_age ON job_logs(level, at);
    """,
]
