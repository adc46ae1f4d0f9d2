"""Turning file URLs found in Moodle answers into downloadable, tokenised URLs on the configured site.

Question HTML, overall feedback, `core_files_get_files` and quiz response files use the *web* script
`/pluginfile.php/…`, which needs a browser session; with a token only `/webservice/pluginfile.php/…?token=`
works. `external_files` lists already use the web-service form and only need the token. Attribute values in
HTML arrive entity-escaped (`&amp;`). URLs under the `site_url` Moodle reports (its wwwroot, when the daemon
reaches Moodle under another address) are moved onto the configured base URL.

Anyone who can edit a question decides what its URLs say, so a URL is first normalised (percent-decoded once
as a server does, dot segments resolved, `//` collapsed, re-encoded canonically) and only then checked. The
token is sent only when the normalised path is under the site's `/webservice/pluginfile.php/` and stays there
however liberally a server reads it (decoding again, backslashes as slashes, `;` parameters dropped); the URL
handed to httpx is exactly the normalised one. User info, raw backslashes and control characters are refused.
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes, unquote, unquote_to_bytes, urlsplit, urlunsplit

import httpx

from archived.moodle.errors import ForeignUrlError, UnsafeFileUrlError
from archived.moodle.redact import redact

REST_PATH = "/webservice/rest/server.php"
_WEB_PLUGINFILE = b"pluginfile.php"
_TOKEN_PLUGINFILE = b"tokenpluginfile.php"
_WS_PLUGINFILE = (b"webservice", b"pluginfile.php")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DOT_SEGMENTS = (b".", b"..")
# More rounds of percent-decoding than any server applies; deeper nesting is refused, not guessed.
_DECODE_ROUNDS = 4
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters a query part keeps as they are (RFC 3986 pchar plus "/" and "?"); httpx leaves them alone too.
_QUERY_SAFE = "!$'()*+,;=:@/?%"
_SHOWN_LIMIT = 200


class _Refused(Exception):
    """A URL that must not get the token; the argument says why, in words for the operator."""


@dataclass(frozen=True)
class _Root:
    """A site root: its origin (scheme, host key, port) and its path segments (percent-decoded once)."""

    origin: tuple[str, str, int]
    segments: tuple[bytes, ...]


@dataclass(frozen=True)
class _Located:
    """A URL on one of the site's roots: its normalised path below the root, and its raw query."""

    relative: tuple[bytes, ...]
    trailing_slash: bool
    query: str


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or an IP literal, brackets allowed) is this machine: localhost, 127/8 or ::1."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalise_base_url(url: str) -> str:
    """Validate a Moodle wwwroot (http/https, no query) and return it without a trailing slash."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"the Moodle URL {text!r} must start with http:// or https:// and name a host")
    if parts.query or parts.fragment:
        raise ValueError(f"the Moodle URL {redact(text)!r} must not have a query or fragment; give the site root")
    if "@" in parts.netloc:
        raise ValueError(  # the URL itself is not shown: it holds a password
            f"the Moodle URL for host {parts.hostname!r} must not contain a user name or password (user@host); "
            "give the site root, e.g. https://moodle.example.edu"
        )
    if "\\" in text or _CONTROL.search(text):
        raise ValueError(f"the Moodle URL {text!r} contains a backslash or control character")
    try:
        _ = parts.port  # raises ValueError for a port that is not a number in range
        _host_key(parts.hostname)
        segments, _, had_dots = _resolve_path(parts.path)
    except (_Refused, ValueError) as exc:
        raise ValueError(f"the Moodle URL {text!r} is not a plain site root: {exc}") from None
    if had_dots:
        raise ValueError(f"the Moodle URL {text!r} must not contain '.' or '..' path segments")
    path = _path_text(segments, trailing_slash=False)
    for suffix in (REST_PATH, "/webservice/rest", "/login/index.php", "/index.php"):
        if path.endswith(suffix):
            root = urlunsplit((parts.scheme, parts.netloc, path[: -len(suffix)], "", ""))
            raise ValueError(f"the Moodle URL {text!r} must be the site root (wwwroot), e.g. {root!r}")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def _decode_fully(data: bytes) -> bytes:
    """`data` percent-decoded until nothing changes (what a server decoding again and again would see)."""
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote_to_bytes(data)
        if decoded == data:
            return data
        data = decoded
    raise _Refused("percent-encoding nested more deeply than any real file name needs")


def _resolve_path(raw: str) -> tuple[list[bytes], bool, bool]:
    """The path's segments (decoded once, as a server decodes) with dot segments resolved and empty ones dropped.

    Returns (segments, trailing slash, whether there were dot segments). `..` and `%2e%2e` are dot segments;
    above the root a `..` stays at the root (RFC 3986, 5.2.4). Segments that only look like dot segments after
    more decoding stay literal here: `_liberal_reading` judges where they could lead.
    """
    stack: list[bytes] = []
    pieces = raw.split("/")
    if pieces and pieces[0] == "":
        pieces = pieces[1:]
    trailing = had_dots = False
    for piece in pieces:
        once = unquote_to_bytes(piece)
        if _CONTROL_BYTES.search(_decode_fully(once)):
            raise _Refused("an encoded control character in the path")
        trailing = False
        if once in _DOT_SEGMENTS:
            had_dots = trailing = True
            if once == b".." and stack:
                stack.pop()
            continue
        if not once:  # "//" or a trailing slash
            trailing = True
            continue
        stack.append(once)
    return stack, trailing and bool(stack), had_dots


def _liberal_reading(path: str) -> list[bytes]:
    """Where the most liberal server could take a request path: percent-decoded until nothing changes,
    backslashes read as slashes, `;` parameters dropped, dot segments resolved (IIS, Tomcat and friends)."""
    decoded = _decode_fully(path.encode("ascii")).replace(b"\\", b"/")
    stack: list[bytes] = []
    for segment in decoded.split(b"/"):
        bare = segment.split(b";", 1)[0]
        if bare == b"..":
            if stack:
                stack.pop()
        elif bare not in (b"", b"."):
            stack.append(bare)
    return stack


def _path_text(segments: list[bytes] | tuple[bytes, ...], *, trailing_slash: bool) -> str:
    """Segments as a canonical path: every byte but the unreserved ones percent-encoded, as Moodle does."""
    if not segments:
        return ""
    path = "".join("/" + quote_from_bytes(segment, safe="") for segment in segments)
    return path + ("/" if trailing_slash else "")


def _query_parts(query: str, *, drop_token: bool) -> list[str]:
    """The `&`-separated parts of a query, re-encoded so that httpx sends them unchanged."""
    kept: list[str] = []
    for part in query.split("&"):
        if not part:
            continue
        encoded = quote(_BAD_PERCENT.sub("%25", part), safe=_QUERY_SAFE)
        if drop_token and unquote(encoded.split("=", 1)[0]).strip().lower() == "token":
            continue
        kept.append(encoded)
    return kept


def _host_key(host: str) -> str:
    """A host as compared: IP literals in canonical form, names IDNA-encoded and lower-cased."""
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _Refused("a host name that is not valid") from None


def _root(url: str) -> _Root:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    segments, _, _ = _resolve_path(parts.path)
    return _Root((scheme, _host_key(parts.hostname or ""), parts.port or _DEFAULT_PORTS[scheme]), tuple(segments))


_USERINFO = re.compile(r"(?<=//)[^/?#@]*@")


def _shown(text: str, token: str) -> str:
    """A refused URL for a message: token and any user info (a password, perhaps) replaced by ***."""
    shown = _USERINFO.sub("***@", redact(text, token))
    return shown if len(shown) <= _SHOWN_LIMIT else shown[: _SHOWN_LIMIT - 1] + "…"


class SiteUrls:
    """The URL rules of one Moodle site: which URLs belong to it, and how file URLs get the token."""

    def __init__(self, base_url: str, site_url: str | None = None) -> None:
        self.base_url = normalise_base_url(base_url)
        self._base = _root(self.base_url)
        try:
            self._base_http = httpx.URL(self.base_url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"the Moodle URL {self.base_url!r} is not a URL the HTTP library accepts: {exc}") from None
        self._file_area = [*_liberal_reading(self._base_http.raw_path.decode("ascii")), *_WS_PLUGINFILE]
        self._aliases: list[str] = []
        self._alias_roots: list[_Root] = []
        if site_url:
            self.add_alias(site_url)

    @property
    def rest_url(self) -> str:
        """The REST endpoint."""
        return self.base_url + REST_PATH

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other roots (Moodle's own wwwroot) whose URLs are moved onto the base URL."""
        return tuple(self._aliases)

    def add_alias(self, site_url: str) -> None:
        """Treat URLs under `site_url` (Moodle's wwwroot) as URLs of the configured site."""
        root = normalise_base_url(site_url)
        if root != self.base_url and root not in self._aliases:
            self._aliases.append(root)
            self._alias_roots.append(_root(root))

    def file_url(self, url: str, token: str) -> str:
        """The downloadable URL on the configured site: normalised, `/webservice/pluginfile.php`, `token=` set.

        Site URLs that are not file endpoints (theme images, icons) are returned on the base URL without the
        token, since they are public. URLs on other hosts, and URLs that normalise to somewhere outside the
        site, raise `ForeignUrlError`; URLs that disguise where they lead raise `UnsafeFileUrlError`.
        """
        text = html.unescape(url).strip()
        try:
            located, leads_to = self._locate(text)
            if located is None:
                if leads_to is not None:
                    raise _Refused(f"after resolving its '..' segments it leads to {leads_to}, outside the site")
                raise ForeignUrlError(
                    f"The file URL {_shown(text, token)!r} is not on the configured Moodle site {self.base_url}, "
                    "so the web-service token is not sent there. If Moodle reaches itself under another address, "
                    "configure that address as the Moodle URL (or as the site URL Moodle reports)."
                )
            return self._build(located, token)
        except _Refused as exc:
            raise UnsafeFileUrlError(
                f"The file URL {_shown(text, token)!r} was refused: {exc}. The web-service token is only sent to "
                f"files under {self.base_url}/webservice/pluginfile.php/, so this file is left out. Moodle never "
                "writes such URLs itself: if it comes from a question or feedback text, check who edited it."
            ) from None

    def _locate(self, text: str) -> tuple[_Located | None, str | None]:
        """Where `text` leads on the site, or (None, where it leads instead when dot segments took it away)."""
        if _CONTROL.search(text):
            raise _Refused("a control character in the URL")
        if "\\" in text:
            raise _Refused("a backslash in the URL (browsers read it as '/', servers do not)")
        if text.startswith("/") and not text.startswith("//"):
            text = self.base_url + text  # root-relative: Moodle writes absolute URLs, this keeps old behaviour
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None, None
        if "@" in parts.netloc:
            raise _Refused("a user name or password before the host (user@host)")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise _Refused("a port that is not a number between 0 and 65535") from None
        origin = (scheme, _host_key(parts.hostname), port)
        segments, trailing, had_dots = _resolve_path(parts.path)
        for root in (self._base, *self._alias_roots):
            if origin != root.origin or tuple(segments[: len(root.segments)]) != root.segments:
                continue
            return _Located(tuple(segments[len(root.segments) :]), trailing, parts.query), None
        if had_dots:
            netloc = parts.netloc.lower()
            return None, urlunsplit((scheme, netloc, _path_text(segments, trailing_slash=trailing) or "/", "", ""))
        return None, None

    def _build(self, located: _Located, token: str) -> str:
        """The URL on the base site for a located one, with the token only for the pluginfile script."""
        relative = list(located.relative)
        if relative[:1] == [_WEB_PLUGINFILE]:
            relative = [_WS_PLUGINFILE[0], *relative]
        elif relative[:1] == [_TOKEN_PLUGINFILE]:
            # /tokenpluginfile.php/<user access key>/<ctx>/… → drop the key, use the token instead.
            relative = [*_WS_PLUGINFILE, *relative[2:]]
        if tuple(relative[:2]) != _WS_PLUGINFILE:
            query = "&".join(_query_parts(located.query, drop_token=False))
            return self._checked(_path_text(relative, trailing_slash=located.trailing_slash), query, token_path=False)
        kept = _query_parts(located.query, drop_token=True)
        kept.append("token=" + quote(token, safe=""))
        path = _path_text(relative, trailing_slash=located.trailing_slash)
        return self._checked(path, "&".join(kept), token_path=True)

    def _checked(self, relative_path: str, query: str, *, token_path: bool) -> str:
        """The final URL, after proving that httpx will request exactly this host, port and path, and (for the
        token) that no server reading of the path leaves the file area."""
        path = self._base_http.raw_path.decode("ascii").rstrip("/") + relative_path
        if not path:
            path = "/"
        if token_path and _liberal_reading(path)[: len(self._file_area)] != self._file_area:
            leads = "/" + "/".join(quote_from_bytes(part, safe="/") for part in _liberal_reading(path))
            raise _Refused(
                f"read the way some servers read paths (decoded again, backslashes as slashes, ';' parameters "
                f"dropped), it leads to {leads}, outside the file area"
            )
        target = path + (f"?{query}" if query else "")
        url = self.base_url + relative_path + (f"?{query}" if query else "")
        sent = httpx.URL(url)
        if (sent.scheme, sent.host, sent.port) != (self._base_http.scheme, self._base_http.host, self._base_http.port):
            raise _Refused("the HTTP library would send it to another host")
        if sent.raw_path != target.encode("ascii"):
            raise _Refused("the HTTP library would request another path")
        return url
