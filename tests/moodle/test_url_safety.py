"""The token never leaves the site's `/webservice/pluginfile.php/`: hostile file URLs (dot segments in every
disguise, user info, other ports and hosts) are normalised before any check and refused, the URL httpx requests
is exactly the normalised one, and redirects are never followed."""

from __future__ import annotations

import posixpath
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from archived.moodle.client import MoodleClient
from archived.moodle.errors import ForeignUrlError, MoodleHttpError, UnsafeFileUrlError
from archived.moodle.urls import SiteUrls

TOKEN = "abcdef0123456789abcdef0123456789"
B = "https://uni.example/moodle"
WS = f"{B}/webservice/pluginfile.php"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

HOSTILE = [
    # dot segments, plain and percent-encoded (servers decode %2e before resolving)
    f"{B}/pluginfile.php/../../../wiki/x.php",
    f"{B}/pluginfile.php/%2e%2e/%2e%2e/%2e%2e/wiki/x.php",
    f"{B}/pluginfile.php/%2E%2E/%2E%2E/%2E%2E/wiki/x.php",
    f"{B}/pluginfile.php/.%2e/%2e./.%2E/wiki/x.php",
    f"{B}/webservice/pluginfile.php/../../../wiki/x.php",
    f"{B}/tokenpluginfile.php/5f0c2a8e9b1d/../../../wiki/x.php",
    f"{B}/pluginfile.php/1/../../../../../../../etc/passwd",
    f"{B}/../pluginfile.php/1/a/b/0/c.png",
    "/../../wiki/x.php",
    # double and triple encoding
    f"{B}/pluginfile.php/%252e%252e/%252e%252e/%252e%252e/wiki/x.php",
    f"{B}/pluginfile.php/%25252e%25252e/wiki/x.php",
    # encoded slashes and backslashes
    f"{B}/pluginfile.php/..%2f..%2f..%2fwiki/x.php",
    f"{B}/pluginfile.php/..%2F..%2F..%2Fwiki/x.php",
    f"{B}/pluginfile.php/..%252f..%252f..%252fwiki/x.php",
    f"{B}/pluginfile.php/..%5c..%5c..%5cwiki/x.php",
    f"{B}/pluginfile.php/..\\..\\..\\wiki/x.php",
    # ';' path parameters (Tomcat-style "..;/")
    f"{B}/pluginfile.php/..;/..;/..;/wiki/x.php",
    f"{B}/pluginfile.php/..%3b/..%3b/..%3b/wiki/x.php",
    # empty segments around dot segments
    f"{B}/pluginfile.php//..//..//../wiki/x.php",
    # control characters
    f"{B}/pluginfile.php/1/a/b/0/c%00.png",
    f"{B}/pluginfile.php/1/a/b/0/c.png\x00.php",
    f"{B}/pluginfile.php/1/a/b/0/%0d%0aX-Injected:%201",
    # user info, hosts, ports, schemes
    "https://uni.example@evil.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://archiver:secret@uni.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example\\@evil.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example%40evil.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example.evil.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example:8443/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example:99999/moodle/pluginfile.php/1/a/b/0/c.png",
    "http://uni.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "//evil.example/moodle/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example/moodle2/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example/pluginfile.php/1/a/b/0/c.png",
    "https://uni.example/MOODLE/pluginfile.php/1/a/b/0/c.png",
    "pluginfile.php/1/a/b/0/c.png",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused(url: str) -> None:
    with pytest.raises(ForeignUrlError) as caught:
        SiteUrls(B).file_url(url, TOKEN)
    message = str(caught.value)
    assert TOKEN not in message
    assert "token" in message and "secret@" not in message


def test_disguised_dot_segments_are_refused_as_unsafe() -> None:
    with pytest.raises(UnsafeFileUrlError) as caught:
        SiteUrls(B).file_url(f"{B}/pluginfile.php/../../../wiki/x.php", TOKEN)
    assert "https://uni.example/wiki/x.php" in str(caught.value)  # says where it would have led
    assert "outside the site" in str(caught.value)
    with pytest.raises(UnsafeFileUrlError) as caught:
        SiteUrls(B).file_url(f"{B}/pluginfile.php/1/%252e%252e/..%5c..%5c..;/x.png", TOKEN)
    message = str(caught.value)
    assert "backslashes as slashes" in message and "it leads to /x.png, outside the file area" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # dot segments that stay inside the file area are resolved; the normalised URL is what is requested
        (f"{B}/pluginfile.php/1/mod_x/../mod_quiz/0/a.png", f"{WS}/1/mod_quiz/0/a.png?token={TOKEN}"),
        (f"{B}/pluginfile.php/1/./mod_quiz/%2e/0/a.png", f"{WS}/1/mod_quiz/0/a.png?token={TOKEN}"),
        (f"{B}/pluginfile.php//1//mod_quiz/0/a.png", f"{WS}/1/mod_quiz/0/a.png?token={TOKEN}"),
        # host case and the default port
        ("https://UNI.Example:443/moodle/pluginfile.php/1/a/0/c.png", f"{WS}/1/a/0/c.png?token={TOKEN}"),
        # a literal percent sign in a file name stays one (decoded once, as the server does)
        (f"{B}/pluginfile.php/1/a/0/100%2520off.pdf", f"{WS}/1/a/0/100%2520off.pdf?token={TOKEN}"),
        # canonical encoding: upper-case escapes, spaces and ';' encoded
        (f"{B}/pluginfile.php/1/a/0/%e2%82%ac a;b.png", f"{WS}/1/a/0/%E2%82%AC%20a%3Bb.png?token={TOKEN}"),
        # a Windows path as a file name stays one name, since even read with "\\" as "/" it stays in the file area
        (
            f"{B}/pluginfile.php/26/question/response_attachments/7/11/286/..%5C..%5Cescape.pdf",
            f"{WS}/26/question/response_attachments/7/11/286/..%5C..%5Cescape.pdf?token={TOKEN}",
        ),
        # a disguised token parameter is dropped like a plain one
        (
            f"{B}/pluginfile.php/1/a/0/c.png?forcedownload=1&tok%65n=evil",
            f"{WS}/1/a/0/c.png?forcedownload=1&token={TOKEN}",
        ),
        # public site URLs are normalised too, and never get the token
        (f"{B}/theme/image.php/../../lib/x.png", f"{B}/lib/x.png"),
    ],
)
def test_normalised_urls(url: str, expected: str) -> None:
    assert SiteUrls(B).file_url(url, TOKEN) == expected


