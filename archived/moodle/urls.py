"""Turning file URLs found in Moodle answers into downloadable, tokenised URLs on the configured site.

Question HTML, overall feedback, `core_files_get_files` and quiz response files use the *web* script
`/pluginfile.php/…`, which needs a browser session; with a token only `/webservice/pluginfile.php/…?token=`
works. `external_files` lists already use the web-service form and only need the token. Attribute values in
HTML arrive entity-escaped (`&amp;`). The token is only ever attached to URLs on the configured site: a URL on
any other host raises `ForeignUrlError`. URLs under the `site_url` Moodle reports (its wwwroot, when the
daemon reaches Moodle under another address) are moved onto the configured base URL.
"""

from __future__ import annotations

import html
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from archived.moodle.errors import ForeignUrlError
from archived.moodle.redact import redact

REST_PATH = "/webservice/rest/server.php"
_WEB_PLUGINFILE = "/pluginfile.php"
_WS_PLUGINFILE = "/webservice/pluginfile.php"
_TOKEN_PLUGINFILE = "/tokenpluginfile.php"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_base_url(url: str) -> str:
    """Validate a Moodle wwwroot (http/https, no query) and return it without a trailing slash."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"the Moodle URL {text!r} must start with http:// or https:// and name a host")
    if parts.query or parts.fragment:
        raise ValueError(f"the Moodle URL {redact(text)!r} must not have a query or fragment; give the site root")
    path = parts.path.rstrip("/")
    for suffix in (REST_PATH, "/webservice/rest", "/login/index.php", "/index.php"):
        if path.endswith(suffix):
            root = urlunsplit((parts.scheme, parts.netloc, path[: -len(suffix)], "", ""))
            raise ValueError(f"the Moodle URL {text!r} must be the site root (wwwroot), e.g. {root!r}")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def _origin(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int]:
    scheme = scheme.lower()
    return scheme, (host or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


class SiteUrls:
    """The URL rules of one Moodle site: which URLs belong to it, and how file URLs get the token."""

    def __init__(self, base_url: str, site_url: str | None = None) -> None:
        self.base_url = normalise_base_url(base_url)
        self._aliases: list[str] = []
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

    def site_path(self, url: str) -> str | None:
        """The path+query of `url` relative to the site root, or None when the URL is not on this site."""
        parts = urlsplit(url)
        for root in (self.base_url, *self._aliases):
            root_parts = urlsplit(root)
            if _origin(parts.scheme, parts.hostname, parts.port) != _origin(
                root_parts.scheme, root_parts.hostname, root_parts.port
            ):
                continue
            prefix = root_parts.path
            if prefix and parts.path != prefix and not parts.path.startswith(prefix + "/"):
                continue
            relative = parts.path[len(prefix) :] or "/"
            return relative + (f"?{parts.query}" if parts.query else "")
        return None

    def file_url(self, url: str, token: str) -> str:
        """The downloadable URL on the configured site: unescaped, `/webservice/pluginfile.php`, `token=` set.

        Site URLs that are not file endpoints (theme images, icons) are returned on the base URL without the
        token, since they are public. URLs on other hosts raise `ForeignUrlError`.
        """
        text = html.unescape(url).strip()
        if text.startswith("/") and not text.startswith("//"):
            text = urljoin(self.base_url + "/", text.lstrip("/"))
        relative = self.site_path(text)
        if relative is None:
            shown = redact(text, token)
            raise ForeignUrlError(
                f"The file URL {shown!r} is not on the configured Moodle site {self.base_url}, so the "
                "web-service token is not sent there. If Moodle reaches itself under another address, configure "
                "that address as the Moodle URL (or as the site URL Moodle reports)."
            )
        path, _, query = relative.partition("?")
        if path == _WEB_PLUGINFILE or path.startswith(_WEB_PLUGINFILE + "/"):
            path = "/webservice" + path
        elif path == _TOKEN_PLUGINFILE or path.startswith(_TOKEN_PLUGINFILE + "/"):
            # /tokenpluginfile.php/<user access key>/<ctx>/… → drop the key, use the token instead.
            rest = path[len(_TOKEN_PLUGINFILE) :].lstrip("/")
            _, _, remainder = rest.partition("/")
            path = _WS_PLUGINFILE + ("/" + remainder if remainder else "")
        elif not (path == _WS_PLUGINFILE or path.startswith(_WS_PLUGINFILE + "/")):
            return self.base_url + relative
        kept = [part for part in query.split("&") if part and part.split("=", 1)[0].lower() != "token"]
        kept.append("token=" + quote(token, safe=""))
        return f"{self.base_url}{path}?{'&'.join(kept)}"
