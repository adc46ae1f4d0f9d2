"""Reading Moodle's HTTP answers: JSON success, error JSON, and the failures around them.

Pure functions from (status, headers, body) to a value or a typed error, so the classification can be tested
without a server. The transport (`client.py`) decides what to retry by the error's class.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from archived.errors import ArchivedError
from archived.moodle.errors import (
    MalformedResponseError,
    MoodleHttpError,
    MoodleUnavailableError,
    TruncatedResponseError,
    WebServicesDisabledError,
    error_from_payload,
)
from archived.moodle.pacing import parse_retry_after

_BOM = b"\xef\xbb\xbf"
_REST_ERROR_KEYS = {"exception", "errorcode", "message", "debuginfo"}
_AJAX_KEYS = {"error", "errorcode", "stacktrace", "debuginfo", "reproductionlink"}
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_RETRYABLE_STATUS = {408, 425, 429}


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body[:limit].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text + ("…" if len(body) > limit else "")


def status_error(status: int, headers: Mapping[str, str], body: bytes, *, site: str, what: str) -> ArchivedError | None:
    """The error for a non-200 HTTP status that is not a Moodle error object, or None for 200."""
    if status == 200:
        return None
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status >= 500 or status in _RETRYABLE_STATUS:
        return MoodleUnavailableError(
            f"Moodle at {site} answered HTTP {status} while {what}: the server is overloaded, restarting or "
            "failing. The request is retried with backoff; if it keeps failing, check the web server's error log.",
            status=status,
            retry_after=retry_after,
        )
    if status == 403 and not body.strip():
        return WebServicesDisabledError(
            f"Moodle at {site} answered 403 Forbidden with an empty body while {what}: web services or the REST "
            "protocol are disabled. Enable them in Site administration › Advanced features › Enable web "
            "services, and Site administration › Server › Web services › Manage protocols › REST."
        )
    if 300 <= status < 400:
        location = headers.get("location", "?")
        return MoodleHttpError(
            f"Moodle at {site} redirected ({status}) to {location} while {what}. Redirects are not followed so "
            "that the token stays on the configured host: set the Moodle URL to the site's real address "
            "(its wwwroot, e.g. https:// instead of http://).",
            status=status,
        )
    if status == 404:
        return MoodleHttpError(
            f"{site} answered 404 Not Found while {what}: this is not the root of a Moodle site, or the path is "
            "wrong. Set the Moodle URL to the site's wwwroot (the address of its front page).",
            status=status,
        )
    if status in (401, 407):
        return MoodleHttpError(
            f"{site} asked for HTTP authentication ({status}) while {what}: a proxy or web-server login sits in "
            "front of Moodle. Allow the archiver's requests to /webservice/ through without it.",
            status=status,
        )
    return MoodleHttpError(
        f"Moodle at {site} answered HTTP {status} while {what} ({_snippet(body) or 'empty body'}). Check the "
        "Moodle URL and any proxy or firewall in front of the site.",
        status=status,
    )


def decode_json(body: bytes, *, site: str, what: str, function: str | None) -> Any:
    """Parse a JSON answer body, telling truncation (retryable) from non-JSON output (fatal)."""
    text = body
    if text.startswith(_BOM):  # a BOM in Moodle's config.php is a classic; the JSON behind it is fine
        text = text[len(_BOM) :]
    text = text.strip()
    if not text:
        raise TruncatedResponseError(
            f"Moodle at {site} sent an empty answer while {what} (a PHP crash or a proxy cutting the "
            "connection). The request is retried; if this persists, check the Moodle server's PHP error log "
            "(memory_limit, max_execution_time).",
            function=function,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first = text[:1]
        if exc.msg.startswith("Extra data"):
            raise MalformedResponseError(
                f"Moodle at {site} sent JSON followed by other output while {what}, near byte {exc.pos}: "
                f"{_snippet(text[exc.pos :])!r}. PHP notices are probably printed into the answer: turn off "
                "Site administration › Development › Debugging › Display debug messages.",
                function=function,
            ) from None
        if first in (b"{", b"[", b'"') or first.isdigit() or first in (b"-", b"n", b"t", b"f"):
            raise TruncatedResponseError(
                f"Moodle at {site} sent an incomplete JSON answer while {what} ({len(body)} bytes, {exc.msg} at "
                f"byte {exc.pos}). The connection was probably cut; the request is retried. If it persists, check "
                "the Moodle server's PHP limits (memory_limit, max_execution_time) and any proxy timeouts.",
                function=function,
            ) from None
        if text.startswith(b"<?xml"):
            raise MalformedResponseError(
                f"Moodle at {site} answered XML instead of JSON while {what}: the REST server ignored "
                "moodlewsrestformat=json. Check that the URL points at Moodle's /webservice/rest/server.php.",
                function=function,
            ) from None
        title = _TITLE.search(text[:4096])
        if first == b"<":
            shown = _snippet(title.group(1)) if title else _snippet(text)
            hint = (
                "PHP notices are printed into the answer: turn off Site administration › Development › Debugging "
                "› Display debug messages"
                if b"<b>" in text[:200] or b"Notice" in text[:200] or b"Warning" in text[:200]
                else "the Moodle URL probably points at something other than Moodle (a login or SSO proxy, "
                "another site); set it to the site's wwwroot"
            )
            raise MalformedResponseError(
                f"Moodle at {site} answered an HTML page ({shown!r}) instead of JSON while {what}: {hint}.",
                function=function,
            ) from None
        raise MalformedResponseError(
            f"Moodle at {site} answered something that is not JSON while {what}: {_snippet(text)!r}. Check the "
            "Moodle URL and any proxy in front of the site.",
            function=function,
        ) from None


def is_rest_error(payload: Any) -> bool:
    """Whether a JSON value is the REST server's error object `{exception, errorcode, message[, debuginfo]}`."""
    return isinstance(payload, dict) and "exception" in payload and set(payload) <= _REST_ERROR_KEYS


def is_ajax_error(payload: Any) -> bool:
    """Whether a JSON value is the AJAX error object of file endpoints and login/token.php."""
    return isinstance(payload, dict) and "error" in payload and "errorcode" in payload and set(payload) <= _AJAX_KEYS


def rest_result(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    site: str,
    function: str,
    params: Mapping[str, Any] | None,
    what: str,
) -> Any:
    """The decoded result of a REST call, or raise the typed error it represents."""
    failure = status_error(status, headers, body, site=site, what=what)
    if failure is not None:
        raise failure
    payload = decode_json(body, site=site, what=what, function=function)
    if is_rest_error(payload) or is_ajax_error(payload):
        raise error_from_payload(payload, site=site, function=function, params=params)
    return payload
