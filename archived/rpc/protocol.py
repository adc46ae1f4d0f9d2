"""Wire format of the control socket, shared by the daemon, the CLI and the TUI.

- One JSON object per line (UTF-8, `\\n`-terminated); at most `MAX_LINE_BYTES` per line.
- The first call on a connection is `hello` (protocol version negotiation).
- Errors are JSON-RPC error objects with the stable codes of `ErrorCode` and a human message.
- After `events.subscribe` the server sends `event` notifications (no id) on the same connection.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MAX_LINE_BYTES = 1024 * 1024
EVENT_METHOD = "event"


class ErrorCode(IntEnum):
    """Stable error codes of the socket protocol."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    PERMISSION_DENIED = -32001
    NOT_FOUND = -32002
    INVALID_STATE = -32003
    INVALID_SETTING = -32004
    SHUTTING_DOWN = -32005
    UNSUPPORTED_PROTOCOL = -32006
    LINE_TOO_LONG = -32007
    HELLO_REQUIRED = -32008
    UPSTREAM_ERROR = -32009  # Moodle or a storage target failed while serving the request
    TOO_SLOW = -32010  # a subscriber fell too far behind on events
    TOO_MANY_CONNECTIONS = -32011  # the connection was refused (a limit names itself in the message) and closed
    CONNECTION_TIMEOUT = -32012  # no hello in time, or idle too long without a subscription; connection closed


class RpcError(Exception):
    """An error answer, raised by handlers and by the client when the daemon answers with an error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        """The JSON-RPC error object."""
        error: dict[str, Any] = {"code": int(self.code), "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def request(method: str, params: dict[str, Any] | None, request_id: int | str | None) -> dict[str, Any]:
    """A request (or a notification when `request_id` is None)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if request_id is not None:
        message["id"] = request_id
    return message


def result(request_id: int | str | None, value: Any) -> dict[str, Any]:
    """A success answer."""
    return {"jsonrpc": "2.0", "id": request_id, "result": value}


def error(request_id: int | str | None, err: RpcError) -> dict[str, Any]:
    """An error answer."""
    return {"jsonrpc": "2.0", "id": request_id, "error": err.to_dict()}


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A server-to-client notification."""
    return {"jsonrpc": "2.0", "method": method, "params": params}
