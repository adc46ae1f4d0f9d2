"""How the daemon's own errors become error answers: by their stable `code` (`archived.errors.ArchivedError`)."""

from __future__ import annotations

from archived.errors import ArchivedError
from archived.protocol.errors import ErrorCode, RpcError

# Errors of the engine, the settings and the course overview that have a protocol meaning, by their code.
_PROTOCOL_CODES = {
    "not_found": ErrorCode.NOT_FOUND,
    "invalid_state": ErrorCode.INVALID_STATE,
    "invalid_setting": ErrorCode.INVALID_SETTING,
    "unsupported_activity": ErrorCode.INVALID_SETTING,
    "shutting_down": ErrorCode.SHUTTING_DOWN,
}


def rpc_error(exc: ArchivedError) -> RpcError:
    """The error answer for an error a handler let through; anything without a protocol meaning failed upstream
    (Moodle or a storage target), and says which error it was in `data`."""
    code = _PROTOCOL_CODES.get(exc.code)
    if code is not None:
        return RpcError(code, str(exc))
    return RpcError(ErrorCode.UPSTREAM_ERROR, str(exc), {"code": exc.code, "recoverable": exc.recoverable})
