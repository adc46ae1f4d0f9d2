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
from archived.moodle.errors import MoodleError, RecordNotFoundError, UnknownFunctionError
from archived_quiz.moodle_records import LISTING_RUNNERS, AttemptRef, Student
from archived_quiz.runners import RunnersFailed, run_each

# Moodle's answers for a user who can no longer be asked about (`core_user::require_active_user`, a deleted row).
USER_GONE_CODES = frozenset({"userdeleted", "suspended", "usernotfullysetup", "invaliduser"})


def included(student: Student) -> IncludedUser:
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
    await course_users.remember(course_id, [included(s) for s in enrolled])
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
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The completeness record of job.json (under `summary.completeness`), with its statement in words."""
        by_state = Counter(a.state for _, a in self.attempts)
        archived = sum(n for state, n in by_state.items() if state in self.archived_states)
        departed_with = sorted({s.id for s, _ in self.attempts} & {s.id for s in self.departed})
        not_checked = [
            "attempts of users who left the course before archived first saw it (no attempt-id sweep was made)"
        ]
        if not self.tracked:
            not_checked.insert(0, "users no longer enrolled (no set of users ever seen is kept here)")
        not_checked += [
            f"user {s.id} ({s.username or s.fullname}): Moodle answered {code}" for s, code in self.unreachable
        ]
        return {
            "complete": not self.unreachable,
            "listing": {"function": self.listing_function, "status": "all", "previews": "excluded"},
            "users_checked": len(self.enrolled) + len(self.departed) - len(self.unreachable),
            "users_enrolled": len(self.enrolled),
            "users_no_longer_enrolled": [_who(s) for s in self.departed],
            "users_no_longer_enrolled_with_attempts": departed_with,
            "attempts_found": len(self.attempts),
            "attempts_by_state": dict(sorted(by_state.items())),
            "attempts_archived": archived,
            "attempt_states_archived": sorted(self.archived_states),
            "attempt_id_sweep": None,
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
            "Attempt ids swept: none (the attempt-id sweep was not made).",
        ]
        lines += [f"Not checked: {item}." for item in not_checked]
        return lines
