"""A real HTTP server on loopback that replays the recorded Moodle 4.5 / 5.0 answers.

REST requests are matched by their exact form body (with the test token swapped for the recordings'
`<TOKEN>`), so a reply proves the client sent exactly the recorded request. File requests are matched by path
and query. Tests can script misbehaviour for the next requests (5xx, truncation, holds, dropped connections)
and read what the server saw (bodies, headers, arrival times, peak concurrency).
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from archived.moodle.client import MoodleClient
from archived.moodle.params import encode_params, form_body

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VERSIONS = ("4.5", "5.0")
RECORDED_TOKEN = "<TOKEN>"
FAKE_TOKEN = "0123456789abcdef0123456789abcdef"  # the invalid token of fixtures 37/45/56
SITE = "http://moodle.example"


def fixture_dir(version: str) -> Path:
    """The folder of one version's recordings."""
    return FIXTURES / f"moodle-{version}"


def load_fixture(version: str, name: str) -> dict[str, Any]:
    """One recording by file name (or by its number prefix, e.g. "18")."""
    folder = fixture_dir(version)
    path = folder / name
    if not path.exists():
        matches = sorted(folder.glob(f"{name}-*.json"))
        assert len(matches) == 1, f"no unique fixture {name!r} in {folder}: {matches}"
        path = matches[0]
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["_file"] = path.name
    return data


def recordings(version: str) -> list[dict[str, Any]]:
    """All recordings of one version, in file order."""
    folder = fixture_dir(version)
    return [load_fixture(version, path.name) for path in sorted(folder.glob("[0-9]*.json"))]


@dataclass
class Reply:
    """A scripted answer: status, headers, body; `length` False omits Content-Length (body until close)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True
    declared_length: int | None = None


@dataclass
class Action:
    """What to do with one request instead of (or before) replaying it."""

    kind: str  # "pass", "reply", "truncate", "shortbody", "hold", "drop", "nolength", "bom"
    reply: Reply | None = None
    seconds: float = 0.0
    cut: int = 0
    only: str | None = None  # "rest" or "file": which requests it applies to


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None, only: str | None = None) -> Action:
    """Answer with a fixed status/body."""
    return Action("reply", Reply(code, body, headers or {}), only=only)


def json_reply(payload: Any, only: str | None = None) -> Action:
    """Answer HTTP 200 with this JSON."""
    return status(200, json.dumps(payload).encode(), {"Content-Type": "application/json"}, only=only)


def truncate(cut: int = 10, only: str | None = None) -> Action:
    """Replay the recorded answer without its last `cut` bytes (Content-Length matches what is sent)."""
    return Action("truncate", cut=cut, only=only)


def short_body(cut: int = 10, only: str | None = None) -> Action:
    """Replay the recorded answer, announce its full length, but close after sending fewer bytes."""
    return Action("shortbody", cut=cut, only=only)


def hold(seconds: float, only: str | None = None) -> Action:
    """Wait before replaying (to provoke client timeouts)."""
    return Action("hold", seconds=seconds, only=only)


def passthrough(only: str | None = None) -> Action:
    """Replay normally (to script something for a later request)."""
    return Action("pass", only=only)


def drop(only: str | None = None) -> Action:
    """Close the connection without answering."""
    return Action("drop", only=only)


def no_length(only: str | None = None) -> Action:
    """Replay without a Content-Length header (the body ends when the connection closes)."""
    return Action("nolength", only=only)


def bom(only: str | None = None) -> Action:
    """Replay with a UTF-8 BOM and a newline before the body (a classic Moodle config.php mistake)."""
    return Action("bom", only=only)


@dataclass
class SeenRequest:
    """A request as the server received it."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    arrived: float

    @property
    def form(self) -> list[tuple[str, str]]:
        """The decoded form fields in order."""
        return parse_qsl(self.body.decode("ascii"), keep_blank_values=True)

    @property
    def wsfunction(self) -> str | None:
        """The called function, if this was a REST call."""
        return dict(self.form).get("wsfunction")


