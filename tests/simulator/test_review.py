"""The attempt review: question HTML per release, history, TeX, end code, and the expectations API."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from archived.simulator import MoodleSimulator
from tests.simulator.rest import call

FINISHED_EXAM_ATTEMPTS = [1, 2, 3, 4, 5, 6, 7, 8, 9]


def _review(sim: MoodleSimulator, client: httpx.Client, attemptid: int, **extra: Any) -> dict[str, Any]:
    answer = call(sim, client, "mod_quiz_get_attempt_review", attemptid=attemptid, **extra).json()
    assert "questions" in answer, answer
    return answer


def _visible(fragment: str) -> str:
    return " ".join(fragment.split())


def _page_text(questions: list[dict[str, Any]]) -> str:
    text = "".join(q["html"] for q in questions)
    return " ".join(html.unescape(text).split())


@pytest.mark.parametrize("attemptid", FINISHED_EXAM_ATTEMPTS)
def test_expected_texts_are_in_the_review(sim: MoodleSimulator, client: httpx.Client, attemptid: int) -> None:
    """Every question text, response and right-answer fragment of the expectations is in that attempt's HTML."""
    expected = sim.attempt_expectations(attemptid)
    questions = _review(sim, client, attemptid)["questions"]
    for slot, question in zip(expected.slots, questions, strict=True):
        page = " ".join(html.unescape(question["html"]).split())
        for fragment in slot.question_texts + slot.response_texts + slot.right_answer_texts:
            assert _visible(fragment) in page, (attemptid, slot.slot, fragment)
        for formula in slot.tex:
            assert formula in page, (attemptid, slot.slot, formula)
        for name in slot.attachments:
            assert name in page
        assert question["state"] == slot.state
        assert question["mark"] == slot.mark


def test_attempts_differ_in_responses_and_right_answers(sim: MoodleSimulator) -> None:
    """Seeded attempts give different responses, and the calculated question a different right answer."""
    all_expectations = [sim.attempt_expectations(a) for a in FINISHED_EXAM_ATTEMPTS]
    responses = {tuple(e.all_response_texts()) for e in all_expectations}
    assert len(responses) == len(all_expectations)
    calculated = {e.slot(8).right_answer_texts for e in all_expectations}
    assert len(calculated) > 1


def test_graded_essay_has_comment_attachment_and_history(sim: MoodleSimulator, client: httpx.Client) -> None:
    """The recorded attempt 1: manual comment, attachment link, four history steps ending in the manual grade."""
    essay = _review(sim, client, 1)["questions"][10]
    assert essay["state"] == "mangrpartial" and essay["mark"] == "9.50" and essay["sequencecheck"] == 4
    page = essay["html"]
    assert '<div class="comment clearfix"><h4 class="accesshide">Comments</h4>Comment: <p>Very clean induction.' in page
    assert '<div class="history clearfix border p-2"><h4 class="responsehistoryheader">Response history</h4>' in page
    steps = re.findall(r'<td class="cell c2" style="">(.*?)</td>', page, re.DOTALL)
    assert len(steps) == 4
    assert steps[0] == "Started" and steps[2] == "Attempt finished"
    assert steps[3].startswith("Manually graded 9.5 with comment: Very clean induction.")
    assert "Induktion_Skizze.pdf</a></li>" in page


def test_mathjax_filter_markup(sim: MoodleSimulator, client: httpx.Client) -> None:
    """TeX stays verbatim inside `nolink` spans within a `filter_mathjaxloader_equation` span."""
    first = _review(sim, client, 1)["questions"][0]["html"]
    assert (
        '<div class="qtext"><div class="clearfix"><span class="filter_mathjaxloader_equation"><p>Let '
        '<span class="nolink">\\( a = 6 \\)</span> and' in first
    )
    truefalse = _review(sim, client, 1)["questions"][2]["html"]
    assert '<span class="nolink">\\[ \\sum_{i=1}^n i = \\frac{n(n+1)}{2} \\]</span>' in truefalse


