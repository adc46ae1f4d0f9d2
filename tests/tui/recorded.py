"""A fixed daemon state for snapshot tests and screenshots: a recorded-style answer for every method.

Snapshots need the same pixels every run, which a live daemon cannot give (pids, times, sizes change), so
the screens are fed from this state through the same `DaemonApi` and link code they use with the real
socket; only the transport is replaced. The data follows the protocol (and, for `courses.*`, the lead's
contract); the functional tests in this folder run the real daemon.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from archived.protocol.errors import ErrorCode, RpcError

NOW = datetime(2026, 3, 2, 9, 41, 7, tzinfo=UTC)
FROZEN_CLOCK = NOW.timestamp


def _at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://archived.example/jobs/{n}"))


COURSES = [
    (101, "MATH1-WS25", "Linear Algebra I", 11, "Mathematics"),
    (102, "MATH2-WS25", "Analysis II", 11, "Mathematics"),
    (103, "STAT-WS25", "Statistics for Engineers", 11, "Mathematics"),
    (104, "PHY1-WS25", "Experimental Physics I", 12, "Physics"),
    (105, "PHY-LAB", "Physics Lab Course", 12, "Physics"),
    (106, "HIST-MED", "Medieval History", 21, "History"),
    (107, "HIST-MOD", "Modern History Seminar", 21, "History"),
    (108, "LAW-CIV", "Civil Law Basics", 31, "Law"),
    (109, "LAW-EXAM", "State Examination Prep", 31, "Law"),
    (110, "CS-ALGO", "Algorithms and Data Structures", 13, "Computer Science"),
    (111, "CS-DB", "Database Systems", 13, "Computer Science"),
    (112, "CS-SEC", "IT Security", 13, "Computer Science"),
]
COURSE_BY_ID = {c[0]: c for c in COURSES}

# (n, cmid, course, activity, state, progress, progress text, minutes ago, run seconds, error)
JOBS: list[tuple[int, int, int, str, str, float, str, float, float, tuple[str, str] | None]] = [
    (1, 3101, 101, "Final exam", "activity_archiving", 41.0, "rendering attempt 37/90", 4, 0, None),
    (2, 3102, 102, "Midterm quiz", "post_processing", 88.0, "packing 212 files", 6, 0, None),
    (3, 3103, 103, "Retake exam", "queued", 0.0, "queued", 7, 0, None),
    (4, 3104, 104, "Statistics exam", "queued", 0.0, "queued", 7.5, 0, None),
    (
        5,
        3110,
        110,
        "Programming exam",
        "failed",
        62.0,
        "",
        25,
        312.4,
        ("storage_unavailable", "storage target nas-backup: folder /mnt/nas-backup does not exist"),
    ),
    (6, 3106, 106, "Essay exam", "completed", 100.0, "completed", 70, 95.2, None),
    (7, 3107, 107, "Seminar paper", "completed", 100.0, "completed", 95, 41.7, None),
    (
        8,
        3108,
        108,
        "Final exam",
        "timed_out",
        35.0,
        "",
        190,
        7200.0,
        ("timeout", "the job ran longer than 120 minutes (daemon.job_timeout_minutes)"),
    ),
    (9, 3109, 109, "Mock exam 2", "canceled", 12.0, "", 230, 18.3, None),
    (10, 3111, 111, "SQL quiz", "completed", 100.0, "completed", 300, 22.9, None),
    (11, 3112, 112, "Security exam", "completed", 100.0, "completed", 610, 130.4, None),
    (12, 3105, 105, "Lab safety quiz", "completed", 100.0, "completed", 1440, 8.1, None),
]


def job_summary(n: int) -> dict[str, Any]:
    """A `jobs.list` entry."""
    _, cmid, course_id, activity, state, progress, text, ago, run, error = next(j for j in JOBS if j[0] == n)
    short = COURSE_BY_ID[course_id][1]
    started = None if state == "queued" else _at(ago - 0.2)
    finished = _at(ago - run / 60) if state in ("completed", "failed", "canceled", "timed_out") else None
    return {
        "id": _id(n), "driver": "quiz", "course_id": course_id, "cmid": cmid, "course_name": short,
        "activity_name": activity, "state": state, "progress": progress, "progress_text": text,
        "initiator": {"kind": "schedule", "name": "nightly", "uid": None} if n % 3 == 0
        else {"kind": "operator", "name": "mweber", "uid": 1001},
        "created_at": _at(ago), "started_at": started, "finished_at": finished, "run_seconds": run,
        "error_code": error[0] if error else None, "error_message": error[1] if error else None, "deleted": False,
    }  # fmt: skip


DETAIL_JOB = 6  # the completed job the detail snapshot opens
SHA = "9f2c4e1ab3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f"


def job_get(n: int) -> dict[str, Any]:
    """A `jobs.get` answer."""
    summary = job_summary(n)
    ago = next(j for j in JOBS if j[0] == n)[7]
    detail = dict(summary)
    detail.update(
        settings={"job": {"retention_years": 10, "storage_targets": ["local", "nas-backup"]},
                  "activity": {"paper_format": "A4", "report_sections": ["header", "question", "rightanswer"]}},
        outcome=summary["state"] if summary["finished_at"] else None, failed_stage=None, retries=0,
        next_retry_at=None, timeout_seconds=7200.0, updated_at=summary["finished_at"], deleted_at=None,
    )  # fmt: skip
    steps = ["queued", "activity_archiving", "post_processing", "store", "cleanup", summary["state"]]
    reasons = ["settings resolved", "processing starts at activity_archiving", "activity_archiving finished",
               "post_processing finished", "store finished", f"cleanup done: {summary['state']}"]  # fmt: skip
    timeline = [
        {"from": "uninitialized" if i == 0 else steps[i - 1], "to": step, "at": _at(ago - i * 0.3), "reason": reason}
        for i, (step, reason) in enumerate(zip(steps, reasons, strict=True))
    ]
    name = f"archive-{summary['course_name']}-{summary['course_id']}-quiz-Essay_exam-{summary['cmid']}_2026-03-02.zip"
    artifacts = []
    if summary["state"] == "completed":
        artifacts.append({
            "name": name, "size": 48_213_877, "sha256": SHA, "created_at": _at(ago - 1.4),
            "retain_until": "2036-03-02T08:32:51Z",
            "locations": [
                {"target": "local", "location": name, "size": 48_213_877, "sha256": SHA,
                 "stored_at": _at(ago - 1.5), "deleted_at": None},
                {"target": "nas-backup", "location": name, "size": 48_213_877, "sha256": SHA,
                 "stored_at": _at(ago - 1.6), "deleted_at": None},
            ],
        })  # fmt: skip
    return {"job": detail, "timeline": timeline, "artifacts": artifacts}


LOG_LINES = [
    ("info", "job created by operator:mweber for course 106, activity 3106"),
    ("info", "stage activity_archiving started"),
    ("debug", "moodle: mod_quiz_get_attempts_for_review → 48 attempts"),
    ("info", "rendering 48 attempts with 2 render workers"),
    ("warning", "attempt 1207: question 14 has an attachment larger than 20 MiB; kept as a file"),
    ("info", "rendered 48/48 attempts (PDF/A-2u, 212 files)"),
    ("info", "stage post_processing started"),
    ("info", "bag: 215 payload files, Payload-Oxum 48102311.215"),
    ("info", "stage store started"),
    ("info", "stored on local (verified: size and SHA-256)"),
    ("info", "stored on nas-backup (verified: size and SHA-256)"),
    ("info", "job ended: completed"),
]


def job_logs(params: dict[str, Any]) -> dict[str, Any]:
    """A `jobs.logs` page (newest first)."""
    levels = ("debug", "info", "warning", "error")
    minimum = levels.index(params.get("min_level", "debug"))
    entries = [
        {"id": i + 1, "at": _at(70 - i * 0.1), "level": level, "message": message}
        for i, (level, message) in enumerate(LOG_LINES)
        if levels.index(level) >= minimum
    ]
    before = params.get("before_id")
    entries = [e for e in reversed(entries) if before is None or e["id"] < before]
    limit = int(params.get("limit", 200))
    page = entries[:limit]
    return {"job_id": params["job_id"], "entries": page,
            "next_before_id": page[-1]["id"] if len(page) == limit and len(entries) > limit else None}  # fmt: skip


STORAGE = [
    {"name": "local", "driver": "local", "tier": "local", "required": True, "archives": 1204,
     "bytes": 61_847_123_456, "reachable": True, "latency_ms": 0.8, "free_bytes": 812_345_678_912,
     "total_bytes": 1_999_844_147_200, "probe_ok": True, "message": "probe write/read/delete ok"},
    {"name": "nas-backup", "driver": "local", "tier": "remote-slow", "required": False, "archives": 1150,
     "bytes": 58_911_400_112, "reachable": False, "latency_ms": None, "free_bytes": None, "total_bytes": None,
     "probe_ok": False, "message": "probe failed: folder /mnt/nas-backup does not exist"},
]  # fmt: skip

CATEGORIES = [
    {"id": 1, "name": "Faculty of Science", "parent": 0, "path": "/1", "depth": 1, "course_count": 0},
    {"id": 11, "name": "Mathematics", "parent": 1, "path": "/1/11", "depth": 2, "course_count": 3},
    {"id": 12, "name": "Physics", "parent": 1, "path": "/1/12", "depth": 2, "course_count": 2},
    {"id": 13, "name": "Computer Science", "parent": 1, "path": "/1/13", "depth": 2, "course_count": 3},
    {"id": 2, "name": "Faculty of Arts", "parent": 0, "path": "/2", "depth": 1, "course_count": 0},
    {"id": 21, "name": "History", "parent": 2, "path": "/2/21", "depth": 2, "course_count": 2},
    {"id": 3, "name": "Faculty of Law", "parent": 0, "path": "/3", "depth": 1, "course_count": 0},
    {"id": 31, "name": "Law", "parent": 3, "path": "/3/31", "depth": 2, "course_count": 2},
]


def course(course_id: int) -> dict[str, Any]:
    """A `courses.list` entry."""
    _, short, full, category, category_name = COURSE_BY_ID[course_id]
    return {"id": course_id, "shortname": short, "fullname": full, "category_id": category,
            "category_name": category_name, "visible": course_id != 105,
            "activity_count": 3 + course_id % 4}  # fmt: skip


def activities(course_id: int) -> list[dict[str, Any]]:
    """The activities of a course, one of each badge."""
    base = course_id * 10
    last = {"job_id": _id(6), "at": _at(70), "state": "completed"}
    return [
        {"cmid": base + 1, "modname": "quiz", "name": "Final exam", "driver": "quiz", "supported": True,
         "archivable": True, "reason": None, "badge": "archived", "last_archive": last, "fingerprint": "a1"},
        {"cmid": base + 2, "modname": "quiz", "name": "Midterm quiz", "driver": "quiz", "supported": True,
         "archivable": True, "reason": None, "badge": "changed", "last_archive": {**last, "at": _at(20000)},
         "fingerprint": "b2"},
        {"cmid": base + 3, "modname": "quiz", "name": "Retake exam", "driver": "quiz", "supported": True,
         "archivable": True, "reason": None, "badge": "never", "last_archive": None, "fingerprint": "c3"},
        {"cmid": base + 4, "modname": "quiz", "name": "Practice quiz (open)", "driver": "quiz", "supported": True,
         "archivable": False, "reason": "quiz still open until 2026-03-09", "badge": "not_ready",
         "last_archive": None, "fingerprint": None},
        {"cmid": base + 5, "modname": "forum", "name": "Announcements", "driver": None, "supported": False,
         "archivable": False, "reason": "no archive driver for forum", "badge": "unsupported",
         "last_archive": None, "fingerprint": None},
    ]  # fmt: skip


SETTINGS = [
    {"key": "retention_years", "type": "int", "default": 3, "value": 10, "locked": True,
     "description": "Years to keep the archive.", "choices": None},
    {"key": "archive_name", "type": "str", "default": "archive-${courseshortname}-${cmid}",
     "value": "archive-${courseshortname}-${courseid}-${cmtype}-${cmname}-${cmid}_${date}-${time}", "locked": False,
     "description": "Archive file name pattern.", "choices": None},
    {"key": "storage_targets", "type": "list", "default": [], "value": [], "locked": False,
     "description": "Storage targets to write to (empty: every configured target).", "choices": None},
    {"key": "paper_format", "type": "choice", "default": "A4", "value": "A4", "locked": False,
     "description": "Paper format of the attempt PDFs.", "choices": ["A3", "A4", "A5", "Letter", "Legal"]},
    {"key": "include_attachments", "type": "bool", "default": True, "value": True, "locked": False,
     "description": "Copy files students uploaded into the archive.", "choices": None},
]  # fmt: skip


class RecordedDaemon:
    """Answers every socket method from the fixed state above (a `DaemonConnection`)."""

    def __init__(self, *, with_courses: bool = True, operator: bool = True, store_problem: str | None = None) -> None:
        self.server_info: dict[str, Any] = {}
        self.with_courses = with_courses
        self.operator = operator
        self.store_problem = store_problem  # the job store cannot be written, and why
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._closed = asyncio.Event()

    async def connect(self) -> dict[str, Any]:
        """The hello answer."""
        self.server_info = {"protocol": 1, "server": "archived", "version": "0.1.0", "pid": 4242,
                            "peer": {"uid": 1001, "user": "mweber", "operator": self.operator}}  # fmt: skip
        return self.server_info

    async def close(self) -> None:
        """End the event stream."""
        self._closed.set()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """No events: the recorded state does not change."""
        await self._closed.wait()
        return
        yield {}  # pragma: no cover - makes this an async generator

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The recorded answer (a deep copy, so screens cannot change the state)."""
        params = params or {}
        self.calls.append((method, params))
        return copy.deepcopy(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "events.subscribe":
            return {"subscribed": True, "subscription_id": len(self.calls), "kinds": params.get("kinds"),
                    "job_ids": params.get("job_ids")}  # fmt: skip
        if method == "daemon.status":
            return {
                "version": "0.1.0", "pid": 4242, "started_at": NOW.timestamp() - 3 * 3600 - 2 * 60 - 5,
                "uptime_seconds": 10925.0, "draining": False, "running": 2,
                "jobs": {"completed": 1204, "failed": 3, "timed_out": 1, "canceled": 2, "queued": 2,
                         "activity_archiving": 1, "post_processing": 1},
                "jobs_last_24h": {"completed": 40, "failed": 1, "timed_out": 1, "canceled": 1},
                "drivers": ["quiz"], "targets": ["local", "nas-backup"],
                "moodle": {"url": "https://moodle.example.edu", "release": "4.5.2+", "reachable": True,
                           "error": None, "latency_ms": 84.2, "checked_at": _at(0.5)},
                "connections": 2,
                "store": {"path": "/var/lib/archived/jobs.sqlite", "writable": self.store_problem is None,
                          "problem": self.store_problem,
                          "since": None if self.store_problem is None else NOW.timestamp() - 95},
            }  # fmt: skip
        if method == "jobs.list":
            jobs = [job_summary(j[0]) for j in JOBS]
            if params.get("states"):
                jobs = [j for j in jobs if j["state"] in params["states"]]
            offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
            return {"jobs": jobs[offset : offset + limit], "total": len(jobs), "offset": offset}
        if method == "jobs.get":
            n = next(j[0] for j in JOBS if _id(j[0]).startswith(params["job_id"]))
            return job_get(n)
        if method == "jobs.logs":
            return job_logs(params)
        if method == "storage.status":
            targets = [t if params.get("probe", True) else
                       {k: t[k] for k in ("name", "driver", "tier", "required", "archives", "bytes")}
                       for t in STORAGE]  # fmt: skip
            return {"targets": [t for t in targets if params.get("target") in (None, t["name"])]}
        if method == "drivers.list":
            return {"activity": [{"name": "quiz", "title": "Quiz", "modname": "quiz"}]}
        if method == "settings.describe":
            return {"driver": params["driver"], "settings": SETTINGS}
        if method in ("jobs.retry", "jobs.cancel"):
            n = next(j[0] for j in JOBS if _id(j[0]) == params["job_id"])
            return {"job": {**job_summary(n), "state": "queued" if method == "jobs.retry" else "canceled"}}
        if method == "jobs.create":
            return {"job": {**job_summary(3), "id": _id(99), "cmid": params["cmid"]}, "forced": []}
        if method.startswith("courses.") and self.with_courses:
            if method == "courses.tree":
                return {"categories": CATEGORIES, "refreshed_at": _at(12)}
            if method == "courses.list":
                rows = [course(c[0]) for c in COURSES]
                if params.get("category_id"):
                    wanted = {params["category_id"]} | {c["id"] for c in CATEGORIES
                                                        if c["parent"] == params["category_id"]}  # fmt: skip
                    rows = [r for r in rows if r["category_id"] in wanted]
                if params.get("search"):
                    rows = [r for r in rows if params["search"].lower() in (r["shortname"] + r["fullname"]).lower()]
                offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
                return {"courses": rows[offset : offset + limit], "total": len(rows)}
            if method == "courses.show":
                return {"course": course(params["course_id"]), "activities": activities(params["course_id"]),
                        "refreshed_at": _at(12)}  # fmt: skip
            if method == "courses.refresh":
                return {"refreshed": True, "course_id": params.get("course_id"), "at": NOW.timestamp(),
                        "age_seconds": 0, "message": "fetched from Moodle now"}  # fmt: skip
        raise RpcError(ErrorCode.METHOD_NOT_FOUND, f"unknown method {method!r}")
