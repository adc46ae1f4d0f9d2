"""Timestamp renewal (evidence renewal): a fresh RFC 3161 timestamp over the previous one, made before the previous
one's certificates expire or its algorithms weaken, kept as sidecar files next to the archive ZIP.

The archive's own timestamp (`timestamps/tagmanifest-sha512.txt.tsr` in the bag) is link 0 of a chain; renewal n is
a timestamp over the exact bytes of link n-1's reply, stored beside the ZIP as `<archive>.zip.ts-<n>.tsr` with the
certificates that check it in `<archive>.zip.ts-<n>.chain.pem` (the names sort after the archive's; a WORM target
gets new objects, nothing is rewritten). The chain holds when every renewal verifies over the reply before it and
was made while that reply's certificates were still valid; it then proves the archive until the newest link's
certificates expire. This module names the sidecars and checks a chain; it never touches storage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from rfc3161_client import TimeStampResponse

from archived.archive.timestamps import CHAIN_SUFFIX, TOKEN_SUFFIX, TimestampInvalid, verify_reply

MAX_SIDECAR_BYTES = 1024 * 1024  # a reply or a certificate chain: a few KiB
MAX_RENEWALS = 1000  # decades of renewals fit many times; more sidecars than this are not read


def sidecar_names(object_name: str, number: int) -> tuple[str, str]:
    """The names of renewal `number`'s reply and certificate chain next to the object `object_name`."""
    if number < 1:
        raise ValueError("renewals are numbered from 1 (0 is the archive's own timestamp)")
    return f"{object_name}.ts-{number}{TOKEN_SUFFIX}", f"{object_name}.ts-{number}{CHAIN_SUFFIX}"


@dataclass(frozen=True)
class StampFacts:
    """What a verified timestamp says: when, by whom, and until when its certificates hold."""

    gen_time: datetime
    authority: str
    serial: int
    holds_until: datetime | None  # the earliest expiry along the signer's certificate path; None if unknown


@dataclass
class RenewalLink:
    """One renewal found next to an archive, and what checking it showed."""

    number: int
    reply_file: str
    facts: StampFacts | None = None
    problem: str = ""


@dataclass
class RenewalFindings:
    """The outcome of checking an archive's renewal chain."""

    links: list[RenewalLink] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    holds_until: datetime | None = None  # until when the whole chain (or the archive's own timestamp) proves it

    @property
    def ok(self) -> bool:
        """True when every renewal verified and the chain is unbroken."""
        return not self.problems


def signer_certificate(response: TimeStampResponse) -> x509.Certificate | None:
    """The certificate that signed a timestamp, if the reply carries it."""
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1:
        return None
    wanted = (signers[0].issuer, signers[0].serial_number)
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        if (certificate.issuer, certificate.serial_number) == wanted:
            return certificate
    return None


def holds_until(response: TimeStampResponse, certificates: Sequence[x509.Certificate]) -> datetime | None:
    """The earliest expiry along the signer's certificate path (the signer, then its issuers among `certificates`
    and the reply's own): after that date a verifier can no longer check the timestamp at the present time."""
    signer = signer_certificate(response)
    if signer is None:
        return None
    pool = [*certificates, *(x509.load_der_x509_certificate(der) for der in response.signed_data.certificates)]
    earliest = signer.not_valid_after_utc
    current = signer
    for _ in range(16):  # a path is a handful of certificates long; a loop in a forged set ends here
        if current.issuer == current.subject:
            break
        issuer = next((c for c in pool if c.subject == current.issuer and c != current), None)
        if issuer is None:
            break
        earliest = min(earliest, issuer.not_valid_after_utc)
        current = issuer
    return earliest


def stamp_facts(response: TimeStampResponse, certificates: Sequence[x509.Certificate]) -> StampFacts:
    """The facts of a verified reply."""
    signer = signer_certificate(response)
    authority = ""
    if signer is not None:
        names = signer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        authority = str(names[0].value) if names else signer.subject.rfc4514_string()
    info = response.tst_info
    return StampFacts(
        info.gen_time.astimezone(UTC), authority or "an unnamed TSA", info.serial_number,
        holds_until(response, certificates),
    )  # fmt: skip


