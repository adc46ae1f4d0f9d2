"""A selection rule applied to candidates (pure): each activity is selected or skipped with one reason, in order."""

from __future__ import annotations

from dataclasses import replace

from archived.protocol.schedules import SelectionRule
from archived.schedules.rules import DAY, Candidate, SkipReason, select

NOW = 1_800_000_000.0
QUIZ = Candidate(
    course_id=2, category_id=3, cmid=10, name="Exam", modname="quiz", supported=True, archivable=True, reason=None,
    badge="never", closes_at=NOW - 3 * DAY, driver="quiz",
)  # fmt: skip


def reasons(
    candidates: list[Candidate],
    rule: SelectionRule,
    *,
    running: set[int] | None = None,
    allowed: set[int] | None = None,
) -> dict[int, str]:
    outcome = select(candidates, rule, now=NOW, running=running or set(), allowed_categories=allowed)
    chosen = {c.cmid: "selected" for c in outcome.selected}
    return {**chosen, **{s.candidate.cmid: s.reason.value for s in outcome.skipped}}


def test_each_activity_gets_exactly_one_verdict() -> None:
    candidates = [
        QUIZ,
        replace(QUIZ, cmid=11, modname="forum", supported=False, driver=None),
        replace(QUIZ, cmid=12, closes_at=None),
        replace(QUIZ, cmid=13, closes_at=NOW + DAY),
        replace(QUIZ, cmid=14, closes_at=NOW - 0.5 * DAY),
        replace(QUIZ, cmid=15, archivable=False, reason="no attempts yet"),
        replace(QUIZ, cmid=16, badge="archived"),
        replace(QUIZ, cmid=17, badge="changed"),
        replace(QUIZ, cmid=18),
        replace(QUIZ, cmid=19),
    ]
    rule = SelectionRule(types=["quiz"], closed_days=1, changed_only=True, max_jobs=2)
    assert reasons(candidates, rule, running={18}) == {
        10: "selected", 11: "type_not_selected", 12: "no_close_date", 13: "not_closed", 14: "closed_recently",
        15: "not_archivable", 16: "unchanged", 17: "selected", 18: "running_job", 19: "over_cap",
    }  # fmt: skip


def test_without_conditions_every_supported_activity_is_selected() -> None:
    candidates = [QUIZ, replace(QUIZ, cmid=11, modname="forum", supported=False, driver=None)]
    assert reasons(candidates, SelectionRule()) == {10: "selected", 11: SkipReason.UNSUPPORTED.value}


def test_the_allow_list_keeps_other_categories_out() -> None:
    candidates = [QUIZ, replace(QUIZ, cmid=11, category_id=4)]
    assert reasons(candidates, SelectionRule(), allowed={3}) == {10: "selected", 11: "category_not_allowed"}
