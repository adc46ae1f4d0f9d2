"""What the archive keeps of one participant: a row of submissions.csv, and the checkpoint item a resumed run trusts.

`submissions.csv` holds the columns of `CSV_COLUMNS` in that order: one row per participant with a submission, a
grade or feedback (and one per unreachable user, with `reachable` = no).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archived.durable import write_atomic

CSV_COLUMNS = (
    "userid", "username", "firstname", "lastname", "idnumber", "enrolled", "reachable", "groupid", "status",
    "attempts", "timemodified", "grade", "gradefordisplay", "grader", "timegraded", "path", "sha256",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParticipantRecord:
    """One archived participant: who, their latest status and grade, and every file put in the payload."""

    userid: int
    username: str
    firstname: str
    lastname: str
    idnumber: str
    enrolled: bool
    reachable: bool
    groupid: int
    status: str  # of the latest attempt: new, draft, submitted, reopened ("" when there is none)
    attempts: int
    timemodified: int
    grade: str  # Moodle's raw decimal ("" when not graded)
    gradefordisplay: str  # as the gradebook shows it (points or scale item; on 5.0 after a penalty)
    grader: int | None
    timegraded: int
    path: str  # the participant's PDF/A, relative to the payload folder ("" when unreachable)
    sha256: str
    files: dict[str, str] = field(default_factory=dict)  # submitted and feedback files: relative path → SHA-256

    def to_item(self) -> dict[str, Any]:
        """The JSON form stored as a checkpoint item."""
        return asdict(self)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ParticipantRecord | None:
        """A record from its checkpoint item; None when the item is not one (an older or damaged record)."""
        try:
            return cls(**item)
        except TypeError:
            return None


def write_submissions_csv(path: Path, records: Iterable[ParticipantRecord]) -> None:
    """submissions.csv, one row per record in the given order (UTF-8, RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = record.to_item()
        row["enrolled"] = "yes" if record.enrolled else "no"
        row["reachable"] = "yes" if record.reachable else "no"
        writer.writerow(["" if row[column] is None else row[column] for column in CSV_COLUMNS])
    write_atomic(path, buffer.getvalue().encode("utf-8"))
