"""`MoodleClient` transport behaviour on a real loopback HTTP server: retries, backoff, pacing, timeouts,
error classification and keeping the token out of everything."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from archived import __version__
from archived.errors import is_recoverable
from archived.moodle.api import MoodleApi
from archived.moodle.client import MoodleClient
from archived.moodle.errors import (
    InvalidTokenError,
    MalformedResponseError,
    MoodleHttpError,
    MoodleUnavailableError,
    SiteMaintenanceError,
    TruncatedResponseError,
    WebServicesDisabledError,
)

from .conftest import FAKE_TOKEN, ReplayMoodle, bom, drop, hold, json_reply, short_body, status, truncate

SITE_INFO = "core_webservice_get_site_info"


async def test_request_shape(replay: ReplayMoodle, make_client: Any) -> None:
    client = make_client(replay)
    result = await client.call(SITE_INFO)
    assert result["username"] == "archiver"
    seen = replay.rest_calls()[0]
    assert seen.path == "/webservice/rest/server.php"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.headers["User-Agent"] == f"archived/{__version__}"
    assert seen.form == [("wstoken", replay.token), ("wsfunction", SITE_INFO), ("moodlewsrestformat", "json")]


async def test_5xx_burst_then_success(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(status(503), status(502), status(500))
    result = await make_client(replay, retries=3).call(SITE_INFO)
    assert result["sitename"].startswith("Archiver Test Site")
    assert len(replay.rest_calls()) == 4


async def test_persistent_5xx_gives_up_recoverably(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(*[status(503)] * 5)
    with pytest.raises(MoodleUnavailableError) as caught:
        await make_client(replay, retries=2).call(SITE_INFO)
    assert is_recoverable(caught.value)
    assert caught.value.status == 503
    assert "Gave up after 3 attempts" in str(caught.value)
    assert len(replay.rest_calls()) == 3


async def test_per_call_retry_override(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(status(503))
    with pytest.raises(MoodleUnavailableError):
        await make_client(replay, retries=3).call(SITE_INFO, retries=0)
    assert len(replay.rest_calls()) == 1


async def test_429_with_retry_after_is_retried(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(status(429, headers={"Retry-After": "0"}))
    await make_client(replay).call(SITE_INFO)
    assert len(replay.rest_calls()) == 2


async def test_truncated_json_is_retried(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(truncate(25))
    result = await make_client(replay).call("mod_quiz_get_attempt_review", {"attemptid": 1, "page": -1})
    assert len(result["questions"]) == 11
    assert len(replay.rest_calls()) == 2


async def test_always_truncated_json_is_recoverable(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(*[truncate(3)] * 3)
    with pytest.raises(TruncatedResponseError) as caught:
        await make_client(replay, retries=2).call(SITE_INFO)
    assert is_recoverable(caught.value)
    assert SITE_INFO in str(caught.value) and "incomplete JSON" in str(caught.value)


async def test_body_shorter_than_content_length_is_retried(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(short_body(40))
    result = await make_client(replay).call(SITE_INFO)
    assert result["userid"] == 12
    assert len(replay.rest_calls()) == 2


async def test_empty_200_is_retried(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(status(200, b""))
    await make_client(replay).call(SITE_INFO)
    assert len(replay.rest_calls()) == 2


async def test_dropped_connection_is_retried(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(drop(), drop())
    await make_client(replay).call(SITE_INFO)
    assert len(replay.rest_calls()) == 3


async def test_timeout_is_recoverable(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(hold(2.0), hold(2.0))
    with pytest.raises(MoodleUnavailableError) as caught:
        await make_client(replay, timeout=0.2, retries=1).call(SITE_INFO)
    assert "did not answer within 0.2 s" in str(caught.value)
    assert len(replay.rest_calls()) == 2


async def test_bom_before_json_is_tolerated(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(bom())
    assert (await make_client(replay).call(SITE_INFO))["userid"] == 12


async def test_maintenance_mode_is_retried(replay: ReplayMoodle, make_client: Any) -> None:
    maintenance = {
        "exception": "core\\exception\\moodle_exception",
        "errorcode": "sitemaintenance",
        "message": "The site is undergoing maintenance and is currently not available",
    }
    replay.script(json_reply(maintenance))
    await make_client(replay).call(SITE_INFO)
    replay.script(*[json_reply(maintenance)] * 2)
    with pytest.raises(SiteMaintenanceError) as caught:
        await make_client(replay, retries=1).call(SITE_INFO)
    assert is_recoverable(caught.value) and caught.value.errorcode == "sitemaintenance"


@pytest.mark.parametrize(
    ("action", "error", "phrase"),
    [
        (status(403), WebServicesDisabledError, "web services or the REST protocol are disabled"),
        (status(404, b"<html>Not Found</html>"), MoodleHttpError, "wwwroot"),
        (status(401, b"auth"), MoodleHttpError, "HTTP authentication"),
        (status(302, headers={"Location": "https://elsewhere.example/x"}), MoodleHttpError, "redirected"),
        (status(200, b"<html><title>Single Sign-On</title></html>"), MalformedResponseError, "Single Sign-On"),
        (status(200, b"<?xml version='1.0'?><RESPONSE/>"), MalformedResponseError, "XML"),
        (status(200, b'{"sitename": "x"}<br />\n<b>Notice</b>'), MalformedResponseError, "Display debug messages"),
        (status(200, b"<br />\n<b>Warning</b>: x {}"), MalformedResponseError, "Display debug messages"),
    ],
)
async def test_fatal_answers_are_not_retried(
    replay: ReplayMoodle, make_client: Any, action: Any, error: type[Exception], phrase: str
) -> None:
    replay.script(action, action)
    with pytest.raises(error) as caught:
        await make_client(replay).call(SITE_INFO)
    assert not is_recoverable(caught.value)
    assert phrase in str(caught.value)
    assert len(replay.rest_calls()) == 1


async def test_invalid_token(start_replay: Any, make_client: Any, version: str) -> None:
    replay = start_replay(version)
    client = make_client(replay, token=FAKE_TOKEN)
    with pytest.raises(InvalidTokenError) as caught:
        await client.call(SITE_INFO)
    assert caught.value.errorcode == "invalidtoken"
    assert "Manage tokens" in str(caught.value)
    assert FAKE_TOKEN not in str(caught.value)


async def test_concurrency_cap(replay: ReplayMoodle, make_client: Any) -> None:
    replay.hold_all = 0.15
    client = make_client(replay, max_concurrent=3)
    results = await asyncio.gather(*(client.call(SITE_INFO) for _ in range(9)))
    assert len(results) == 9
    assert replay.max_inflight == 3


async def test_concurrency_one_serialises(replay: ReplayMoodle, make_client: Any) -> None:
    replay.hold_all = 0.05
    client = make_client(replay, max_concurrent=1)
    await asyncio.gather(*(client.call(SITE_INFO) for _ in range(4)))
    assert replay.max_inflight == 1


async def test_rate_limit_spaces_requests(replay: ReplayMoodle, make_client: Any) -> None:
    """Every request goes through the client's limiter. Time is simulated (a clock that only the limiter's own
    sleeps advance), so the schedule is exact whatever the machine's load; `test_pacing.py` covers the bucket."""
    rate = 20.0
    client = make_client(replay, requests_per_second=rate, max_concurrent=8)
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client._limiter._clock = lambda: now[0]
    client._limiter._sleep = sleep
    await asyncio.gather(*(client.call(SITE_INFO) for _ in range(6)))
    assert len(replay.rest_calls()) == 6
    assert slept == pytest.approx([1 / rate] * 5)


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="empty"):
        MoodleClient("https://m.example", "  ")
    with pytest.raises(ValueError, match="site root"):
        MoodleClient("https://m.example/webservice/rest/server.php", "t")
    with pytest.raises(ValueError, match="http"):
        MoodleClient("ftp://m.example", "t")
    with pytest.raises(ValueError, match="max_concurrent"):
        MoodleClient("https://m.example", "t", max_concurrent=0)


