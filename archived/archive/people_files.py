"""Who is inside an archive, and which of its files are one person's: read from `data/job.json` (the users the
job included) and `data/attempts.csv` (one row per attempt, with the path of its report).

Only call this on an archive that `verify_archive` passed: the names are then safe and every file matches its
manifest; what is read into memory is still bounded. One person's files are their attempts' report PDFs, the HTML
copies beside them and their attachments: an attempt folder that no other attempt shares belongs to that attempt
whole; in a shared folder (a folder pattern without `${attemptid}`) the attachments of attempt N lie under
`attachments/N/` (`archived_quiz.attempt_paths`).
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archived.archive.bag import decode_manifest_path

MAX_JOB_JSON = 64 * 1024 * 1024
MAX_ATTEMPTS_CSV = 256 * 1024 * 1024
MAX_MANIFEST = 64 * 1024 * 1024
JOB_JSON = "data/job.json"
ATTEMPTS_CSV = "data/attempts.csv"
PERSON_COLUMNS = ("userid", "username", "idnumber", "firstname", "lastname")


class UnreadableContents(ValueError):
    """job.json or attempts.csv is not what archived writes (the message names the file and what is wrong)."""


@dataclass(frozen=True)
class ArchivePerson:
    """One person in an archive, with how many attempt rows of theirs attempts.csv holds."""

    userid: int
    username: str = ""
    idnumber: str = ""
    firstname: str = ""
    lastname: str = ""
    attempts: int = 0


@dataclass
class ArchiveContents:
    """What an archive says about the people in it."""

    bag: str
    site: str
    job: dict[str, Any]  # job.json without its list of users
    users: list[dict[str, Any]]
    csv_columns: list[str] = field(default_factory=list)
    csv_rows: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, str] = field(default_factory=dict)  # "data/…" path -> SHA-256 (manifest-sha256.txt)

    def people(self) -> list[ArchivePerson]:
        """Everyone the archive holds data of (job.json's users and attempts.csv's rows), by user id."""
        found: dict[int, dict[str, Any]] = {}
        for user in self.users:
            userid = _int(user.get("id"))
            if userid is not None:
                found.setdefault(userid, {"attempts": 0}).update(
                    {key: str(user.get(key) or "") for key in ("username", "idnumber", "firstname", "lastname")}
                )
        for row in self.csv_rows:
            userid = _int(row.get("userid"))
            if userid is None:
                continue
            person = found.setdefault(userid, {"attempts": 0})
            person["attempts"] += 1
            for key in ("username", "idnumber", "firstname", "lastname"):
                person.setdefault(key, row.get(key) or "")
        return [
            ArchivePerson(
                userid,
                values.get("username", ""),
                values.get("idnumber", ""),
                values.get("firstname", ""),
                values.get("lastname", ""),
                values["attempts"],
            )
            for userid, values in sorted(found.items())
        ]

    def rows_of(self, userid: int) -> list[dict[str, str]]:
        """attempts.csv rows of one person."""
        return [row for row in self.csv_rows if _int(row.get("userid")) == userid]

    def user_of(self, userid: int) -> dict[str, Any] | None:
        """job.json's entry of one person."""
        return next((user for user in self.users if _int(user.get("id")) == userid), None)

    def files_of(self, userid: int) -> list[str]:
        """The payload files ("data/…") that hold one person's attempts: reports, HTML copies, attachments."""
        folders: dict[str, int] = {}
        for row in self.csv_rows:
            folder = posixpath.dirname(row.get("path") or "").casefold()
            folders[folder] = folders.get(folder, 0) + 1
        wanted: set[str] = set()
        for row in self.rows_of(userid):
            report = row.get("path") or ""
            if not report:
                continue
            folder = posixpath.dirname(report)
            stem = report[: -len(".pdf")] if report.endswith(".pdf") else report
            if folders.get(folder.casefold(), 0) == 1 and folder:
                prefixes = [f"data/{folder}/"]
            else:
                prefixes = [f"data/{folder}/attachments/{row.get('attemptid', '')}/"]
                wanted.update(f"data/{name}" for name in (report, f"{stem}.html"))
            wanted.update(path for path in self.payload if path.startswith(tuple(prefixes)))
        return sorted(path for path in wanted if path in self.payload)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise UnreadableContents(f"{name} is {info.file_size} bytes, more than the {limit} that are read")
    return archive.read(info)


def read_contents(path: Path) -> ArchiveContents:
    """Read job.json, attempts.csv and the payload manifest of a verified archive ZIP (blocking)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        bag = names[0].split("/", 1)[0] if names else ""
        raw_job = _read(archive, f"{bag}/{JOB_JSON}", MAX_JOB_JSON)
        raw_csv = _read(archive, f"{bag}/{ATTEMPTS_CSV}", MAX_ATTEMPTS_CSV)
        manifest = _read(archive, f"{bag}/manifest-sha256.txt", MAX_MANIFEST) or b""
    job: dict[str, Any] = {}
    if raw_job is not None:
        try:
            loaded = json.loads(raw_job)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UnreadableContents(f"{JOB_JSON} is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise UnreadableContents(f"{JOB_JSON} is not a JSON object")
        job = loaded
    users = job.pop("users", [])
    if not isinstance(users, list) or not all(isinstance(user, dict) for user in users):
        raise UnreadableContents(f"{JOB_JSON}: users is not a list of objects")
    moodle = job.get("moodle")
    site = str(moodle.get("site") or "") if isinstance(moodle, dict) else ""
    contents = ArchiveContents(bag=bag, site=site, job=job, users=users, payload=dict(_manifest_entries(manifest)))
    if raw_csv is not None:
        try:
            reader = csv.DictReader(io.StringIO(raw_csv.decode("utf-8")))
            contents.csv_columns = list(reader.fieldnames or [])
            contents.csv_rows = [dict(row) for row in reader]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableContents(f"{ATTEMPTS_CSV} is not a CSV file: {exc}") from None
    return contents


def _manifest_entries(content: bytes) -> Iterator[tuple[str, str]]:
    for line in content.decode("utf-8", "replace").split("\n"):
        digest, sep, rest = line.removesuffix("\r").partition(" ")
        if sep:
            yield decode_manifest_path(rest.lstrip(" ").removeprefix("*")), digest.lower()


def attempts_csv_of(contents: ArchiveContents, userid: int) -> bytes:
    """attempts.csv with the header and one person's rows only."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=contents.csv_columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(contents.rows_of(userid))
    return out.getvalue().encode("utf-8")
