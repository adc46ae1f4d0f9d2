"""The activities a selection rule looks at, read from the course overview (each course in the rule's scope read
from Moodle again, so a nightly run sees tonight's attempts and dates)."""

from __future__ import annotations

from dataclasses import dataclass, field

from archived.errors import ArchivedError
from archived.overview.index import CourseIndex
from archived.policies.report import courses_in, subcategories
from archived.protocol.schedules import SelectionRule
from archived.schedules.rules import Candidate


@dataclass
class CandidateList:
    """The activities of every course in scope, and the courses that could not be read."""

    activities: list[Candidate] = field(default_factory=list)
    unreadable: dict[int, str] = field(default_factory=dict)  # course id → why


async def gather(index: CourseIndex, rule: SelectionRule, *, fresh: bool = True) -> CandidateList:
    """The activities of the rule's courses and categories (subcategories included; both empty: every course).
    With `fresh`, each course's activities are read from Moodle now instead of from the overview's cache."""
    courses = await courses_in(index, None)
    if rule.courses or rule.categories:
        categories = await subcategories(index, rule.categories) if rule.categories else set()
        courses = [c for c in courses if c["id"] in rule.courses or c["category_id"] in categories]
    found = CandidateList()
    for course in courses:
        course_id = int(course["id"])
        try:
            if fresh:
                await index.refresh(course_id, force=True)
            view = await index.show(course_id)
        except ArchivedError as exc:
            found.unreadable[course_id] = str(exc)
            continue
        for a in view["activities"]:
            candidate = Candidate(
                course_id=course_id, category_id=course["category_id"], cmid=int(a["cmid"]), name=a["name"],
                modname=a["modname"], supported=bool(a["supported"]), archivable=bool(a["archivable"]),
                reason=a["reason"], badge=a["badge"], closes_at=a.get("closes_at"),
                course_name=course["fullname"], driver=a["driver"],
            )  # fmt: skip
            found.activities.append(candidate)
    return found
