"""The HTTP server: a standard-library `ThreadingHTTPServer` in a background thread.

It reads requests, asks the app to route them and to decide their faults, applies the transport-level faults
(latency, hangs, 5xx pages, truncated or slow bodies, dropped connections) and writes the answer. Everything
Moodle-specific happens in `app.py` and the endpoints.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from archived.simulator.app import SimulatorApp
from archived.simulator.encoding import php_json_encode
from archived.simulator.endpoints.responses import ajax_error, error_page, rest_headers
from archived.simulator.exceptions import message_for
from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.faults import FaultRule
from archived.simulator.profiles import ReleaseProfile

log = logging.getLogger(__name__)

_PHP_WARNING = (
    '<br />\n<b>Warning</b>:  Undefined array key "theme" in <b>/var/www/moodle/lib/outputlib.php</b> on line '
    "<b>2218</b><br />\n"
)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _moodle_error(profile: ReleaseProfile, endpoint: str, rule: FaultRule) -> HttpResponse:
    message = rule.message or message_for(rule.errorcode)
    if endpoint != "rest":
        return ajax_error(profile, rule.errorcode, message)
    body = php_json_encode(
        {"exception": profile.exception_class(rule.exception), "errorcode": rule.errorcode, "message": message}
    )
    return HttpResponse(200, body.encode(), rest_headers("application/json"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per answer.
    disable_nagle_algorithm = True
    server_version = "Apache/2.4.71 (archived Moodle simulator)"
    sys_version = ""
    server: SimulatorServer

    def do_GET(self) -> None:
        """Serve a GET request."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST request."""
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: URLs can carry the token."""

    def _serve(self) -> None:
        app = self.server.app
        body = _read_body(self)
        path, _, query = self.path.partition("?")
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = HttpRequest(self.command, path, query, headers, body)
        try:
            routed = app.route(request)
        except Exception:  # a malformed request must not kill the server thread
            log.exception("simulator could not route a request")
            self._write(error_page(500))
            return
        plan = routed.plan
        if plan.latency and app.stopping.wait(plan.latency):
            return
        hang = plan.first("hang")
        if hang is not None:
            self.close_connection = True
            app.stopping.wait(hang.seconds or None)
            return
        failure = plan.first("http_error", "moodle_error")
        if failure is not None and failure.kind == "http_error":
            response = error_page(failure.status)
        elif failure is not None:
            response = _moodle_error(app.site.profile, routed.endpoint, failure)
        else:
            try:
                response = app.respond(request, routed)
            except Exception:
                log.exception("simulator endpoint %s failed", routed.endpoint)
                response = error_page(500)
        if plan.first("malformed") is not None:
            response.body = _PHP_WARNING.encode() + response.body
        if plan.first("truncate") is not None:
            response.body = response.body[: max(1, len(response.body) // 2)]
        disconnect = plan.first("disconnect") is not None
        slow = plan.first("slow_body")
        self._write(response, disconnect=disconnect, rate=slow.rate if slow else 0)

    def _write(self, response: HttpResponse, *, disconnect: bool = False, rate: int = 0) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            # Moodle sends raw UTF-8 in headers (e.g. Content-Disposition filenames); http.server writes latin-1.
            self.send_header(name, value.encode("utf-8").decode("latin-1"))
        self.send_header("Content-Length", str(len(response.body)))
        if disconnect:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        body = response.body
        if disconnect:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if rate > 0:
            chunk = max(1, rate // 20)
            for start in range(0, len(body), chunk):
                if self.server.app.stopping.is_set():
                    self.close_connection = True
                    return
                self.wfile.write(body[start : start + chunk])
                self.wfile.flush()
                time.sleep(chunk / rate)
            return
        self.wfile.write(body)


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server bound to the simulator app."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, app: SimulatorApp) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__((host, port), _Handler)


class ServerThread:
    """Runs a `SimulatorServer` in a daemon thread."""

    def __init__(self, server: SimulatorServer) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="moodle-simulator", daemon=True
        )

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, release hanging requests and close the socket."""
        self.server.app.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
