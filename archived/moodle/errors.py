"""Typed errors of the Moodle client, keyed on Moodle's `errorcode`.

Moodle answers every web-service error with HTTP 200 and `{exception, errorcode, message[, debuginfo]}`; file
endpoints use the AJAX shape `{error, errorcode, stacktrace, debuginfo, reproductionlink}` (and HTTP 404 for a
missing file). The `exception` class name changes between Moodle versions, so only `errorcode` is trusted.
Every class derives from `RecoverableError` or `FatalError`, and every message says what happened, for which
call or file, and what to do next. No message ever contains the token (see `archived.moodle.redact`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archived.errors import ArchivedError, FatalError, RecoverableError
from archived.moodle.redact import redact

_DEBUGINFO_LIMIT = 600


def _clip(text: str, limit: int = _DEBUGINFO_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MoodleError(ArchivedError):
    """An error Moodle itself reported (REST error JSON or file-endpoint AJAX error).

    Attributes: `errorcode` (Moodle's stable code), `exception_class` (PHP class, informative only),
    `moodle_message` (Moodle's localised text), `debuginfo` (only when the site has debugging on),
    `function` (the wsfunction called, if any) and `url` (the file URL, token removed, if any).
    """

    code = "moodle"

    def __init__(
        self,
        message: str,
        *,
        errorcode: str = "",
        exception_class: str = "",
        moodle_message: str = "",
        debuginfo: str | None = None,
        function: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(redact(message))
        self.errorcode = errorcode
        self.exception_class = exception_class
        self.moodle_message = redact(moodle_message)
        self.debuginfo = redact(debuginfo) if debuginfo is not None else None
        self.function = function
        self.url = redact(url) if url is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(errorcode={self.errorcode!r}, function={self.function!r}, url={self.url!r})"


class MoodleFatalError(MoodleError, FatalError):
    """A Moodle error that retrying cannot fix; the generic class for unknown error codes."""

    code = "moodle_error"


class InvalidTokenError(MoodleFatalError):
    """`invalidtoken`: the token does not exist on the site (never created, deleted, or expired and purged)."""

    code = "moodle_invalid_token"


class AccessDeniedError(MoodleFatalError):
    """`accessexception`: function not in the token's service, token expired, IP restriction, or no rest:use."""

    code = "moodle_access_denied"


class InvalidParameterError(MoodleFatalError):
    """`invalidparameter` and friends: Moodle rejected the parameters (a bug or a version mismatch)."""

    code = "moodle_invalid_parameter"


class RecordNotFoundError(MoodleFatalError):
    """`invalidrecord`/`invalidrecordunknown`/`invaliduser`/…: an id that does not exist (any more)."""

    code = "moodle_not_found"


class UnknownFunctionError(RecordNotFoundError):
    """The wsfunction does not exist on this Moodle version (Moodle reports it as a missing record)."""

    code = "moodle_unknown_function"


class LoginRequiredError(MoodleFatalError):
    """`requireloginerror`/`errorcoursecontextnotvalid`: the service user cannot enter the course or activity."""

    code = "moodle_login_required"


class NoPermissionError(MoodleFatalError):
    """`nopermissions`/`nopermission`/`noreviewattempt`/…: the service user lacks a capability."""

    code = "moodle_no_permission"


class ServiceAccountError(MoodleFatalError):
    """The service user's account may not use web services (suspended, unconfirmed, site policy, …)."""

    code = "moodle_service_account"


class MoodleFileNotFound(MoodleFatalError):
    """`filenotfound` (HTTP 404 on pluginfile.php): the file is gone or the service user may not read it."""

    code = "moodle_file_not_found"


class SiteMaintenanceError(MoodleError, RecoverableError):
    """`sitemaintenance`: the site is in maintenance mode; try again later."""

    code = "moodle_maintenance"


class MoodleTransientError(MoodleError, RecoverableError):
    """A Moodle error that is usually temporary (database read/write failures)."""

    code = "moodle_transient"


class MoodleUnavailableError(RecoverableError):
    """Moodle could not be reached or answered with a transient HTTP failure (network, timeout, 5xx, 429)."""

    code = "moodle_unavailable"

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(redact(message))
        self.status = status
        self.retry_after = retry_after


class MoodleTimeoutError(MoodleUnavailableError):
    """A request or download ran past its limit (answer deadline, minimum transfer rate or overall cap)."""

    code = "moodle_timeout"


class TruncatedResponseError(RecoverableError):
    """The answer was cut off or empty (proxy timeout, PHP out of memory): likely transient, retried."""

    code = "moodle_truncated"

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(redact(message))
        self.function = function


class MalformedResponseError(FatalError):
    """The answer is not what this function returns (not JSON at all, or JSON of the wrong shape)."""

    code = "moodle_malformed"

    def __init__(self, message: str, *, function: str | None = None, field: str | None = None) -> None:
        super().__init__(redact(message))
        self.function = function
        self.field = field


class WebServicesDisabledError(FatalError):
    """HTTP 403 with an empty body from server.php: web services or the REST protocol are switched off."""

    code = "moodle_ws_disabled"


class MoodleHttpError(FatalError):
    """An HTTP answer or transport failure that retrying cannot fix (404 endpoint, redirect, TLS, 4xx)."""

    code = "moodle_http"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(redact(message))
        self.status = status


class FileTooLargeError(FatalError):
    """A download exceeded the size limit the caller set."""

    code = "moodle_file_too_large"

    def __init__(self, message: str, *, limit: int = 0, size: int | None = None) -> None:
        super().__init__(redact(message))
        self.limit = limit
        self.size = size


class ForeignUrlError(FatalError):
    """A file URL that is not on the configured Moodle site: the token is never sent there."""

    code = "moodle_foreign_url"


class UnsafeFileUrlError(ForeignUrlError):
    """A file URL that disguises where it leads (encoded dot segments, slashes, backslashes, user info, …)."""

    code = "moodle_unsafe_url"


# ---------------------------------------------------------------------------------------------------------------
# errorcode → class and advice

_NOT_FOUND = {"invalidrecord", "invalidrecordunknown", "invaliduser", "invalidcoursemodule", "invalidcourseid"}
_INVALID_PARAMETER = {"invalidparameter", "errorinvalidparam", "invaliduserfield", "criteriaerror"}
_LOGIN = {"requireloginerror", "errorcoursecontextnotvalid"}
_PERMISSION = {
    "nopermissions",
    "nopermission",
    "noreviewattempt",
    "noreview",
    "restrictedcontextexception",
    "notingroup",
}
_ACCOUNT = {
    "wsaccessusersuspended",
    "wsaccessuserdeleted",
    "wsaccessuserunconfirmed",
    "wsaccessusernologin",
    "wsaccessuserexpired",
    "sitepolicynotagreed",
    "usernotfullysetup",
}
_TRANSIENT = {"dmlreadexception", "dmlwriteexception", "dbconnectionfailed"}

_PERMISSION_HINTS = {
    "nopermission": "mod_assign needs mod/assign:viewgrades or mod/assign:grade for the service user",
    "noreviewattempt": "reviewing another user's attempt needs mod/quiz:viewreports, and "
    "moodle/site:accessallgroups when the quiz uses separate groups",
    "noreview": "reviewing attempts needs mod/quiz:viewreports for the service user",
    "restrictedcontextexception": "the token is restricted to a context; use a token without context restriction",
    "notingroup": "the service user cannot see that group; give it moodle/site:accessallgroups",
}


def describe_request(
    function: str | None = None, params: Mapping[str, Any] | None = None, url: str | None = None
) -> str:
    """A short human description of a request for messages: `fn(a=1, b=2)` or `downloading <url>`."""
    if url is not None:
        return f"downloading {redact(url)}"
    if function is None:
        return "a web-service call"
    if not params:
        return f"{function}()"
    shown = ", ".join(f"{key}={_clip(repr(value), 80)}" for key, value in params.items())
    return f"{function}({_clip(shown, 300)})"


def _access_advice(function: str | None, reason: str, site: str) -> str:
    info = reason.lower()
    if "token expired" in info or "validuntil" in info:
        return (
            "the token has expired. Create a new permanent token for the service user in Site administration › "
            "Server › Web services › Manage tokens and configure it"
        )
    if "file downloading must be enabled" in info:
        return (
            "file downloads are disabled for this token's external service. Tick 'Can download files' in "
            "Site administration › Server › Web services › External services › (the service) › Edit"
        )
    if "rest:use" in info:
        return "the service user lacks webservice/rest:use; add it to the service user's role at system level"
    if "access to the function" in info:
        name = function or "this function"
        return (
            f"{name} is not in the token's external service. Add it in Site administration › Server › "
            "Web services › External services › (the service) › Functions"
        )
    if "ip" in info and "restrict" in info:
        return "the token is IP-restricted and this host is not allowed; fix the token's IP restriction"
    name = function or "the function"
    return (
        f"check that (1) {name} is among the functions of the token's external service, (2) the token has not "
        "expired and its IP restriction allows this host, (3) the service user has webservice/rest:use and is "
        f"an authorised user of the service. Turn on debugging on {site} to see Moodle's exact reason, or run "
        "`archived moodle check`"
    )


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    site: str,
    function: str | None = None,
    params: Mapping[str, Any] | None = None,
    url: str | None = None,
) -> MoodleError:
    """Build the typed error for a Moodle error object (REST `exception` shape or AJAX `error` shape)."""
    errorcode = str(payload.get("errorcode") or "")
    exception_class = str(payload.get("exception") or "")
    moodle_message = str(payload.get("message") or payload.get("error") or "")
    raw_debug = payload.get("debuginfo")
    debuginfo = str(raw_debug) if raw_debug not in (None, "") else None
    what = describe_request(function, params, url)
    said = f"Moodle said: {_clip(moodle_message, 300)!r} (errorcode {errorcode or 'none'}"
    said += f", {exception_class})" if exception_class else ")"
    if debuginfo:
        said += f"; debuginfo: {_clip(debuginfo)}"
    common: dict[str, Any] = {
        "errorcode": errorcode,
        "exception_class": exception_class,
        "moodle_message": moodle_message,
        "debuginfo": debuginfo,
        "function": function,
        "url": url,
    }

    if errorcode == "invalidtoken":
        return InvalidTokenError(
            f"Moodle at {site} rejected the web-service token while {what}: the token does not exist there. "
            f"{said}. Check that the configured token is the one listed for the service user in Site "
            "administration › Server › Web services › Manage tokens, or create a new permanent token there.",
            **common,
        )
    if errorcode == "accessexception":
        return AccessDeniedError(
            f"Moodle at {site} denied access while {what}: "
            f"{_access_advice(function, moodle_message + ' ' + (debuginfo or ''), site)}. {said}.",
            **common,
        )
    if errorcode == "filenotfound":
        return MoodleFileNotFound(
            f"The file is not on {site} or the service user may not read it (HTTP 404) while {what}. It may "
            "have been deleted after the list was fetched; otherwise check that the service user can access "
            f"the course and activity the file belongs to. {said}.",
            **common,
        )
    if errorcode in _NOT_FOUND:
        text = f"{moodle_message} {debuginfo or ''}"
        if "external_functions" in text:
            return UnknownFunctionError(
                f"Moodle at {site} does not know the web-service function {function or '?'}: this Moodle version "
                f"does not provide it. {said}. Run `archived moodle check` to see which functions the site "
                "offers.",
                **common,
            )
        return RecordNotFoundError(
            f"Moodle at {site} found no record for {what}: the id does not exist or was deleted. {said}. "
            "Refresh the activity list; if the item still shows up in Moodle, report this with the ids above.",
            **common,
        )
    if errorcode in _INVALID_PARAMETER:
        detail = "" if debuginfo else f" Turn on debugging on {site} to see which parameter Moodle rejected."
        return InvalidParameterError(
            f"Moodle at {site} rejected the parameters of {what}. {said}.{detail} This is a bug in archived "
            "or an incompatibility with this Moodle version; please report it with this message.",
            **common,
        )
    if errorcode in _LOGIN:
        return LoginRequiredError(
            f"The service user cannot access the course or activity while {what}. {said}. Give the service "
            "user's role moodle/course:view, moodle/course:viewhiddencourses and "
            "moodle/course:viewhiddenactivities at system level (or enrol it), and check that the course or "
            "activity is not restricted for it.",
            **common,
        )
    if errorcode in _PERMISSION:
        hint = _PERMISSION_HINTS.get(
            errorcode, "add the capability named in Moodle's message to the service user's role at system level"
        )
        return NoPermissionError(
            f"The service user lacks a permission while {what}: {hint}. {said}. `archived moodle check` lists "
            "what the service user can see.",
            **common,
        )
    if errorcode in _ACCOUNT:
        return ServiceAccountError(
            f"The service user's account on {site} may not use web services while {what}. {said}. Fix the "
            "account in Site administration › Users (unsuspend, confirm, complete the profile or accept the "
            "site policy on its behalf).",
            **common,
        )
    if errorcode == "sitemaintenance":
        return SiteMaintenanceError(
            f"Moodle at {site} is in maintenance mode while {what}. {said}. The job retries later.",
            **common,
        )
    if errorcode in _TRANSIENT:
        return MoodleTransientError(
            f"Moodle at {site} reported a database error while {what}. {said}. This is usually temporary; the "
            "request is retried. If it persists, check the Moodle server's database and error log.",
            **common,
        )
    kind = f"a PHP error ({exception_class})" if not errorcode else f"error {errorcode}"
    return MoodleFatalError(
        f"Moodle at {site} refused {what} with {kind}. {said}. Check the Moodle site's error log, or turn on "
        "debugging there to see more detail.",
        **common,
    )
