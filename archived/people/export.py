"""One person's data out of verified archives, into one ZIP: from a quiz archive their attempt reports and
attachments and their rows of attempts.csv; from an assignment archive their participant folder (everything in it),
their row of submissions.csv and their entries of the optional functions' answers (`data/moodle/`); from each their
entry of job.json with the job's facts; and `manifest.json` saying where every file came from (archive, target,
location, the archive's SHA-256, the file's SHA-256 as its manifest lists it).

Every file is checked against the manifest of the archive it comes from while it is copied (the archive as a whole
was verified before), and so are the job.json and tables the rows and entries are taken from; a file that does not
match stops the export of that archive.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archived.archive.people_files import ATTEMPTS_CSV, JOB_JSON, ArchiveContents, attempts_csv_of
from archived.people.assignment_contents import SUBMISSIONS_CSV, AssignmentContents
from archived.people.job_entry import job_entry

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"


class ExportMismatch(ValueError):
    """A file of a verified archive does not match its manifest (the message names it); nothing of it is exported."""


class ExportChanged(OSError):
    """A file changed between its check and its copy: the export as a whole is abandoned."""


@dataclass(frozen=True)
class ExportSource:
    """A verified copy of one archive holding the person's data, and where it came from."""

    path: Path
    contents: ArchiveContents
    job_id: str
    archive: str
    target: str
    location: str
    sha256: str
    checks: Sequence[str] = ()


@dataclass
class ExportedArchive:
    """What the export took from one archive."""

    job_id: str
    archive: str
    target: str
    location: str
    sha256: str
    files: list[dict[str, str]] = field(default_factory=list)  # {"path", "from", "sha256"}
    notes: list[str] = field(default_factory=list)  # what a reader must know about these files (a team's files)


@dataclass(frozen=True)
class Unexported:
    """An archive holding the person's data that is not in the export, and why."""

    job_id: str
    archive: str
    reason: str


def folder_of(archive: str) -> str:
    """The export's folder for one archive: its file name without `.zip`."""
    return archive[: -len(".zip")] if archive.lower().endswith(".zip") else archive


def write_export(
    dest: Path,
    *,
    person: dict[str, Any],
    sources: Sequence[ExportSource],
    refused: Sequence[Unexported],
    requested_by: str,
) -> tuple[list[ExportedArchive], list[Unexported]]:
    """Write the export ZIP to `dest` (a new file; blocking); archives whose files do not check out join `refused`
    in the manifest and are left out whole. Returns what was exported and what was not."""
    userid = int(person["userid"])
    exported: list[ExportedArchive] = []
    left_out = list(refused)
    with zipfile.ZipFile(dest, "x", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as out:
        folders: set[str] = set()
        for source in sources:
            folder = folder_of(source.archive)
            if folder in folders:  # two jobs' archives of one name (made in the same second)
                folder = f"{folder}-job-{source.job_id}"
            folders.add(folder)
            try:
                exported.append(_export_one(out, source, userid, folder))
            except ExportMismatch as exc:
                left_out.append(Unexported(source.job_id, source.archive, str(exc)))
        manifest = {
            "format": "archived-person-export/1",
            "person": person,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "requested_by": requested_by,
            "archives": [vars(a) for a in exported],
            "not_exported": [vars(u) for u in left_out],
        }
        out.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return exported, left_out


def _export_one(out: zipfile.ZipFile, source: ExportSource, userid: int, folder: str) -> ExportedArchive:
    contents = source.contents
    done = ExportedArchive(source.job_id, source.archive, source.target, source.location, source.sha256)
    staged: list[tuple[str, bytes | None, str, str]] = []  # (name in export, bytes or None to stream, from, sha256)
    with zipfile.ZipFile(source.path) as archive:
        for path in contents.files_of(userid):
            expected = _checked(archive, source, path)
            staged.append((f"{folder}/{path}", None, path, expected))
        table, rows = _rows_of(contents, userid)
        if table in contents.payload:  # the rows and the entry come from files that match the manifest
            _checked(archive, source, table)
        if JOB_JSON in contents.payload:
            _checked(archive, source, JOB_JSON)
        staged.append((f"{folder}/{table}", rows, f"{table} (this person's rows)", _sha(rows)))
        if isinstance(contents, AssignmentContents):
            for path, entries in contents.moodle_answers_of(userid).items():
                _checked(archive, source, path)
                staged.append((f"{folder}/{path}", entries, f"{path} (this person's entries)", _sha(entries)))
        job = job_entry(contents.job, contents.user_of(userid), userid)
        job_bytes = (json.dumps(job, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        staged.append((f"{folder}/{JOB_JSON}", job_bytes, f"{JOB_JSON} (this person's entry)", _sha(job_bytes)))
        for name, data, origin, sha in staged:
            if data is None:
                with archive.open(f"{contents.bag}/{origin}") as handle, out.open(name, "w", force_zip64=True) as sink:
                    digest = hashlib.sha256()
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
                        sink.write(chunk)
                if digest.hexdigest() != sha:  # read twice: the file must not change in between
                    raise ExportChanged(f"{source.archive}: {origin} changed while it was copied")
            else:
                out.writestr(name, data)
            done.files.append({"path": name, "from": posixpath.join(source.archive, origin), "sha256": sha})
    if isinstance(contents, AssignmentContents) and (team := contents.team_of(userid)):
        done.notes.append(
            f"team submission (group {team}): the submitted files, feedback and grade in this person's folder are "
            "the team's, the same for every member of the group; the other members' own folders are not exported"
        )
    return done


def _checked(archive: zipfile.ZipFile, source: ExportSource, path: str) -> str:
    """The SHA-256 the manifest lists for a payload file, once its bytes were found to have it."""
    expected = source.contents.payload.get(path, "")
    digest = hashlib.sha256()
    with archive.open(f"{source.contents.bag}/{path}") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ExportMismatch(f"{source.archive}: {path} has sha256 {digest.hexdigest()}, its manifest says "
                             f"{expected or 'nothing'}")  # fmt: skip
    return expected


def _rows_of(contents: ArchiveContents, userid: int) -> tuple[str, bytes]:
    """The table of an archive that has a row per attempt or participant, and its header with this person's rows."""
    if isinstance(contents, AssignmentContents):
        return SUBMISSIONS_CSV, contents.submissions_csv_of(userid)
    return ATTEMPTS_CSV, attempts_csv_of(contents, userid)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
