"""The webhook connector over HTTPS: the receiver's certificate is verified (against `ca_file` for an internal CA),
and a client certificate is presented to a receiver that demands one."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.protocol.connectors import DeadLettersParams
from archived.store.jobs import JobStore
from tests.support.tls_certificates import TlsFiles, make_tls_files

from .client_certificates import ClientCertificate, make_client_certificate
from .conftest import add_job, running, until, until_async
from .receiver import WebhookReceiver


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "server")


@pytest.fixture
def client(tmp_path: Path) -> ClientCertificate:
    return make_client_certificate(tmp_path / "client")


@pytest.fixture
def receiver(tls: TlsFiles, client: ClientCertificate) -> Iterator[WebhookReceiver]:
    """An HTTPS receiver that accepts only clients with a certificate from the client CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(client.ca_file)
    server = WebhookReceiver().start(tls=context)
    yield server
    server.stop()


async def test_https_with_an_internal_ca_and_a_client_certificate(
    store: JobStore, receiver: WebhookReceiver, tls: TlsFiles, client: ClientCertificate
) -> None:
    trusted = {"driver": "webhook", "url": receiver.url, "events": ["job.created"], "max_attempts": 1}
    tables = {
        "with-cert": {**trusted, "ca_file": str(tls.ca_file), "client_cert_file": str(client.cert_file),
                      "client_key_file": str(client.key_file)},
        "no-cert": {**trusted, "ca_file": str(tls.ca_file)},
        "untrusted": {**trusted, "client_cert_file": str(client.cert_file), "client_key_file": str(client.key_file)},
    }  # fmt: skip
    async with running(store, tables) as c:
        await add_job(store, "job-1")
        await until(lambda: receiver.accepted, "the event over HTTPS")

        async def two_dead() -> bool:
            return (await c.dead_letters(DeadLettersParams())).total == 2

        await until_async(two_dead, "two dead letters")
        letters = {d.connector: d.error for d in (await c.dead_letters(DeadLettersParams())).dead_letters}
    assert len(receiver.accepted) == 1  # only the connector with the CA and the client certificate got through
    assert set(letters) == {"no-cert", "untrusted"}
    assert "CERTIFICATE_VERIFY_FAILED" in letters["untrusted"]  # the receiver's certificate is not from a known CA
