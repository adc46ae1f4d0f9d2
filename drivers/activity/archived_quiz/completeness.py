"""How a quiz job proves it missed no attempt: whom it asked Moodle about, and the statement of completeness.

Moodle lists only current enrolments, yet keeps the attempts of a student whose enrolment was removed. So every
job (and every overview refresh) records the course's enrolled users in the daemon's set of users ever seen
(`CourseUsers`), and asks Moodle about those no longer enrolled too. What such a listing could not reach (an
account deleted or suspended since) and what no listing can reach (a student who left before the daemon first
saw the course) is said in the statement, which goes to job.json, README.txt and the job log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archived.interfaces.activity import CourseUsers, IncludedUser
from archived.moodle.api import MoodleApi
from archived.moodle.errors import (
    AccessDeniedError,
    MoodleError,
    NoPermissionError,
    RecordNotFoundError,
    UnknownFunctionError,
)
from archived_quiz.moodle_records import LISTING_RUNNERS, AttemptRef, Student
from archived_quiz.runners import RunnersFailed, run_each
from archived_quiz.xml_chars import clean_line

# Moodle's answers for a user who can no longer be asked about (`core_user::require_active_user`, a deleted row).
USER_GONE_CODES = frozenset({"userdeleted", "suspended", "usernotfullysetup", "invaliduser"})


def seen_user(student: Student) -> IncludedUser:
    """A student as the set of users ever seen keeps them."""
    return IncludedUser(
        student.id, student.username or "", student.firstname or "", student.lastname or "", student.idnumber or ""
    )


def departed_student(user: IncludedUser) -> Student:
    """A user seen in the course before whom Moodle no longer lists as enrolled (names as seen last)."""
    fullname = " ".join(x for x in (user.firstname, user.lastname) if x) or user.username or str(user.id)
    return Student(user.id, user.username, user.firstname, user.lastname, fullname, user.idnumber)


async def departed_students(course_users: CourseUsers | None, course_id: int, enrolled: list[Student]) -> list[Student]:
    """Remember the enrolled students as seen now; return those seen before who are no longer enrolled."""
    if course_users is None:
        return []
    await course_users.remember(course_id, [seen_user(s) for s in enrolled])
    current = {s.id for s in enrolled}
    return [departed_student(u) for u in await course_users.known(course_id) if u.id not in current]


def _user_gone(exc: MoodleError) -> bool:
    return exc.errorcode in USER_GONE_CODES or (
        isinstance(exc, RecordNotFoundError) and not isinstance(exc, UnknownFunctionError)
    )


async def list_departed_attempts(
    api: MoodleApi, quiz_id: int, departed: list[Student]
) -> tuple[list[tuple[Student, AttemptRef]], list[tuple[Student, str]]]:
    """The real attempts of users no longer enrolled, and those Moodle would not list (with its error code)."""
    found: list[tuple[Student, AttemptRef]] = []
    unreachable: list[tuple[Student, str]] = []

    async def one(student: Student) -> None:
        try:
            answer = await api.user_attempts(quiz_id, student.id, status="all")
        except MoodleError as exc:
            if not _user_gone(exc):
                raise
            unreachable.append((student, exc.errorcode or type(exc).__name__))
            return
        found.extend((student, AttemptRef.of(a)) for a in answer.attempts if not a.preview)

    try:
        await run_each(departed, one, max(1, min(LISTING_RUNNERS, len(departed))))
    except RunnersFailed as failed:
        raise failed.errors[0] from None
    return found, sorted(unreachable, key=lambda pair: pair[0].id)


@dataclass
class Sweep:
    """What the attempt-id sweep probed and found: attempts of users the listing never asked about."""

    first: int
    last: int
    probed: int = 0
    misses: int = 0  # ids with no attempt (never used, or deleted)
    other_quizzes: int = 0
    found: list[tuple[Student, AttemptRef]] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # id, Moodle's error code
    truncated_at: int | None = None  # the last id probed when the range was larger than allowed

    def to_dict(self) -> dict[str, Any]:
        """The sweep's record in job.json."""
        return {
            "range": [self.first, self.last], "probed": self.probed, "misses": self.misses,
            "other_quizzes": self.other_quizzes, "found": [a.id for _, a in self.found],
            "unreadable": [{"attemptid": i, "error": e} for i, e in self.unreadable], "truncated_at": self.truncated_at,
        }  # fmt: skip


async def sweep_attempt_ids(api: MoodleApi, quiz_id: int, known: set[int], *, margin: int, limit: int) -> Sweep | None:
    """Probe every attempt id from the quiz's first to its last known attempt, widened by `margin` on each side (at
    most `limit` ids), with `mod_quiz_get_attempt_review(page=0)`: attempt ids are handed out site-wide in order, so
    an exam's attempts lie together, and any of this quiz among them that no listing returned belongs to a user
    never seen. None when no attempt is known (there is no range)."""
    if not known:
        return None
    sweep = Sweep(max(1, min(known) - margin), max(known) + margin)
    ids = [i for i in range(sweep.first, sweep.last + 1) if i not in known]
    if len(ids) > limit:
        ids = ids[:limit]
        sweep.truncated_at = ids[-1]
    users: dict[int, Student] = {}

    async def one(attempt_id: int) -> None:
        try:
            review = await api.attempt_review(attempt_id, page=0)
        except MoodleError as exc:
            if isinstance(exc, RecordNotFoundError) and not isinstance(exc, UnknownFunctionError):
                sweep.misses += 1
            elif isinstance(exc, (AccessDeniedError, NoPermissionError)) or exc.errorcode:
                sweep.unreadable.append((attempt_id, exc.errorcode or type(exc).__name__))
            else:
                raise
            return
        attempt = review.attempt
        if attempt.quiz != quiz_id:
            sweep.other_quizzes += 1
        elif not attempt.preview:
            student = users.get(attempt.userid) or await _student(api, attempt.userid)
            users[student.id] = student
            sweep.found.append((student, AttemptRef.of(attempt)))

    sweep.probed = len(ids)
    try:
        await run_each(ids, one, max(1, min(LISTING_RUNNERS, len(ids))))
    except RunnersFailed as failed:
        raise failed.errors[0] from None
    sweep.found.sort(key=lambda pair: pair[1].id)
    sweep.unreadable.sort()
    return sweep


