"""What every protocol model shares: strict requests, tolerant answers, and how times travel."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import overload

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError


class Params(BaseModel):
    """A request's parameters: unknown keys are refused, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class NoParams(BaseModel):
    """The parameters of a method that takes none (whatever is sent is ignored, as protocol 1 always did)."""

    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    """A result or event payload: keys a client does not know are ignored, so a daemon may add fields."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# A moment in UTC; on the wire an ISO-8601 string in whole seconds such as `2026-11-28T09:00:00Z`. The daemon sends
# whole seconds (`wire_time`, or a Unix time in whole seconds, which validation turns into this); checked in pydantic's
# core, as a page of jobs carries hundreds of them.
UtcTime = AwareDatetime


@overload
def wire_time(timestamp: float) -> datetime: ...


@overload
def wire_time(timestamp: None) -> None: ...


@overload
def wire_time(timestamp: float | None) -> datetime | None: ...


def wire_time(timestamp: float | None) -> datetime | None:
    """A Unix time as the protocol sends it (UTC, whole seconds); None stays None."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(math.floor(timestamp), UTC)


def params_problems(exc: ValidationError) -> str:
    """Invalid parameters in words, each named: `limit: Input should be less than or equal to 1000`."""
    problems = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "params"
        message = "unknown parameter" if error["type"] == "extra_forbidden" else error["msg"]
        problems.append(f"{key}: {message}")
    return "invalid params: " + "; ".join(problems)