def verify_link(
    reply: bytes, stamped: bytes, chain_pem: bytes, tsa_roots: Sequence[x509.Certificate]
) -> tuple[StampFacts, list[x509.Certificate]]:
    """Check one timestamp over `stamped` with the roots given (or the self-signed ones its chain carries); raises
    `TimestampInvalid` naming what failed."""
    try:
        carried = x509.load_pem_x509_certificates(chain_pem) if chain_pem else []
    except ValueError:
        raise TimestampInvalid("its certificate chain is not PEM certificates") from None
    roots = list(tsa_roots) or [c for c in carried if c.issuer == c.subject]
    if not roots:
        raise TimestampInvalid("no root certificate to check it with (its chain carries none; give --tsa-roots)")
    response = verify_reply(reply, stamped, roots, [c for c in carried if c.issuer != c.subject])
    return stamp_facts(response, [*carried, *roots]), [*carried, *roots]


_SIDECAR = re.compile(r"\.ts-([0-9]{1,9})(\.tsr|\.chain\.pem)")


def sidecar_files(folder: Path, archive_name: str) -> dict[int, dict[str, Path]]:
    """Renewal files next to an archive in `folder`: number -> {".tsr": path, ".chain.pem": path}."""
    found: dict[int, dict[str, Path]] = {}
    try:
        entries = list(folder.iterdir())
    except OSError:
        return found
    for entry in entries:
        name = entry.name
        if not name.startswith(archive_name):
            continue
        match = _SIDECAR.fullmatch(name[len(archive_name) :])
        if match is not None:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = entry
    return found


def _read(path: Path) -> tuple[bytes | None, str]:
    try:
        if not path.is_file():
            return None, "not a regular file"
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            return None, f"larger than {MAX_SIDECAR_BYTES // 1024} KiB, not a timestamp"
        return path.read_bytes(), ""
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"


def check_renewals(
    base_reply: bytes | None,
    base_facts: StampFacts | None,
    files: dict[int, dict[str, Path]],
    tsa_roots: Sequence[x509.Certificate] = (),
) -> RenewalFindings:
    """Check the renewal chain of an archive whose own timestamp (`base_reply`, verified, with `base_facts`) is link 0
    and whose renewal files are `files` (see `sidecar_files`)."""
    findings = RenewalFindings(holds_until=base_facts.holds_until if base_facts else None)
    if not files:
        return findings
    if base_reply is None or base_facts is None:
        findings.problems.append("renewal files lie next to the archive, but the archive's own timestamp did not "
                                 "verify, so nothing they renew can be proven")  # fmt: skip
        return findings
    numbers = sorted(files)
    if len(numbers) > MAX_RENEWALS:
        findings.problems.append(f"{len(numbers)} renewal files, more than the {MAX_RENEWALS} the verifier reads")
        return findings
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        findings.problems.append(f"renewal(s) {', '.join(f'ts-{n}' for n in missing)} missing: the chain is broken")
        return findings
    previous_reply, previous = base_reply, base_facts
    for number in numbers:
        pair = files[number]
        token_path, chain_path = pair.get(TOKEN_SUFFIX), pair.get(CHAIN_SUFFIX)
        link = RenewalLink(number, token_path.name if token_path else f"ts-{number}{TOKEN_SUFFIX}")
        findings.links.append(link)
        if token_path is None:
            link.problem = f"ts-{number}: only its certificate chain is there, not the timestamp (.tsr)"
            break
        reply, problem = _read(token_path)
        chain: bytes | None = b""
        if chain_path is not None:
            chain, chain_problem = _read(chain_path)
            if chain is None:
                link.problem = f"{chain_path.name}: {chain_problem}"
                break
        elif not tsa_roots:
            link.problem = f"{token_path.name}: its certificate chain ({CHAIN_SUFFIX}) is missing; give --tsa-roots"
            break
        if reply is None:
            link.problem = f"{token_path.name}: {problem}"
            break
        try:
            facts, _ = verify_link(reply, previous_reply, chain or b"", tsa_roots)
        except TimestampInvalid as exc:
            link.problem = f"{token_path.name} does not renew the timestamp before it: {exc}"
            break
        link.facts = facts
        if facts.gen_time < previous.gen_time:  # the same second is fine: TSAs state whole seconds
            link.problem = f"{token_path.name} is dated {_when(facts.gen_time)}, before the timestamp it renews"
            break
        if previous.holds_until is not None and facts.gen_time > previous.holds_until:
            link.problem = (
                f"{token_path.name} was made at {_when(facts.gen_time)}, after the certificates of the timestamp it "
                f"renews expired ({_when(previous.holds_until)}): the chain is broken there"
            )
            break
        previous_reply, previous = reply, facts
    findings.problems += [link.problem for link in findings.links if link.problem]
    if not findings.problems:
        findings.holds_until = previous.holds_until
    return findings


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
