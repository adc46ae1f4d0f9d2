"""RFC 3161 timestamps against a real TSA (`openssl ts -reply` on loopback): verified at once, or refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from archived.archive.timestamps import (
    TimestampClient,
    TimestampInvalid,
    TsaUnavailable,
    _der_ordered,
    load_certificates,
    verify_reply,
)
from tests.support.tsa import TimestampAuthority

DATA = b"manifest-sha512.txt contents\n" * 10


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with TimestampAuthority(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(autouse=True)
def _healthy(tsa: TimestampAuthority):
    tsa.heal()
    yield
    tsa.heal()


def client(tsa: TimestampAuthority, *urls: str) -> TimestampClient:
    return TimestampClient(urls or (tsa.url,), load_certificates(tsa.root_pem), timeout_seconds=10)


async def test_a_granted_timestamp_is_verified_and_checks_with_openssl(tsa: TimestampAuthority, tmp_path: Path):
    stamp = await client(tsa).timestamp(DATA)
    assert stamp.tsa_url == tsa.url and stamp.serial_number > 0 and stamp.policy == "1.3.6.1.4.1.99999.1"
    assert b"BEGIN CERTIFICATE" in stamp.chain_pem
    verify_reply(stamp.reply, DATA, load_certificates(tsa.root_pem))  # offline, as archived verify does
    # What a reader in ten years does, with the files the bag keeps (README.txt explains it).
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "t.tsr").write_bytes(stamp.reply)
    (tmp_path / "chain.pem").write_bytes(stamp.chain_pem)
    result = subprocess.run(
        ["openssl", "ts", "-verify", "-in", "t.tsr", "-data", "data", "-CAfile", "chain.pem"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert "Verification: OK" in result.stdout, result.stdout + result.stderr


async def test_the_reply_proves_this_data_only(tsa: TimestampAuthority):
    stamp = await client(tsa).timestamp(DATA)
    with pytest.raises(TimestampInvalid, match="does not verify"):
        verify_reply(stamp.reply, DATA + b"changed", load_certificates(tsa.root_pem))


async def test_a_reply_from_an_untrusted_root_is_refused(tsa: TimestampAuthority, tmp_path: Path):
    refused = pytest.raises(TimestampInvalid, match="no time-stamping authority gave a valid timestamp")
    with TimestampAuthority(tmp_path / "other") as stranger, refused:
        await TimestampClient([stranger.url], load_certificates(tsa.root_pem)).timestamp(DATA)


async def test_a_corrupted_signature_is_refused(tsa: TimestampAuthority):
    tsa.corrupt()
    with pytest.raises(TimestampInvalid):
        await client(tsa).timestamp(DATA)


async def test_a_token_over_other_data_is_refused(tsa: TimestampAuthority):
    tsa.reply_for_other_data()
    with pytest.raises(TimestampInvalid, match="does not verify"):
        await client(tsa).timestamp(DATA)


async def test_an_outage_is_recoverable_and_the_next_tsa_is_asked(tsa: TimestampAuthority, tmp_path: Path):
    with TimestampAuthority(tmp_path / "second") as second:
        roots = load_certificates(tsa.root_pem) + load_certificates(second.root_pem)
        tsa.fail_with(503)
        stamp = await TimestampClient([tsa.url, second.url], roots).timestamp(DATA)
        assert stamp.tsa_url == second.url
        second.fail_with(500)
        with pytest.raises(TsaUnavailable, match="HTTP 503.*HTTP 500") as caught:
            await TimestampClient([tsa.url, second.url], roots).timestamp(DATA)
        assert caught.value.recoverable


async def test_an_unreachable_tsa_is_an_outage(tsa: TimestampAuthority):
    with pytest.raises(TsaUnavailable, match="ConnectError"):
        await client(tsa, "http://127.0.0.1:9/").timestamp(DATA)


async def test_a_reply_with_its_chain_in_chain_order_is_read(tsa: TimestampAuthority):
    """OpenSSL (like Microsoft's and Bouncy Castle's TSAs) sends the certificate set in chain order, which BER allows
    and DER does not; the strict parser is given the set in DER order, the archive keeps the TSA's own bytes."""
    stamp = await client(tsa).timestamp(DATA)
    assert _der_ordered(stamp.reply) != stamp.reply  # this TSA's set is not in DER order
    assert sorted(_der_ordered(stamp.reply)) == sorted(stamp.reply)  # the same bytes, reordered
    assert stamp.chain_pem.count(b"BEGIN CERTIFICATE") == 2  # the TSA's certificate and the root
