"""The async HTTP client of Moodle's REST web services and file endpoints.

`MoodleClient` is the only code that speaks HTTP to Moodle. It encodes parameters the PHP way, caps concurrent
requests and their rate (exam-time load), retries transient failures with exponential backoff and jitter, turns
every failure into a typed error, and downloads files with a size limit and a SHA-256. It knows nothing of the
daemon's configuration: the caller passes the URL, the token and the limits.

Time limits are deadlines, not per-read timeouts: a REST call (sending, waiting, reading the whole answer) must
finish within `timeout`; a download must get its answer headers within `timeout`, then keep up a minimum
transfer rate and finish within an overall cap (`TransferLimits`). A server that trickles bytes cannot hold a
job for longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from archived import __version__
from archived.errors import ArchivedError
from archived.moodle.errors import (
    FileTooLargeError,
    MoodleHttpError,
    MoodleTimeoutError,
    MoodleUnavailableError,
    describe_request,
    error_from_payload,
)
from archived.moodle.files import DEFAULT_MAX_BYTES, FetchedFile, filename_from_disposition
from archived.moodle.pacing import Backoff, RateLimiter
from archived.moodle.params import encode_params, form_body
from archived.moodle.redact import Secret, install_log_redaction, redact
from archived.moodle.responses import decode_json, is_ajax_error, rest_result, status_error
from archived.moodle.transfer import TransferLimits, TransferWatch
from archived.moodle.urls import SiteUrls, is_loopback_host

log = logging.getLogger("archived.moodle")

DEFAULT_USER_AGENT = f"archived/{__version__}"
_ERROR_BODY_LIMIT = 64 * 1024
_WRITE_CHUNK = 1024 * 1024
T = TypeVar("T")


class MoodleClient:
    """Typed async access to one Moodle site's REST web services with one token.

    Use as `async with MoodleClient(url, token) as client: await client.call("core_webservice_get_site_info")`
    or call `aclose()` when done. `requests_per_second <= 0` disables rate limiting. `site_url` is Moodle's own
    wwwroot when the daemon reaches the site under another address: file URLs under it are moved onto `base_url`.
    `verify` is passed to httpx (False, a CA bundle path, or an `ssl.SSLContext`). `timeout` is the deadline of a
    whole REST call and of a download's answer headers; `transfer` bounds a download's body. A plain `http://`
    URL is refused unless it is loopback or `allow_insecure_http` is set: the token would travel in clear text.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        max_concurrent: int = 4,
        requests_per_second: float = 20.0,
        timeout: float = 60.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        user_agent: str = DEFAULT_USER_AGENT,
        site_url: str | None = None,
        backoff_max: float = 30.0,
        verify: bool | str | ssl.SSLContext = True,
        transfer: TransferLimits | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        token = (token or "").strip()
        if not token:
            raise ValueError("the Moodle web-service token is empty")
        if any(ch.isspace() for ch in token):
            raise ValueError("the Moodle web-service token contains whitespace; check the token file")
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if retries < 0:
            raise ValueError("retries must not be negative")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._urls = SiteUrls(base_url, site_url)
        if self.insecure and not allow_insecure_http:
            raise ValueError(
                f"the Moodle URL {self._urls.base_url} is plain http:// on a host that is not this machine: the "
                "web-service token would travel in clear text. Use https://, or allow it explicitly."
            )
        self._token = Secret(token)
        self.max_concurrent = max_concurrent
        self.requests_per_second = requests_per_second
        self.timeout = timeout
        self.transfer = transfer or TransferLimits()
        self.retries = retries
        self._semaphore = asyncio.Semaphore(max_concurrent)
        self._limiter = RateLimiter(requests_per_second)
        self._backoff = Backoff(backoff_base, cap=backoff_max)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, "Accept": "application/json, */*;q=0.5"},
            follow_redirects=False,  # a redirect could carry the token to another host
            limits=httpx.Limits(max_connections=max_concurrent, max_keepalive_connections=max_concurrent),
            verify=verify,
        )
        install_log_redaction()

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def __aenter__(self) -> MoodleClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def __repr__(self) -> str:
        return (
            f"MoodleClient(base_url={self.base_url!r}, max_concurrent={self.max_concurrent}, "
            f"requests_per_second={self.requests_per_second}, timeout={self.timeout}, retries={self.retries})"
        )

    # -- site URLs ------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The configured site root (no trailing slash)."""
        return self._urls.base_url

    @property
    def insecure(self) -> bool:
        """True when the site is plain `http://` on a host other than this machine (the token is not encrypted)."""
        parts = httpx.URL(self._urls.base_url)
        return parts.scheme == "http" and not is_loopback_host(parts.host)

    @property
    def site_aliases(self) -> tuple[str, ...]:
        """Other roots whose URLs count as this site (Moodle's wwwroot when it differs from `base_url`)."""
        return self._urls.aliases

    def add_site_alias(self, site_url: str) -> None:
        """Treat URLs under `site_url` (the `siteurl` Moodle reports) as this site's URLs."""
        self._urls.add_alias(site_url)

    def file_url(self, url: str) -> str:
        """The downloadable, tokenised URL for a file URL from a response or question HTML.

        HTML-unescapes, rewrites `/pluginfile.php/` (also the `?file=` form and `tokenpluginfile.php`) to
        `/webservice/pluginfile.php/`, keeps other query parameters and sets `token=`. Non-file URLs on the
        site come back untokenised; URLs on other hosts raise `ForeignUrlError`.
        """
        return self._urls.file_url(url, self._token.reveal())

    def redact(self, text: str) -> str:
        """`text` with this client's token (and any `token=` value) replaced by ***, for logs and messages."""
        return redact(text, self._token.reveal())

    # -- REST -----------------------------------------------------------------------------------------------

    async def call(self, function: str, params: Mapping[str, Any] | None = None, *, retries: int | None = None) -> Any:
        """Call a web-service function and return its decoded JSON result.

        Raises a `MoodleError` subclass for Moodle's error answers and the transport errors of
        `archived.moodle.errors`; recoverable failures are retried up to `retries` times (default: the
        client's) before they are raised.
        """
        body = form_body(encode_params(function, params, self._token.reveal()))
        what = describe_request(function, params)

        async def once() -> Any:
            async with self._slot():
                started = time.monotonic()
                log.debug("calling %s", function)
                try:
                    # One deadline for the whole exchange: httpx's timeouts are per read, and a trickling
                    # answer would reset them forever.
                    async with asyncio.timeout(self.timeout):
                        response = await self._http.post(
                            self._urls.rest_url,
                            content=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"},
                            follow_redirects=False,
                        )
                except TimeoutError:
                    raise self._deadline_error(what) from None
                except httpx.TransportError as exc:
                    raise self._transport_error(exc, what) from exc
                log.debug(
                    "%s answered HTTP %d, %d bytes in %.3f s",
                    function,
                    response.status_code,
                    len(response.content),
                    time.monotonic() - started,
                )
            return rest_result(
                response.status_code,
                response.headers,
                response.content,
                site=self.base_url,
                function=function,
                params=params,
                what=what,
            )

        return await self._retrying(what, once, self.retries if retries is None else retries)

    # -- files ----------------------------------------------------------------------------------------------

    async def fetch_file(self, url: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> FetchedFile:
        """Fetch a file (an image for the renderer, an attachment) into memory, at most `max_bytes` bytes."""
        target = self.file_url(url)
        shown = self.redact(target)

        async def once() -> FetchedFile:
            chunks: list[bytes] = []

            async def keep(chunk: bytes) -> None:
                chunks.append(chunk)

            size, digest, content_type, filename, sha1, etag = await self._stream_file(target, shown, max_bytes, keep)
            return FetchedFile(
                url=shown,
                size=size,
                sha256=digest,
                content_type=content_type,
                filename=filename,
                content=b"".join(chunks),
                sha1=sha1,
                etag=etag,
            )

        return await self._retrying(f"downloading {shown}", once, self.retries)

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> FetchedFile:
        """Stream a file to `dest` (temp file + rename; nothing is left behind on failure), with SHA-256."""
        target = self.file_url(url)
        shown = self.redact(target)
        dest = Path(dest)

        async def once() -> FetchedFile:
            await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
            fd, temp_name = await asyncio.to_thread(
                tempfile.mkstemp, dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"
            )
            temp = Path(temp_name)
            handle = os.fdopen(fd, "wb")
            pending = bytearray()

            async def write(chunk: bytes) -> None:
                pending.extend(chunk)
                if len(pending) >= _WRITE_CHUNK:
                    data = bytes(pending)
                    pending.clear()
                    await asyncio.to_thread(handle.write, data)

            try:
                try:
                    size, digest, content_type, filename, sha1, etag = await self._stream_file(
                        target, shown, max_bytes, write
                    )
                    if pending:
                        await asyncio.to_thread(handle.write, bytes(pending))
                    await asyncio.to_thread(_flush_and_sync, handle)
                finally:
                    handle.close()
                await asyncio.to_thread(os.replace, temp, dest)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            log.debug("downloaded %d bytes to %s", size, dest)
            return FetchedFile(
                url=shown,
                size=size,
                sha256=digest,
                content_type=content_type,
                filename=filename,
                path=dest,
                sha1=sha1,
                etag=etag,
            )

        return await self._retrying(f"downloading {shown}", once, self.retries)

    async def _stream_file(
        self, target: str, shown: str, max_bytes: int, sink: Callable[[bytes], Awaitable[None]]
    ) -> tuple[int, str, str | None, str | None, str, str | None]:
        """GET a file and feed its bytes to `sink`; returns (size, sha256, content type, file name, sha1, ETag).

        The answer headers must arrive within `timeout`; the body must keep up the minimum rate of `transfer`
        and the whole download must end within its overall cap.
        """
        what = f"downloading {shown}"
        loop = asyncio.get_running_loop()
        async with self._slot():
            log.debug("fetching %s", shown)
            started = loop.time()
            cap_at = started + self.transfer.total_seconds
            try:
                request = self._http.build_request("GET", target)
                try:
                    async with asyncio.timeout_at(min(started + self.timeout, cap_at)):
                        # Never follow a redirect: the Location could be anywhere, and the token is in the URL.
                        response = await self._http.send(request, stream=True, follow_redirects=False)
                except TimeoutError:
                    raise self._deadline_error(what) from None
                try:
                    content_type = response.headers.get("content-type")
                    if response.status_code != 200:
                        try:
                            async with asyncio.timeout_at(min(loop.time() + self.timeout, cap_at)):
                                body = await _read_limited(response, _ERROR_BODY_LIMIT)
                        except TimeoutError:
                            raise self._deadline_error(what) from None
                        raise self._file_error(response.status_code, response.headers, body, shown)
                    declared = response.headers.get("content-length")
                    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                        raise _too_large(shown, max_bytes, int(declared))
                    digest = hashlib.sha256()
                    # Moodle's pluginfile.php sends the stored file's SHA-1 as its ETag: callers can check both.
                    sha1 = hashlib.sha1(usedforsecurity=False)
                    size = 0
                    is_json = bool(content_type) and "json" in (content_type or "").lower()
                    held: list[bytes] = []
                    watch = TransferWatch(self.transfer, loop.time())
                    chunks = response.aiter_bytes()
                    while True:
                        try:
                            async with asyncio.timeout_at(watch.deadline()):
                                chunk = await anext(chunks)
                        except StopAsyncIteration:
                            break
                        except TimeoutError:
                            raise self._slow_download_error(watch, loop.time(), shown) from None
                        watch.add(len(chunk), loop.time())
                        size += len(chunk)
                        if size > max_bytes:
                            raise _too_large(shown, max_bytes, None)
                        digest.update(chunk)
                        sha1.update(chunk)
                        if is_json and size <= _ERROR_BODY_LIMIT:
                            # File endpoints report errors as HTTP 200 + AJAX JSON: hold small JSON back.
                            held.append(chunk)
                            continue
                        if held:
                            for piece in held:
                                await sink(piece)
                            held.clear()
                        await sink(chunk)
                    if held:
                        body = b"".join(held)
                        payload = _json_or_none(body)
                        if is_ajax_error(payload):
                            raise error_from_payload(payload, site=self.base_url, url=shown)
                        await sink(body)
                    filename = filename_from_disposition(response.headers.get("content-disposition"))
                    etag = response.headers.get("etag")
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                # `from None`: httpx exceptions carry the request, whose URL holds the token.
                raise self._transport_error(exc, what) from None
        return size, digest.hexdigest(), content_type, filename, sha1.hexdigest(), etag

    def _file_error(self, status: int, headers: Mapping[str, str], body: bytes, shown: str) -> ArchivedError:
        payload = _json_or_none(body)
        if is_ajax_error(payload):
            return error_from_payload(payload, site=self.base_url, url=shown)
        if status == 404:
            return error_from_payload(
                {"error": "HTTP 404 with a non-JSON body", "errorcode": "filenotfound"},
                site=self.base_url,
                url=shown,
            )
        failure = status_error(status, headers, body, site=self.base_url, what=f"downloading {shown}")
        return failure or MoodleHttpError(f"Unexpected HTTP {status} while downloading {shown}.", status=status)

    # -- plumbing -------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """Hold one of the `max_concurrent` request slots, started no faster than the rate limit allows."""
        async with self._semaphore:
            await self._limiter.acquire()
            yield

    async def _retrying(self, what: str, once: Callable[[], Awaitable[T]], retries: int) -> T:
        attempt = 0
        while True:
            try:
                return await once()
            except ArchivedError as exc:
                # Answers can echo the token anywhere (a redirect's Location, an error page): not in messages.
                if exc.args and isinstance(exc.args[0], str):
                    exc.args = (self.redact(exc.args[0]), *exc.args[1:])
                if not exc.recoverable:
                    raise
                if attempt >= retries:
                    if attempt:
                        exc.args = (f"{exc.args[0]} Gave up after {attempt + 1} attempts.", *exc.args[1:])
                    raise
                delay = self._backoff.delay(attempt, getattr(exc, "retry_after", None))
                attempt += 1
                log.info("%s failed (%s); retry %d of %d in %.2f s", what, exc.code, attempt, retries, delay)
                await asyncio.sleep(delay)

    def _deadline_error(self, what: str) -> MoodleTimeoutError:
        return MoodleTimeoutError(
            self.redact(
                f"Moodle at {self.base_url} did not answer within {self.timeout:g} s while {what}: the whole "
                f"request must finish within the time limit (timeout_seconds = {self.timeout:g} in [moodle]). The "
                "request is retried; if Moodle is this slow under load, raise the limit or lower the concurrency."
            )
        )

    def _slow_download_error(self, watch: TransferWatch, now: float, shown: str) -> MoodleTimeoutError:
        limits = watch.limits
        got = f"{watch.received} bytes received in {now - watch.started:.0f} s"
        if watch.over_time(now):
            text = (
                f"The download of {shown} from Moodle at {self.base_url} did not finish within "
                f"{limits.total_seconds:g} s ({got}; download_timeout_seconds = {limits.total_seconds:g} in "
                "[moodle]). The download is retried; raise download_timeout_seconds if files this large are "
                "expected over this connection."
            )
        else:
            text = (
                f"The download of {shown} from Moodle at {self.base_url} was too slow: below the minimum of "
                f"{limits.min_bytes_per_second:g} bytes/s over {limits.window_seconds:g} s ({got}; "
                f"download_min_bytes_per_second = {limits.min_bytes_per_second:g} in [moodle]). The download is "
                "retried; if the site or the network is this slow, lower download_min_bytes_per_second."
            )
        return MoodleTimeoutError(self.redact(text))

    def _transport_error(self, exc: httpx.TransportError, what: str) -> ArchivedError:
        detail = self.redact(f"{type(exc).__name__}: {exc}".rstrip(": "))
        site = self.base_url
        if isinstance(exc, httpx.TimeoutException):
            return MoodleTimeoutError(
                f"Moodle at {site} did not answer within {self.timeout:g} s while {what} ({detail}). The request "
                f"is retried; if Moodle is this slow under load, raise the time limit (timeout_seconds = "
                f"{self.timeout:g} in [moodle]) or lower the concurrency."
            )
        text = str(exc)
        if isinstance(exc, httpx.ConnectError) and ("CERTIFICATE" in text.upper() or "SSL" in text.upper()):
            return MoodleHttpError(
                f"The TLS connection to {site} failed while {what} ({detail}). Check the site's certificate, or "
                "configure the CA bundle that signed it."
            )
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            return MoodleHttpError(f"Cannot send the request to {site} while {what} ({detail}).")
        return MoodleUnavailableError(
            f"Could not reach Moodle at {site} while {what} ({detail}). The request is retried; check the "
            "network, DNS and that the site is up."
        )


def _flush_and_sync(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data.extend(chunk)
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def _json_or_none(body: bytes) -> Any:
    try:
        return decode_json(body, site="", what="", function=None)
    except ArchivedError:
        return None


def _too_large(shown: str, limit: int, size: int | None) -> FileTooLargeError:
    told = f"it is {size} bytes" if size is not None else "it is larger"
    return FileTooLargeError(
        f"The file {shown} exceeds the size limit of {limit} bytes ({told}); it was not stored. Raise the "
        "file size limit if files of this size are expected.",
        limit=limit,
        size=size,
    )


__all__ = ["DEFAULT_USER_AGENT", "FetchedFile", "MoodleClient"]
