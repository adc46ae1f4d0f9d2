"""What the archive keeps of one attempt: a row of attempts.csv, and the checkpoint item a resumed run trusts.

The checkpoint item is the record's JSON form (`to_item`), keyed by the attempt id; its keys and values are those
of the dict earlier versions stored, so a job resumes across an upgrade. attempts.csv holds the columns of
`CSV_COLUMNS` in that order (missing grades are empty cells).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archived.durable import write_atomic

CSV_COLUMNS = (
    "attemptid", "attempt", "userid", "username", "firstname", "lastname", "idnumber", "state",
    "timestart", "timefinish", "sumgrades", "grade", "path", "sha256",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One archived attempt: who, which attempt, its grades, and every file it put in the payload (with SHA-256)."""

    attemptid: int
    attempt: int
    userid: int
    username: str
    firstname: str
    lastname: str
    idnumber: str
    state: str
    timestart: int
    timefinish: int
    sumgrades: float | None
    grade: float | None
    path: str  # the report PDF, relative to the payload folder
    sha256: str  # of the report PDF
    size: int  # of the report PDF
    files: dict[str, str] = field(default_factory=dict)  # attachments and the HTML copy: relative path → SHA-256

    def to_item(self) -> dict[str, Any]:
        """The JSON form stored as a checkpoint item (a missing grade is "", as attempts.csv shows it)."""
        return {
            "attemptid": self.attemptid,
            "attempt": self.attempt,
            "userid": self.userid,
            "username": self.username,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "idnumber": self.idnumber,
            "state": self.state,
            "timestart": self.timestart,
            "timefinish": self.timefinish,
            "sumgrades": "" if self.sumgrades is None else self.sumgrades,
            "grade": "" if self.grade is None else self.grade,
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "files": dict(self.files),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> AttemptRecord | None:
        """A record from its checkpoint item; None when the item is not one (the attempt is then archived again)."""
        try:
            files = item["files"]
            if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in
                                                      files.items()):  # fmt: skip
                return None
            return cls(
                attemptid=int(item["attemptid"]),
                attempt=int(item["attempt"]),
                userid=int(item["userid"]),
                username=str(item["username"]),
                firstname=str(item["firstname"]),
                lastname=str(item["lastname"]),
                idnumber=str(item["idnumber"]),
                state=str(item["state"]),
                timestart=int(item["timestart"]),
                timefinish=int(item["timefinish"]),
                sumgrades=_grade(item["sumgrades"]),
                grade=_grade(item["grade"]),
                path=str(item["path"]),
                sha256=str(item["sha256"]),
                size=int(item["size"]),
                files=dict(files),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def csv_row(self) -> dict[str, object]:
        """The attempts.csv row (every column of `CSV_COLUMNS`)."""
        item = self.to_item()
        return {column: item[column] for column in CSV_COLUMNS}


def _grade(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a grade: {value!r}")
    return value  # as stored: attempts.csv prints it as earlier versions did


def attempts_csv(records: Iterable[AttemptRecord]) -> bytes:
    """attempts.csv for `records`, in the order given (UTF-8, `\\n` line ends, a header row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(record.csv_row() for record in records)
    return out.getvalue().encode("utf-8")


def write_attempts_csv(path: Path, records: Iterable[AttemptRecord]) -> None:
    """Write attempts.csv atomically."""
    write_atomic(path, attempts_csv(records))
