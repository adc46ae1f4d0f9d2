"""The webhook driver: an HTTP POST of the event (or of its body template) to a URL, signed with HMAC-SHA256.

2xx is delivered. 408, 429, 5xx, timeouts and network errors are tried again; any other answer (4xx, a redirect)
fails for good, since the same request would get the same answer. A body template that renders no text sends
nothing (a template can pick the events worth a request).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import Field, field_validator, model_validator

from archived import __version__
from archived.config import ConnectorConfig, read_secret
from archived.connectors.options import DriverOptions, driver_options
from archived.connectors.templates import EventTemplate
from archived.connectors.transport import Delivery, DeliveryFailed, truncate
from archived.errors import ConfigError
from archived.moodle.urls import is_loopback_host

RETRIED_STATUS = {408, 429}
ANSWER_LIMIT = 500  # characters of a receiver's answer kept
ANSWER_BYTES = 4 * ANSWER_LIMIT  # bytes of it read (a UTF-8 character takes at most four)


class WebhookOptions(DriverOptions):
    """The webhook driver's keys."""

    url: str
    allow_insecure_http: bool = False  # plain http:// to another machine: the event (and any token) in clear text
    secret_file: Path | None = None  # signs the body: X-Archived-Signature: sha256=<hex HMAC>
    auth: Literal["none", "bearer", "basic"] = "none"
    token_file: Path | None = None  # auth = "bearer"
    username: str | None = None  # auth = "basic", with password_file
    password_file: Path | None = None
    client_cert_file: Path | None = None  # a client certificate (PEM), with its key in client_key_file
    client_key_file: Path | None = None
    ca_file: Path | None = None  # CA bundle for a receiver with an internal certificate authority
    body_template: str | None = None  # a Jinja2 template of the body instead of the event's JSON
    content_type: str = "application/json"
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        if parts.username or parts.password:
            raise ValueError("put credentials in token_file or username/password_file, not in the URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WebhookOptions:
        parts = urlsplit(self.url)
        if parts.scheme == "http" and not self.allow_insecure_http and not is_loopback_host(parts.hostname or ""):
            raise ValueError(
                f"{self.url} is plain http://: events (and credentials) would travel unencrypted; use https:// or "
                "set allow_insecure_http = true"
            )
        if self.auth == "bearer" and self.token_file is None:
            raise ValueError('auth = "bearer" needs token_file')
        if self.auth == "basic" and (self.username is None or self.password_file is None):
            raise ValueError('auth = "basic" needs username and password_file')
        if (self.client_cert_file is None) != (self.client_key_file is None):
            raise ValueError("client_cert_file and client_key_file go together")
        for header in self.headers:
            if header.lower() in ("authorization", "content-type") or header.lower().startswith("x-archived-"):
                raise ValueError(f"header {header!r} is set by archived itself")
        return self


class WebhookTransport:
    """POSTs events to one URL."""

    def __init__(self, name: str, config: ConnectorConfig) -> None:
        options = driver_options(WebhookOptions, name, config)
        self.options = options
        self._secret = read_secret(file=options.secret_file, env=None, what=f"connectors.{name}.secret_file") \
            if options.secret_file else None  # fmt: skip
        headers = {
            "User-Agent": f"archived/{__version__}",
            "Content-Type": options.content_type,
            "Accept-Encoding": "identity",  # the answer's start is kept as sent, never inflated from a few bytes
            **options.headers,
        }
        self._auth_secrets: list[str] = []
        auth: httpx.BasicAuth | None = None
        if options.auth == "bearer":
            token = read_secret(file=options.token_file, env=None, what=f"connectors.{name}.token_file")
            headers["Authorization"] = f"Bearer {token}"
            self._auth_secrets.append(token)
        elif options.auth == "basic":
            assert options.username is not None
            password = read_secret(file=options.password_file, env=None, what=f"connectors.{name}.password_file")
            auth = httpx.BasicAuth(options.username, password)
            self._auth_secrets.append(password)
        self._template = (
            EventTemplate(options.body_template, f"connectors.{name}.body_template") if options.body_template else None
        )
        self.timeout = config.timeout_seconds
        self._client = httpx.AsyncClient(
            headers=headers, auth=auth, timeout=config.timeout_seconds, verify=self._tls(name, options),
            follow_redirects=False,
        )  # fmt: skip

    @staticmethod
    def _tls(name: str, options: WebhookOptions) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=str(options.ca_file) if options.ca_file else None)
            if options.client_cert_file and options.client_key_file:
                context.load_cert_chain(str(options.client_cert_file), str(options.client_key_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"connectors.{name}: cannot load the TLS files (ca_file, client_cert_file): {exc}"
            ) from None
        return context

    @property
    def secrets(self) -> list[str]:
        """The signing secret and the credentials."""
        return [*([self._secret] if self._secret else []), *self._auth_secrets]

    def describe(self) -> str:
        """The URL without its query (which may carry a key)."""
        parts = urlsplit(self.options.url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    def template_names(self) -> frozenset[str]:
        """The names the body template uses."""
        return self._template.names if self._template is not None else frozenset()

    def body(self, delivery: Delivery) -> bytes:
        """The request body: the event's JSON, or the body template's text."""
        if self._template is not None:
            return self._template.render(delivery.template_values()).encode("utf-8")
        return delivery.body.to_json().encode("utf-8")

    async def send(self, delivery: Delivery) -> str:
        """POST the event; 2xx is delivered."""
        content = self.body(delivery)
        if not content.strip():
            return "nothing sent: the body template rendered no text for this event"
        headers = {"X-Archived-Event-Id": str(delivery.body.id), "X-Archived-Event-Kind": delivery.body.kind}
        if self._secret is not None:
            digest = hmac.new(self._secret.encode("utf-8"), content, hashlib.sha256).hexdigest()
            headers["X-Archived-Signature"] = f"sha256={digest}"
        where = self.describe()
        try:
            # One deadline for the whole attempt: httpx's timeout applies to each read, and a receiver that dribbles
            # its answer a byte at a time would otherwise hold the connector's lane for good.
            async with asyncio.timeout(self.timeout):
                status, reason, answer = await self._post(content, headers)
        except TimeoutError:
            raise DeliveryFailed(f"POST {where}: no complete answer within {self.timeout} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {where}: {type(exc).__name__}: {exc}") from None
        if 200 <= status < 300:
            return f"HTTP {status} {answer}".rstrip()
        retried = status >= 500 or status in RETRIED_STATUS
        refusal = f"POST {where} answered HTTP {status} {reason}"
        if not retried:
            refusal += " (a permanent refusal: fix the receiver or the connector, then redeliver)"
        raise DeliveryFailed(refusal, permanent=not retried, output=answer)

    async def _post(self, content: bytes, headers: dict[str, str]) -> tuple[int, str, str]:
        """The answer's status, reason and the start of its body: a receiver's answer is read up to
        `ANSWER_BYTES`, never whole (it may be endless)."""
        async with self._client.stream("POST", self.options.url, content=content, headers=headers) as response:
            kept = bytearray()
            async for chunk in response.aiter_raw():
                kept += chunk[: ANSWER_BYTES - len(kept)]
                if len(kept) >= ANSWER_BYTES:
                    break
        answer = truncate(bytes(kept).decode("utf-8", "replace"), ANSWER_LIMIT)
        return response.status_code, response.reason_phrase, answer

    async def close(self) -> None:
        """Close the HTTP client's connections."""
        await self._client.aclose()
