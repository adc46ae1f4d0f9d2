"""Posting web-service calls to a running simulator the way a careful client does (PHP bracket syntax)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from archived.simulator import MoodleSimulator


def php_pairs(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten nested dicts and lists into PHP form pairs: `options[0][name]=...`."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            pairs += php_pairs(value, name)
        elif isinstance(value, (list, tuple)):
            pairs += php_pairs(dict(enumerate(value)), name)
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        else:
            pairs.append((name, str(value)))
    return pairs


def post(client: httpx.Client, url: str, pairs: list[tuple[str, str]], *, query: str = "") -> httpx.Response:
    """POST a form body (and an optional raw query string) to the REST server."""
    target = f"{url}/webservice/rest/server.php" + (f"?{query}" if query else "")
    return client.post(
        target, content=urlencode(pairs).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def call(
    sim: MoodleSimulator,
    client: httpx.Client,
    function: str | None,
    *,
    token: str | None = None,
    restformat: str | None = "json",
    **params: Any,
) -> httpx.Response:
    """Call a web-service function with the simulator's token (or `token`)."""
    pairs = [("wstoken", token if token is not None else sim.token)]
    if function is not None:
        pairs.append(("wsfunction", function))
    if restformat is not None:
        pairs.append(("moodlewsrestformat", restformat))
    return post(client, sim.url, pairs + php_pairs(params))
