"""What a quiz job keeps of Moodle's records: students, attempts from the listing, names made safe; the listing.

Everything here is read from the typed Moodle API (`archived.moodle.api.MoodleApi`). Names from Moodle reach the
report, the PDF metadata, attempts.csv, job.json, bag-info.txt and file names: characters none of those can carry
are replaced once, here (`xml_chars`), and the fields that changed are named for the job log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from archived.moodle.api import MoodleApi
from archived.moodle.models import EnrolledUser, Quiz, QuizAttempt
from archived_quiz.runners import RunnersFailed, run_each
from archived_quiz.xml_chars import clean_line, cleaning_note

M = TypeVar("M", bound=BaseModel)

# The user fields a quiz job uses (Moodle always adds id and fullname): a tenth of a full user record to send,
# parse and validate. One request, not pages: Moodle drops users the token may not see after applying the page
# limit (short pages), and enrolments changing between pages would skip or repeat students.
USER_FIELDS = ("id", "username", "firstname", "lastname", "fullname", "idnumber", "groups")
# Moodle lists attempts user by user: this many requests at a time.
LISTING_RUNNERS = 4


@dataclass(frozen=True, slots=True)
class Group:
    """A course group a student is in (what file name patterns use)."""

    id: int
    name: str
    idnumber: str = ""


@dataclass(frozen=True, slots=True)
class Student:
    """What a quiz job keeps of an enrolled user for its whole run.

    A job holds every student of the course until it ends; the web service's user record (about 9 KiB each
    as a model, 6 KiB with only the fields asked for) would make a course of 10,000 students cost the daemon
    ~90 MiB. This is a few hundred bytes. Every text is safe for XML, UTF-8 and CSV (`xml_chars`); `cleaned`
    names the fields that Moodle sent with characters that had to be replaced.
    """

    id: int
    username: str | None
    firstname: str | None
    lastname: str | None
    fullname: str
    idnumber: str | None
    groups: tuple[Group, ...] = ()
    cleaned: tuple[str, ...] = ()

    @classmethod
    def of(cls, user: EnrolledUser) -> Student:
        """From a `core_enrol_get_enrolled_users` entry."""
        cleaned: list[str] = []

        def safe(field: str, value: str | None) -> str | None:
            if value is None:
                return None
            clean = clean_line(value)
            if clean != value:
                cleaned.append(field)
            return clean

        # In this order: the job log names the cleaned fields as the record lists them.
        username = safe("username", user.username)
        firstname = safe("firstname", user.firstname)
        lastname = safe("lastname", user.lastname)
        fullname = safe("fullname", user.fullname) or ""
        idnumber = safe("idnumber", user.idnumber)
        # Moodle's enrolled-user groups carry no idnumber: ${groupidnumbers} stays empty.
        groups = tuple(Group(g.id, safe(f"group {g.id} name", g.name) or "") for g in user.groups)
        return cls(user.id, username, firstname, lastname, fullname, idnumber, groups, tuple(cleaned))


@dataclass(frozen=True, slots=True)
class AttemptRef:
    """What a quiz job keeps of an attempt from the listing (the review is fetched when it is rendered)."""

    id: int
    attempt: int
    state: str
    timestart: int
    timefinish: int
    timemodified: int | None

    @classmethod
    def of(cls, attempt: QuizAttempt) -> AttemptRef:
        """From a `mod_quiz_get_user_attempts` entry."""
        return cls(
            attempt.id, attempt.attempt, str(attempt.state), attempt.timestart or 0, attempt.timefinish or 0,
            attempt.timemodified,
        )  # fmt: skip


def cleaned_model(model: M, where: str, fields: tuple[str, ...], notes: list[str]) -> M:
    """A Moodle record (course, quiz, site) with its text `fields` made safe (`xml_chars`); a note if any changed."""
    changes = {}
    for name in fields:
        value = getattr(model, name, None)
        if isinstance(value, str) and clean_line(value) != value:
            changes[name] = clean_line(value)
    if not changes:
        return model
    notes.append(cleaning_note(where, changes))
    return model.model_copy(update=changes)


async def enrolled_students(api: MoodleApi, course_id: int) -> list[Student]:
    """Every user enrolled in the course, as `Student` records."""
    return [Student.of(user) for user in await api.enrolled_users(course_id, userfields=USER_FIELDS)]


async def list_attempts(api: MoodleApi, quiz_id: int, students: list[Student]) -> list[tuple[Student, AttemptRef]]:
    """Every real attempt (no previews) of the quiz by the given students, by attempt id.

    A failing call raises that error itself (the engine classifies it), not a task group around it.
    """
    found: list[tuple[Student, AttemptRef]] = []

    async def one(student: Student) -> None:
        answer = await api.user_attempts(quiz_id, student.id, status="all")
        found.extend((student, AttemptRef.of(a)) for a in answer.attempts if not a.preview)

    try:
        await run_each(students, one, min(LISTING_RUNNERS, len(students)))
    except RunnersFailed as failed:
        raise failed.errors[0] from None
    return sorted(found, key=lambda pair: pair[1].id)


def quiz_last_modified(quiz: Quiz, attempts: list[tuple[Student, AttemptRef]]) -> int:
    """Unix time of the quiz's last change: its own or its newest real attempt's, whichever is later."""
    newest = max((a.timemodified or a.timefinish or a.timestart or 0 for _, a in attempts), default=0)
    return max(quiz.timemodified or 0, newest)


def quiz_fingerprint(quiz: Quiz, attempts: list[tuple[Student, AttemptRef]]) -> str:
    """SHA-256 over the quiz's and its newest real attempt's modification times (the anchor's formula)."""
    newest = max((a.timemodified or a.timefinish or a.timestart or 0 for _, a in attempts), default=0)
    return hashlib.sha256(f"quiz:{quiz.id}:{quiz.timemodified or 0}:{newest}".encode()).hexdigest()
