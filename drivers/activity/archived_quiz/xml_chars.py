"""Text from Moodle made safe for every place an archive carries it: report HTML, PDF metadata, CSV, JSON, names.

XML 1.0 (lxml, the report, PDF/A's XMP metadata) refuses C0 control characters other than tab, newline and
carriage return, lone surrogates (which UTF-8 cannot encode either: job.json and attempts.csv would fail) and
U+FFFE/U+FFFF. DEL and the C1 controls are allowed there but are never text a person wrote (they are bytes
decoded with the wrong charset) and trip up readers of the CSV and the PDF. One NUL in a student's first name
used to fail the whole job; now each such character becomes U+FFFD, so the report shows that something was
there, and the caller records in the job log which field of which record was cleaned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REPLACEMENT = "\ufffd"
# What multi-line text (question HTML, feedback) may not hold; tab, newline and carriage return stay.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What a one-line value (a name, an id number) may not hold: tab, newline and carriage return become a space
# (a newline in a course name would start a new field in bag-info.txt).
_UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = {"\t": " ", "\n": " ", "\r": " "}
# In serialised report XML: what `clean_text` replaces, or what it (or libxml2, which turns a NUL or another
# C0 control into U+FFFD as `&#xFFFD;`) already replaced. One search of the small finished report instead of
# one of Moodle's whole HTML (inline images included) per question.
_UNSAFE_OR_REPLACED = re.compile("[\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")  # (one class: no alternation, fast)
CLEANED_NOTE = (
    "contained characters that cannot be archived as text (control characters, lone surrogates, U+FFFE or "
    "U+FFFF); each was replaced by U+FFFD (\ufffd)"
)


def clean_text(text: str) -> str:
    """`text` with each character XML, UTF-8 or CSV readers cannot carry replaced by U+FFFD (tabs, newlines kept)."""
    return _UNSAFE.sub(REPLACEMENT, text) if _UNSAFE.search(text) else text


def clean_line(text: str) -> str:
    """A one-line value made safe like `clean_text`; tab, newline and carriage return become a space."""
    if not _UNSAFE_IN_LINE.search(text):
        return text
    return _UNSAFE_IN_LINE.sub(lambda match: _LINE_BREAKS.get(match.group(), REPLACEMENT), text)


def unsafe_or_replaced(xml: str) -> bool:
    """Whether serialised XML holds characters `clean_text` replaces, or replacement characters (rarely)."""
    return "&#xFFFD;" in xml or _UNSAFE_OR_REPLACED.search(xml) is not None


def has_unsafe(text: str) -> bool:
    """Whether `clean_text` would change `text` (a search through all of it: for the rare path)."""
    return _UNSAFE.search(text) is not None


def cleaning_note(where: str, fields: Iterable[str]) -> str:
    """The job-log line that says which fields of `where` were cleaned (never the characters themselves)."""
    names = list(fields)
    return f"{where}: {', '.join(names)} {CLEANED_NOTE}"
