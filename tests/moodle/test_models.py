"""Model tolerance for Moodle's quirks, and the value helpers (localised marks, decimal grade strings)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from archived.moodle.models import (
    AttemptState,
    QuizAttempt,
    SiteInfo,
    SubmissionStatus,
    parse_assign_grade,
    parse_mark,
)

from .conftest import load_fixture


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9.50", Decimal("9.50")),
        ("0,50", Decimal("0.50")),
        ("1,000.00", Decimal("1000.00")),
        ("1.000,25", Decimal("1000.25")),
        ("1\u00a0000,5", Decimal("1000.5")),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_parse_mark(text: str | None, value: Decimal | None) -> None:
    assert parse_mark(text) == value


def test_parse_mark_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a mark"):
        parse_mark("n/a")


@pytest.mark.parametrize(
    ("text", "value"),
    [("85.00000", Decimal("85")), ("92.50000", Decimal("92.5")), ("-1.00000", None), ("", None), (None, None)],
)
def test_parse_assign_grade(text: str | None, value: Decimal | None) -> None:
    assert parse_assign_grade(text) == value


def _attempt(**changes: object) -> dict[str, object]:
    attempt: dict[str, object] = dict(load_fixture("4.5", "16")["response"]["attempts"][0])
    attempt.update(changes)
    return attempt


def test_attempt_states_known_and_unknown() -> None:
    assert QuizAttempt.model_validate(_attempt(state="finished")).state is AttemptState.FINISHED
    future = QuizAttempt.model_validate(_attempt(state="archivedbysomeplugin"))
    assert future.state == "archivedbysomeplugin"


def test_nulls_absent_keys_and_unknown_keys() -> None:
    attempt = QuizAttempt.model_validate(
        _attempt(sumgrades=None, gradeitemmarks=None, brandnewfield=1, timecheckstate=None)
    )
    assert attempt.sumgrades is None and attempt.gradeitemmarks == []
    minimal = {k: v for k, v in _attempt().items() if k in {"id", "quiz", "userid", "attempt", "uniqueid", "state"}}
    assert QuizAttempt.model_validate(minimal).timefinish == 0


def test_whole_floats_arrive_as_ints() -> None:
    attempt = QuizAttempt.model_validate(_attempt(sumgrades=2))
    assert attempt.sumgrades == 2.0 and isinstance(attempt.sumgrades, float)


def test_empty_single_structures_arrive_as_lists() -> None:
    data = load_fixture("4.5", "30")["response"]
    assert SubmissionStatus.model_validate(data).assignmentdata is not None
    data["assignmentdata"] = []
    data["lastattempt"]["teamsubmission"] = []
    status = SubmissionStatus.model_validate(data)
    assert status.assignmentdata is None
    assert status.lastattempt is not None and status.lastattempt.teamsubmission is None


def test_site_info_keeps_no_private_access_key_and_knows_the_branch() -> None:
    info = SiteInfo.model_validate(load_fixture("4.5", "01")["response"])
    assert not hasattr(info, "userprivateaccesskey")
    assert info.branch == "4.5" and info.version_number == Decimal("2024100705.01")
    assert SiteInfo.model_validate({**info.model_dump(), "version": "2022112801.07"}).branch == "4.1"
    assert SiteInfo.model_validate({**info.model_dump(), "version": "2019111800"}).branch is None
    assert SiteInfo.model_validate({**info.model_dump(), "version": None}).branch is None


def test_models_are_immutable() -> None:
    attempt = QuizAttempt.model_validate(_attempt())
    with pytest.raises(ValueError, match="frozen"):
        attempt.id = 5  # type: ignore[misc]
