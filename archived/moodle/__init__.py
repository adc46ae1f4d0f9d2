"""The Moodle web-service client: the daemon's only window into Moodle.

`MoodleClient` speaks HTTP (parameters, errors, retries, pacing, files); `MoodleApi` offers the functions
archived uses as typed methods; `check_site` tells an operator what the token can do and how to fix the rest.
"""

from archived.moodle.api import MoodleApi, parse_answer
from archived.moodle.check import CheckProblem, Severity, SiteCheck, check_site, format_check
from archived.moodle.client import DEFAULT_USER_AGENT, MoodleClient
from archived.moodle.errors import (
    AccessDeniedError,
    FileTooLargeError,
    ForeignUrlError,
    InvalidParameterError,
    InvalidTokenError,
    LoginRequiredError,
    MalformedResponseError,
    MoodleError,
    MoodleFatalError,
    MoodleFileNotFound,
    MoodleHttpError,
    MoodleTimeoutError,
    MoodleTransientError,
    MoodleUnavailableError,
    NoPermissionError,
    RecordNotFoundError,
    ServiceAccountError,
    SiteMaintenanceError,
    TruncatedResponseError,
    UnknownFunctionError,
    UnsafeFileUrlError,
    WebServicesDisabledError,
)
from archived.moodle.files import FetchedFile
from archived.moodle.transfer import TransferLimits

__all__ = [
    "DEFAULT_USER_AGENT",
    "AccessDeniedError",
    "CheckProblem",
    "FetchedFile",
    "FileTooLargeError",
    "ForeignUrlError",
    "InvalidParameterError",
    "InvalidTokenError",
    "LoginRequiredError",
    "MalformedResponseError",
    "MoodleApi",
    "MoodleClient",
    "MoodleError",
    "MoodleFatalError",
    "MoodleFileNotFound",
    "MoodleHttpError",
    "MoodleTimeoutError",
    "MoodleTransientError",
    "MoodleUnavailableError",
    "NoPermissionError",
    "RecordNotFoundError",
    "ServiceAccountError",
    "Severity",
    "SiteCheck",
    "SiteMaintenanceError",
    "TransferLimits",
    "TruncatedResponseError",
    "UnknownFunctionError",
    "UnsafeFileUrlError",
    "WebServicesDisabledError",
    "check_site",
    "format_check",
    "parse_answer",
]
