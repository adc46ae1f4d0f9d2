"""`/_simulator/...`: a tiny JSON control API for the fault knobs, counters and debug flag.

It is not part of Moodle. Every call needs the simulator's web-service token, in the `X-Simulator-Token`
header or a `token` query parameter.

    GET  /_simulator/stats                 {"counts": {...}}
    POST /_simulator/stats/reset
    GET  /_simulator/faults                {"latency": s, "rules": [...]}
    POST /_simulator/faults                {"kind": "http_error", "status": 503, "times": 2,
                                            "function": ..., "params": {...}}
    POST /_simulator/faults/clear
    POST /_simulator/latency               {"seconds": 0.2}
    POST /_simulator/token                 {"action": "expire" | "revoke" | "restore"}
    POST /_simulator/debug                 {"debug": true}
"""

from __future__ import annotations

import hmac
import json
from dataclasses import fields
from typing import Any

from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.faults import FaultRule
from archived.simulator.site import Site

PREFIX = "/_simulator"
_RULE_FIELDS = {f.name for f in fields(FaultRule)} - {"id", "hits"}


def _json(status: int, value: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(value).encode(), [("Content-Type", "application/json")])


def handle_control(site: Site, request: HttpRequest) -> HttpResponse:
    """Dispatch one control call."""
    supplied = request.headers.get("x-simulator-token") or request.form.get.get("token") or ""
    if not isinstance(supplied, str) or not hmac.compare_digest(supplied, site.token):
        return _json(403, {"error": "the simulator token is required (X-Simulator-Token header)"})
    action = request.path[len(PREFIX) :].strip("/")
    try:
        payload = json.loads(request.body or b"{}") if request.method == "POST" else {}
    except json.JSONDecodeError as error:
        return _json(400, {"error": f"invalid JSON body: {error}"})
    faults = site.faults
    if action == "stats" and request.method == "GET":
        return _json(200, {"counts": site.stats.counts()})
    if action == "stats/reset" and request.method == "POST":
        site.stats.reset()
        return _json(200, {})
    if action == "faults" and request.method == "GET":
        return _json(200, {"latency": faults.latency, "rules": faults.rules()})
    if action == "faults" and request.method == "POST":
        unknown = set(payload) - _RULE_FIELDS
        if unknown:
            return _json(400, {"error": f"unknown fault fields: {', '.join(sorted(unknown))}"})
        try:
            rule = faults.add(FaultRule(**payload))
        except (TypeError, ValueError) as error:
            return _json(400, {"error": str(error)})
        return _json(200, {"id": rule.id})
    if action == "faults/clear" and request.method == "POST":
        faults.clear()
        return _json(200, {})
    if action == "latency" and request.method == "POST":
        faults.latency = float(payload.get("seconds", 0))
        return _json(200, {})
    if action == "token" and request.method == "POST":
        operation = {"expire": faults.expire_token, "revoke": faults.revoke_token, "restore": faults.restore_token}
        chosen = operation.get(str(payload.get("action")))
        if chosen is None:
            return _json(400, {"error": "action must be expire, revoke or restore"})
        chosen()
        return _json(200, {})
    if action == "debug" and request.method == "POST":
        site.debug = bool(payload.get("debug"))
        return _json(200, {"debug": site.debug})
    return _json(404, {"error": f"unknown control call {request.method} {request.path}"})
