"""The `jobs.attach*` methods: an operator adds files (a seating plan, a signed protocol) to a job before it is packed.

The bytes travel over the socket in chunks, the mirror image of `archives.read`: `jobs.attach` opens an upload for one
file on this connection (its name, size, SHA-256 and a note), `jobs.attach_write` sends it chunk by chunk from offset
0; the chunk that completes it makes the daemon check the SHA-256 and add the file to the job, under
`data/operator/` with who added it and when. The client reads the file as its own user, so the daemon never opens a
path on an operator's behalf. Possible while the job has not begun packing (queued, archiving its activity, waiting
for a retry of that stage); refused once it has (`INVALID_STATE`).
"""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, Params, UtcTime
from archived.protocol.states import JobState

# The largest chunk `jobs.attach_write` takes: in base64 (4/3 of it) a request stays below the 1 MiB line limit.
ATTACH_CHUNK_BYTES = 512 * 1024
ATTACH_MAX_BYTES = 4 * 1024**3
ATTACH_IDLE_SECONDS = 600  # an upload without a chunk this long is dropped
# The states in which a job takes files: it has not begun packing (an error is on its way to a retry or to failing).
ATTACHABLE_STATES = frozenset(
    {JobState.UNINITIALIZED, JobState.QUEUED, JobState.ACTIVITY_ARCHIVING, JobState.RECOVERABLE_ERROR,
     JobState.ERROR}
)  # fmt: skip


class AttachParams(Params):
    """One file to add to a job: what it is called, how big it is, its SHA-256, and why it is added."""

    job_id: str = Field(min_length=1, description="the job's id or a unique prefix")
    name: str = Field(
        min_length=1, max_length=240, description="file name in the archive (made portable: A-Z a-z 0-9 . _ -)"
    )
    size: int = Field(ge=0, le=ATTACH_MAX_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex, lower case: checked when the last chunk arrives")
    note: str = Field(default="", max_length=2000, description="what the file is, kept with it in the archive")


class OperatorFile(Answer):
    """A file an operator added to a job: where it goes in the archive, its checksum, and who added it, when, why."""

    job_id: str
    name: str
    path: str = Field(description="its path in the archive, under data/")
    size: int
    sha256: str
    note: str = ""
    added_by: str
    added_at: UtcTime


class AttachUpload(Answer):
    """An open upload; send its bytes with `jobs.attach_write` (a file of 0 bytes is added at once: see `file`)."""

    upload_id: str
    job_id: str
    chunk_bytes: int = ATTACH_CHUNK_BYTES
    file: OperatorFile | None = None


class AttachWriteParams(Params):
    """The next chunk of an upload: `offset` is the number of bytes sent so far."""

    upload_id: str = Field(min_length=1)
    offset: int = Field(ge=0)
    data: str = Field(max_length=(ATTACH_CHUNK_BYTES + 2) // 3 * 4, description="base64")


class AttachWriteResult(Answer):
    """How many bytes arrived; with the last chunk, the file as the job now holds it."""

    received: int
    file: OperatorFile | None = None