def test_end_code_accumulates(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Every `html` ends with the page's end code, which repeats the calls of earlier questions."""
    questions = _review(sim, client, 1)["questions"]
    tails = [q["html"][q["html"].index("<script>") :] for q in questions]
    assert all(t.rstrip().endswith("</script>") for t in tails)
    assert [len(t) for t in tails] == sorted(len(t) for t in tails)
    assert 'amd.init("question-1-1")' in tails[-1] and 'amd.init("question-1-9", true)' in tails[-1]
    assert "mathjax@2.7.9/MathJax.js" in tails[0]


@pytest.mark.parametrize(
    ("release", "present", "absent"),
    [
        (
            "4.1",
            ['<div class="prompt">Select one:</div>', "flex-fill ml-1", "fa fa-check text-success"],
            ["<fieldset", 'class="questionnumber"'],
        ),
        (
            "4.5",
            [
                '<legend class="prompt h6 font-weight-normal sr-only">',
                '<div class="qtext"><div class="clearfix">',
                "fa-regular fa-circle-check",
                "custom-select",
            ],
            ["visually-hidden", "data-bs-toggle"],
        ),
        (
            "5.0",
            [
                '<legend class="prompt h6 fw-normal visually-hidden">',
                'data-bs-toggle="popover"',
                "form-select",
                "mathjax@3.2.2",
            ],
            ['<div class="qtext"><div class="clearfix">', " sr-only", "custom-select"],
        ),
    ],
)
def test_markup_per_release(client: httpx.Client, release: str, present: list[str], absent: list[str]) -> None:
    """Bootstrap 4/5 class names, FontAwesome 4/6 icons, the 4.1 answer block, MathJax 2/3."""
    with MoodleSimulator(release=release) as sim:
        page = "".join(q["html"] for q in _review(sim, client, 1)["questions"])
    for snippet in present:
        assert snippet in page, snippet
    for snippet in absent:
        assert snippet not in page, snippet


def test_question_structure_keys_per_release(client: httpx.Client) -> None:
    """4.1 has no questionnumber/stateclass and orders `number` after `flagged`."""
    with MoodleSimulator(release="4.1") as sim:
        keys = list(_review(sim, client, 1)["questions"][0])
    assert keys == [
        "slot",
        "type",
        "page",
        "html",
        "responsefileareas",
        "sequencecheck",
        "lastactiontime",
        "hasautosavedstep",
        "flagged",
        "number",
        "state",
        "status",
        "blockedbyprevious",
        "mark",
        "maxmark",
        "settings",
    ]


def test_in_progress_attempt(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Another user's open attempt is reviewable: saved answers, no feedback, no grade."""
    review = _review(sim, client, 10)
    assert review["grade"] is None and review["additionaldata"] == []
    states = [q["state"] for q in review["questions"]]
    assert states[:4] == ["complete", "complete", "complete", "todo"] and set(states[4:]) == {"todo"}
    assert all('class="outcome' not in q["html"] for q in review["questions"])
    assert all(q["mark"] == "" for q in review["questions"])


def test_first_render_time_on_50(client: httpx.Client) -> None:
    """5.0 shows -1 for never-rendered questions; the review itself renders them, so a second call differs."""
    with MoodleSimulator(release="5.0") as sim:
        first = [q["lastactiontime"] for q in _review(sim, client, 10)["questions"]]
        second = [q["lastactiontime"] for q in _review(sim, client, 10)["questions"]]
    assert first[4:] == [-1] * 7 and first[3] > 0
    assert second[4:] == [sim.world.now] * 7


def test_page_parameter(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`page` limits the questions; out-of-range pages are forced into range."""
    assert [q["slot"] for q in _review(sim, client, 1, page=1)["questions"]] == [5, 6, 7, 8]
    assert [q["slot"] for q in _review(sim, client, 1, page=99)["questions"]] == [9, 10, 11]


@pytest.mark.parametrize(
    ("release", "slots", "blank"), [("4.1", [1, 2, 3, 4], []), ("4.5", list(range(1, 12)), [5, 11])]
)
def test_sequential_navigation(client: httpx.Client, release: str, slots: list[int], blank: list[int]) -> None:
    """With `navmethod=seq`, pages after the current one are dropped (4.1) or blanked (4.5+)."""
    with MoodleSimulator(release=release) as sim:
        sim.world.quizzes[1].navmethod = "seq"
        questions = _review(sim, client, 10)["questions"]
    assert [q["slot"] for q in questions] == slots
    for question in questions:
        if question["slot"] in blank:
            assert question["type"] == "" and question["html"] == ""
            assert "responsefileareas" not in question


def test_overall_feedback_in_additionaldata(sim: MoodleSimulator, client: httpx.Client) -> None:
    """A graded attempt carries the filtered overall feedback; the grade is the unrounded scaled sumgrades."""
    review = _review(sim, client, 1)
    assert review["grade"] == pytest.approx(92.361125)
    assert review["additionaldata"] == [
        {
            "id": "feedback",
            "title": "Feedback",
            "content": '<span class="filter_mathjaxloader_equation"><p>Excellent '
            'work! <span class="nolink">\\( \\checkmark \\)</span></p></span>',
        }
    ]
