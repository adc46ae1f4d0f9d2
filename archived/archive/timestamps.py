"""RFC 3161 timestamps: ask a time-stamping authority (TSA) to sign the hash of a bag's tag manifest, and check
what it answered before anything relies on it.

A reply is kept only if it proves what it must, checked at once by rfc3161-client: status granted, our nonce,
the message imprint of our data, a valid signature of a certificate that chains to the configured roots (at the
time the TSA states), and the timeStamping extended key usage (critical). The reply (DER) and the certificate
chain (PEM) then go into the bag under `timestamps/`, so that anyone can check them later with
`openssl ts -verify`, without archived and without the TSA.

Several TSAs may be configured, tried in order. A TSA that cannot be reached, answers an HTTP error or
refuses is an outage (`TsaUnavailable`, recoverable); a TSA whose reply fails the checks is not trusted, and the
next one is tried; if none gives a valid reply the error says what each one did.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from archived.archive.bag import TIMESTAMP_FOLDER
from archived.config import TimestampConfig, read_secret
from archived.errors import ConfigError, FatalError, RecoverableError

REQUEST_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
# In a bag: `timestamps/<file>.tsr` proves `<file>` (the SHA-512 tag manifest), `<file>.chain.pem` checks it.
TOKEN_SUFFIX = ".tsr"
CHAIN_SUFFIX = ".chain.pem"
STAMPED_FILE = "tagmanifest-sha512.txt"


class TsaUnavailable(RecoverableError):
    """No configured TSA answered (network, HTTP error, refusal); the stage is retried with backoff."""

    code = "tsa_unavailable"


class TimestampInvalid(FatalError):
    """A timestamp reply does not prove what it must (signature, chain, imprint, nonce, usage)."""

    code = "timestamp_invalid"


@dataclass(frozen=True)
class Timestamp:
    """A verified timestamp: the TSA's reply (DER), who gave it, when it says, and the chain that checks it."""

    tsa_url: str
    reply: bytes
    gen_time: datetime
    serial_number: int
    policy: str
    chain_pem: bytes

    def describe(self) -> str:
        """One line for logs and job records."""
        return f"{self.gen_time.isoformat()} by {self.tsa_url} (serial {self.serial_number}, policy {self.policy})"


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every PEM certificate in a file (a CA bundle); raises ValueError when there is none."""
    certificates = x509.load_pem_x509_certificates(path.read_bytes())
    if not certificates:
        raise ValueError(f"{path} holds no PEM certificate")
    return certificates


def verify_reply(
    reply: bytes,
    data: bytes,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    *,
    nonce: int | None = None,
) -> TimeStampResponse:
    """Check a stored or fresh reply over `data`; raises `TimestampInvalid` naming what failed."""
    try:
        response = decode_timestamp_response(_der_ordered(reply))
    except ValueError as exc:
        raise TimestampInvalid(f"not an RFC 3161 timestamp reply: {exc}") from None
    builder = VerifierBuilder(roots=list(roots), intermediates=list(intermediates))
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify_message(response, data)
    except (VerificationError, ValueError) as exc:
        raise TimestampInvalid(f"the timestamp does not verify: {exc}") from None
    return response


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at `at`."""
    tag = data[at]
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4:
            raise ValueError("not DER (indefinite or oversized length)")
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    end = start + length
    if end > len(data):
        raise ValueError("truncated")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(tag, element start, element end) of each element inside `data[start:end]`."""
    children = []
    at = start
    while at < end:
        tag, _, stop = _tlv(data, at)
        children.append((tag, at, stop))
        at = stop
    return children


def _der_ordered(reply: bytes) -> bytes:
    """The reply with the token's certificate set in DER order; everything else byte for byte.

    Many TSAs (OpenSSL with a chain, Microsoft's, Bouncy Castle's) send the certificates of the SignedData in chain
    order, which BER allows but DER does not, and rfc3161-client's parser insists on DER. The set is not covered by
    the signature, so ordering it changes nothing that is verified; lengths stay the same. The reply kept in the
    archive is the TSA's original.
    """
    try:
        _, body, body_end = _tlv(reply, 0)  # TimeStampResp
        parts = _children(reply, body, body_end)
        if len(parts) < 2:
            return reply  # no token: the verifier reports the status
        _, token, token_end = parts[1]  # ContentInfo
        content = _children(reply, _tlv(reply, token)[1], token_end)
        _, explicit, _ = content[1]  # [0] EXPLICIT SignedData
        _, signed, signed_end = _tlv(reply, _tlv(reply, explicit)[1])
        for tag, at, _stop in _children(reply, signed, signed_end):
            if tag == 0xA0:  # certificates [0] IMPLICIT SET OF CertificateChoices
                _, start, end = _tlv(reply, at)
                items = sorted(reply[a:b] for _, a, b in _children(reply, start, end))
                return reply[:start] + b"".join(items) + reply[end:]
    except (IndexError, ValueError):
        pass  # not the shape we know: let the parser say what is wrong
    return reply


def chain_pem(response: TimeStampResponse, roots: Sequence[x509.Certificate]) -> bytes:
    """The certificates a later reader needs: those in the reply (the TSA's own first) and the trusted roots."""
    embedded = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    seen: set[bytes] = set()
    pems = []
    for certificate in [*embedded, *roots]:
        der = certificate.public_bytes(Encoding.DER)
        if der not in seen:
            seen.add(der)
            pems.append(certificate.public_bytes(Encoding.PEM))
    return b"".join(pems)


class TimestampClient:
    """Asks the configured TSAs, in order, for a verified timestamp over some data (SHA-512)."""

    def __init__(
        self,
        urls: Sequence[str],
        roots: Sequence[x509.Certificate],
        *,
        intermediates: Sequence[x509.Certificate] = (),
        auth: tuple[str, str] | None = None,
        timeout_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one TSA URL is needed")
        if not roots:
            raise ValueError("at least one trusted root certificate is needed to check TSA replies")
        self.urls = list(urls)
        self.roots = list(roots)
        self.intermediates = list(intermediates)
        self._auth = auth
        self._timeout = timeout_seconds
        self._transport = transport

    @property
    def secrets(self) -> list[str]:
        """What logs and messages must never show (the TSA password)."""
        return [self._auth[1]] if self._auth else []

    async def timestamp(self, data: bytes) -> Timestamp:
        """A verified timestamp over `data` from the first TSA that gives one."""
        request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA512).nonce(nonce=True)
        query = request.cert_request(cert_request=True).build()
        outages: list[str] = []
        rejections: list[str] = []
        async with httpx.AsyncClient(
            timeout=self._timeout, auth=self._auth, transport=self._transport, follow_redirects=False
        ) as http:
            for url in self.urls:
                try:
                    answer = await http.post(url, content=query.as_bytes(), headers={"Content-Type": REQUEST_TYPE})
                except httpx.HTTPError as exc:
                    outages.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                if answer.status_code != 200:
                    outages.append(f"{url}: HTTP {answer.status_code}")
                    continue
                try:
                    response = verify_reply(answer.content, data, self.roots, self.intermediates, nonce=query.nonce)
                except TimestampInvalid as exc:
                    rejections.append(f"{url}: {exc}")
                    continue
                info = response.tst_info
                return Timestamp(
                    tsa_url=url,
                    reply=answer.content,
                    gen_time=info.gen_time.astimezone(UTC),
                    serial_number=info.serial_number,
                    policy=info.policy.dotted_string,
                    chain_pem=chain_pem(response, self.roots),
                )
        if outages:
            raise TsaUnavailable("no time-stamping authority answered: " + "; ".join(outages + rejections))
        raise TimestampInvalid("no time-stamping authority gave a valid timestamp: " + "; ".join(rejections))


def client_from_config(config: TimestampConfig) -> TimestampClient | None:
    """The client `[timestamp]` describes (None when no TSA is configured); errors name the key."""
    if not config.tsa_urls:
        return None
    assert config.ca_file is not None  # the configuration requires it with tsa_urls
    try:
        roots = load_certificates(config.ca_file)
        intermediates = load_certificates(config.intermediates_file) if config.intermediates_file else []
    except (OSError, ValueError) as exc:
        raise ConfigError(f"timestamp.ca_file / intermediates_file: {exc}") from None
    auth = None
    if config.username is not None:
        password = read_secret(file=config.password_file, env=None, what="timestamp.password_file")
        auth = (config.username, password)
    return TimestampClient(
        config.tsa_urls, roots, intermediates=intermediates, auth=auth, timeout_seconds=config.timeout_seconds
    )


def timestamp_files(stamp: Timestamp) -> dict[str, bytes]:
    """The files a bag carries for a timestamp over its SHA-512 tag manifest (see `bag.build_bag_zip`)."""
    return {
        f"{TIMESTAMP_FOLDER}/{STAMPED_FILE}{TOKEN_SUFFIX}": stamp.reply,
        f"{TIMESTAMP_FOLDER}/{STAMPED_FILE}{CHAIN_SUFFIX}": stamp.chain_pem,
    }


def imprint_of(data: bytes) -> str:
    """The SHA-512 a timestamp over `data` carries (hex), for logs and reports."""
    return hashlib.sha512(data).hexdigest()
