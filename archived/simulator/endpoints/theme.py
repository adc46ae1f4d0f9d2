"""`/theme/image.php/...`: theme icons, public like on a real site (user pictures, file-type and flag icons).

Moodle serves real SVG/PNG artwork here; the simulator draws a small placeholder per icon name so that every
image URL in the question HTML resolves.
"""

from __future__ import annotations

import hashlib

from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.site import Site

PREFIX = "/theme/image.php/"


def _svg(label: str, colour: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">'
        f'<rect x="1" y="1" width="22" height="22" rx="4" fill="{colour}"/>'
        f'<text x="12" y="16" font-size="9" text-anchor="middle" fill="#fff">{label}</text></svg>'
    ).encode()


def handle_theme(site: Site, request: HttpRequest) -> HttpResponse:
    """Serve `{theme}/{component}/{revision}/{image}` as a placeholder SVG (404 for malformed paths)."""
    parts = request.path[len(PREFIX) :].split("/")
    if len(parts) < 4 or not parts[2].isdigit():
        return HttpResponse(404, b"Not Found\n", [("Content-Type", "text/plain; charset=utf-8")])
    image = "/".join(parts[3:])
    label = image.rsplit("/", 1)[-1][:3].upper()
    colour = "#" + hashlib.sha1(image.encode()).hexdigest()[:6]
    body = _svg(label, colour)
    headers = [
        ("Cache-Control", "public, max-age=31536000, immutable"),
        ("Etag", '"' + hashlib.sha1(body).hexdigest() + '"'),
        ("Content-Type", "image/svg+xml"),
    ]
    return HttpResponse(200, body, headers)
