"""What a file download from Moodle yields: the bytes (or where they were written) and their fingerprint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 64 * MIB


@dataclass(frozen=True)
class FetchedFile:
    """A file fetched from Moodle: its size, SHA-256 (hex), type and name, and either the bytes or the path.

    `url` is the downloadable URL with the token replaced by `***` (safe to log). `content` is set by
    `MoodleClient.fetch_file`, `path` by `MoodleClient.download`.
    """

    url: str
    size: int
    sha256: str
    content_type: str | None
    filename: str | None
    content: bytes | None = None
    path: Path | None = None
    sha1: str = ""  # hex, to compare with the ETag of Moodle's pluginfile.php (the stored file's SHA-1)
    etag: str | None = None  # the ETag header as sent, quotes included

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}" if self.path is not None else f"content=<{self.size} bytes>"
        return (
            f"FetchedFile(url={self.url!r}, size={self.size}, sha256={self.sha256[:16]}…, "
            f"content_type={self.content_type!r}, filename={self.filename!r}, {where})"
        )


_FILENAME_STAR = re.compile(r"""filename\*\s*=\s*([\w!#$%&+^`{}~-]+)'[^']*'([^;\s]+)""", re.IGNORECASE)
_FILENAME = re.compile(r"""filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))""", re.IGNORECASE)


def filename_from_disposition(header: str | None) -> str | None:
    """The file name from a Content-Disposition header (RFC 6266 `filename*` preferred), or None."""
    if not header:
        return None
    star = _FILENAME_STAR.search(header)
    if star:
        try:
            return unquote(star.group(2), encoding=star.group(1), errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    plain = _FILENAME.search(header)
    if plain:
        quoted, bare = plain.groups()
        name = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        return name or None
    return None
