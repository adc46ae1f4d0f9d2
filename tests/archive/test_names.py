"""File-name patterns and sanitising: nothing can escape data/, values never add folders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archived.archive.names import (
    DEFAULT_ARCHIVE_NAME,
    PatternError,
    render_name,
    render_path,
    sanitise_segment,
    time_variables,
    transliterate,
)

VARIABLES = {
    "courseshortname": "EXAM-WS2026",
    "courseid": 2,
    "cmtype": "quiz",
    "cmname": "Final exam Mathematics I",
    "cmid": 2,
    "username": "jmueller",
    "attemptid": 1,
    "firstname": "Jürgen",
    "lastname": "Müller",
    **time_variables(datetime(2026, 11, 28, 9, 5, 7, tzinfo=UTC)),
}


def test_default_archive_name() -> None:
    assert (
        render_name(DEFAULT_ARCHIVE_NAME, VARIABLES)
        == "archive-EXAM-WS2026-2-quiz-Final_exam_Mathematics_I-2_2026-11-28-09-05-07"
    )


def test_inner_spaces_in_variables_are_allowed() -> None:
    assert render_name("${ username }-${attemptid }", VARIABLES) == "jmueller-1"


def test_folder_pattern_keeps_its_slashes_but_values_cannot_add_folders() -> None:
    variables = {**VARIABLES, "username": "../../etc/passwd"}
    path = render_path("${username}/${attemptid}-${date}_${time}", variables)
    assert path.count("/") == 1
    assert ".." not in path.split("/")
    assert path.endswith("/1-2026-11-28_09-05-07")


@pytest.mark.parametrize("pattern", ["../${username}", "/${username}/x", "a/./../${username}", "..", "./."])
def test_no_path_can_escape(pattern: str) -> None:
    path = render_path(pattern, VARIABLES)
    assert not path.startswith("/")
    assert all(part not in ("", ".", "..") and not part.startswith(".") for part in path.split("/"))


def test_file_name_pattern_refuses_slashes() -> None:
    with pytest.raises(PatternError):
        render_name("${username}/x", VARIABLES)


def test_unknown_variable_is_named() -> None:
    with pytest.raises(PatternError, match=r"\$\{nosuch\}"):
        render_name("x-${nosuch}", VARIABLES)


def test_non_ascii_names_are_transliterated() -> None:
    assert (
        transliterate("Zoë Ōtsuka, Małgorzata, Søren, Élodie, Jürgen")
        == "Zoe Otsuka, Malgorzata, Soren, Elodie, Juergen"
    )
    assert sanitise_segment("Zoë Ōtsuka") == "Zoe_Otsuka"
    assert sanitise_segment("日本語") == "_"


def test_values_are_cut_to_128_and_segments_to_240() -> None:
    long = "x" * 500
    assert len(render_name("${cmname}", {"cmname": long})) == 128
    assert len(render_name("${a}${b}", {"a": long, "b": long})) == 240


def test_portable_character_set_only() -> None:
    name = render_name("${cmname}", {"cmname": 'a<b>c:d"e|f?g*h\\i\x00j k\nl'})
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
