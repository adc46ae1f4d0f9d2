"""Parameter parsing and validation, the order of Moodle's checks, and the release-dependent error shapes."""

from __future__ import annotations

import httpx
import pytest

from archived.simulator import MoodleSimulator
from tests.simulator.rest import call, post


def _error(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    body = response.json()
    assert "exception" in body, body
    return body


@pytest.mark.parametrize(
    ("params", "debuginfo"),
    [
        ({"userid": 3}, "Missing required key in single structure: quizid"),
        (
            {"quizid": "7.0"},
            "quizid => Invalid parameter value detected: Invalid external api parameter: the value is "
            '"7.0", the server was expecting "int" type',
        ),
        (
            {"quizid": " 7"},
            "quizid => Invalid parameter value detected: Invalid external api parameter: the value is "
            '" 7", the server was expecting "int" type',
        ),
        (
            {"quizid": 1, "includepreviews": "true"},
            "includepreviews => Invalid parameter value detected: Invalid "
            'external api parameter: the value is "true", the server was expecting "bool" type',
        ),
        ({"quizid": 1, "foo": "bar", "baz": 1}, "Unexpected keys (foo, baz) detected in parameter array."),
        (
            {"quizid": {"0": 1}},
            "quizid => Invalid parameter value detected: Scalar type expected, array or object received.",
        ),
        (
            {"quizid": 1, "status": "<b>"},
            "status => Invalid parameter value detected: Invalid external api parameter: "
            'the value is "<b>", the server was expecting "alpha" type',
        ),
    ],
)
def test_parameter_errors_carry_moodles_debuginfo(
    sim: MoodleSimulator, client: httpx.Client, params: dict[str, object], debuginfo: str
) -> None:
    """Missing keys, unexpected keys, int/bool exactness, arrays for scalars: Moodle's exact messages."""
    sim.debug = True
    body = _error(call(sim, client, "mod_quiz_get_user_attempts", **params))
    assert body == {
        "exception": "core\\exception\\invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
        "debuginfo": debuginfo,
    }


def test_scalar_where_list_expected(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`courseids=5` (what a naive client sends) is not a list."""
    sim.debug = True
    body = _error(call(sim, client, "mod_quiz_get_quizzes_by_courses", courseids="5"))
    assert (
        body["debuginfo"]
        == "courseids => Invalid parameter value detected: Only arrays accepted. The bad value is: '5'"
    )


def test_nested_structures_and_defaults(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Bracket syntax builds nested arrays; `[]` appends; defaults fill missing keys."""
    answer = call(sim, client, "core_course_get_courses", options={"ids": [2, 3]}).json()
    assert [course["id"] for course in answer] == [2, 3]
    pairs = [
        ("wstoken", sim.token),
        ("wsfunction", "mod_quiz_get_quizzes_by_courses"),
        ("moodlewsrestformat", "json"),
        ("courseids[]", "3"),
        ("courseids[]", "2"),
    ]
    quizzes = post(client, sim.url, pairs).json()["quizzes"]
    assert [quiz["id"] for quiz in quizzes] == [2, 1]


def test_bool_accepts_only_zero_and_one(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`0`/`1` pass; `true`, `yes` and empty fail."""
    ok = call(sim, client, "mod_quiz_get_user_attempts", quizid=1, userid=3, includepreviews="1").json()
    assert "attempts" in ok
    for bad in ("true", "yes", ""):
        assert (
            _error(call(sim, client, "mod_quiz_get_user_attempts", quizid=1, includepreviews=bad))["errorcode"]
            == "invalidparameter"
        )


def test_post_wins_over_get(sim: MoodleSimulator, client: httpx.Client) -> None:
    """GET and POST are merged; a key in both takes the POST value (the wsfunction here)."""
    query = "wsfunction=core_course_get_categories&moodlewsrestformat=json"
    pairs = [("wstoken", sim.token), ("wsfunction", "core_webservice_get_site_info")]
    body = post(client, sim.url, pairs, query=query).json()
    assert body["username"] == "archiver"


def test_json_body_is_ignored_like_php(sim: MoodleSimulator, client: httpx.Client) -> None:
    """PHP does not read JSON bodies, so the token is missing: invalidtoken, in the default XML format."""
    response = client.post(
        f"{sim.url}/webservice/rest/server.php",
        json={"wstoken": sim.token, "wsfunction": "core_webservice_get_site_info", "moodlewsrestformat": "json"},
    )
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert '<EXCEPTION class="core\\exception\\moodle_exception">' in response.text
    assert "<ERRORCODE>invalidtoken</ERRORCODE>" in response.text


def test_xml_is_the_default_format(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Without `moodlewsrestformat` the answer is the REST server's XML."""
    response = call(sim, client, "core_course_get_categories", restformat=None, criteria=[{"key": "id", "value": 3}])
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<MULTIPLE>\n<SINGLE>\n')
    assert '<KEY name="name"><VALUE>Exams</VALUE>\n</KEY>' in response.text
    assert response.headers["content-disposition"] == 'inline; filename="response.xml"'


def test_checks_run_in_moodles_order(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Token before function name, function name before existence, service before parameters."""
    fake = "0" * 32
    assert _error(call(sim, client, None, token=fake))["errorcode"] == "invalidtoken"
    assert _error(call(sim, client, None))["errorcode"] == "invalidparameter"
    assert _error(call(sim, client, "no_such_function", foo=1))["errorcode"] == "invalidrecord"
    assert _error(call(sim, client, "core_user_create_users", foo=1))["errorcode"] == "accessexception"
    assert _error(call(sim, client, "mod_quiz_get_user_attempts", quizid=999))["errorcode"] == "invalidrecord"


def test_function_removed_from_service_is_refused(sim: MoodleSimulator, client: httpx.Client) -> None:
    """A function that exists but is not in the token's service: accessexception, and site info no longer lists it."""
    functions = [n for n in sim.world.service.functions if n != "mod_quiz_get_attempt_review"]
    sim.set_service_functions(functions)
    assert _error(call(sim, client, "mod_quiz_get_attempt_review", attemptid=1))["errorcode"] == "accessexception"
    listed = [f["name"] for f in call(sim, client, "core_webservice_get_site_info").json()["functions"]]
    assert "mod_quiz_get_attempt_review" not in listed


def test_missing_capability_is_nopermissions(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Without `mod/quiz:viewreports` other users' attempts are refused with Moodle's messages."""
    sim.revoke("mod/quiz:viewreports")
    body = _error(call(sim, client, "mod_quiz_get_user_attempts", quizid=1, userid=3))
    assert body["errorcode"] == "nopermissions"
    assert body["message"] == "Sorry, but you do not currently have permissions to do that (View quiz reports)."
    assert _error(call(sim, client, "mod_quiz_get_attempt_review", attemptid=1))["errorcode"] == "noreviewattempt"


@pytest.mark.parametrize(
    ("release", "exception", "review_exception"),
    [
        ("4.1", "invalid_parameter_exception", "moodle_quiz_exception"),
        ("4.5", "core\\exception\\invalid_parameter_exception", "core\\exception\\moodle_exception"),
        ("5.0", "core\\exception\\invalid_parameter_exception", "core\\exception\\moodle_exception"),
    ],
)
def test_exception_class_names_per_release(
    client: httpx.Client, release: str, exception: str, review_exception: str
) -> None:
    """4.1 prints plain class names (and moodle_quiz_exception); 4.5+ the namespaced ones."""
    with MoodleSimulator(release=release) as sim:
        assert _error(call(sim, client, "mod_quiz_get_user_attempts"))["exception"] == exception
        sim.revoke("mod/quiz:viewreports")
        assert _error(call(sim, client, "mod_quiz_get_attempt_review", attemptid=1))["exception"] == review_exception


@pytest.mark.parametrize(("debug", "code"), [(False, "invalidrecordunknown"), (True, "invalidrecord")])
def test_missing_records_on_50_hide_the_table_without_debugging(client: httpx.Client, debug: bool, code: str) -> None:
    """5.0 drops the table name unless debugging is on; the user table's special code too."""
    with MoodleSimulator(release="5.0", debug=debug) as sim:
        body = _error(call(sim, client, "mod_quiz_get_user_attempts", quizid=1, userid=9999))
        assert body["errorcode"] == ("invaliduser" if debug else code)
        body = _error(call(sim, client, "mod_quiz_get_attempt_review", attemptid=424242))
        assert body["errorcode"] == code
        assert ("debuginfo" in body) is debug


def test_user_quiz_attempts_exists_only_on_50(client: httpx.Client) -> None:
    """The 5.0 function is an unknown function on 4.5 and listed in 5.0's site info."""
    with MoodleSimulator(release="4.5") as sim:
        assert _error(call(sim, client, "mod_quiz_get_user_quiz_attempts", quizid=1))["errorcode"] == "invalidrecord"
    with MoodleSimulator(release="5.0") as sim:
        names = [f["name"] for f in call(sim, client, "core_webservice_get_site_info").json()["functions"]]
        assert "mod_quiz_get_user_quiz_attempts" in names
        answer = call(sim, client, "mod_quiz_get_user_quiz_attempts", quizid=2, userid=6, status="all").json()
        assert [a["state"] for a in answer["attempts"]] == ["notstarted"]


def test_moodlewssettingfilter_runs_the_mathjax_filter(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Intros come back raw; with `moodlewssettingfilter=1` they carry the MathJax spans."""
    raw = call(sim, client, "mod_quiz_get_quizzes_by_courses", courseids=[2]).json()["quizzes"][0]["intro"]
    assert "filter_mathjaxloader_equation" not in raw
    filtered = call(sim, client, "mod_quiz_get_quizzes_by_courses", courseids=[2], moodlewssettingfilter=1).json()[
        "quizzes"
    ][0]["intro"]
    assert filtered.startswith('<span class="filter_mathjaxloader_equation">')
    assert '<span class="nolink">\\( \\frac{a}{b} \\)</span>' in filtered


def test_unknown_setting_name_is_a_parameter(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Only the five known `moodlewssetting*` names are stripped; others are unexpected parameters."""
    sim.debug = True
    body = _error(call(sim, client, "core_course_get_categories", moodlewssettingfoo=1))
    assert body["debuginfo"] == "Unexpected keys (moodlewssettingfoo) detected in parameter array."
