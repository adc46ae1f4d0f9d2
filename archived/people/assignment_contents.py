"""Who is inside an assignment archive, and which of its files are one person's: the people of `data/job.json`,
the rows of `data/submissions.csv` (one per participant, unreachable users included) and the participant folders
`data/submissions/<userid>-<username>/`, each of which is that person's whole (a team submission's files are in
every member's folder). Only call this on an archive that `verify_archive` passed (see `people_files`).
"""

from __future__ import annotations

import csv
import io
import posixpath
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

from archived.archive.people_files import (
    MAX_ATTEMPTS_CSV,
    ArchiveContents,
    ArchivePerson,
    UnreadableContents,
    read_contents,
)

SUBMISSIONS_CSV = "data/submissions.csv"
SUBMISSIONS = "data/submissions/"


@dataclass
class AssignmentContents(ArchiveContents):
    """What an assignment archive says about the people in it."""

    submission_columns: list[str] = field(default_factory=list)
    submission_rows: list[dict[str, str]] = field(default_factory=list)

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
    assignment = AssignmentContents(**{f.name: getattr(contents, f.name) for f in fields(ArchiveContents)})
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
        assignment.submission_columns = list(reader.fieldnames or [])
        assignment.submission_rows = [dict(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableContents(f"{SUBMISSIONS_CSV} is not a CSV file: {exc}") from None
    return assignment
