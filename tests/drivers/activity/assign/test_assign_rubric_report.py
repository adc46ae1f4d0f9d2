"""Rubrics, marking guides and submission comments of assignment reports: Moodle's answers read into filled
forms (matched to a grade by item id), and their texts shown cleaned like every other Moodle HTML."""

from __future__ import annotations

import pytest

from archived.moodle.errors import MalformedResponseError
from archived_assign.advanced_grading import AdvancedGrading, active_definition
from archived_assign.documents import CommentView, GradingView, grading_table
from archived_assign.report import ReportBuilder, el

RUBRIC = {
    "id": 5, "method": "rubric", "name": "Journal rubric", "status": 20, "timecreated": 1, "usercreated": 2,
    "timemodified": 1, "usermodified": 2,
    "rubric": {"rubric_criteria": [
        {"id": 12, "sortorder": 2, "description": "Analysis", "levels": [
            {"id": 120, "score": 0, "definition": "none"}, {"id": 121, "score": 4, "definition": "full"}]},
        {"id": 11, "sortorder": 1, "description": "Method", "levels": [
            {"id": 110, "score": 1, "definition": "weak"}, {"id": 111, "score": 3, "definition": "sound"}]},
    ]},
}  # fmt: skip
GUIDE = {
    "id": 6, "method": "guide", "name": "Journal guide", "status": 20, "timecreated": 1, "usercreated": 2,
    "timemodified": 1, "usermodified": 2,
    "guide": {"guide_criteria": [{"id": 21, "sortorder": 1, "shortname": "Clarity", "maxscore": 10}],
              "guide_comments": []},
}  # fmt: skip


def definitions(activemethod: str | None, *defs: dict) -> dict:
    area = {"cmid": 7, "contextid": 70, "component": "mod_assign", "areaname": "submissions",
            "definitions": list(defs)}  # fmt: skip
    if activemethod is not None:
        area["activemethod"] = activemethod
    return {"areas": [area], "warnings": []}


def test_the_active_method_s_definition_is_taken_and_none_without_advanced_grading() -> None:
    both = definitions("guide", RUBRIC, GUIDE)
    assert active_definition(both, 7).method == "guide"
    assert active_definition(definitions("rubric", RUBRIC, GUIDE), 7).id == 5
    assert active_definition(definitions(None, RUBRIC), 7) is None  # simple direct grading, a rubric left over
    assert active_definition(both, 8) is None  # another course module
    with pytest.raises(MalformedResponseError):
        active_definition({"areas": [{"cmid": "seven"}]}, 7)


def test_a_rubric_filling_is_matched_by_grade_id_in_criterion_order_with_scores_of_the_best() -> None:
    definition = active_definition(definitions("rubric", RUBRIC), 7)
    assert definition is not None
    instances = {"instances": [
        {"id": 1, "raterid": 9, "itemid": 40, "status": 1, "timemodified": 5, "rubric": {"criteria": [
            {"id": 1, "criterionid": 12, "levelid": 121, "remark": "<p>thorough</p>"},
            {"id": 2, "criterionid": 11, "levelid": 110, "remark": ""},
            {"id": 3, "criterionid": 99, "levelid": 990, "remark": "gone"}]}},
        {"id": 2, "raterid": 9, "itemid": 41, "status": 1, "timemodified": 6, "rubric": []},
    ], "warnings": []}  # fmt: skip
    grading = AdvancedGrading.of(definition, instances)
    (form,) = grading.filled_for(40)
    assert form.title == "Rubric" and form.rater == 9
    assert [(r.criterion, r.level, r.score, r.maxscore, r.remark) for r in form.rows] == [
        ("Method", "weak", 1, 3, ""),
        ("Analysis", "full", 4, 4, "<p>thorough</p>"),
        ("criterion 99 (not in the definition)", "", None, None, "gone"),  # kept, not dropped
    ]
    assert form.total is None  # a row without a score: no total claimed
    (empty,) = grading.filled_for(41)  # an instance without fillings (PHP's empty array): every criterion unfilled
    assert [r.level for r in empty.rows] == ["", ""]
    assert grading.filled_for(42) == []


def test_a_marking_guide_filling_shows_score_of_maximum_and_the_total() -> None:
    definition = active_definition(definitions("guide", GUIDE), 7)
    assert definition is not None
    instances = {"instances": [{"id": 1, "raterid": 9, "itemid": 40, "status": 1, "timemodified": 5, "guide": {
        "criteria": [{"id": 1, "criterionid": 21, "score": 7.5, "remark": "clear enough"}]}}]}  # fmt: skip
    (form,) = AdvancedGrading.of(definition, instances).filled_for(40)
    assert form.title == "Marking guide" and form.total == (7.5, 10)
    report = ReportBuilder("t")
    table = report.add(grading_table(report, GradingView(form, "Erika Mustermann (emustermann, user 11)"), "a1"))
    text = table.text_content()
    assert "Marking guide: Journal guide" in text and "7.5 / 10" in text and "total 7.5 of 10 points" in text
    assert [th.text for th in table.iter("th")] == ["Criterion", "Score", "Remark"]


HOSTILE = (
    '<p onclick="steal()">kept <strong>words</strong></p><script>alert("x")</script>'
    '<img src="javascript:alert(1)" onerror="alert(2)"><a href="javascript:alert(3)">link</a>'
    '<iframe src="https://evil.example/"></iframe>'
)


def test_remarks_levels_and_comments_are_cleaned_like_every_other_moodle_html() -> None:
    definition = active_definition(definitions("rubric", RUBRIC), 7)
    assert definition is not None
    instances = {"instances": [{"id": 1, "raterid": 9, "itemid": 40, "status": 1, "timemodified": 5, "rubric": {
        "criteria": [{"id": 1, "criterionid": 11, "levelid": 111, "remark": HOSTILE}]}}]}  # fmt: skip
    (form,) = AdvancedGrading.of(definition, instances).filled_for(40)
    report = ReportBuilder("t")
    report.add(grading_table(report, GradingView(form, "grader"), "attempt 1"))
    comment = CommentView("Mallory\x00 \x1b[2J(user 66)", 5, HOSTILE)
    report.add(el("p", comment.author))
    report.add(report.moodle_html(comment.html, "attempt 1 submission comment"))
    html, _ = report.finish({}, {}, "")
    for banned in ("<script", "onclick", "onerror", "javascript:", "<iframe", "\x00", "\x1b"):
        assert banned not in html, banned
    assert html.count("kept <strong>words</strong>") == 2 and "link" in html and "Mallory\ufffd" in html
    assert any("script" in warning for warning in report.warnings)
