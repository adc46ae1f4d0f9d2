"""Who is inside an assignment archive, and which of its files are one person's: the people of `data/job.json`,
the rows of `data/submissions.csv` (one per participant, unreachable users included) and the participant folders
`data/submissions/<userid>-<username>/`, each of which is that person's whole (a team submission's files are in
every member's folder), and the entries naming a user id in the answers of Moodle's optional functions
(`data/moodle/<function>.json`: extensions, blind-marking numbers, the gradebook). Only call this on an archive that
`verify_archive` passed (see `people_files`).
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from archived.archive.people_files import (
    MAX_ATTEMPTS_CSV,
    MAX_JOB_JSON,
    ArchiveContents,
    ArchivePerson,
    UnreadableContents,
    read_contents,
)

SUBMISSIONS_CSV = "data/submissions.csv"
SUBMISSIONS = "data/submissions/"
MOODLE_ANSWERS = "data/moodle/"


@dataclass
class AssignmentContents(ArchiveContents):
    """What an assignment archive says about the people in it."""

    submission_columns: list[str] = field(default_factory=list)
    submission_rows: list[dict[str, str]] = field(default_factory=list)
    moodle_answers: dict[str, Any] = field(default_factory=dict)  # "data/moodle/<function>.json" -> its JSON

    def people(self) -> list[ArchivePerson]:
        """Everyone the archive holds data of: job.json's users, submissions.csv's rows and the owners of the
        participant folders, with the attempts submissions.csv counts."""
        found = {person.userid: person for person in super().people()}
        for row in self.submission_rows:
            userid = _userid(row.get("userid"))
            if userid is None:
                continue
            known = found.get(userid)
            attempts = _userid(row.get("attempts")) or 0
            found[userid] = ArchivePerson(
                userid,
                known.username if known and known.username else row.get("username") or "",
                known.idnumber if known and known.idnumber else row.get("idnumber") or "",
                known.firstname if known and known.firstname else row.get("firstname") or "",
                known.lastname if known and known.lastname else row.get("lastname") or "",
                (known.attempts if known else 0) + attempts,
            )
        for path in self.payload:
            userid = _folder_owner(path)
            if userid is not None and userid not in found:  # a file of theirs, whatever the tables say
                found[userid] = ArchivePerson(userid)
        for answer in self.moodle_answers.values():
            for entry in _entries(answer):
                userid = entry["userid"]
                if userid not in found:  # the gradebook answer covers the whole course
                    found[userid] = ArchivePerson(userid, idnumber=str(entry.get("useridnumber") or ""))
        return [found[userid] for userid in sorted(found)]

    def submission_rows_of(self, userid: int) -> list[dict[str, str]]:
        """submissions.csv rows of one person."""
        return [row for row in self.submission_rows if _userid(row.get("userid")) == userid]

    def files_of(self, userid: int) -> list[str]:
        """The payload files ("data/…") of one person: everything in their participant folder(s)."""
        folders = {
            f"data/{posixpath.dirname(row.get('path') or '')}/"
            for row in self.submission_rows_of(userid)
            if posixpath.dirname(row.get("path") or "").startswith("submissions/")
        }
        return sorted(path for path in self.payload if _folder_owner(path) == userid or path.startswith(tuple(folders)))

    def moodle_answers_of(self, userid: int) -> dict[str, bytes]:
        """The optional functions' answers that name this person, each with only their entries (by payload path)."""
        kept = {}
        for path, answer in sorted(self.moodle_answers.items()):
            if any(entry["userid"] == userid for entry in _entries(answer)):
                only = _only(answer, userid)
                kept[path] = (json.dumps(only, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        return kept

    def team_of(self, userid: int) -> str:
        """The group id of a team submission the person is a member of ("" when theirs is their own)."""
        groups = {row.get("groupid") or "" for row in self.submission_rows_of(userid)} - {"", "0"}
        return ", ".join(sorted(groups))

    def submissions_csv_of(self, userid: int) -> bytes:
        """submissions.csv with the header and one person's rows only."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.submission_columns, lineterminator="\r\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.submission_rows_of(userid))
        return out.getvalue().encode("utf-8")


def _entries(answer: Any) -> list[dict[str, Any]]:
    """Every object in a Moodle answer that carries an integer `userid`."""
    found: list[dict[str, Any]] = []
    if isinstance(answer, dict):
        if isinstance(answer.get("userid"), int) and not isinstance(answer.get("userid"), bool):
            found.append(answer)
        for value in answer.values():
            found.extend(_entries(value))
    elif isinstance(answer, list):
        for value in answer:
            found.extend(_entries(value))
    return found


def _only(answer: Any, userid: int) -> Any:
    """A Moodle answer without the objects of other users (lists drop them, the rest is kept as it is)."""
    if isinstance(answer, list):
        return [
            _only(value, userid)
            for value in answer
            if not (isinstance(value, dict) and isinstance(value.get("userid"), int) and value["userid"] != userid)
        ]
    if isinstance(answer, dict):
        return {key: _only(value, userid) for key, value in answer.items()}
    return answer


def _userid(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _folder_owner(path: str) -> int | None:
    """The user id a payload path's participant folder names (`data/submissions/<userid>-<username>/…`)."""
    if not path.startswith(SUBMISSIONS):
        return None
    folder, sep, _ = path.removeprefix(SUBMISSIONS).partition("/")
    return _userid(folder.partition("-")[0]) if sep else None


def read_people_contents(path: Path) -> ArchiveContents:
    """What `read_contents` reads, and for an assignment archive (one with submissions.csv) its submissions too."""
    contents = read_contents(path)
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(f"{contents.bag}/{SUBMISSIONS_CSV}")
        except KeyError:
            return contents
        if info.file_size > MAX_ATTEMPTS_CSV:
            raise UnreadableContents(f"{SUBMISSIONS_CSV} is {info.file_size} bytes, more than the "
                                     f"{MAX_ATTEMPTS_CSV} that are read")  # fmt: skip
        raw = archive.read(info)
        answers: dict[str, Any] = {}
        for name in (p for p in contents.payload if p.startswith(MOODLE_ANSWERS) and p.endswith(".json")):
            try:
                member = archive.getinfo(f"{contents.bag}/{name}")
            except KeyError:
                raise UnreadableContents(f"{name} is in the manifest but not in the archive") from None
            if member.file_size > MAX_JOB_JSON:
                raise UnreadableContents(f"{name} is {member.file_size} bytes, more than the {MAX_JOB_JSON} that are "
                                         "read")  # fmt: skip
            try:
                answers[name] = json.loads(archive.read(member))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UnreadableContents(f"{name} is not JSON: {exc}") from None
    assignment = AssignmentContents(**{f.name: getattr(contents, f.name) for f in fields(ArchiveContents)})
    assignment.moodle_answers = answers
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
        assignment.submission_columns = list(reader.fieldnames or [])
        assignment.submission_rows = [dict(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableContents(f"{SUBMISSIONS_CSV} is not a CSV file: {exc}") from None
    return assignment