async def _student(api: MoodleApi, user_id: int) -> Student:
    """A user found by the sweep, named as Moodle names them now (their id alone if Moodle will not say)."""
    found = await api.users_by_field("id", [user_id])
    if not found:
        return Student(user_id, None, None, None, f"user {user_id}", None)
    user = found[0]
    return departed_student(
        IncludedUser(user.id, clean_line(user.username or ""), clean_line(user.firstname or ""),
                     clean_line(user.lastname or ""), clean_line(user.idnumber or ""))
    )  # fmt: skip


def _who(student: Student) -> dict[str, Any]:
    return {"id": student.id, "username": student.username or "", "name": student.fullname}


@dataclass
class Completeness:
    """What one quiz job checked and found, and what it could not check."""

    listing_function: str
    tracked: bool  # whether the daemon keeps the set of users ever seen (the daemon does; bare drivers do not)
    enrolled: list[Student]
    departed: list[Student]
    unreachable: list[tuple[Student, str]]
    attempts: list[tuple[Student, AttemptRef]]  # every real attempt found, any state
    archived_states: set[str]
    sweep: Sweep | None = None
    sweep_asked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The completeness record of job.json (under `summary.completeness`), with its statement in words."""
        by_state = Counter(a.state for _, a in self.attempts)
        archived = sum(n for state, n in by_state.items() if state in self.archived_states)
        departed_with = sorted({s.id for s, _ in self.attempts} & {s.id for s in self.departed})
        not_checked = []
        if self.sweep is None:
            why = (
                "no attempt-id sweep was made" if not self.sweep_asked else "the sweep had no attempt id to start from"
            )
            not_checked.append(f"attempts of users who left the course before archived first saw it ({why})")
        else:
            if self.sweep.truncated_at is not None:
                not_checked.append(
                    f"attempt ids {self.sweep.truncated_at + 1}-{self.sweep.last} (beyond attempt_id_sweep_max)"
                )
            not_checked += [f"attempt {i}: Moodle answered {e}" for i, e in self.sweep.unreadable]
        if not self.tracked:
            not_checked.insert(0, "users no longer enrolled (no set of users ever seen is kept here)")
        not_checked += [
            f"user {s.id} ({s.username or s.fullname}): Moodle answered {code}" for s, code in self.unreachable
        ]
        return {
            "complete": not self.unreachable and (self.sweep is None or not self.sweep.unreadable),
            "listing": {"function": self.listing_function, "status": "all", "previews": "excluded"},
            "users_checked": len(self.enrolled) + len(self.departed) - len(self.unreachable),
            "users_enrolled": len(self.enrolled),
            "users_no_longer_enrolled": [_who(s) for s in self.departed],
            "users_no_longer_enrolled_with_attempts": departed_with,
            "attempts_found": len(self.attempts),
            "attempts_by_state": dict(sorted(by_state.items())),
            "attempts_archived": archived,
            "attempt_states_archived": sorted(self.archived_states),
            "attempt_id_sweep": self.sweep.to_dict() if self.sweep is not None else None,
            "not_checked": not_checked,
            "statement": self.statement(by_state, archived, len(departed_with), not_checked),
        }

    def statement(self, by_state: Counter[str], archived: int, departed_with: int, not_checked: list[str]) -> list[str]:
        """The completeness in plain words (README.txt, the job log)."""
        states = ", ".join(f"{n} {state}" for state, n in sorted(by_state.items())) or "none"
        lines = [
            f"Users checked: {len(self.enrolled)} enrolled and {len(self.departed)} no longer enrolled but seen "
            f"in the course before ({departed_with} of them with attempts); every attempt of each listed with "
            f"{self.listing_function} (status all, previews excluded).",
            f"Attempts found: {len(self.attempts)} ({states}); archived: {archived} (states "
            f"{', '.join(sorted(self.archived_states))}).",
            self._sweep_line(),
        ]
        lines += [f"Not checked: {item}." for item in not_checked]
        return lines

    def _sweep_line(self) -> str:
        sweep = self.sweep
        if sweep is None:
            return "Attempt ids swept: none (the attempt-id sweep was not made)."
        found = ", ".join(str(a.id) for _, a in sweep.found) or "none"
        return (
            f"Attempt ids swept: {sweep.first}-{sweep.last} with mod_quiz_get_attempt_review ({sweep.probed} ids "
            f"probed beside the attempts listed: {sweep.misses} without an attempt, {sweep.other_quizzes} of other "
            f"quizzes, {len(sweep.unreadable)} unreadable); attempts found only by the sweep: {found}."
        )
