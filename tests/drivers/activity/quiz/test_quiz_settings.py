"""Quiz settings: patterns validated against the attempt variables, section dependencies, paper sizes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archived.archive.names import render_name, render_path, time_variables
from archived_quiz.settings import QuizSettings
from archived_render.render_task import PaperFormat


def test_defaults_and_patterns() -> None:
    settings = QuizSettings()
    assert settings.folder_pattern == "${username}/${attemptid}-${date}_${time}"
    assert settings.file_pattern == "attempt-${attemptid}-${username}_${date}-${time}"
    with pytest.raises(ValidationError, match="unknown variable"):
        QuizSettings(file_pattern="attempt-${nosuch}")
    with pytest.raises(ValidationError):
        QuizSettings(file_pattern="a/${attemptid}")
    with pytest.raises(ValidationError):
        QuizSettings(attempt_states=[])


def test_file_names_follow_the_patterns() -> None:
    from datetime import UTC, datetime

    settings = QuizSettings()
    variables = {"username": "jmüller", "attemptid": 812, **time_variables(datetime(2024, 5, 1, 8, 3, 9, tzinfo=UTC))}
    assert render_path(settings.folder_pattern, variables) == "jmueller/812-2024-05-01_08-03-09"
    assert render_name(settings.file_pattern, variables) == "attempt-812-jmueller_2024-05-01-08-03-09"
    assert ".." not in render_path("${username}/x", {"username": "../../etc"}).split("/")


def test_dependent_sections_follow_their_parent() -> None:
    off = QuizSettings(section_question=False)
    assert not (off.section_history or off.section_rightanswer or off.section_attachments)
    assert QuizSettings(section_header=False).section_quiz_feedback is False


def test_paper_formats() -> None:
    assert PaperFormat.A4.css_size == "210mm 297mm" and PaperFormat.LEDGER.css_size == "17in 11in"
    assert {f.value for f in PaperFormat} >= {"A0", "A6", "Letter", "Legal", "Tabloid", "Ledger"}