def test_idna_and_ip_literal_hosts() -> None:
    urls = SiteUrls("https://münchen.example")
    assert urls.file_url("https://xn--mnchen-3ya.example/pluginfile.php/1/a/0/c.png", TOKEN) == (
        f"https://münchen.example/webservice/pluginfile.php/1/a/0/c.png?token={TOKEN}"
    )
    loopback = SiteUrls("http://[::1]:8080/moodle")
    assert loopback.file_url("http://[0:0::1]:8080/moodle/pluginfile.php/1/a/0/c.png", TOKEN) == (
        f"http://[::1]:8080/moodle/webservice/pluginfile.php/1/a/0/c.png?token={TOKEN}"
    )


@pytest.mark.parametrize(
    "base",
    ["https://archiver:pw@uni.example", "https://uni.example/a/../moodle", "https://uni.example\\moodle"],
)
def test_base_url_must_be_plain(base: str) -> None:
    with pytest.raises(ValueError) as caught:
        SiteUrls(base)
    assert "pw" not in str(caught.value)


# -- against a loopback server that records every request line ----------------------------------------------------


@dataclass
class Recorder:
    """A loopback HTTP server that answers everything with a small PNG and keeps every raw request line."""

    url: str = ""
    lines: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)  # path prefix → Location ("{token}" is filled in)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        recorder = self.server.recorder
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with recorder.lock:
            recorder.lines.append(self.requestline)
        fields = dict(parse_qsl(urlsplit(self.path).query)) | dict(parse_qsl(body.decode("ascii", "replace")))
        token = fields.get("token") or fields.get("wstoken") or ""
        for prefix, location in recorder.redirects.items():
            if self.path.startswith(prefix):
                self.send_response(302 if self.command == "GET" else 307)
                self.send_header("Location", location.format(token=token))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.recorder = recorder


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A running recorder; stopped after the test."""
    state = Recorder()
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def _where_it_lands(request_line: str) -> str:
    """The path a liberal server would serve: decoded repeatedly, backslashes as slashes, ';' params and dots gone."""
    target = request_line.split(" ")[1]
    path = urlsplit(target).path
    for _ in range(4):
        path = unquote(path)
    segments = [segment.split(";", 1)[0] for segment in path.replace("\\", "/").split("/")]
    return "/" + posixpath.normpath("/".join(segments)).lstrip("/")


async def test_question_html_cannot_send_the_token_elsewhere(recorder: Recorder, tmp_path: Path) -> None:
    site = f"{recorder.url}/moodle"
    hostile = [
        url.replace(B, site).replace("https://uni.example", recorder.url)
        for url in HOSTILE
        if url.startswith(B) or url.startswith("/")
    ]
    question = "".join(f'<img src="{url.replace("&", "&amp;")}">' for url in hostile)
    question += f'<img src="{site}/pluginfile.php/13/question/questiontext/1/6/6/triangle%20diagram.png">'
    async with MoodleClient(site, TOKEN, requests_per_second=0, retries=0, timeout=10) as client:
        fetched = []
        for src in re.findall(r'src="([^"]+)"', question):
            try:
                fetched.append(await client.fetch_file(src))
            except ForeignUrlError as exc:
                assert TOKEN not in str(exc)
                assert "token" in str(exc)
        with pytest.raises(ForeignUrlError):
            await client.download(f"{site}/pluginfile.php/%2e%2e/%2e%2e/wiki/x.php", tmp_path / "x.php", max_bytes=100)
    assert len(fetched) == 1 and fetched[0].content == PNG  # only the real image
    assert list(tmp_path.iterdir()) == []
    with_token = [line for line in recorder.lines if TOKEN in line]
    assert with_token == [
        f"GET /moodle/webservice/pluginfile.php/13/question/questiontext/1/6/6/triangle%20diagram.png"
        f"?token={TOKEN} HTTP/1.1"
    ]
    for line in recorder.lines:  # nothing at all left the file area, with or without the token
        assert _where_it_lands(line).startswith("/moodle/webservice/pluginfile.php/"), line


async def test_file_redirects_are_not_followed(recorder: Recorder) -> None:
    site = f"{recorder.url}/moodle"
    recorder.redirects["/moodle/webservice/pluginfile.php/1/moved/"] = recorder.url + "/wiki/{token}/x.php"
    async with MoodleClient(site, TOKEN, requests_per_second=0, retries=2, timeout=10) as client:
        with pytest.raises(MoodleHttpError) as caught:
            await client.fetch_file(f"{site}/pluginfile.php/1/moved/0/a.png")
    message = str(caught.value)
    assert "redirected (302)" in message and "/wiki/" in message
    assert TOKEN not in message
    assert len(recorder.lines) == 1  # asked once, not retried, the Location never visited


async def test_rest_redirects_are_not_followed(recorder: Recorder) -> None:
    site = f"{recorder.url}/moodle"
    recorder.redirects["/moodle/webservice/rest/"] = "http://127.0.0.1:1/steal/{token}"
    async with MoodleClient(site, TOKEN, requests_per_second=0, retries=2, timeout=10) as client:
        with pytest.raises(MoodleHttpError) as caught:
            await client.call("core_webservice_get_site_info")
    assert "redirected (307)" in str(caught.value) and TOKEN not in str(caught.value)
    assert recorder.lines == ["POST /moodle/webservice/rest/server.php HTTP/1.1"]
