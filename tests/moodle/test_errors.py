"""Every recorded Moodle error answer maps to the right typed error, with a message that helps."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from archived.errors import FatalError, RecoverableError, is_recoverable
from archived.moodle.errors import (
    AccessDeniedError,
    FileTooLargeError,
    InvalidParameterError,
    InvalidTokenError,
    LoginRequiredError,
    MoodleFatalError,
    MoodleFileNotFound,
    MoodleTransientError,
    MoodleUnavailableError,
    NoPermissionError,
    RecordNotFoundError,
    ServiceAccountError,
    SiteMaintenanceError,
    TruncatedResponseError,
    UnknownFunctionError,
    error_from_payload,
)
from archived.moodle.responses import rest_result

from .conftest import VERSIONS, recordings

# (version, fixture number) → expected class; the number alone applies to both versions.
EXPECTED: dict[str, type[Exception]] = {
    "37": InvalidTokenError,
    "38": AccessDeniedError,
    "39": UnknownFunctionError,
    "40": InvalidParameterError,
    "41": InvalidParameterError,
    "42": InvalidParameterError,
    "43": RecordNotFoundError,
    "44": InvalidParameterError,
    "45": InvalidTokenError,
    "46": AccessDeniedError,
    "47": UnknownFunctionError,
    "48": InvalidParameterError,
    "49": InvalidParameterError,
    "50": InvalidParameterError,
    "51": RecordNotFoundError,
    "52": InvalidParameterError,
    "64": RecordNotFoundError,
    "65": RecordNotFoundError,
}
# 5.0 drops the table name without debugging, so an unknown function looks like any missing record.
EXPECTED_50 = {"39": RecordNotFoundError}


def _error_recordings() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for version in VERSIONS:
        for record in recordings(version):
            response = record.get("response")
            if record["request"]["method"] == "POST" and isinstance(response, dict) and "exception" in response:
                cases.append((version, record))
    return cases


ERROR_RECORDINGS = _error_recordings()


@pytest.mark.parametrize(
    ("version", "record"), ERROR_RECORDINGS, ids=[f"{v}/{r['_file']}" for v, r in ERROR_RECORDINGS]
)
def test_recorded_errors_map_to_typed_errors(version: str, record: dict[str, Any]) -> None:
    number = record["_file"][:2]
    expected = EXPECTED_50.get(number, EXPECTED[number]) if version == "5.0" else EXPECTED[number]
    response = record["response"]
    function = record["request"].get("wsfunction") or "?"
    with pytest.raises(MoodleFatalError) as caught:
        rest_result(
            record["http"]["status"],
            record["http"]["headers"],
            record["raw"].encode("utf-8"),
            site="http://moodle.example",
            function=function,
            params={"quizid": 1},
            what=f"{function}()",
        )
    error = caught.value
    assert type(error) is expected
    assert error.errorcode == response["errorcode"]
    assert error.exception_class == response["exception"]
    assert error.debuginfo == response.get("debuginfo")
    assert error.function == function
    assert isinstance(error, FatalError) and not is_recoverable(error)
    assert function in str(error)
    assert response["message"] in str(error) or response["message"][:40] in str(error)


def test_all_error_recordings_were_found() -> None:
    assert len(ERROR_RECORDINGS) == 16 + 18


def test_access_denied_names_the_missing_function_from_debuginfo() -> None:
    record = next(r for v, r in ERROR_RECORDINGS if v == "4.5" and r["_file"].startswith("46-"))
    error = error_from_payload(record["response"], site="http://moodle.example", function="core_user_create_users")
    assert isinstance(error, AccessDeniedError)
    assert "core_user_create_users is not in the token's external service" in str(error)
    assert "External services" in str(error)


def test_access_denied_without_debuginfo_lists_all_causes() -> None:
    payload = {
        "exception": "webservice_access_exception",
        "errorcode": "accessexception",
        "message": "Access control exception",
    }
    error = error_from_payload(payload, site="https://m.example", function="mod_quiz_get_attempt_review")
    text = str(error)
    assert "expired" in text and "webservice/rest:use" in text and "mod_quiz_get_attempt_review" in text


@pytest.mark.parametrize(
    ("debuginfo", "phrase"),
    [
        ("Invalid token - token expired - check validuntil time for the token", "token has expired"),
        ("You are not allowed to use the rest protocol (missing capability: webservice/rest:use)", "rest:use"),
        ("Web service file downloading must be enabled in external service settings", "Can download files"),
    ],
)
def test_access_denied_reasons(debuginfo: str, phrase: str) -> None:
    payload = {
        "exception": "webservice_access_exception",
        "errorcode": "accessexception",
        "message": "Access control exception",
        "debuginfo": debuginfo,
    }
    assert phrase in str(error_from_payload(payload, site="https://m.example", function="f"))


@pytest.mark.parametrize(
    ("errorcode", "cls", "recoverable"),
    [
        ("sitemaintenance", SiteMaintenanceError, True),
        ("dmlreadexception", MoodleTransientError, True),
        ("requireloginerror", LoginRequiredError, False),
        ("errorcoursecontextnotvalid", LoginRequiredError, False),
        ("nopermissions", NoPermissionError, False),
        ("nopermission", NoPermissionError, False),
        ("noreviewattempt", NoPermissionError, False),
        ("invaliduser", RecordNotFoundError, False),
        ("invalidcoursemodule", RecordNotFoundError, False),
        ("invalidcourseid", RecordNotFoundError, False),
        ("invalidrecordunknown", RecordNotFoundError, False),
        ("wsaccessusersuspended", ServiceAccountError, False),
        ("filenotfound", MoodleFileNotFound, False),
        ("somethingnew", MoodleFatalError, False),
    ],
)
def test_errorcode_classes(errorcode: str, cls: type[Exception], recoverable: bool) -> None:
    payload = {"exception": "core\\exception\\moodle_exception", "errorcode": errorcode, "message": "msg"}
    error = error_from_payload(payload, site="https://m.example", function="mod_assign_get_submission_status")
    assert type(error) is cls
    assert is_recoverable(error) is recoverable
    assert isinstance(error, RecoverableError if recoverable else FatalError)
    assert "mod_assign_get_submission_status" in str(error)


def test_plain_php_error_without_errorcode() -> None:
    payload = {"exception": "TypeError", "message": "Argument 1 must be of type int"}
    error = error_from_payload(payload, site="https://m.example", function="core_course_get_contents")
    assert type(error) is MoodleFatalError
    assert error.errorcode == ""
    assert "PHP error (TypeError)" in str(error)


def test_permission_hint_for_quiz_review() -> None:
    payload = {
        "exception": "core\\exception\\moodle_exception",
        "errorcode": "noreviewattempt",
        "message": "You are not allowed to review this attempt.",
    }
    error = error_from_payload(
        payload, site="https://m.example", function="mod_quiz_get_attempt_review", params={"attemptid": 7}
    )
    assert "mod/quiz:viewreports" in str(error)
    assert "attemptid=7" in str(error)


def test_messages_and_attributes_never_carry_a_token() -> None:
    token = "f" * 32
    payload = {
        "error": "Invalid token",
        "errorcode": "invalidtoken",
        "stacktrace": None,
        "debuginfo": f"token={token}",
        "reproductionlink": None,
    }
    error = error_from_payload(
        payload,
        site="https://m.example",
        url=f"https://m.example/webservice/pluginfile.php/1/a/b/0/x.png?token={token}",
    )
    for text in (str(error), repr(error), error.url or "", error.debuginfo or ""):
        assert token not in text
    assert "token=***" in str(error)


def test_errors_survive_pickling() -> None:
    # Errors may cross a process boundary (worker pools); every class must rebuild from its args.
    payload = {"exception": "x", "errorcode": "invalidtoken", "message": "Invalid token - token not found"}
    samples = [
        error_from_payload(payload, site="https://m.example", function="f"),
        FileTooLargeError("too big", limit=10, size=20),
        MoodleUnavailableError("down", status=503),
        TruncatedResponseError("cut", function="f"),
    ]
    for error in samples:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
