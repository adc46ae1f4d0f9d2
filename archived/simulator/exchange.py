"""The simulator's view of one HTTP exchange, independent of the server implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import formatdate
from functools import cached_property

from archived.simulator.request import ParsedForm, parse_request


@dataclass
class HttpRequest:
    """A received request: method, path, raw query and body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""

    @cached_property
    def form(self) -> ParsedForm:
        """`$_GET`, `$_POST` and `$_FILES` as PHP would fill them."""
        return parse_request(self.query, self.body, self.headers.get("content-type"))


@dataclass
class HttpResponse:
    """A response to send; `headers` keep their order (Moodle's header order)."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """First header value with this name (case-insensitive)."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def http_date(timestamp: float) -> str:
    """RFC 7231 date for Last-Modified and similar headers."""
    return formatdate(timestamp, usegmt=True)
