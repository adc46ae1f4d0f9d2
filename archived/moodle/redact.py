"""Keeping the web-service token out of every message, repr and log line.

The token travels in two places only: the `wstoken` form field of REST calls and the `token` query parameter of
file downloads. Everything that could echo either (URLs in errors, httpx's request log line) passes through
`redact` first; the `Secret` wrapper keeps the raw value out of reprs and `vars()` dumps.
"""

from __future__ import annotations

import logging
import re

REDACTED = "***"

# token=…, wstoken=… and tokenpluginfile.php/<access key>/ in URLs, query strings and form bodies.
_TOKEN_PARAM = re.compile(r"(?i)\b(ws)?token=[^&\s#\"'<>]*")
_ACCESS_KEY_PATH = re.compile(r"(?i)(/tokenpluginfile\.php/)[^/\s\"'<>?#]+")


class Secret:
    """A string that never shows itself in `repr`/`str`; call `reveal()` where the raw value is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw secret, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def redact(text: str, *secrets: str) -> str:
    """`text` with every `token=`/`wstoken=` value, tokenpluginfile key and literal secret replaced by ***."""
    text = _TOKEN_PARAM.sub(lambda m: f"{m.group(1) or ''}token={REDACTED}", text)
    text = _ACCESS_KEY_PATH.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts tokens from a record's final message (httpx logs full request URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; let logging report it
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True


_FILTER = RedactingFilter()
# httpx logs "HTTP Request: GET <full URL>" at INFO; httpcore traces requests at DEBUG.
# Logger filters only see records created by that exact logger, so every httpcore logger is named.
_THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_redaction() -> None:
    """Attach the redacting filter to the HTTP libraries' loggers (idempotent)."""
    for name in _THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
