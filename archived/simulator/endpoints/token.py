"""`/login/token.php`: a token for username + password + service shortname (contract §2.1)."""

from __future__ import annotations

import hashlib

from archived.simulator.data.model import Token
from archived.simulator.endpoints.responses import ajax_error, json_response
from archived.simulator.exceptions import message_for
from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.paramtypes import php_string
from archived.simulator.site import Site


def handle_token(site: Site, request: HttpRequest) -> HttpResponse:
    """Log in and return the existing (or a new) token of the archiver service."""
    profile, world = site.profile, site.world
    variables = request.form.merged()
    if php_string(variables.get("appsitecheck", "")) == "1":
        return json_response({"appsitecheck": "ok"})
    for name in ("username", "password", "service"):
        if name not in variables:
            return ajax_error(profile, "missingparam", message_for("missingparam", name), cors=False)
    username = php_string(variables["username"]).strip().lower()
    password = php_string(variables["password"])
    service = php_string(variables["service"])
    user = next((u for u in world.users.values() if u.username == username), None)
    if user is None or not user.password or user.password != password:
        return ajax_error(profile, "invalidlogin", message_for("invalidlogin"), cors=False)
    with world.lock:
        if service != world.service.shortname or not world.service.enabled or user.id != world.service_user_id:
            return ajax_error(profile, "servicenotavailable", message_for("servicenotavailable"), cors=False)
        for record in world.tokens.values():
            if record.userid == user.id and not (record.validuntil and record.validuntil < world.now):
                return json_response({"token": record.token, "privatetoken": None})
        fresh = hashlib.sha256(
            f"token.php|{world.seed}|{len(world.tokens)}|{site.token_generation}".encode()
        ).hexdigest()
        site.token_generation += 1
        world.tokens[fresh[:32]] = Token(fresh[:32], user.id)
    return json_response({"token": fresh[:32], "privatetoken": None})
