"""The mail driver: one message per event through an SMTP server (STARTTLS, implicit TLS, or plain on loopback).

Python's `smtplib` in a thread rather than another library: a mail per event is rare, the thread is bounded by the
connector's timeout, and the daemon keeps one fewer dependency. A 5xx answer (a refused recipient or sender, a
failed login) fails for good; anything else (4xx, network, timeout) is tried again.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from archived.config import ConnectorConfig, read_secret
from archived.connectors.options import DriverOptions, driver_options
from archived.connectors.templates import EventTemplate
from archived.connectors.transport import Delivery, DeliveryFailed
from archived.errors import ConfigError
from archived.moodle.urls import is_loopback_host

DEFAULT_SUBJECT = "[archived] {{ event.kind }}{% if job %}: {{ job.course_name }} / {{ job.activity_name }}{% endif %}"
DEFAULT_BODY = """\
Event {{ event.kind }} (version {{ event.version }}, id {{ event.id }}) at {{ event.at }}.
{% if job %}
Job {{ job.id }}: {{ job.course_name }} (course {{ job.course_id }}), {{ job.activity_name }} (cmid {{ job.cmid }})
State: {{ job.state }}{% if job.error_message %}
Error: {{ job.error_code }}: {{ job.error_message }}{% endif %}
{% endif %}
{{ event.data | tojson(indent=2) }}
"""


class MailOptions(DriverOptions):
    """The mail driver's keys."""

    host: str
    port: int | None = None  # default 587 (starttls), 465 (ssl), 25 (none)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None  # login, with password_file
    password_file: Path | None = None
    ca_file: Path | None = None  # CA bundle for a mail server with an internal certificate authority
    sender: str
    recipients: list[str] = Field(default_factory=list)  # for every event kind without its own list
    recipients_by_event: dict[str, list[str]] = Field(default_factory=dict)  # kind pattern -> addresses
    subject_template: str = DEFAULT_SUBJECT
    body_template: str = DEFAULT_BODY

    @model_validator(mode="after")
    def _consistent(self) -> MailOptions:
        if (self.username is None) != (self.password_file is None):
            raise ValueError("username and password_file go together (the SMTP login)")
        if self.security == "none" and self.username is not None and not is_loopback_host(self.host):
            raise ValueError('security = "none" would send the SMTP password in clear text; use starttls or ssl')
        if not self.recipients and not self.recipients_by_event:
            raise ValueError("set recipients (or recipients_by_event)")
        return self


class MailTransport:
    """Sends events as mails."""

    def __init__(self, name: str, config: ConnectorConfig) -> None:
        options = driver_options(MailOptions, name, config)
        self.options = options
        self.timeout = config.timeout_seconds
        self._password = (
            read_secret(file=options.password_file, env=None, what=f"connectors.{name}.password_file")
            if options.password_file else None
        )  # fmt: skip
        self._subject = EventTemplate(options.subject_template, f"connectors.{name}.subject_template")
        self._body = EventTemplate(options.body_template, f"connectors.{name}.body_template")
        try:
            self._tls = ssl.create_default_context(cafile=str(options.ca_file) if options.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"connectors.{name}.ca_file: cannot load it: {exc}") from None
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[options.security]
        self.port = options.port or default_port

    @property
    def secrets(self) -> list[str]:
        """The SMTP password."""
        return [self._password] if self._password else []

    def describe(self) -> str:
        """The mail server."""
        return f"smtp {self.options.host}:{self.port} ({self.options.security})"

    def template_names(self) -> frozenset[str]:
        """The names the subject and body templates use."""
        return self._subject.names | self._body.names

    def recipients(self, kind: str) -> list[str]:
        """The addresses of an event kind: the first `recipients_by_event` pattern that matches, else
        `recipients`."""
        for pattern, addresses in self.options.recipients_by_event.items():
            if fnmatchcase(kind, pattern):
                return addresses
        return self.options.recipients

    def message(self, delivery: Delivery) -> EmailMessage:
        """The mail of one event."""
        values = delivery.template_values()
        message = EmailMessage()
        message["From"] = self.options.sender
        message["To"] = ", ".join(self.recipients(delivery.body.kind))
        # A subject is one line: a newline from an event's text must not start a header of its own.
        message["Subject"] = " ".join(self._subject.render(values).split())
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(idstring=f"archived-event-{delivery.body.id}")
        message["X-Archived-Event-Id"] = str(delivery.body.id)
        message["X-Archived-Event-Kind"] = delivery.body.kind
        message.set_content(self._body.render(values))
        return message

    async def send(self, delivery: Delivery) -> str:
        """Send the event's mail; the server's answer is the output."""
        if not self.recipients(delivery.body.kind):
            return f"no recipients for {delivery.body.kind}: nothing sent"
        message = self.message(delivery)
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> str:
        options = self.options
        where = self.describe()
        try:
            smtp: smtplib.SMTP
            if options.security == "ssl":
                smtp = smtplib.SMTP_SSL(options.host, self.port, timeout=self.timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(options.host, self.port, timeout=self.timeout)
            with smtp:
                if options.security == "starttls":
                    smtp.starttls(context=self._tls)
                if options.username is not None and self._password is not None:
                    smtp.login(options.username, self._password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"{where} refused every recipient: {exc.recipients}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc)
            raise DeliveryFailed(
                f"{where} answered {exc.smtp_code} {text}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{where}: {type(exc).__name__}: {exc}") from None
        if refused:
            return f"sent; refused recipients: {', '.join(sorted(refused))}"
        return f"sent to {message['To']}"

    async def close(self) -> None:
        """Nothing stays open between mails."""