class ReplayMoodle:
    """The server's state: recorded answers, scripted actions, what it saw."""

    def __init__(self, version: str, token: str, prefer: tuple[str, ...] = ()) -> None:
        self.version = version
        self.token = token
        self.rest: dict[bytes, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        for record in recordings(version):
            self._index(record, prefer)
        self.actions: deque[Action] = deque()
        self.hold_all = 0.0
        self.seen: list[SeenRequest] = []
        self.inflight = 0
        self.max_inflight = 0
        self.lock = threading.Lock()
        self.url = ""

    def _index(self, record: dict[str, Any], prefer: tuple[str, ...]) -> None:
        request = record["request"]
        preferred = any(marker in record["_file"] for marker in prefer)
        if request["method"] == "POST":
            key = request["body"].encode("ascii")
            if key not in self.rest or preferred:
                self.rest[key] = record
        else:
            url = request["url"]
            key = url[len(SITE) :] if url.startswith(SITE) else url
            if key not in self.files or preferred:
                self.files[key] = record

    def add_rest(self, function: str, params: dict[str, Any] | None, response: Any) -> None:
        """Register a synthetic answer for a call the recordings do not cover."""
        body = form_body(encode_params(function, params, RECORDED_TOKEN)).decode("ascii")
        body = body.replace("%3CTOKEN%3E", RECORDED_TOKEN)
        raw = json.dumps(response)
        self.rest[body.encode("ascii")] = {
            "_file": f"synthetic {function}",
            "http": {"status": 200, "headers": {"Content-Type": "application/json"}},
            "raw": raw,
        }

    def script(self, *actions: Action) -> None:
        """Queue actions for the next matching requests."""
        self.actions.extend(actions)

    def next_action(self, kind: str) -> Action | None:
        with self.lock:
            for index, action in enumerate(self.actions):
                if action.only in (None, kind):
                    del self.actions[index]
                    return action
        return None

    def recorded_reply(self, method: str, path: str, body: bytes) -> Reply:
        if method == "POST":
            key = body.replace(f"wstoken={self.token}".encode(), f"wstoken={RECORDED_TOKEN}".encode())
            record = self.rest.get(key)
            if record is None:
                payload = {
                    "exception": "replay_exception",
                    "errorcode": "nofixture",
                    "message": f"no recording for {key.decode('ascii', 'replace')[:300]}",
                }
                return Reply(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        else:
            key_text = path.replace(f"token={self.token}", f"token={RECORDED_TOKEN}")
            record = self.files.get(key_text)
            if record is None:
                payload = {
                    "error": "Sorry, the requested file could not be found",
                    "errorcode": "filenotfound",
                    "stacktrace": None,
                    "debuginfo": None,
                    "reproductionlink": None,
                }
                return Reply(404, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        headers = dict(record["http"]["headers"])
        for drop_header in ("Content-Length", "Connection", "Date", "Server", "Transfer-Encoding"):
            headers.pop(drop_header, None)
        if "body_file" in record:
            data = (fixture_dir(self.version) / record["body_file"]).read_bytes()
        else:
            data = record["raw"].encode("utf-8")
        return Reply(record["http"]["status"], data, headers)

    def rest_calls(self) -> list[SeenRequest]:
        """The REST requests seen so far."""
        return [seen for seen in self.seen if seen.method == "POST"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = SeenRequest(self.command, self.path, body, dict(self.headers.items()), time.monotonic())
        with state.lock:
            state.seen.append(seen)
            state.inflight += 1
            state.max_inflight = max(state.max_inflight, state.inflight)
        try:
            kind = "rest" if self.command == "POST" else "file"
            action = state.next_action(kind)
            if state.hold_all:
                time.sleep(state.hold_all)
            self._act(action, state, body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with state.lock:
                state.inflight -= 1

    def _act(self, action: Action | None, state: ReplayMoodle, body: bytes) -> None:
        if action is not None and action.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if action is not None and action.kind == "hold":
            time.sleep(action.seconds)
        if action is not None and action.kind == "reply" and action.reply is not None:
            reply = action.reply
        else:
            reply = state.recorded_reply(self.command, self.path, body)
        if action is not None and action.kind == "truncate":
            reply.body = reply.body[: -action.cut]
        if action is not None and action.kind == "bom":
            reply.body = b"\xef\xbb\xbf\n" + reply.body
        if action is not None and action.kind == "nolength":
            reply.length = False
        sent = reply.body
        if action is not None and action.kind == "shortbody":
            reply.declared_length = len(reply.body)
            sent = reply.body[: -action.cut]
        self._write(reply, sent)

    def _write(self, reply: Reply, sent: bytes) -> None:
        lines = [f"HTTP/1.0 {reply.status} {self.responses.get(reply.status, ('X',))[0]}"]
        for name, value in reply.headers.items():
            lines.append(f"{name}: {value}")
        if reply.length:
            declared = reply.declared_length if reply.declared_length is not None else len(reply.body)
            lines.append(f"Content-Length: {declared}")
        lines.append("Connection: close")
        # Raw UTF-8 in headers, as Apache sends Content-Disposition file names.
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        self.wfile.write(head + sent)
        self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ReplayMoodle) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:  # aborted connections are expected
        return


@pytest.fixture
def start_replay() -> Iterator[Callable[..., ReplayMoodle]]:
    """Start replay servers: `start_replay("4.5", prefer=("-debug",))`; stopped after the test."""
    servers: list[_Server] = []

    def start(version: str = "4.5", *, prefer: tuple[str, ...] = (), token: str | None = None) -> ReplayMoodle:
        state = ReplayMoodle(version, token or secrets.token_hex(16), prefer)
        server = _Server(state)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.02,), name=f"replay-moodle-{version}", daemon=True
        )
        thread.start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        servers.append(server)
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    """Each recorded Moodle version in turn."""
    value: str = request.param
    return value


@pytest.fixture
def replay(start_replay: Callable[..., ReplayMoodle], version: str) -> ReplayMoodle:
    """A replay server for the current version."""
    return start_replay(version)


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., MoodleClient]]:
    """Build clients for a replay server (fast backoff, no rate limit unless asked); closed after the test."""
    clients: list[MoodleClient] = []

    def make(server: ReplayMoodle, **overrides: Any) -> MoodleClient:
        options: dict[str, Any] = {
            "site_url": SITE,
            "backoff_base": 0.001,
            "backoff_max": 0.01,
            "requests_per_second": 0,
            "timeout": 10.0,
        }
        token = overrides.pop("token", server.token)
        base_url = overrides.pop("base_url", server.url)
        options.update(overrides)
        client = MoodleClient(base_url, token, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
