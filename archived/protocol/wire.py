"""Framing of the control socket: the protocol version and how one message becomes one line.

- One JSON object per line (UTF-8, `\\n`-terminated); at most `MAX_LINE_BYTES` per line.
- The first call on a connection is `hello` (protocol version negotiation).
- Errors are JSON-RPC error objects with the stable codes of `archived.protocol.errors.ErrorCode`.
- After `events.subscribe` the server sends `event` notifications (no id) on the same connection.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from pydantic import BaseModel

from archived.protocol.errors import RpcError

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MAX_LINE_BYTES = 1024 * 1024
EVENT_METHOD = "event"


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line: bytes | str) -> Any:
    """One line as a message; `ValueError` (a `json.JSONDecodeError`) when it is not JSON.

    orjson reads a page of 100 jobs in about half the time of the standard library; what orjson refuses but the
    standard library reads (an escaped lone surrogate, NaN) is read as before. Integers beyond 64 bits would come
    back as floats: the daemon's numbers are SQLite's 64-bit integers.
    """
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def request(method: str, params: dict[str, Any] | None, request_id: int | str | None) -> dict[str, Any]:
    """A request (or a notification when `request_id` is None)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if request_id is not None:
        message["id"] = request_id
    return message


def encode_result(request_id: int | str | None, value: BaseModel) -> bytes:
    """A success answer as a line, its result serialized straight from the model (pages of jobs are large)."""
    head = json.dumps({"jsonrpc": "2.0", "id": request_id}, ensure_ascii=False, separators=(",", ":"))
    return head[:-1].encode("utf-8") + b',"result":' + value.model_dump_json(by_alias=True).encode("utf-8") + b"}\n"


def error(request_id: int | str | None, err: RpcError) -> dict[str, Any]:
    """An error answer."""
    return {"jsonrpc": "2.0", "id": request_id, "error": err.to_dict()}


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A server-to-client notification."""
    return {"jsonrpc": "2.0", "method": method, "params": params}
