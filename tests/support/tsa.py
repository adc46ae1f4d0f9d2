"""A real RFC 3161 time-stamping authority on loopback: `openssl ts -reply` behind a small HTTP server.

`TimestampAuthority(folder)` makes a root CA and a TSA certificate (critical extended key usage timeStamping)
with `cryptography`, writes the `openssl ts` configuration, and serves `POST /` (application/timestamp-query →
application/timestamp-reply) in a thread. Knobs for tests: `fail_with(status)` answers HTTP errors, `corrupt()`
flips a byte of the signature, `reply_for_other_data()` answers with a token over other data, `heal()` restores.
`requests` counts the queries it received.
"""

from __future__ import annotations

import datetime
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = yes
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder: Path, *, valid_for: datetime.timedelta = datetime.timedelta(days=3650)) -> None:
    """root.pem (a CA), tsa.pem + tsa.key (signed by it, EKU timeStamping, critical), chain.pem (root).

    Names carry the folder's name: two test TSAs must not have roots of the same name (chain building would
    try the wrong one)."""
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(f"archived test root CA {folder.name}"))
        .issuer_name(_name(f"archived test root CA {folder.name}"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(f"archived test TSA {folder.name}"))
        .issuer_name(root.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "root.pem").write_bytes(root.public_bytes(pem))
    (folder / "chain.pem").write_bytes(root.public_bytes(pem))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(pem))
    (folder / "tsa.key").write_bytes(
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "serial").write_text("01\n")


class TimestampAuthority:
    """An `openssl ts` TSA over HTTP on a free loopback port (see the module docstring)."""

    def __init__(self, folder: Path, *, valid_for: datetime.timedelta = datetime.timedelta(days=3650)) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        make_certificates(folder, valid_for=valid_for)
        (folder / "ts.cnf").write_text(OPENSSL_CONFIG.format(folder=folder))
        self.root_pem = folder / "root.pem"
        self.requests = 0
        self._failure: int | None = None
        self._corrupt = False
        self._other_data = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="tsa", daemon=True)

    def __enter__(self) -> TimestampAuthority:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def tsa_certificate(self) -> x509.Certificate:
        """The TSA's own certificate (the one that signs)."""
        return x509.load_pem_x509_certificate((self.folder / "tsa.pem").read_bytes())

    def fail_with(self, status: int) -> None:
        """Answer every query with this HTTP status."""
        with self._lock:
            self._failure = status

    def corrupt(self) -> None:
        """Sign correctly, then flip a byte near the end of the reply (inside the signature)."""
        with self._lock:
            self._corrupt = True

    def reply_for_other_data(self) -> None:
        """Answer with a valid token over other data (a wrong message imprint, nonce kept)."""
        with self._lock:
            self._other_data = True

    def heal(self) -> None:
        """Answer correctly again."""
        with self._lock:
            self._failure, self._corrupt, self._other_data = None, False, False

    def reply(self, query: bytes) -> bytes:
        """The DER time-stamp reply to a DER query, as the TSA makes it."""
        with self._lock:
            other = self._other_data
        if other:
            query = _query_with_other_imprint(query)
        with tempfile.TemporaryDirectory() as work:
            query_file, reply_file = Path(work, "q.tsq"), Path(work, "r.tsr")
            query_file.write_bytes(query)
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.folder / "ts.cnf"), "-queryfile", str(query_file),
                 "-out", str(reply_file)],
                check=True, capture_output=True,
            )  # fmt: skip
            return reply_file.read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with tsa._lock:
                    tsa.requests += 1
                    failure, corrupt = tsa._failure, tsa._corrupt
                if failure is not None:
                    self.send_response(failure)
                    self.end_headers()
                    return
                data = tsa.reply(body)
                if corrupt:
                    data = data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:]
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def _query_with_other_imprint(query: bytes) -> bytes:
    """The same query over other data: the hash bytes of the message imprint are flipped (same length)."""
    digest_length = 64 if b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03" in query else 32
    marker = bytes([0x04, digest_length])
    start = query.index(marker) + 2
    flipped = bytes(b ^ 0xFF for b in query[start : start + digest_length])
    return query[:start] + flipped + query[start + digest_length :]
