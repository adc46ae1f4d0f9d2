"""A webhook receiver on loopback for tests: checks each request's HMAC signature, can refuse the first tries or
every try until told to recover, and keeps what it accepted (dropping a repeated event id, as a receiver should)."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    """One request as the receiver saw it."""

    event_id: str
    kind: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP server in a thread. `fail_first` requests are answered `fail_status`; with `down`, every request is."""

    secret: str | None = None
    fail_first: int = 0
    fail_status: int = 503
    down: bool = False
    refuse_after: int | None = None  # accept this many events, then refuse every request (as if down)
    answer: bytes = b"thanks"
    refusal: bytes = b"not now"  # the body of a failure answer
    requests: list[Request] = field(default_factory=list)
    accepted: dict[str, Request] = field(default_factory=dict)  # by X-Archived-Event-Id: each once
    repeats: int = 0  # accepted ids that came again
    _server: ThreadingHTTPServer | None = None
    _scheme: str = "http"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, tls: ssl.SSLContext | None = None) -> WebhookReceiver:
        """Listen on a free loopback port (HTTPS with `tls`)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._take(dict(self.headers.items()), body)
                text = receiver.answer if status == 200 else receiver.refusal
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls is not None else "http"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        """Where to POST."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}/hook"

    def _take(self, headers: dict[str, str], body: bytes) -> int:
        signature_ok = True
        if self.secret is not None:
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            signature_ok = hmac.compare_digest(headers.get("X-Archived-Signature", ""), expected)
        request = Request(headers.get("X-Archived-Event-Id", ""), headers.get("X-Archived-Event-Kind", ""), headers,
                          body, signature_ok)  # fmt: skip
        with self._lock:
            self.requests.append(request)
            if not signature_ok:
                return 401
            if self.down or (self.refuse_after is not None and len(self.accepted) >= self.refuse_after):
                return self.fail_status
            if self.fail_first > 0:
                self.fail_first -= 1
                return self.fail_status
            if request.event_id in self.accepted:
                self.repeats += 1
            else:
                self.accepted[request.event_id] = request
            return 200

    def attempts(self, event_id: int) -> int:
        """How many requests carried this event."""
        with self._lock:
            return sum(1 for r in self.requests if r.event_id == str(event_id))

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
