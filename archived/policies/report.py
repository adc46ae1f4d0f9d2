"""The policy report: which activities break a mandatory rule ("every quiz in category X archived within N days
after it closes") and since when, read from the course overview; and the allow-list's categories."""

from __future__ import annotations

import time
from typing import Any

from archived.config import PolicyConfig
from archived.errors import ArchivedError
from archived.overview.index import CourseIndex
from archived.protocol.base import wire_time
from archived.protocol.schedules import PolicyBreach, PolicyReport

DAY = 86400.0
MAX_COURSES = 1_000_000  # one page of the overview holds every course


async def subcategories(index: CourseIndex, roots: list[int]) -> set[int]:
    """`roots` with every category below them (by the categories' paths, e.g. "/2/3")."""
    tree = await index.tree()
    wanted = {str(root) for root in roots}
    return {int(c["id"]) for c in tree["categories"] if wanted & set(str(c["path"]).split("/"))}


async def allowed_categories(index: CourseIndex, policy: PolicyConfig) -> set[int] | None:
    """The categories schedules may select from (None: `policy.categories` is empty, so every one)."""
    return await subcategories(index, policy.categories) if policy.categories else None


async def courses_in(index: CourseIndex, category: int | None) -> list[dict[str, Any]]:
    """The courses of a category and its subcategories (every course for None)."""
    page = await index.list_courses(category_id=category, search=None, badge=None, limit=MAX_COURSES, offset=0)
    return list(page["courses"])


async def policy_report(index: CourseIndex, policy: PolicyConfig, *, now: float | None = None) -> PolicyReport:
    """Every activity a mandatory rule says must be archived by now and is not (never archived, or changed since
    its last archive), with the moment the rule was first broken."""
    now = time.time() if now is None else now
    report = PolicyReport(
        allowed_categories=sorted(await allowed_categories(index, policy) or []),
        rules=[rule.describe() for rule in policy.mandatory],
    )
    for rule in policy.mandatory:
        for course in await courses_in(index, rule.category):
            try:
                view = await index.show(int(course["id"]))
            except ArchivedError as exc:
                report.problems.append(f"course {course['id']}: {exc}")
                continue
            for activity in view["activities"]:
                closes_at = activity.get("closes_at")
                if activity["modname"] != rule.type or closes_at is None:
                    continue
                due = float(closes_at) + rule.within_days * DAY
                if due > now or activity["badge"] not in ("never", "changed"):
                    continue
                breach = PolicyBreach(
                    rule=rule.describe(), course_id=int(course["id"]), cmid=int(activity["cmid"]),
                    name=activity["name"], type=activity["modname"], closed_at=wire_time(float(closes_at)),
                    due_at=wire_time(due), badge=activity["badge"],
                )  # fmt: skip
                report.breaches.append(breach)
    report.breaches.sort(key=lambda b: (b.due_at, b.course_id, b.cmid))
    return report
