"""The checksums an upload carries and how a server's answer is compared with ours.

S3 knows two kinds of SHA-256 for an object. A single PUT gets the SHA-256 of the whole object. A multipart upload
gets a *composite* one: the SHA-256 of the concatenated binary SHA-256 digests of its parts, written
`<base64>-<number of parts>` (S3 offers whole-object "full object" checksums only for the CRC algorithms). A
composite matches ours only for the same bytes cut into the same parts, so it proves the parts; the whole-object
SHA-256 of the archive is proven by computing it over the very bytes we sent, part by part, before the upload is
completed, and it travels as the object's metadata (`x-amz-meta-sha256`) for anyone who reads the object later.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

METADATA_KEY = "sha256"  # x-amz-meta-sha256: the archive's whole-object SHA-256, hex


def b64(digest: bytes) -> str:
    """A digest as S3 headers carry it."""
    return base64.b64encode(digest).decode("ascii")


@dataclass
class PartDigests:
    """The digests of one part: SHA-256 for the checksum header, MD5 for Content-MD5 and the ETag."""

    sha256: bytes
    md5: bytes

    @classmethod
    def of(cls, data: bytes) -> PartDigests:
        """Hash one part (hashlib releases the GIL on large buffers: call it in a thread)."""
        return cls(hashlib.sha256(data).digest(), hashlib.md5(data, usedforsecurity=False).digest())


@dataclass
class UploadDigests:
    """What we computed over the bytes we sent: the whole SHA-256 and each part's digests."""

    whole: hashlib._Hash = field(default_factory=hashlib.sha256)
    parts: list[PartDigests] = field(default_factory=list)
    size: int = 0

    def add(self, data: bytes) -> PartDigests:
        """Account one part (blocking: hashes `data` twice more)."""
        self.whole.update(data)
        self.size += len(data)
        part = PartDigests.of(data)
        self.parts.append(part)
        return part

    def composite(self) -> str:
        """The multipart checksum S3 computes from our parts, without its `-N` suffix."""
        return b64(hashlib.sha256(b"".join(p.sha256 for p in self.parts)).digest())


def matches(server_value: str | None, whole_sha256_hex: str, digests: UploadDigests | None) -> bool | None:
    """Whether a server's SHA-256 checksum matches our bytes: True, False, or None when it cannot tell.

    A whole-object value is compared with the archive's SHA-256; a composite (`-N`, or any other value when our
    parts are known) with the composite of our parts. Without our parts, a composite proves nothing here.
    """
    if not server_value:
        return None
    value, _, count = server_value.partition("-")
    whole = b64(bytes.fromhex(whole_sha256_hex))
    if value == whole and not count:
        return True
    if digests is None or not digests.parts:
        return None
    if count and (not count.isdigit() or int(count) != len(digests.parts)):
        return False
    return value == digests.composite()
