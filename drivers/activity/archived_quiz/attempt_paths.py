"""Where each attempt's files go in the payload, decided for all attempts before any is fetched.

Decided in attempt-id order, so that a resumed run puts every file where the first run did: a folder or file
name that several attempts share is made unique (`_<attemptid>`), and attachments of attempts sharing a folder go
under `attachments/<attemptid>/<slot>/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archived.archive.names import SEGMENT_MAX_BYTES, render_name, render_path, time_variables
from archived.moodle.models import Course, Quiz
from archived_quiz.moodle_records import AttemptRef, Student


@dataclass(frozen=True)
class AttemptPaths:
    """Where one attempt's files go, relative to the payload folder (`attempts/…`)."""

    folder: str  # attempts/<folder pattern>
    stem: str  # attempts/<folder>/<file pattern>, without .pdf/.html
    attachments: str  # attempts/<folder>/attachments, or …/attachments/<attemptid> in a shared folder

    @property
    def pdf(self) -> str:
        """The report's path."""
        return f"{self.stem}.pdf"

    @property
    def html(self) -> str:
        """The optional HTML copy's path."""
        return f"{self.stem}.html"


def plan_paths(folders: dict[int, str], names: dict[int, str]) -> dict[int, AttemptPaths]:
    """Unique paths for attempts given their rendered folder and file names (keys: attempt ids).

    Decided in attempt-id order so that every run of a job gets the same answer. Names are compared
    case-insensitively: an archive is unpacked on case-insensitive file systems too.
    """
    sharing: dict[str, int] = {}
    for attempt_id in sorted(folders):
        key = folders[attempt_id].casefold()
        sharing[key] = sharing.get(key, 0) + 1
    used: set[str] = set()
    plans: dict[int, AttemptPaths] = {}
    for attempt_id in sorted(folders):
        folder = f"attempts/{folders[attempt_id]}"
        name = names[attempt_id]
        number = 1
        # A file pattern without ${attemptid}: attempts must not overwrite each other's reports. The suffixed
        # name may be another attempt's natural name too ("report_7"), hence the loop.
        while f"{folder}/{name}".casefold() in used:
            suffix = f"_{attempt_id}" + (f"-{number}" if number > 1 else "")
            name = names[attempt_id][: SEGMENT_MAX_BYTES - len(suffix)] + suffix
            number += 1
        stem = f"{folder}/{name}"
        used.add(stem.casefold())
        attachments = f"{folder}/attachments"
        if sharing[folders[attempt_id].casefold()] > 1:
            # Two attempts in one folder both have a slot 11 and may both have uploaded "scan.pdf".
            attachments = f"{attachments}/{attempt_id}"
        plans[attempt_id] = AttemptPaths(folder, stem, attachments)
    return plans


def unique_file_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2.ext`, `name-3.ext`, … if a file of that name (case-insensitively) is in `taken`."""
    if name.casefold() not in taken:
        return name
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    number = 2
    while True:
        suffix = f"-{number}{dot}{extension}"
        candidate = stem[: SEGMENT_MAX_BYTES - len(suffix.encode())] + suffix
        if candidate.casefold() not in taken:
            return candidate
        number += 1


def attempt_variables(
    course: Course, quiz: Quiz, cmid: int, created_at: datetime, student: Student, attempt: AttemptRef
) -> dict[str, object]:
    """The `${…}` values of the folder and file patterns for one attempt."""
    groups = student.groups
    return {
        "courseid": course.id,
        "coursename": course.fullname,
        "courseshortname": course.shortname,
        "cmid": cmid,
        "groupids": "-".join(str(g.id) for g in groups),
        "groupidnumbers": "-".join(g.idnumber for g in groups if g.idnumber),
        "groupnames": "-".join(g.name for g in groups),
        "quizid": quiz.id,
        "quizname": quiz.name,
        "attemptid": attempt.id,
        "username": student.username or f"user{student.id}",
        "firstname": student.firstname or "",
        "lastname": student.lastname or "",
        "idnumber": student.idnumber or "",
        "timestart": attempt.timestart or 0,
        "timefinish": attempt.timefinish or 0,
        **time_variables(created_at),
    }


def plan_attempt_paths(
    course: Course,
    quiz: Quiz,
    cmid: int,
    created_at: datetime,
    patterns: tuple[str, str],
    attempts: list[tuple[Student, AttemptRef]],
) -> dict[int, AttemptPaths]:
    """Every attempt's paths from the (folder, file) name patterns, by attempt id."""
    folder_pattern, file_pattern = patterns
    folders: dict[int, str] = {}
    names: dict[int, str] = {}
    for student, attempt in attempts:
        variables = attempt_variables(course, quiz, cmid, created_at, student, attempt)
        folders[attempt.id] = render_path(folder_pattern, variables)
        names[attempt.id] = render_name(file_pattern, variables)
    return plan_paths(folders, names)
