"""Fault knobs: 5xx answers, hangs, broken bodies, Moodle errors, token expiry, targeting and determinism."""

from __future__ import annotations

import json

import httpx
import pytest

from archived.simulator import MoodleSimulator
from tests.simulator.rest import call


def _review(sim: MoodleSimulator, client: httpx.Client, attemptid: int) -> httpx.Response:
    return call(sim, client, "mod_quiz_get_attempt_review", attemptid=attemptid)


def test_next_n_requests_fail_then_recover(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`times=2`: exactly two 503 error pages, then normal answers."""
    sim.faults.fail(503, times=2)
    statuses = [call(sim, client, "core_webservice_get_site_info").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sim.faults.rules() == []


def test_error_page_is_html(sim: MoodleSimulator, client: httpx.Client) -> None:
    """A web-server error page, not Moodle JSON."""
    sim.faults.fail(502, times=1)
    response = call(sim, client, "core_webservice_get_site_info")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in response.text


def test_targeting_by_function_and_parameters(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Only the review of attempt 7 fails; attempt 1 and other functions are untouched."""
    rule = sim.faults.fail(500, function="mod_quiz_get_attempt_review", params={"attemptid": 7})
    assert _review(sim, client, 7).status_code == 500
    assert _review(sim, client, 1).status_code == 200
    assert call(sim, client, "mod_quiz_get_user_attempts", quizid=1, userid=9).status_code == 200
    assert _review(sim, client, 7).status_code == 500
    assert [r["hits"] for r in sim.faults.rules() if r["id"] == rule.id] == [2]


def _statuses(seed: int) -> list[int]:
    with MoodleSimulator(seed=seed) as sim, httpx.Client(timeout=10) as client:
        sim.faults.fail(503, share=0.5)
        return [call(sim, client, "core_course_get_categories").status_code for _ in range(24)]


def test_shares_are_deterministic_per_seed() -> None:
    """The same seed and request order give the same failures; a share of 0.5 fails some, not all."""
    first = _statuses(7)
    assert first == _statuses(7)
    assert 0 < first.count(503) < len(first)


def test_hang_until_client_timeout(sim: MoodleSimulator) -> None:
    """A hanging request never answers; the client's timeout fires; the next request is served."""
    sim.faults.hang(times=1, function="core_webservice_get_site_info")
    with httpx.Client(timeout=0.5) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            call(sim, impatient, "core_webservice_get_site_info")
        assert call(sim, impatient, "core_webservice_get_site_info").status_code == 200


def test_latency_beyond_the_client_timeout(sim: MoodleSimulator) -> None:
    """Global latency delays every answer (here past a short client timeout)."""
    sim.faults.latency = 3.0
    with httpx.Client(timeout=0.3) as impatient, pytest.raises(httpx.ReadTimeout):
        call(sim, impatient, "core_webservice_get_site_info")
    sim.faults.latency = 0.0
    with httpx.Client(timeout=5) as patient:
        assert call(sim, patient, "core_webservice_get_site_info").status_code == 200


def test_truncated_body_is_invalid_json(sim: MoodleSimulator, client: httpx.Client) -> None:
    """A complete HTTP answer whose JSON is cut off."""
    sim.faults.truncate(times=1)
    response = call(sim, client, "core_course_get_categories")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_disconnect_mid_body(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Content-Length promises more than arrives: the client sees a protocol error."""
    sim.faults.disconnect(times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        call(sim, client, "core_course_get_categories")
    assert call(sim, client, "core_course_get_categories").status_code == 200


def test_malformed_body_has_a_php_warning_first(sim: MoodleSimulator, client: httpx.Client) -> None:
    """A PHP warning printed before the JSON (misconfigured site)."""
    sim.faults.malformed(times=1)
    text = call(sim, client, "core_course_get_categories").text
    assert text.startswith("<br />\n<b>Warning</b>:")
    assert json.loads(text[text.index("[") :])[0]["name"] == "Category 1"


def test_moodle_error_fault(client: httpx.Client) -> None:
    """HTTP 200 with a transient Moodle exception in the release's class naming."""
    with MoodleSimulator(release="4.5") as sim:
        sim.faults.moodle_error(times=1, function="mod_quiz_get_attempt_review")
        assert _review(sim, client, 1).json() == {
            "exception": "dml_read_exception",
            "errorcode": "dmlreadexception",
            "message": "Error reading from database",
        }
        sim.faults.moodle_error("sitemaintenance", "moodle_exception", times=1)
        assert _review(sim, client, 1).json()["exception"] == "core\\exception\\moodle_exception"


def test_slow_download_delivers_the_same_bytes(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Slow bodies trickle but arrive intact."""
    rule = sim.faults.slow_body(20000, endpoint="pluginfile")
    url = f"{sim.url}/webservice/pluginfile.php/25/mod_resource/content/0/Exam%20regulations%20WS2026.pdf"
    response = client.get(url, params={"token": sim.token})
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-1.4") and len(response.content) == 718
    assert [r["hits"] for r in sim.faults.rules() if r["id"] == rule.id] == [1]


def test_expired_token_then_deleted(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Expiry: the first call gets accessexception (the row is deleted), later calls invalidtoken."""
    sim.faults.expire_token()
    first = call(sim, client, "core_webservice_get_site_info").json()
    second = call(sim, client, "core_webservice_get_site_info").json()
    assert (first["errorcode"], second["errorcode"]) == ("accessexception", "invalidtoken")
    sim.faults.restore_token()
    assert call(sim, client, "core_webservice_get_site_info").json()["username"] == "archiver"
    sim.faults.revoke_token()
    assert call(sim, client, "core_webservice_get_site_info").json()["errorcode"] == "invalidtoken"


def test_control_endpoint(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Faults and counters over HTTP; the simulator token is required."""
    control = f"{sim.url}/_simulator"
    assert client.get(f"{control}/stats").status_code == 403
    headers = {"X-Simulator-Token": sim.token}
    added = client.post(
        f"{control}/faults",
        headers=headers,
        json={"kind": "http_error", "status": 504, "times": 1, "function": "core_course_get_categories"},
    )
    assert added.status_code == 200
    assert call(sim, client, "core_course_get_categories").status_code == 504
    assert call(sim, client, "core_course_get_categories").status_code == 200
    counts = client.get(f"{control}/stats", headers=headers).json()["counts"]
    assert counts["core_course_get_categories"] == 2
    assert client.post(f"{control}/faults", headers=headers, json={"kind": "explode"}).status_code == 400
    assert client.post(f"{control}/token", headers=headers, json={"action": "revoke"}).status_code == 200
    assert call(sim, client, "core_course_get_categories").json()["errorcode"] == "invalidtoken"


def test_request_counters(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Per-function counts and a request log without tokens."""
    for attemptid in (1, 2, 1):
        _review(sim, client, attemptid)
    client.get(f"{sim.url}/webservice/pluginfile.php/1/x/y/0/z.png", params={"token": sim.token})
    assert sim.request_count("mod_quiz_get_attempt_review") == 3
    assert sim.request_count("pluginfile") == 1
    log = sim.stats.log()
    assert [dict(r.params).get("attemptid") for r in log[:3]] == ["1", "2", "1"]
    assert all(sim.token not in value for record in log for _, value in record.params)
    sim.stats.reset()
    assert sim.request_count("mod_quiz_get_attempt_review") == 0


def test_clear_removes_rules_and_latency(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`clear()` brings the site back to normal."""
    sim.faults.fail(503)
    sim.faults.latency = 0.01
    sim.faults.clear()
    assert sim.faults.latency == 0.0
    assert call(sim, client, "core_course_get_categories").status_code == 200
