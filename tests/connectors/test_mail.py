"""The mail connector through a real SMTP server (aiosmtpd on loopback) that demands STARTTLS and a login:
recipients per event kind, templates, a refused recipient as a dead letter, the password kept out of records."""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from archived.protocol.connectors import DeadLettersParams
from archived.store.jobs import JobStore
from tests.support.tls_certificates import TlsFiles, make_tls_files

from .conftest import add_job, running, secret_file, until, until_async

PASSWORD = "smtp-pass-word-42"


@dataclass
class MailServer:
    """Collects every message it accepts; refuses recipients at `refused.example`."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"archived" and data.password == PASSWORD.encode()
        if ok:
            self.logins.append(mechanism)
        return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "tls")


@pytest.fixture
def smtp(tls: TlsFiles) -> Iterator[tuple[MailServer, int]]:
    server = MailServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    port = free_port()
    controller = Controller(
        server, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=server.authenticate, auth_required=True,
    )  # fmt: skip
    controller.start()
    yield server, port
    controller.stop()


def mail_connector(tmp_path: Path, tls: TlsFiles, port: int, **keys: object) -> dict[str, object]:
    return {
        "driver": "mail", "host": "127.0.0.1", "port": port, "security": "starttls", "ca_file": str(tls.ca_file),
        "username": "archived", "password_file": str(secret_file(tmp_path, "smtp.password", PASSWORD)),
        "sender": "archived@example.org", "retry_base_seconds": 0.01, "retry_max_seconds": 0.05, **keys,
    }  # fmt: skip


async def test_mails_go_out_over_starttls_to_the_recipients_of_each_event_kind(
    store: JobStore, smtp: tuple[MailServer, int], tls: TlsFiles, tmp_path: Path
) -> None:
    server, port = smtp
    keys = {
        "events": ["job.created", "job.log"],
        "recipients": ["archive-team@example.org"],
        "recipients_by_event": {"job.log": ["ops@example.org", "oncall@example.org"]},
        "subject_template": "{{ event.kind }} for {{ job.course_name if job else 'no job' }}",
    }
    async with running(store, {"team": mail_connector(tmp_path, tls, port, **keys)}) as c:
        job = await add_job(store, "job-1")
        await store.add_log(job.id, "warning", "disk nearly full")
        await until(lambda: len(server.messages) == 2, "two mails")

        async def both_recorded() -> bool:  # recorded once the server's answer is in, after it has the mail
            return (await c.status()).connectors[0].delivered == 2

        await until_async(both_recorded, "both deliveries recorded")
        status = (await c.status()).connectors[0]
    (created_to, created), (log_to, logged) = server.messages
    assert created_to == ["archive-team@example.org"]
    assert created["Subject"] == "job.created for Linear Algebra"
    assert "Job job-1: Linear Algebra (course 2), Final exam (cmid 7)" in created.get_payload()
    assert log_to == ["ops@example.org", "oncall@example.org"]
    assert logged["X-Archived-Event-Kind"] == "job.log" and "disk nearly full" in logged.get_payload()
    assert int(logged["X-Archived-Event-Id"]) > int(created["X-Archived-Event-Id"])
    assert server.logins  # it logged in (after STARTTLS: the server requires both)
    assert status.delivered == 2 and PASSWORD not in status.model_dump_json()


async def test_a_refused_recipient_is_a_dead_letter_at_once(
    store: JobStore, smtp: tuple[MailServer, int], tls: TlsFiles, tmp_path: Path
) -> None:
    server, port = smtp
    keys = {"events": ["job.created"], "recipients": ["nobody@refused.example"], "max_attempts": 5}
    async with running(store, {"team": mail_connector(tmp_path, tls, port, **keys)}) as c:
        await add_job(store, "job-1")

        async def dead() -> bool:
            return (await c.dead_letters(DeadLettersParams())).total == 1

        await until_async(dead, "a dead letter")
        [letter] = (await c.dead_letters(DeadLettersParams())).dead_letters
    assert letter.attempts == 1 and "nobody@refused.example" in letter.error
    assert server.messages == [] and PASSWORD not in letter.model_dump_json()


async def test_implicit_tls_without_a_login(store: JobStore, tls: TlsFiles, tmp_path: Path) -> None:
    server = MailServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        table = {
            "driver": "mail", "host": "127.0.0.1", "port": port, "security": "ssl", "ca_file": str(tls.ca_file),
            "sender": "archived@example.org", "recipients": ["team@example.org"], "events": ["job.created"],
        }  # fmt: skip
        async with running(store, {"team": table}):
            await add_job(store, "job-1")
            await until(lambda: server.messages, "a mail over implicit TLS")
    finally:
        controller.stop()
    [(recipients, message)] = server.messages
    assert recipients == ["team@example.org"] and message["X-Archived-Event-Kind"] == "job.created"
