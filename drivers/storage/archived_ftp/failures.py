"""What an FTP failure means for a job: an outage to retry, or a fault that retrying cannot fix.

Transient: 4xx replies (the protocol's own "try again"), 552 (storage allocation exceeded: space can be freed),
resets, timeouts, refused connections, a TLS stream cut mid-way. Permanent: login refused (530), other 5xx
replies (permission denied, no such file or folder, name not allowed), a certificate that does not verify.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import aioftp

from archived.errors import ArchivedError, FatalError
from archived.interfaces.storage import StorageUnavailable

REASON_LIMIT = 200  # replies come from the server: keep them short in job logs


def reply_of(exc: aioftp.StatusCodeError) -> str:
    """The server's reply: code and text, shortened."""
    code = str(exc.received_codes[-1]) if exc.received_codes else "?"
    info = exc.info if isinstance(exc.info, list) else [exc.info]
    text = " ".join(" ".join(str(line) for line in info).split())
    reply = f"{code} {text}".strip()
    return reply if len(reply) <= REASON_LIMIT else reply[: REASON_LIMIT - 1] + "…"


def reply_code(exc: aioftp.StatusCodeError) -> str:
    """The three-digit code the server answered with."""
    return str(exc.received_codes[-1]) if exc.received_codes else ""


def classify(exc: BaseException, where: str, doing: str, *, username: str) -> ArchivedError:
    """`exc` as `StorageUnavailable` or `FatalError`; `where` names the target and server, `doing` the step."""
    if isinstance(exc, ArchivedError):
        return exc
    if isinstance(exc, aioftp.StatusCodeError):
        code, reply = reply_code(exc), reply_of(exc)
        if code.startswith("4") or code == "552":
            return StorageUnavailable(f"{where}: the server answered {reply!r} while {doing}")
        if code == "530":
            return FatalError(f"{where}: login refused for user {username} ({reply!r}); check the username and "
                              "the password in password_file")  # fmt: skip
        return FatalError(f"{where}: the server refused while {doing}: {reply!r}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FatalError(
            f"{where}: the server's TLS certificate does not verify ({exc.verify_message}); set ca_file to the "
            "CA certificate that signed it, or fix the server's certificate (its names must include the host)"
        )
    if isinstance(exc, ssl.SSLError):
        if "EOF" in str(exc) or "eof" in str(exc):
            return StorageUnavailable(f"{where}: the TLS connection was cut while {doing}")
        return FatalError(f"{where}: TLS failed while {doing}: {exc.reason or exc}")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return StorageUnavailable(f"{where}: no answer in time while {doing}")
    if isinstance(exc, socket.gaierror):
        return StorageUnavailable(f"{where}: cannot resolve the host name while {doing}: {exc}")
    if isinstance(exc, OSError | EOFError | asyncio.IncompleteReadError):
        return StorageUnavailable(f"{where}: network failure while {doing}: {exc or type(exc).__name__}")
    return FatalError(f"{where}: unexpected {type(exc).__name__} while {doing}: {exc}")
