"""The optional quiz replayed from the real 16-question attempt page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from archived.simulator import MoodleSimulator, SimulatorSize
from tests.simulator.rest import call

TYPES = [
    "description",
    "multichoice",
    "multichoice",
    "truefalse",
    "match",
    "shortanswer",
    "numerical",
    "essay",
    "calculated",
    "calculatedmulti",
    "calculatedsimple",
    "ddwtos",
    "ddmarker",
    "ddimageortext",
    "multianswer",
    "gapselect",
]


@pytest.fixture(params=["4.5", "5.0"])
def realsim(request: pytest.FixtureRequest) -> Iterator[MoodleSimulator]:
    """A simulator with the replayed quiz."""
    with MoodleSimulator(release=request.param, size=SimulatorSize.parse("realquiz=1")) as simulator:
        yield simulator


def test_replayed_quiz(realsim: MoodleSimulator, client: httpx.Client) -> None:
    """16 slots of 15 types with the recorded states and marks; ids rewritten; every image downloadable."""
    quiz = next(q for q in realsim.world.quizzes.values() if q.name.startswith("Reference quiz"))
    attempts = realsim.world.quiz_attempts(quiz.id)
    assert len(attempts) == 3
    review = call(realsim, client, "mod_quiz_get_attempt_review", attemptid=attempts[1].id).json()
    questions = review["questions"]
    assert [q["type"] for q in questions] == TYPES
    assert questions[0]["questionnumber"] == "i" and "state" not in questions[0]
    assert [q["mark"] for q in questions[9:11]] == ["-0.50", "0.00"]
    page = "".join(q["html"] for q in questions)
    qubaid = attempts[1].uniqueid
    assert "q56:" not in page and "question-56-" not in page and "http://moodle/" not in page
    assert f'id="question-{qubaid}-13"' in page
    images = set(re.findall(r'src="([^"]*/pluginfile\.php/[^"]+)"', page))
    assert len(images) == 6
    for url in images:
        download = client.get(
            url.replace("/pluginfile.php/", "/webservice/pluginfile.php/"), params={"token": realsim.token}
        )
        assert download.status_code == 200 and download.content.startswith(b"\x89PNG")
    expected = realsim.attempt_expectations(attempts[1].id)
    # Inline tags (<strong>, <span class="nolink">) split recorded sentences; compare against the bare text.
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())
    for slot in expected.slots:
        for fragment in slot.question_texts + slot.right_answer_texts:
            assert " ".join(fragment.split()) in text, (slot.slot, fragment)
