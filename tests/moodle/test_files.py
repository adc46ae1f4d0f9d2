"""File URLs and downloads: rewriting the URLs of real question HTML, fetching and streaming files from the
replay server, size limits, and the file endpoints' error shapes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from archived.errors import is_recoverable
from archived.moodle.errors import (
    FileTooLargeError,
    ForeignUrlError,
    InvalidTokenError,
    MoodleFileNotFound,
    MoodleUnavailableError,
)
from archived.moodle.files import filename_from_disposition
from archived.moodle.urls import SiteUrls

from .conftest import (
    FAKE_TOKEN,
    SITE,
    ReplayMoodle,
    fixture_dir,
    json_reply,
    load_fixture,
    no_length,
    short_body,
    status,
)

TOKEN = "abcdef0123456789abcdef0123456789"
BASE = "https://moodle.example.edu"


def _urls_in_html(version: str) -> list[str]:
    html = (fixture_dir(version) / "attempt-1-questions.html").read_text(encoding="utf-8")
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("version", ["4.5", "5.0"])
def test_rewrites_the_urls_of_real_question_html(version: str) -> None:
    urls = SiteUrls(BASE, SITE)
    found = _urls_in_html(version)
    pluginfile = [u for u in found if "/pluginfile.php/" in u]
    assert len(pluginfile) == 2
    context = "13" if version == "4.5" else "29"
    expected = {
        f"{SITE}/pluginfile.php/{context}/question/questiontext/1/6/6/triangle%20diagram.png": (
            f"{BASE}/webservice/pluginfile.php/{context}/question/questiontext/1/6/6/triangle%20diagram.png"
            f"?token={TOKEN}"
        ),
        f"{SITE}/pluginfile.php/26/question/response_attachments/1/11/22/Induktion_Skizze.pdf?forcedownload=1": (
            f"{BASE}/webservice/pluginfile.php/26/question/response_attachments/1/11/22/Induktion_Skizze.pdf"
            f"?forcedownload=1&token={TOKEN}"
        ),
    }
    assert {u: urls.file_url(u, TOKEN) for u in pluginfile} == expected
    for url in found:
        if url.startswith(SITE) and "pluginfile" not in url:
            # Theme icons and scripts are public: moved onto the base URL, never given the token.
            rewritten = urls.file_url(url, TOKEN)
            assert rewritten == BASE + url[len(SITE) :] and "token" not in rewritten
        elif url.startswith("https://cdn.jsdelivr.net/"):
            with pytest.raises(ForeignUrlError, match="not on the configured Moodle site"):
                urls.file_url(url, TOKEN)


def test_recorded_download_url_is_what_the_rewrite_gives() -> None:
    recorded = load_fixture("4.5", "53")["request"]["url"].replace("<TOKEN>", TOKEN)
    assert (
        SiteUrls(SITE).file_url(f"{SITE}/pluginfile.php/13/question/questiontext/1/6/6/triangle%20diagram.png", TOKEN)
        == recorded
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # HTML-escaped attribute values
        (
            f"{BASE}/pluginfile.php/5/mod_quiz/feedback/1/a.png?forcedownload=1&amp;preview=thumb",
            f"{BASE}/webservice/pluginfile.php/5/mod_quiz/feedback/1/a.png?forcedownload=1&preview=thumb&token={TOKEN}",
        ),
        # external_files URLs already use the web-service script
        (
            f"{BASE}/webservice/pluginfile.php/25/mod_resource/content/0/x.pdf?forcedownload=1",
            f"{BASE}/webservice/pluginfile.php/25/mod_resource/content/0/x.pdf?forcedownload=1&token={TOKEN}",
        ),
        # an old token is replaced, not duplicated
        (
            f"{BASE}/webservice/pluginfile.php/25/a/b/0/x.pdf?token=old&forcedownload=1",
            f"{BASE}/webservice/pluginfile.php/25/a/b/0/x.pdf?forcedownload=1&token={TOKEN}",
        ),
        # slasharguments off: the ?file= form
        (
            f"{BASE}/pluginfile.php?file=%2F13%2Fquestion%2Fquestiontext%2F1%2F6%2F6%2Fa.png",
            f"{BASE}/webservice/pluginfile.php?file=%2F13%2Fquestion%2Fquestiontext%2F1%2F6%2F6%2Fa.png&token={TOKEN}",
        ),
        # tokenpluginfile.php carries the user's private access key: replaced by the token
        (
            f"{BASE}/tokenpluginfile.php/5f0c2a8e9b1d/13/question/questiontext/1/6/6/a.png",
            f"{BASE}/webservice/pluginfile.php/13/question/questiontext/1/6/6/a.png?token={TOKEN}",
        ),
        # relative URL
        ("/pluginfile.php/13/q/a/1/a.png", f"{BASE}/webservice/pluginfile.php/13/q/a/1/a.png?token={TOKEN}"),
        # explicit default port, upper-case host
        (
            "https://MOODLE.example.edu:443/pluginfile.php/1/a/b/0/c.png",
            f"{BASE}/webservice/pluginfile.php/1/a/b/0/c.png?token={TOKEN}",
        ),
        # fragment dropped
        (f"{BASE}/pluginfile.php/1/a/b/0/c.png#x", f"{BASE}/webservice/pluginfile.php/1/a/b/0/c.png?token={TOKEN}"),
    ],
)
def test_rewrite_rules(url: str, expected: str) -> None:
    assert SiteUrls(BASE).file_url(url, TOKEN) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/pluginfile.php/1/a/b/0/c.png",
        "http://moodle.example.edu/pluginfile.php/1/a/b/0/c.png",  # https → http would expose the token
        "https://moodle.example.edu:8443/pluginfile.php/1/a/b/0/c.png",
        "https://moodle.example.edu.evil.example/pluginfile.php/1/a/b/0/c.png",
        "//evil.example/pluginfile.php/1/a/b/0/c.png",
        "https://moodle.example.edu/moodle2/pluginfile.php/1/a/b/0/c.png",  # outside the site's sub-path
    ],
)
def test_foreign_urls_never_get_the_token(url: str) -> None:
    urls = SiteUrls(BASE + "/moodle") if "moodle2" in url else SiteUrls(BASE)
    with pytest.raises(ForeignUrlError) as caught:
        urls.file_url(url, TOKEN)
    assert TOKEN not in str(caught.value)


def test_site_in_a_sub_path() -> None:
    urls = SiteUrls(BASE + "/moodle/")
    assert urls.rest_url == BASE + "/moodle/webservice/rest/server.php"
    assert urls.file_url(BASE + "/moodle/pluginfile.php/1/a/b/0/c.png", TOKEN) == (
        f"{BASE}/moodle/webservice/pluginfile.php/1/a/b/0/c.png?token={TOKEN}"
    )


def test_content_disposition() -> None:
    assert filename_from_disposition('attachment; filename="Laborbericht_Müller.pdf"') == "Laborbericht_Müller.pdf"
    assert filename_from_disposition("inline; filename*=UTF-8''triangle%20diagram.png") == "triangle diagram.png"
    assert filename_from_disposition('attachment; filename="a \\"b\\".pdf"') == 'a "b".pdf'
    assert filename_from_disposition("inline") is None
    assert filename_from_disposition(None) is None


# -- against the replay server ---------------------------------------------------------------------------------


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def _image_url(version: str) -> str:
    return next(u for u in _urls_in_html(version) if u.endswith(".png") and "pluginfile" in u)


async def test_fetch_question_image(replay: ReplayMoodle, make_client: Any, version: str) -> None:
    client = make_client(replay)
    fetched = await client.fetch_file(_image_url(version))
    expected = (fixture_dir(version) / "53-pluginfile-question-image.png").read_bytes()
    assert fetched.content == expected
    assert fetched.size == len(expected) == 1320
    assert fetched.sha256 == hashlib.sha256(expected).hexdigest()
    assert fetched.content_type == "image/png"
    assert fetched.filename == "triangle diagram.png"
    assert replay.seen[0].path.startswith("/webservice/pluginfile.php/")


async def test_download_submission_pdf(replay: ReplayMoodle, make_client: Any, version: str, tmp_path: Path) -> None:
    submissions = load_fixture(version, "27")["response"]["assignments"][0]["submissions"]
    fileurl = next(
        f["fileurl"]
        for s in submissions
        for p in s["plugins"]
        for a in p.get("fileareas", [])
        for f in a["files"]
        if f["filename"] == "Laborbericht_Müller.pdf"
    )
    dest = tmp_path / "out" / "report.pdf"
    fetched = await make_client(replay).download(fileurl, dest, max_bytes=10_000)
    expected = (fixture_dir(version) / "54-pluginfile-assign-submission-pdf.pdf").read_bytes()
    assert dest.read_bytes() == expected
    assert fetched.path == dest and fetched.content is None
    assert fetched.sha256 == hashlib.sha256(expected).hexdigest() and fetched.size == 686
    assert fetched.filename == "Laborbericht_Müller.pdf"
    assert _names(dest.parent) == [dest.name]


async def test_missing_file_is_404(replay: ReplayMoodle, make_client: Any, version: str, tmp_path: Path) -> None:
    url = _image_url(version).replace("triangle%20diagram.png", "does-not-exist.png")
    client = make_client(replay)
    with pytest.raises(MoodleFileNotFound) as caught:
        await client.download(url, tmp_path / "x.png", max_bytes=10_000)
    assert caught.value.errorcode == "filenotfound"
    assert not is_recoverable(caught.value)
    assert "does-not-exist.png" in str(caught.value)
    assert _names(tmp_path) == []
    assert len(replay.seen) == 1  # fatal: not retried


async def test_invalid_token_on_pluginfile(start_replay: Any, make_client: Any, version: str) -> None:
    replay = start_replay(version)
    client = make_client(replay, token=FAKE_TOKEN)
    with pytest.raises(InvalidTokenError) as caught:
        await client.fetch_file(_image_url(version))
    assert caught.value.errorcode == "invalidtoken"
    assert FAKE_TOKEN not in str(caught.value)


async def test_size_limit_from_content_length(replay: ReplayMoodle, make_client: Any, tmp_path: Path) -> None:
    with pytest.raises(FileTooLargeError) as caught:
        await make_client(replay).download(_image_url(replay.version), tmp_path / "a.png", max_bytes=1000)
    assert caught.value.limit == 1000 and caught.value.size == 1320
    assert _names(tmp_path) == []


async def test_size_limit_while_streaming(replay: ReplayMoodle, make_client: Any, tmp_path: Path) -> None:
    replay.script(no_length(), no_length())
    client = make_client(replay)
    with pytest.raises(FileTooLargeError) as caught:
        await client.download(_image_url(replay.version), tmp_path / "a.png", max_bytes=1000)
    assert caught.value.size is None
    assert _names(tmp_path) == []
    with pytest.raises(FileTooLargeError):
        await client.fetch_file(_image_url(replay.version), max_bytes=1319)
    assert len(replay.seen) == 2


async def test_exact_size_limit_is_allowed(replay: ReplayMoodle, make_client: Any) -> None:
    fetched = await make_client(replay).fetch_file(_image_url(replay.version), max_bytes=1320)
    assert fetched.size == 1320


async def test_download_retries_5xx_and_cut_bodies(replay: ReplayMoodle, make_client: Any, tmp_path: Path) -> None:
    replay.script(status(503, only="file"), short_body(100, only="file"))
    dest = tmp_path / "a.png"
    fetched = await make_client(replay).download(_image_url(replay.version), dest, max_bytes=10_000)
    assert fetched.size == 1320 and dest.stat().st_size == 1320
    assert len(replay.seen) == 3
    assert _names(tmp_path) == ["a.png"]


async def test_download_gives_up_recoverably(replay: ReplayMoodle, make_client: Any, tmp_path: Path) -> None:
    replay.script(*[status(502, only="file")] * 3)
    with pytest.raises(MoodleUnavailableError) as caught:
        await make_client(replay, retries=2).download(_image_url(replay.version), tmp_path / "a.png", max_bytes=10_000)
    assert is_recoverable(caught.value)
    assert _names(tmp_path) == []


async def test_json_files_that_are_not_errors_pass(replay: ReplayMoodle, make_client: Any) -> None:
    replay.script(json_reply({"error": "a student's data file", "rows": [1, 2]}, only="file"))
    fetched = await make_client(replay).fetch_file(_image_url(replay.version))
    assert fetched.content == b'{"error": "a student\'s data file", "rows": [1, 2]}'


async def test_ajax_error_with_200_is_detected(replay: ReplayMoodle, make_client: Any, tmp_path: Path) -> None:
    denied = {
        "error": "Web service file downloading must be enabled in external service settings",
        "errorcode": "accessexception",
        "stacktrace": None,
        "debuginfo": None,
        "reproductionlink": None,
    }
    replay.script(json_reply(denied, only="file"))
    with pytest.raises(Exception) as caught:
        await make_client(replay).download(_image_url(replay.version), tmp_path / "a.png", max_bytes=10_000)
    assert type(caught.value).__name__ == "AccessDeniedError"
    assert "Can download files" in str(caught.value)
    assert _names(tmp_path) == []


async def test_foreign_url_is_not_fetched(replay: ReplayMoodle, make_client: Any) -> None:
    with pytest.raises(ForeignUrlError):
        await make_client(replay).fetch_file("https://cdn.jsdelivr.net/npm/mathjax@2.7.9/MathJax.js")
    assert replay.seen == []
