"""Which events a connector takes: kinds (with wildcards such as `job.*`), courses, categories.

An event's course is its job's (every `job.*`, `activity.*`, `storage.*` and `schedule.job_failed` event) or the
one it names itself (`policy.reminder`). Events about no course (`schedule.run`, `schedule.idle`) pass a
`courses`/`categories` filter only when the connector says `site_events = true`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from archived.config import ConnectorConfig
from archived.connectors.body import EventBody
from archived.connectors.facts import EventFacts


def event_course(body: EventBody, job: dict[str, Any] | None) -> int | None:
    """The course an event concerns: its job's, or the one it names (`course_id` in its data); None for none."""
    course = job.get("course_id") if job else body.data.get("course_id")
    return course if isinstance(course, int) and not isinstance(course, bool) else None


class EventFilter:
    """A connector's `events`, `courses`, `categories` and `site_events`."""

    def __init__(self, config: ConnectorConfig) -> None:
        self.patterns = list(config.events)
        self.courses = set(config.courses)
        self.categories = list(config.categories)
        self.site_events = config.site_events

    def takes_kind(self, kind: str) -> bool:
        """Whether the event kind is one the connector asked for."""
        return any(fnmatchcase(kind, pattern) for pattern in self.patterns)

    @property
    def scoped(self) -> bool:
        """Whether courses or categories narrow the filter (then the event's job must be looked up)."""
        return bool(self.courses or self.categories)

    async def takes_scope(self, body: EventBody, job: dict[str, Any] | None, facts: EventFacts) -> bool:
        """Whether the event's course is one of `courses` or in one of `categories`. An event about no course and
        no job passes only with `site_events`; one whose job is gone never does. A lookup failure raises (the event
        is tried again, not dropped)."""
        if not self.scoped:
            return True
        course = event_course(body, job)
        if course is None:
            return self.site_events and body.job_id is None
        if course in self.courses:
            return True
        for category in self.categories:
            if course in await facts.courses_in(category):
                return True
        return False
