"""The `archives.*` methods: stored archives listed by course, activity and target, and retrieved through the socket.

Retrieval is two steps. `archives.get` makes the daemon fetch the archive from a target that holds it and verify it
(size and SHA-256 against the store's record, then every check of `archived verify`); it answers with a transfer.
`archives.read` then hands the verified bytes over in chunks, so the file is written by the client, as the client's
user, wherever that user may write. A transfer belongs to the connection that opened it and ends when its last chunk
is read, when that connection closes, or after `TRANSFER_IDLE_SECONDS` without a read.
"""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime
from archived.protocol.copies import PendingCopy
from archived.protocol.jobs import StoredLocation

CHUNK_BYTES = 1024 * 1024  # the largest chunk `archives.read` hands over (base64 makes a line of about 1.4 MB)
TRANSFER_IDLE_SECONDS = 600


class ListArchivesParams(Params):
    """Which stored archives, newest first (archives of deleted jobs are not listed)."""

    course_id: int | None = Field(default=None, gt=0)
    cmid: int | None = Field(default=None, gt=0, description="the activity's course module id")
    target: str | None = Field(default=None, min_length=1, description="only archives with a copy on this target")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class ArchiveSummary(Answer):
    """One stored archive: what it holds, its checksum, and where its copies are (and which are still missing)."""

    name: str
    job_id: str
    size: int
    sha256: str
    course_id: int
    cmid: int
    course_name: str = ""
    activity_name: str = ""
    created_at: UtcTime | None = None
    retain_until: UtcTime | None = None
    copies: list[StoredLocation] = Field(default_factory=list, description="verified copies that exist now")
    pending: list[PendingCopy] = Field(default_factory=list, description="copies still being retried")


class ArchivePage(Answer):
    """A page of archives, newest first, and how many match in all."""

    archives: list[ArchiveSummary]
    total: int
    offset: int = 0


class GetArchiveParams(Params):
    """Which archive, and (optionally) the only target to take it from."""

    archive: str = Field(
        min_length=1,
        description="the archive's file name, or its job's id (or a unique prefix of at least 4 characters)",
    )
    from_target: str | None = Field(
        default=None,
        min_length=1,
        description="take it from this target only; default: every target holding a copy, local ones first, until "
        "one delivers a copy that verifies",
    )


class RefusedCopy(Answer):
    """A copy the daemon did not hand over: unreachable, missing, or damaged (it says how)."""

    target: str
    reason: str


class ArchiveTransfer(Answer):
    """A verified archive ready to be read with `archives.read`."""

    transfer_id: str
    job_id: str
    name: str
    size: int
    sha256: str = Field(description="the SHA-256 the store recorded when the archive was built (and the copy has)")
    target: str = Field(description="the target the copy came from")
    location: str
    checks: list[str] = Field(default_factory=list, description="the checks of `archived verify` the copy passed")
    refused: list[RefusedCopy] = Field(default_factory=list, description="copies tried before, and why not them")
    chunk_bytes: int = Field(default=CHUNK_BYTES, description="the largest `length` `archives.read` accepts")


class ReadArchiveParams(Params):
    """A chunk of a transfer; read from offset 0 up to `size`."""

    transfer_id: str = Field(min_length=1)
    offset: int = Field(ge=0)
    length: int = Field(default=CHUNK_BYTES, ge=1, le=CHUNK_BYTES)


class ArchiveChunk(Answer):
    """Bytes of the archive from `offset`; `eof`: this was the last chunk and the transfer has ended."""

    offset: int
    data: str = Field(description="base64")
    eof: bool
