"""`/webservice/rest/server.php`: token check, function lookup, parameter validation, call, encoding.

The checks run in Moodle's order (contract §6.5): unknown token, expired token, missing function name,
unknown function, function not in the service, parameters, then the function's own checks. Every error is
HTTP 200 with `{exception, errorcode, message[, debuginfo]}`.
"""

from __future__ import annotations

from typing import Any

from archived.simulator.encoding import php_json_encode, xml_error, xml_response
from archived.simulator.endpoints.responses import rest_headers
from archived.simulator.exceptions import MissingRecord, MoodleError, access_exception, invalid_parameter
from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.functions.base import Call, WsSettings
from archived.simulator.functions.registry import FUNCTIONS, function_exists
from archived.simulator.paramtypes import php_string
from archived.simulator.schema import clean_return, validate_parameters
from archived.simulator.site import Site

_NOT_IN_SERVICE = (
    "Access to the function {name}() is not allowed.\n"
    "                     There could be multiple reasons for this:\n"
    "                     1. The service linked to the user token does not contain the function.\n"
    "                     2. The service is user-restricted and the user is not listed.\n"
    "                     3. The service is IP-restricted and the user IP is not listed.\n"
    "                     4. The service is time-restricted and the time has expired.\n"
    "                     5. The token is time-restricted and the time has expired.\n"
    "                     6. The service requires a specific capability which the user does not have.\n"
    "                     7. The function is called with username/password (no user token is sent)\n"
    "                     and none of the services has the function to allow the user.\n"
    "                     These settings can be found in Administration > Site administration\n"
    "                     > Server > Web services > External services and Manage tokens."
)
_SETTINGS = ("raw", "fileurl", "filter", "lang", "timezone")


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return php_string(value).strip().lower() in ("1", "true", "yes", "on")


def _settings(variables: dict[str, Any]) -> WsSettings:
    found = {name: variables.pop("moodlewssetting" + name, None) for name in _SETTINGS}
    return WsSettings(
        raw=_flag(found["raw"], False),
        fileurl=_flag(found["fileurl"], True),
        filter=_flag(found["filter"], False),
        lang=php_string(found["lang"] or ""),
    )


def authenticate(site: Site, token: Any) -> None:
    """`authenticate_by_token`: unknown token → invalidtoken; expired → accessexception and deletion."""
    world = site.world
    with world.lock:
        record = world.tokens.get(token) if isinstance(token, str) else None
        if record is None:
            raise MoodleError("invalidtoken", message="Invalid token - token not found")
        if record.validuntil and record.validuntil < world.now:
            del world.tokens[token]
            raise access_exception("Invalid token - token expired - check validuntil time for the token")


def call_function(site: Site, variables: dict[str, Any], settings: WsSettings) -> tuple[Any, Any]:
    """Run the checks and the function; returns (returns description, cleaned value)."""
    world, profile = site.world, site.profile
    authenticate(site, variables.pop("wstoken", None))
    if not world.has_capability("webservice/rest:use"):
        raise access_exception("You are not allowed to use the rest protocol (missing capability: webservice/rest:use)")
    name = variables.pop("wsfunction", None)
    if name is None:
        raise invalid_parameter("Missing function name")
    name = php_string(name) if not isinstance(name, dict) else "Array"
    if not function_exists(name, profile.numeric):
        raise MissingRecord("external_functions", "SELECT * FROM {external_functions} WHERE name = ?", [name])
    function = FUNCTIONS.get(name)
    with world.lock:
        in_service = name in world.service.functions
    if function is None or not in_service:
        raise access_exception(_NOT_IN_SERVICE.format(name=name))
    params = validate_parameters(function.params(profile), variables)
    call = Call(
        world=world, profile=profile, wwwroot=site.wwwroot, debug=site.debug, functions=FUNCTIONS, settings=settings
    )
    result = function.impl(call, params)
    returns = function.returns(profile)
    return returns, (clean_return(returns, result) if returns is not None else None)


def error_value(site: Site, error: MoodleError) -> tuple[str, str | None, str, str | None]:
    """(exception class, errorcode, message, debuginfo) as this release and debug level print them."""
    if isinstance(error, MissingRecord) and site.profile.missing_record_hides_table and not site.debug:
        error.hide_table()
    debuginfo = error.debuginfo if site.debug else None
    return site.profile.exception_class(error.base), error.errorcode, error.message, debuginfo


def handle_rest(site: Site, request: HttpRequest) -> HttpResponse:
    """Answer one REST request."""
    variables = request.form.merged()
    restformat = variables.pop("moodlewsrestformat", None)
    fmt = restformat if restformat in ("json", "xml") else "xml"
    settings = _settings(variables)
    try:
        returns, value = call_function(site, variables, settings)
    except MoodleError as error:
        exception, errorcode, message, debuginfo = error_value(site, error)
        if fmt == "json":
            payload: dict[str, Any] = {"exception": exception, "errorcode": errorcode, "message": message}
            if debuginfo is not None:
                payload["debuginfo"] = debuginfo
            body = php_json_encode(payload)
        else:
            body = xml_error(exception, errorcode, message, debuginfo)
    else:
        body = php_json_encode(value) if fmt == "json" else xml_response(returns, value)
    content_type = "application/json" if fmt == "json" else "application/xml; charset=utf-8"
    return HttpResponse(200, body.encode("utf-8"), rest_headers(content_type))
