"""How an S3 failure reaches the engine: one fact (may it be retried?) and a message that names the target.

Throttling, 5xx answers, resets and timeouts become `S3Unavailable` (a `StorageUnavailable`, retried with backoff);
access denied, a missing bucket, bad credentials, a refused lock or a TLS failure become `S3Refused` (a
`FatalError`), with what to do next. Both carry the server's error code and HTTP status for the driver's own
decisions (404, 412, NotImplemented).

Secrets: the message is built from the error code, the server's message and the exception's text, each passed
through `redact`, which removes the target's secret key and session token (a server may echo a token) and control
characters (a server is not trusted to send printable text). The botocore exception is not kept: the errors are
raised outside the `except` block that caught it, so neither `__cause__` nor `__context__` leads back to it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import aiohttp
import botocore.exceptions as bce

from archived.errors import FatalError
from archived.interfaces.storage import StorageUnavailable

TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",  # a conflicting operation on the same bucket or key is in progress
        "ConditionalRequestConflict",  # a concurrent conditional write to the same key: try again
        "NoSuchUpload",  # our multipart upload was aborted under us (another store of the same name tidied up)
        "BadDigest",  # the bytes arrived altered: the network, not the archive
        "XAmzContentSHA256Mismatch",
    }
)

HINTS = {
    "AccessDenied": "the credentials lack the permission for this on bucket {bucket}; check its bucket/IAM policy",
    "403": "the credentials lack the permission for this on bucket {bucket}; check its bucket/IAM policy",
    "AllAccessDisabled": "access to bucket {bucket} is disabled by its owner",
    "InvalidAccessKeyId": "the access key id is unknown to the server; check the credentials ({source})",
    "SignatureDoesNotMatch": "the secret key does not match the access key id; check the credentials ({source})",
    "InvalidToken": "the session token is invalid; check the credentials ({source})",
    "ExpiredToken": "the session token has expired; renew the credentials ({source})",
    "NoSuchBucket": "bucket {bucket} does not exist at {endpoint}; check bucket, endpoint_url and region",
    "PermanentRedirect": "bucket {bucket} lives in another region; check region",
    "AuthorizationHeaderMalformed": "the server expects another region; check region",
    "RequestTimeTooSkewed": "this machine's clock differs from the server's; synchronise it (NTP)",
    "InvalidBucketState": "the bucket's state refuses this (versioning or Object Lock); check the bucket's setup",
    "LockNotEnabled": "bucket {bucket} has no Object Lock; enable it on the bucket or remove lock_mode/legal_hold",
}

# botocore's own texts of these repeat the whole request URL; the words say what happened.
NETWORK_WORDS: tuple[tuple[type[Exception], str], ...] = (
    (bce.ConnectTimeoutError, "no connection within connect_timeout_seconds"),
    (bce.ReadTimeoutError, "no answer within read_timeout_seconds"),
    (bce.EndpointConnectionError, "could not connect to the server"),
    (bce.ProxyConnectionError, "could not connect through the proxy"),
    (bce.ConnectionClosedError, "the connection broke before the answer"),
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Context:
    """What a message names: the target, its bucket and endpoint, where the credentials came from, the secrets."""

    target: str
    bucket: str
    endpoint: str
    source: str
    secrets: tuple[str, ...]


class S3Failure(Exception):
    """What the driver knows about a failed request besides the message (a base to catch both kinds)."""

    s3_code: str = ""
    status: int | None = None


class S3Unavailable(StorageUnavailable, S3Failure):
    """A transient S3 failure (throttling, 5xx, reset, timeout): the engine retries the stage."""


class S3Refused(FatalError, S3Failure):
    """A permanent S3 failure (access denied, no such bucket, bad credentials, lock refused, TLS)."""


def redact(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """`text` without the secrets and control characters, at most 400 characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= 400 else text[:399] + "…"


def translate(exc: BaseException, context: Context, doing: str) -> S3Unavailable | S3Refused | None:
    """`exc` as the error the engine sees, or None if it is no S3 or network failure (a bug: let it through)."""
    code, status, detail, transient = _classify(exc, context.endpoint)
    if code is None:
        return None
    hint = HINTS.get(code, "")
    if code == "AccessDenied" and doing.startswith("deleting"):
        hint = "the server refused the deletion (an Object Lock or a policy); " + hint
    hint = hint.format(bucket=context.bucket, endpoint=context.endpoint, source=context.source)
    what = f"storage target {context.target}: {doing} failed: {detail}"
    message = f"{what}; will be retried" if transient else f"{what}; {hint}" if hint else what
    error: S3Unavailable | S3Refused = (S3Unavailable if transient else S3Refused)(redact(message, context.secrets))
    error.s3_code, error.status = code, status
    return error


def _classify(exc: BaseException, endpoint: str) -> tuple[str | None, int | None, str, bool]:
    """(code, HTTP status, human detail, transient) of an exception; code None if it is not ours to translate."""
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {}) or {}
        meta = exc.response.get("ResponseMetadata", {}) or {}
        status = meta.get("HTTPStatusCode")
        code = str(error.get("Code") or status or "Unknown")
        message = str(error.get("Message") or "")
        detail = f"{code} (HTTP {status})" + (f": {message}" if message else "")
        transient = code in TRANSIENT_CODES or (isinstance(status, int) and (status >= 500 or status in (408, 429)))
        if code.startswith("KMS."):
            detail += "; check kms_key_id and the key's policy"
        return code, status, detail, transient
    if isinstance(exc, bce.SSLError):
        return "TLS", None, f"TLS failed ({exc}); set ca_file to the CA bundle of an internal authority", False
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return "NoCredentials", None, "no usable credentials", False
    for kind, words in NETWORK_WORDS:
        if isinstance(exc, kind):
            return "Network", None, f"{words} at {endpoint} ({type(exc).__name__})", True
    if isinstance(exc, bce.ConnectionError | bce.HTTPClientError):
        return "Network", None, f"{type(exc).__name__}: {exc}", True
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError | TimeoutError):
        return "Network", None, f"{type(exc).__name__}: {exc}", True
    if isinstance(exc, bce.ParamValidationError):
        return "InvalidParameters", None, str(exc), False
    if isinstance(exc, bce.BotoCoreError):
        return "Client", None, f"{type(exc).__name__}: {exc}", False
    return None, None, "", False
