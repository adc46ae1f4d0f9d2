"""File and folder names from `${variable}` patterns, sanitised to a safe portable set.

Rules (ARCHITECTURE §3, §9):
- `${name}` or `${ name }` is replaced by the variable's value; an unknown variable is an error that names it.
- Each value is cut to 128 characters *before* it is put into the pattern, and sanitised on its own, so a value
  can never add a folder level (`/` in a course name becomes `_`).
- In a *path* pattern (folder patterns) the literal `/` of the pattern separates folders; in a *name* pattern
  (file names) a `/` is not allowed at all.
- Every segment is made of the portable set `[A-Za-z0-9._-]` (letters are transliterated where possible:
  `Müller` → `Mueller`, `Zoë` → `Zoe`), cut to 240 bytes, and can never be `.`/`..` or start with a dot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime

from archived.errors import FatalError

VALUE_MAX_CHARS = 128
SEGMENT_MAX_BYTES = 240

_VARIABLE = re.compile(r"\$\{\s*([A-Za-z0-9_]+)\s*\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Letters NFKD cannot split into base + accent.
_TRANSLITERATION = {
    "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS",
    "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ø": "o", "Ø": "O", "å": "a", "Å": "A",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i",
}  # fmt: skip


class PatternError(FatalError):
    """A file-name pattern is invalid (unknown variable, forbidden character)."""

    code = "invalid_pattern"


def transliterate(text: str) -> str:
    """Map letters to ASCII where a well-known spelling exists (ü → ue, é → e, ł → l)."""
    mapped = "".join(_TRANSLITERATION.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", mapped)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sanitise_segment(text: str) -> str:
    """One safe path segment: portable characters only, no leading dot, never empty, at most 240 bytes."""
    safe = _UNSAFE.sub("_", transliterate(text))
    safe = re.sub(r"_{2,}", "_", safe)
    safe = safe.lstrip(".") or "_"
    if set(safe) <= {"_", "-", "."}:
        safe = safe if safe.strip("._-") else "_"
    return safe[:SEGMENT_MAX_BYTES]


def _substitute(pattern: str, variables: Mapping[str, object]) -> str:
    def value_of(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            known = ", ".join(sorted(variables))
            raise PatternError(f"unknown variable ${{{key}}} in pattern {pattern!r}; known variables: {known}")
        value = variables[key]
        text = "" if value is None else str(value)
        # A value never adds structure: slashes inside values are neutralised here, before path splitting.
        return sanitise_segment(text[:VALUE_MAX_CHARS]).replace("/", "_")

    return _VARIABLE.sub(value_of, pattern)


def render_name(pattern: str, variables: Mapping[str, object]) -> str:
    """A single file or archive name from a pattern (no folders allowed)."""
    if "/" in pattern or "\\" in pattern:
        raise PatternError(f"file name pattern {pattern!r} must not contain '/' or '\\\\'")
    return sanitise_segment(_substitute(pattern, variables))


def render_path(pattern: str, variables: Mapping[str, object]) -> str:
    """A relative folder path from a pattern; the pattern's own `/` separate folders."""
    if "\\" in pattern:
        raise PatternError(f"folder pattern {pattern!r} must not contain '\\\\'; use '/' between folders")
    segments = [s for s in _substitute(pattern, variables).split("/") if s.strip()]
    if not segments:
        raise PatternError(f"folder pattern {pattern!r} produced an empty path")
    return "/".join(sanitise_segment(s) for s in segments)


def time_variables(moment: datetime) -> dict[str, str]:
    """The `date` (Y-m-d), `time` (H-i-s) and `timestamp` variables for a moment (UTC)."""
    moment = moment.astimezone(UTC)
    return {
        "date": moment.strftime("%Y-%m-%d"),
        "time": moment.strftime("%H-%M-%S"),
        "timestamp": str(int(moment.timestamp())),
    }


def validate_pattern(pattern: str, allowed: set[str], *, allow_folders: bool) -> None:
    """Refuse a pattern that uses unknown variables (used when settings are validated)."""
    for match in _VARIABLE.finditer(pattern):
        if match.group(1) not in allowed:
            raise PatternError(
                f"unknown variable ${{{match.group(1)}}} in pattern {pattern!r}; allowed: {', '.join(sorted(allowed))}"
            )
    if not allow_folders and "/" in pattern:
        raise PatternError(f"file name pattern {pattern!r} must not contain '/'")


DEFAULT_ARCHIVE_NAME = "archive-${courseshortname}-${courseid}-${cmtype}-${cmname}-${cmid}_${date}-${time}"
ARCHIVE_VARIABLES = frozenset(
    {"courseid", "coursename", "courseshortname", "cmid", "cmtype", "cmname", "date", "time", "timestamp"}
)
