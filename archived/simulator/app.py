"""The simulated site as a request handler: routing, counters and fault decisions, without any socket code."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from archived.simulator.data.model import Token
from archived.simulator.data.world import World
from archived.simulator.endpoints import control, pluginfile, rest, theme, token, upload
from archived.simulator.endpoints.responses import not_found
from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.faults import FaultPlan, Faults
from archived.simulator.paramtypes import php_string
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.site import Site
from archived.simulator.stats import RequestStats


@dataclass
class Routed:
    """A request with its endpoint name and the fault plan decided for it."""

    endpoint: str
    function: str | None
    params: dict[str, str]
    plan: FaultPlan


def flatten(variables: dict[str, object], prefix: str = "") -> dict[str, str]:
    """`{"a": {"0": "x"}}` → `{"a[0]": "x"}`: request parameters as fault rules and logs match them."""
    flat: dict[str, str] = {}
    for key, item in variables.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(item, dict):
            flat.update(flatten(item, name))
        else:
            flat[name] = php_string(item)
    return flat


class TokenSwitch:
    """Expire, revoke and restore the simulator's primary token (the fault knobs' token control)."""

    def __init__(self, world: World, token: str) -> None:
        self._world = world
        self._token = token

    def expire(self) -> None:
        """validuntil in the past: next call accessexception (and the row is deleted), then invalidtoken."""
        with self._world.lock:
            record = self._world.tokens.get(self._token)
            if record is not None:
                record.validuntil = self._world.now - 1

    def revoke(self) -> None:
        """Delete the token row."""
        with self._world.lock:
            self._world.tokens.pop(self._token, None)

    def restore(self) -> None:
        """A valid, permanent token again."""
        with self._world.lock:
            self._world.tokens[self._token] = Token(self._token, self._world.service_user_id)


class SimulatorApp:
    """Routes requests to the Moodle endpoints; owns the site they serve (world, knobs, counters)."""

    def __init__(self, world: World, profile: ReleaseProfile, token: str, *, seed: int, debug: bool) -> None:
        faults = Faults(seed, TokenSwitch(world, token))
        self.site = Site(world, profile, token, faults, RequestStats(), debug)
        self.stopping = threading.Event()

    def route(self, request: HttpRequest) -> Routed:
        """Name the endpoint and function of a request and decide its faults (control calls have none)."""
        site, path = self.site, request.path
        if site.token in request.query or site.token.encode() in request.body:
            site.stats.record_token_use(path)
        if path.startswith(control.PREFIX + "/") or path == control.PREFIX:
            return Routed("control", None, {}, FaultPlan())
        if path == "/webservice/rest/server.php":
            endpoint = "rest"
        elif path == pluginfile.PREFIX or path.startswith(pluginfile.PREFIX + "/"):
            endpoint = "pluginfile"
        elif path == "/login/token.php":
            endpoint = "token"
        elif path == "/webservice/upload.php":
            endpoint = "upload"
        elif path.startswith(theme.PREFIX):
            return Routed("theme", None, {}, FaultPlan())
        else:
            return Routed("unknown", None, {}, FaultPlan())
        variables = request.form.merged()
        function = variables.get("wsfunction") if endpoint == "rest" else None
        function_name = function if isinstance(function, str) else None
        params = {
            key: value
            for key, value in flatten(variables).items()
            if key not in ("wstoken", "token", "password", "wsfunction")
        }
        if endpoint == "pluginfile":
            params["path"] = path[len(pluginfile.PREFIX) :] or params.get("file", "")
        site.stats.record(endpoint, function_name, params)
        return Routed(endpoint, function_name, params, site.faults.plan(endpoint, function_name, params))

    def respond(self, request: HttpRequest, routed: Routed) -> HttpResponse:
        """The normal answer of an endpoint."""
        handler = {
            "rest": rest.handle_rest,
            "pluginfile": pluginfile.handle_pluginfile,
            "token": token.handle_token,
            "upload": upload.handle_upload,
            "control": control.handle_control,
            "theme": theme.handle_theme,
        }.get(routed.endpoint)
        if handler is None:
            return not_found()
        return handler(self.site, request)
