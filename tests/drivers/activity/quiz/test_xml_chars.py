"""Characters no archive format can carry: replaced by U+FFFD, never fatal, tabs and newlines kept where they fit."""

from __future__ import annotations

import csv
import io
import json

import pytest
from lxml import etree

from archived_quiz.xml_chars import REPLACEMENT, clean_line, clean_text, cleaning_note

HOSTILE = {
    "NUL": "\x00",
    "C0 control": "\x01",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 control (NEL)": "\x85",
    "C1 control": "\x9f",
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "U+FFFE": "\ufffe",
    "U+FFFF": "\uffff",
}


@pytest.mark.parametrize("character", HOSTILE.values(), ids=HOSTILE.keys())
def test_each_unsafe_character_becomes_the_replacement_character(character: str) -> None:
    for clean in (clean_text, clean_line):
        value = clean(f"An{character}na")
        assert value == f"An{REPLACEMENT}na"
        # What each place it goes to needs: XML (report, XMP metadata), UTF-8 (job.json), CSV.
        etree.fromstring(f"<p title='{value}'>{value}</p>")
        json.dumps({"firstname": value}, ensure_ascii=False).encode("utf-8")
        csv.writer(io.StringIO()).writerow([value])
        value.encode("utf-8")


def test_text_keeps_tabs_and_line_breaks_a_line_does_not() -> None:
    assert clean_text("one\ttwo\nthree\r\nfour") == "one\ttwo\nthree\r\nfour"
    assert clean_line("Linear\tAlgebra\nI\r") == "Linear Algebra I "


def test_clean_input_comes_back_as_it_was() -> None:
    text = "Zoë Ōtsuka — ∑ 𝔸 😀 \ufffd"  # non-BMP characters are no surrogates in a Python string
    assert clean_text(text) is text and clean_line(text) is text


def test_the_note_names_fields_never_the_characters() -> None:
    note = cleaning_note("attempt 12: user 4", ["firstname", "idnumber"])
    assert note.startswith("attempt 12: user 4: firstname, idnumber contained characters")
    assert not any(character in note for character in HOSTILE.values())
