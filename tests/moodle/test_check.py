"""`check_site` / `format_check` against the replay server, healthy and broken."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archived.config import parse_config
from archived.moodle.api import MoodleApi
from archived.moodle.check import NEEDED_FUNCTIONS, Severity, check_site, format_check
from archived.moodle.client import MoodleClient
from archived.moodle.factory import build_moodle_client
from archived.moodle.transfer import TransferLimits

from .conftest import FAKE_TOKEN, SITE, ReplayMoodle, json_reply, load_fixture, passthrough

PROBE = {
    "courseid": 2,
    "options": [
        {"name": "userfields", "value": "id,idnumber"},
        {"name": "limitfrom", "value": 0},
        {"name": "limitnumber", "value": 50},
    ],
}


def _prepare(replay: ReplayMoodle, *, idnumbers: bool = True) -> None:
    """Answers for the probing calls, which the recordings do not cover."""
    courses = load_fixture(replay.version, "08")["response"]
    replay.add_rest("core_course_get_courses_by_field", None, courses)
    users = [
        {
            "id": u["id"],
            "fullname": u["fullname"],
            **({"idnumber": u["idnumber"]} if idnumbers and "idnumber" in u else {}),
        }
        for u in load_fixture(replay.version, "11")["response"]
    ]
    replay.add_rest("core_enrol_get_enrolled_users", PROBE, users)


def _codes(check: Any) -> dict[str, Severity]:
    return {p.code: p.severity for p in check.problems}


async def test_healthy_site(replay: ReplayMoodle, make_client: Any, version: str) -> None:
    _prepare(replay)
    check = await check_site(MoodleApi(make_client(replay)))
    assert check.ok and check.reachable
    assert check.branch == version and check.username == "archiver" and check.userid == 12
    assert check.missing_functions == [] and check.missing_recommended == []
    assert check.download_files is True and check.idnumber_visible is True
    # The loopback address differs from the recorded wwwroot: worth a note, not a problem.
    assert _codes(check) == {"site_url_differs": Severity.INFO}
    text = format_check(check)
    assert f"Archiver Test Site (Moodle {version})" in text
    assert "all needed ones present" in text and "Result: OK" in text
    json.dumps(check.to_dict())
    assert check.to_dict()["ok"] is True


async def test_broken_site(start_replay: Any, make_client: Any) -> None:
    replay = start_replay("5.0")
    _prepare(replay, idnumbers=False)
    info = load_fixture("5.0", "01")["response"]
    dropped = {"mod_quiz_get_attempt_review", "mod_quiz_get_user_quiz_attempts"}
    info["functions"] = [f for f in info["functions"] if f["name"] not in dropped]
    info["downloadfiles"] = 0
    info["userissiteadmin"] = True
    replay.script(json_reply(info))
    check = await check_site(MoodleApi(make_client(replay)))
    assert not check.ok
    assert check.missing_functions == ["mod_quiz_get_attempt_review"]
    assert check.missing_recommended == ["mod_quiz_get_user_quiz_attempts"]
    codes = _codes(check)
    assert codes["function_missing"] is Severity.ERROR
    assert codes["function_recommended"] is Severity.WARNING
    assert codes["downloadfiles_off"] is Severity.ERROR
    assert codes["token_is_site_admin"] is Severity.WARNING
    assert codes["idnumber_hidden"] is Severity.WARNING
    hidden = next(p for p in check.problems if p.code == "idnumber_hidden")
    assert hidden.message.startswith("idnumber not visible")
    assert "moodle/site:viewuseridentity" in hidden.fix
    text = format_check(check)
    assert "NOT READY" in text and "fix: Add mod_quiz_get_attempt_review" in text
    assert "ID numbers:     not visible" in text


async def test_legacy_attempts_function_not_needed_when_the_new_one_is_there(
    start_replay: Any, make_client: Any
) -> None:
    replay = start_replay("5.0")
    _prepare(replay)
    info = load_fixture("5.0", "01")["response"]
    info["functions"] = [f for f in info["functions"] if f["name"] != "mod_quiz_get_user_attempts"]
    replay.script(json_reply(info))
    check = await check_site(MoodleApi(make_client(replay)))
    assert check.ok and check.missing_functions == []


async def test_4_5_needs_the_18_functions(start_replay: Any, make_client: Any) -> None:
    replay = start_replay("4.5")
    _prepare(replay)
    info = load_fixture("4.5", "01")["response"]
    assert sorted(f["name"] for f in info["functions"]) == sorted(NEEDED_FUNCTIONS)
    info["functions"] = info["functions"][:-3]
    replay.script(json_reply(info))
    check = await check_site(MoodleApi(make_client(replay)))
    assert len(check.missing_functions) == 3 and not check.ok
    assert check.missing_recommended == []  # 4.5 has no mod_quiz_get_user_quiz_attempts


async def test_participants_not_visible(replay: ReplayMoodle, make_client: Any) -> None:
    _prepare(replay)
    denied = {
        "exception": "core\\exception\\required_capability_exception",
        "errorcode": "nopermissions",
        "message": "Sorry, but you do not currently have permissions to do that (View participants).",
    }
    replay.script(passthrough(), passthrough(), json_reply(denied))
    check = await check_site(MoodleApi(make_client(replay)))
    assert _codes(check)["participants_hidden"] is Severity.ERROR
    assert not check.ok and check.idnumber_visible is None


async def test_invalid_token(replay: ReplayMoodle, make_client: Any) -> None:
    check = await check_site(MoodleApi(make_client(replay, token=FAKE_TOKEN)))
    assert not check.reachable and not check.ok
    assert [p.code for p in check.problems] == ["moodle_invalid_token"]
    text = format_check(check)
    assert "not usable" in text and "Manage tokens" in text
    assert FAKE_TOKEN not in text and FAKE_TOKEN not in json.dumps(check.to_dict())


async def test_plain_http_site_is_a_warning(
    replay: ReplayMoodle, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The site is reached as http://moodle.example (allowed explicitly) through the replay server acting as an
    # HTTP proxy, so nothing leaves this machine.
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", replay.url)
    _prepare(replay)
    client = make_client(replay, base_url=SITE, allow_insecure_http=True)
    check = await check_site(MoodleApi(client))
    assert check.reachable and check.site_url == SITE
    assert _codes(check) == {"insecure_http": Severity.WARNING}
    text = format_check(check)
    assert "plain http://" in text and "allow_insecure_http" in text and "Result: OK (0 error(s), 1 warning(s))" in text


def test_plain_http_site_needs_explicit_permission() -> None:
    with pytest.raises(ValueError, match="clear text"):
        MoodleClient(SITE, FAKE_TOKEN)
    MoodleClient("http://127.0.0.1:9", FAKE_TOKEN)  # loopback: the simulator and tests


async def test_factory_passes_the_limits() -> None:
    moodle = parse_config(
        {
            "moodle": {
                "url": SITE,
                "allow_insecure_http": True,
                "token_env": "T",
                "timeout_seconds": 5,
                "download_min_bytes_per_second": 10,
                "download_rate_window_seconds": 2,
                "download_timeout_seconds": 30,
            }
        }
    ).moodle
    assert moodle is not None
    client = build_moodle_client(moodle, FAKE_TOKEN)
    try:
        assert client.insecure and client.timeout == 5
        assert client.transfer == TransferLimits(min_bytes_per_second=10, window_seconds=2, total_seconds=30)
    finally:
        await client.aclose()
