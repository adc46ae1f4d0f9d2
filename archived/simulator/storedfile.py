"""`StoredFile`: one row of Moodle's `files` table.

It sits below both the seeded records (`data`) and the question attempts (`questions`), because response
attachments belong to a question attempt while every other file belongs to the site.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StoredFile:
    """`files`: one stored file; `content` is produced lazily for generated documents."""

    contextid: int
    component: str
    filearea: str
    itemid: int
    filepath: str
    filename: str
    mimetype: str
    timecreated: int
    timemodified: int
    source: bytes | None = None
    producer: object = None
    author: str | None = None
    license: str | None = None
    userid: int | None = None

    @property
    def content(self) -> bytes:
        """The file's bytes (generated on first use when the file is a seeded document)."""
        if self.source is None:
            assert callable(self.producer)
            self.source = self.producer()
        return self.source

    @property
    def filesize(self) -> int:
        """Size in bytes."""
        return len(self.content)

    @property
    def key(self) -> tuple[int, str, str, int, str, str]:
        """The unique key of the `files` table."""
        return (self.contextid, self.component, self.filearea, self.itemid, self.filepath, self.filename)
