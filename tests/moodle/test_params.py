"""Encoding parameters into PHP bracket-syntax form fields, checked against the recorded requests."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import pytest

from archived.moodle.params import encode_params, encode_scalar, flatten_params, form_body

from .conftest import RECORDED_TOKEN, VERSIONS, recordings
from .recorded_calls import NOT_ENCODABLE, PARAMS


def _rest_recordings() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for version in VERSIONS:
        for record in recordings(version):
            if record["request"]["method"] == "POST":
                cases.append((version, record))
    return cases


REST_RECORDINGS = _rest_recordings()


@pytest.mark.parametrize(("version", "record"), REST_RECORDINGS, ids=[f"{v}/{r['_file']}" for v, r in REST_RECORDINGS])
def test_recorded_requests_encode_exactly(version: str, record: dict[str, Any]) -> None:
    number = record["_file"][:2]
    if number in NOT_ENCODABLE:
        pytest.skip("recorded without a wsfunction; the client always names its function")
    assert number in PARAMS, f"no Python parameters for {record['_file']}"
    request = record["request"]
    token = request["token"]
    fields = encode_params(request["wsfunction"], PARAMS[number], token)
    recorded = list(request["params"].items())
    assert fields == [("wstoken", token), *recorded]
    # The whole body, byte for byte (the recordings have the literal <TOKEN> substituted after encoding).
    body = form_body(fields).decode("ascii").replace("%3CTOKEN%3E", RECORDED_TOKEN)
    assert body == request["body"]


def test_every_recording_is_covered() -> None:
    numbers = {record["_file"][:2] for _, record in REST_RECORDINGS}
    assert numbers - NOT_ENCODABLE <= set(PARAMS)


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "1"),
        (False, "0"),
        (0, "0"),
        (-1, "-1"),
        (97.92, "97.92"),
        (7.0, "7"),
        (2.5, "2.5"),
        (1e-7, "0.0000001"),
        (1.5e20, "150000000000000000000"),
        (Decimal("44.440"), "44.44"),
        (Decimal("10.00"), "10"),
        ("", ""),
        ("mod/quiz:attempt", "mod/quiz:attempt"),
        (Colour.RED, "red"),
    ],
)
def test_scalars(value: Any, text: str) -> None:
    assert encode_scalar(value) == text


@pytest.mark.parametrize("value", [float("inf"), float("nan"), Decimal("NaN")])
def test_non_finite_numbers_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="finite"):
        encode_scalar(value, key="grade")


def test_unsupported_types_are_refused_with_the_key() -> None:
    with pytest.raises(TypeError, match=r"options\[0\]\[value\].*bytes"):
        flatten_params({"options": [{"value": b"x"}]})


def test_nested_structures_keep_order_and_skip_none() -> None:
    params = {
        "courseid": 5,
        "skipped": None,
        "options": [
            {"name": "excludecontents", "value": True},
            None,
            {"name": "modname", "value": "quiz", "ignored": None},
        ],
        "criteria": {"ids": [3, None, 4], "flag": False},
        "empty": [],
    }
    assert flatten_params(params) == [
        ("courseid", "5"),
        ("options[0][name]", "excludecontents"),
        ("options[0][value]", "1"),
        ("options[1][name]", "modname"),
        ("options[1][value]", "quiz"),
        ("criteria[ids][0]", "3"),
        ("criteria[ids][1]", "4"),
        ("criteria[flag]", "0"),
    ]


def test_tuples_are_lists() -> None:
    assert flatten_params({"courseids": (2, 5)}) == [("courseids[0]", "2"), ("courseids[1]", "5")]


@pytest.mark.parametrize("key", ["wstoken", "wsfunction", "moodlewsrestformat"])
def test_reserved_keys_cannot_be_passed(key: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        encode_params("core_webservice_get_site_info", {key: "x"}, "t")


def test_only_the_three_reserved_fields_are_added() -> None:
    fields = encode_params("mod_quiz_get_attempt_review", {"attemptid": 1}, "secret")
    assert [name for name, _ in fields] == ["wstoken", "wsfunction", "moodlewsrestformat", "attemptid"]
    assert dict(fields)["moodlewsrestformat"] == "json"


@pytest.mark.parametrize("key", ["a[b", "x=y", "", "a&b"])
def test_keys_that_break_php_parsing_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="cannot be encoded"):
        flatten_params({"options": {key: 1}})


def test_function_name_is_required() -> None:
    with pytest.raises(ValueError, match="function"):
        encode_params("", None, "t")
