"""Response shapes shared by the endpoints: REST headers, the AJAX error shape, error pages."""

from __future__ import annotations

import time

from archived.simulator.encoding import php_json_encode
from archived.simulator.exchange import HttpResponse, http_date
from archived.simulator.profiles import ReleaseProfile

NO_CACHE = "private, must-revalidate, pre-check=0, post-check=0, max-age=0"
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def rest_headers(content_type: str) -> list[tuple[str, str]]:
    """Headers of every REST server answer (contract §1.6)."""
    headers = [("Content-Type", content_type)]
    if content_type.startswith("application/xml"):
        headers.append(("Content-Disposition", 'inline; filename="response.xml"'))
    headers += [
        ("Cache-Control", NO_CACHE),
        ("Expires", EPOCH),
        ("Pragma", "no-cache"),
        ("Accept-Ranges", "none"),
        ("Access-Control-Allow-Origin", "*"),
    ]
    return headers


def cors_headers(profile: ReleaseProfile) -> list[tuple[str, str]]:
    """CORS headers of pluginfile (4.1 sends only the first)."""
    headers = [("Access-Control-Allow-Origin", "*")]
    if profile.pluginfile_range_headers:
        headers += [("Access-Control-Allow-Headers", "range"), ("Access-Control-Expose-Headers", "Content-Range")]
    return headers


def ajax_error(
    profile: ReleaseProfile, errorcode: str, message: str, *, status: int = 200, cors: bool = True
) -> HttpResponse:
    """`core_renderer_ajax::fatal_error`: `{error, errorcode, stacktrace, debuginfo, reproductionlink}`."""
    body = php_json_encode(
        {"error": message, "errorcode": errorcode, "stacktrace": None, "debuginfo": None, "reproductionlink": None}
    )
    headers = cors_headers(profile) if cors else [("Access-Control-Allow-Origin", "*")]
    headers += [
        ("Cache-Control", "post-check=0, pre-check=0"),
        ("Pragma", "no-cache"),
        ("Expires", "Mon, 20 Aug 1969 09:23:00 GMT"),
        ("Last-Modified", http_date(time.time())),
        ("Accept-Ranges", "none"),
        ("Content-Type", "application/json; charset=utf-8"),
    ]
    return HttpResponse(status, body.encode("ascii"), headers)


def json_response(value: object, *, status: int = 200) -> HttpResponse:
    """A plain PHP-encoded JSON answer with the AJAX-script headers."""
    body = php_json_encode(value).encode("ascii")
    return HttpResponse(
        status,
        body,
        [
            ("Access-Control-Allow-Origin", "*"),
            ("Cache-Control", "no-store, no-cache, must-revalidate"),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
    )


def error_page(status: int) -> HttpResponse:
    """What Apache sends for a server error: a small HTML page."""
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
        status, "Error"
    )
    html = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
        f"<title>{status} {reason}</title>\n</head><body>\n<h1>{reason}</h1>\n"
        "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\n"
        "problems. Please try again later.</p>\n</body></html>\n"
    )
    return HttpResponse(status, html.encode("ascii"), [("Content-Type", "text/html; charset=iso-8859-1")])


def not_found() -> HttpResponse:
    """404 for paths the simulator does not serve."""
    return HttpResponse(404, b"Not Found\n", [("Content-Type", "text/plain; charset=utf-8")])
