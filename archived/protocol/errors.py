"""Error answers of the control socket: JSON-RPC error objects with a stable code and a human message."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ErrorCode(IntEnum):
    """Stable error codes of the socket protocol (the JSON-RPC 2.0 ones and archived's own)."""

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
    UPSTREAM_ERROR = -32009
    TOO_SLOW = -32010
    TOO_MANY_CONNECTIONS = -32011
    CONNECTION_TIMEOUT = -32012
    MORE_MATCHES = -32013


# What each code means to a client (the protocol reference prints these).
ERROR_MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.PARSE_ERROR: "the line is not valid JSON",
    ErrorCode.INVALID_REQUEST: "not a JSON-RPC 2.0 request object (batches are not supported)",
    ErrorCode.METHOD_NOT_FOUND: "no method of that name (e.g. `courses.*` without a configured Moodle)",
    ErrorCode.INVALID_PARAMS: "params are not an object, or a parameter is unknown or invalid (the message names it)",
    ErrorCode.INTERNAL_ERROR: "a bug in the daemon; the daemon's log has the traceback",
    ErrorCode.PERMISSION_DENIED: "the peer is not an operator ([access] in the daemon's configuration)",
    ErrorCode.NOT_FOUND: "no such job, course, activity or storage target",
    ErrorCode.INVALID_STATE: "the job's state does not allow the request (e.g. cancel an ended job)",
    ErrorCode.INVALID_SETTING: "a job setting or driver is unknown or invalid, or the activity cannot be archived",
    ErrorCode.SHUTTING_DOWN: "the daemon is draining and accepts no new work",
    ErrorCode.UNSUPPORTED_PROTOCOL: "`hello` asked for a protocol version the daemon does not speak",
    ErrorCode.LINE_TOO_LONG: "a request line exceeded the limit; the connection is closed",
    ErrorCode.HELLO_REQUIRED: "the first call on a connection must be `hello`",
    ErrorCode.UPSTREAM_ERROR: "Moodle or a storage target failed while serving the request (`data` has its code)",
    ErrorCode.TOO_SLOW: "a subscriber fell too far behind on events; the connection is closed, resubscribe",
    ErrorCode.TOO_MANY_CONNECTIONS: "the connection was refused (the message names the limit) and closed",
    ErrorCode.CONNECTION_TIMEOUT: "no `hello` in time, or idle too long without a subscription; connection closed",
    ErrorCode.MORE_MATCHES: "a bulk action's filter now matches more jobs than `expected` (`data` has both); nothing "
    "was done: show the new count and ask again",
}


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
