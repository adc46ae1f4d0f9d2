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
    # 5: finding jobs (`jobs.list` filters, sorts and keyset pages, the bulk actions): the initiator's name as a
    # column of its own (searched and sorted), an index per filter that pages in created order by (created_at, id)
    # (replacing the two that lacked the id), and one per sort key (its expression as `job_queries` sorts by it).
    """
    ALTER TABLE jobs ADD COLUMN initiator_name TEXT NOT NULL DEFAULT '';
    UPDATE jobs SET initiator_name = COALESCE(json_extract(initiator, '$.name'), '');
    DROP INDEX jobs_by_created;
    DROP INDEX jobs_by_state;
    CREATE INDEX jobs_by_created_id ON jobs(created_at, id);
    CREATE INDEX jobs_by_state_created_id ON jobs(state, created_at, id);
    CREATE INDEX jobs_by_error_created_id ON jobs(error_code, created_at, id) WHERE error_code IS NOT NULL;
    CREATE INDEX jobs_by_course_created_id ON jobs(course_id, created_at, id);
    CREATE INDEX jobs_by_finished_id ON jobs(COALESCE(finished_at, 0), id);
    CREATE INDEX jobs_by_state_id ON jobs(state, id);
    CREATE INDEX jobs_by_course_name_id ON jobs(course_name COLLATE NOCASE, id);
    CREATE INDEX jobs_by_activity_name_id ON jobs(activity_name COLLATE NOCASE, id);
    CREATE INDEX jobs_by_error_code_id ON jobs(COALESCE(error_code, ''), id);
    CREATE INDEX jobs_by_initiator_name_id ON jobs(initiator_name COLLATE NOCASE, id);
    CREATE INDEX jobs_by_run_time_id ON jobs(run_seconds, id);
    """,
    # 6: what becomes of stored archives after they were made: tombstones of deleted copies, renewals of their
    # timestamps (the replies and where each is stored), the people inside each archive (for GDPR requests) and
    # the audit trail of who looked up or exported whose data and who deleted what early.
    """
    CREATE TABLE tombstones (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
        object TEXT NOT NULL,
        target TEXT NOT NULL,
        location TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        retain_until REAL,
        deleted_at REAL NOT NULL,
        reason TEXT NOT NULL,
        forced INTEGER NOT NULL DEFAULT 0,
        by TEXT NOT NULL
    );
    CREATE INDEX tombstones_by_job ON tombstones(job_id, id);

    CREATE TABLE timestamp_renewals (
        id INTEGER PRIMARY KEY,
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
        number INTEGER NOT NULL,
        reply BLOB NOT NULL,
        chain BLOB NOT NULL,
        stamped_sha512 TEXT NOT NULL,
        gen_time REAL NOT NULL,
        authority TEXT NOT NULL,
        holds_until REAL,
        created_at REAL NOT NULL,
        UNIQUE (artifact_id, number)
    );

    CREATE TABLE renewal_copies (
        renewal_id INTEGER NOT NULL REFERENCES timestamp_renewals(id),
        target TEXT NOT NULL,
        reply_location TEXT NOT NULL,
        chain_location TEXT NOT NULL,
        stored_at REAL NOT NULL,
        deleted_at REAL,
        PRIMARY KEY (renewal_id, target)
    );

    CREATE TABLE people_index (
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
        site TEXT NOT NULL,
        userid INTEGER NOT NULL,
        username TEXT NOT NULL DEFAULT '',
        idnumber TEXT NOT NULL DEFAULT '',
        firstname TEXT NOT NULL DEFAULT '',
        lastname TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (artifact_id, site, userid)
    );
    CREATE INDEX people_by_userid ON people_index(userid);
    CREATE INDEX people_by_username ON people_index(username);
    CREATE INDEX people_by_idnumber ON people_index(idnumber);

    CREATE TABLE people_indexed (
        artifact_id INTEGER PRIMARY KEY REFERENCES artifacts(id),
        attempted_at REAL NOT NULL,
        indexed_at REAL,
        source TEXT NOT NULL DEFAULT '',
        people INTEGER NOT NULL DEFAULT 0,
        problem TEXT
    );

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        outcome TEXT NOT NULL,
        details TEXT NOT NULL
    );
    CREATE INDEX audit_log_by_action ON audit_log(action, id);
    """,
    # 7: copies an optional storage target missed, retried in the background until they exist (or the job is
    # deleted); an index to list the archives a target holds.
    """
    CREATE TABLE pending_copies (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
        target TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        next_try_at REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (artifact_id, target)
    );
    CREATE INDEX pending_copies_by_next_try ON pending_copies(next_try_at);
    CREATE INDEX pending_copies_by_job ON pending_copies(job_id);
    CREATE INDEX artifact_locations_by_target ON artifact_locations(target, artifact_id) WHERE deleted_at IS NULL;
    """,
    # 8: what each event connector did with each event it was given: delivered, or a dead letter after its attempts
    # ran out (kept with the event's body, so it can be delivered again after the outbox swept the event).
    """
    CREATE TABLE connector_deliveries (
        id INTEGER PRIMARY KEY,
        connector TEXT NOT NULL,
        event_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        job_id TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        output TEXT NOT NULL DEFAULT '',
        body TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (connector, event_id)
    );
    CREATE INDEX connector_deliveries_by_state ON connector_deliveries(state, connector, id);
    """,
    # 9: what `jobs.list`'s search looks in, one column per job written by the store with each change of its names or
    # error code (case folded as Python folds it), so that a search over 10,000 jobs runs in SQLite's C (counting
    # the matches reads the index alone). Jobs made before get SQLite's lower() of the same text (it folds A–Z only).
    """
    ALTER TABLE jobs ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
    UPDATE jobs SET search_text = lower(
        course_name || char(31) || activity_name || char(31) || COALESCE(error_code, '') || char(31) || initiator_name
    );
    CREATE INDEX jobs_live_searched ON jobs(search_text, id) WHERE deleted_at IS NULL;
    """,
    # 10: schedules (cron, time zone, selection rule) and what each run selected and skipped; the reminders a
    # mandatory policy rule sent (one per activity and rule a day).
    """
    CREATE TABLE schedules (
        name TEXT PRIMARY KEY,
        cron TEXT NOT NULL,
        timezone TEXT NOT NULL,
        rule TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        next_run_at REAL,
        last_selected_at REAL,
        idle_reported_at REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE schedule_runs (
        id INTEGER PRIMARY KEY,
        schedule TEXT NOT NULL,
        trigger TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        missed INTEGER NOT NULL DEFAULT 0,
        started_at REAL NOT NULL,
        finished_at REAL,
        selected TEXT NOT NULL DEFAULT '[]',
        skipped TEXT NOT NULL DEFAULT '[]',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX schedule_runs_by_schedule ON schedule_runs(schedule, id);
    CREATE TABLE policy_reminders (
        rule TEXT NOT NULL,
        cmid INTEGER NOT NULL,
        reminded_at REAL NOT NULL,
        PRIMARY KEY (rule, cmid)
    );
    """,
    # 11: the users ever seen per course (overview refreshes, jobs), so that a quiz job still asks Moodle for the
    # attempts of a student whose enrolment was removed since (Moodle lists current enrolments only).
    """
    CREATE TABLE course_users_seen (
        course_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        username TEXT NOT NULL DEFAULT '',
        firstname TEXT NOT NULL DEFAULT '',
        lastname TEXT NOT NULL DEFAULT '',
        idnumber TEXT NOT NULL DEFAULT '',
        first_seen_at REAL NOT NULL,
        last_seen_at REAL NOT NULL,
        PRIMARY KEY (course_id, user_id)
    );
    """,
]