async def test_token_never_leaks(
    start_replay: Any, make_client: Any, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    replay = start_replay("4.5")
    token = replay.token
    client = make_client(replay)
    texts: list[str] = [repr(client), str(client), repr(client.__dict__)]

    api = MoodleApi(client)
    info = await api.site_info()
    texts += [repr(info), repr(api)]
    review = await api.attempt_review(1)
    image = next(q for q in review.questions if "triangle" in q.html)
    url = image.html.split('src="')[1].split('"')[0]
    fetched = await client.fetch_file(url)
    texts += [repr(fetched), fetched.url]
    assert "token=***" in fetched.url

    replay.script(status(503), drop(), truncate(5), hold(1.0))
    failures: list[BaseException] = []
    for _ in range(4):
        try:
            await make_client(replay, retries=0, timeout=0.3).call(SITE_INFO)
        except Exception as exc:
            failures.append(exc)
    for call in (
        client.fetch_file(url.replace("triangle", "missing")),
        client.download(url, tmp_path / "x.png", max_bytes=10),
        client.call("mod_quiz_get_attempt_review", {"attemptid": 999999}),
    ):
        try:
            await call
        except Exception as exc:
            failures.append(exc)
    assert len(failures) == 7
    for exc in failures:
        chain: BaseException | None = exc
        while chain is not None:
            texts += [str(chain), repr(chain), repr(chain.args)]
            chain = chain.__cause__ or chain.__context__

    texts.append(caplog.text)
    texts += [str(record.args) for record in caplog.records]
    assert "HTTP Request" in caplog.text  # httpx's own request log line was captured, and redacted
    for text in texts:
        assert token not in text
    assert client.redact(f"x?token={token}&y={token}") == "x?token=***&y=***"
