"""The `people.*` methods (GDPR requests): every stored archive holding one person's data, and an export of only that
person's files from those archives, verified on the way. Both are operator-only and audited (who, when, what).

`people.export` builds the export in the daemon and opens a transfer of it on the calling connection; the client
reads it with `archives.read` (see `archived.protocol.archives`) and writes it as its own user.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from archived.protocol.archives import CHUNK_BYTES
from archived.protocol.base import Answer, Params, UtcTime

PersonKeyName = Literal["any", "id", "username", "idnumber"]


class PeopleFindParams(Params):
    """Whom to look for: a Moodle user id, a username or an ID number (matriculation number)."""

    query: str = Field(min_length=1, max_length=255)
    key: PersonKeyName = Field(default="any", description="which of them `query` is; any: whichever matches")


class PersonInArchive(Answer):
    """One archive holding the person's data, and the person as that archive names them."""

    job_id: str
    archive: str
    course_name: str = ""
    activity_name: str = ""
    created_at: UtcTime | None = None
    retain_until: UtcTime | None = None
    site: str = ""
    userid: int
    username: str = ""
    idnumber: str = ""
    firstname: str = ""
    lastname: str = ""
    attempts: int = Field(default=0, description="the person's attempts in the archive (quiz or assignment)")
    matched: str = Field(description='which key matched: "id", "username" or "idnumber"')


class UnsearchedArchive(Answer):
    """A stored archive that could not be searched or exported (no verified copy could be read), and why."""

    job_id: str
    archive: str
    reason: str


class PeopleFindResult(Answer):
    """Every archive holding the person's data; `unsearched` lists archives that could not be read (the answer is
    complete only when it is empty)."""

    query: str
    matches: list[PersonInArchive]
    unsearched: list[UnsearchedArchive] = Field(default_factory=list)


class PeopleExportParams(PeopleFindParams):
    """Whose data to export (the query must match one person)."""


class ExportedArchiveView(Answer):
    """An archive the export took files from, and where its verified copy came from."""

    job_id: str
    archive: str
    target: str
    location: str
    sha256: str
    files: int


class PeopleExportResult(Answer):
    """The export, ready to be read with `archives.read` (transfer `transfer_id`)."""

    transfer_id: str
    name: str
    size: int
    sha256: str
    chunk_bytes: int = CHUNK_BYTES
    userid: int
    archives: list[ExportedArchiveView]
    not_exported: list[UnsearchedArchive] = Field(
        default_factory=list, description="archives holding the person's data that are not in the export, and why"
    )
