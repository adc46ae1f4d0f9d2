"""`ActivityResult` to and from JSON, for checkpoints and job.json."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from archived.interfaces.activity import ActivityRef, ActivityResult, CourseRef, IncludedUser


def result_to_dict(result: ActivityResult) -> dict[str, Any]:
    """JSON-ready form of what the activity stage reported."""
    return asdict(result)


def result_from_dict(data: dict[str, Any]) -> ActivityResult:
    """Inverse of `result_to_dict`."""
    return ActivityResult(
        course=CourseRef(**data["course"]),
        activity=ActivityRef(**data["activity"]),
        users=[IncludedUser(**user) for user in data.get("users", [])],
        summary=dict(data.get("summary", {})),
        moodle_site=data.get("moodle_site", ""),
        moodle_release=data.get("moodle_release", ""),
        fingerprint=data.get("fingerprint"),
        last_modified=data.get("last_modified"),
    )
