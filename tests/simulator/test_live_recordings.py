"""What the real Moodle 4.5.6 and 5.0 sites of December 2026 showed, served by the simulator.

A token whose user may grade (`mod/quiz:grade`) sees "Make comment or override mark" under every question of a
finished attempt; the replayed quiz (`livequiz`) serves the recorded grader's review; on 5.0 the replayed
course lists its question bank as a `qbank` module, as the recorded course contents do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from archived.simulator import MoodleSimulator, SimulatorSize
from tests.simulator.recordings import RECORDED_HOST, structure_differences
from tests.simulator.rest import call
from tests.support.fixtures import FIXTURES

LIVE = FIXTURES / "live-2026-12"
GRADE = "mod/quiz:grade"
COMMENT_LINK = re.compile(
    r'<div class="commentlink"><a href="([^"]*)" id="action_link\w+" class="" >Make comment or override mark</a></div>'
)


def recorded(release: str, name: str) -> dict[str, Any]:
    """One recording of `LIVE`."""
    return json.loads(next((LIVE / f"moodle-{release}").glob(f"{name}*.json")).read_text())


def review(sim: MoodleSimulator, client: httpx.Client, attemptid: int) -> list[dict[str, Any]]:
    """The questions of an attempt's review."""
    answer = call(sim, client, "mod_quiz_get_attempt_review", attemptid=attemptid).json()
    assert "questions" in answer, answer
    questions: list[dict[str, Any]] = answer["questions"]
    return questions


@pytest.fixture(params=["4.5", "5.0"])
def livesim(request: pytest.FixtureRequest) -> Iterator[MoodleSimulator]:
    """A simulator with the replayed live quiz."""
    with MoodleSimulator(release=request.param, size=SimulatorSize.parse("livequiz=1")) as simulator:
        yield simulator


def live_course(sim: MoodleSimulator) -> int:
    """The id of the replayed course."""
    return next(c.id for c in sim.world.courses.values() if c.shortname == "MATH1-WS2026")


def live_attempt(sim: MoodleSimulator) -> int:
    """The first attempt at the replayed quiz."""
    quiz = next(q for q in sim.world.quizzes.values() if q.course == live_course(sim))
    return sim.world.quiz_attempts(quiz.id)[0].id


def test_only_a_grader_sees_comment_links_and_only_on_finished_attempts(
    sim: MoodleSimulator, client: httpx.Client
) -> None:
    """The recorded exam: attempt 1 (finished, 11 questions) and 10 (in progress), before and after the grant."""
    assert not any("commentlink" in q["html"] for q in review(sim, client, 1))
    sim.grant(GRADE)
    finished = review(sim, client, 1)
    for question in finished:
        links = COMMENT_LINK.findall(question["html"])
        assert links == [f"{sim.url}/mod/quiz/comment.php?attempt=1&slot={question['slot']}"]
    essay = finished[10]["html"]  # the grader's comment comes first, the link after it, in one box
    assert re.search(r'<div class="comment clearfix"><h4 class="accesshide">Comments</h4>Comment: <p>Very clean '
                     r'induction\..*?</p><div class="commentlink">', essay)  # fmt: skip
    assert not any("commentlink" in q["html"] for q in review(sim, client, 10))  # in progress: nothing to grade yet
    sim.revoke(GRADE)
    assert not any("commentlink" in q["html"] for q in review(sim, client, 1))


def test_a_grader_sees_comment_links_in_replayed_reviews_recorded_without_them(client: httpx.Client) -> None:
    """The real 4.4 attempt was recorded by a user who may not grade: a grader gets a link under every question,
    after the comment where there is one."""
    with MoodleSimulator(size=SimulatorSize.parse("realquiz=1")) as sim:
        quiz = next(q for q in sim.world.quizzes.values() if q.name.startswith("Reference quiz"))
        attempt = sim.world.quiz_attempts(quiz.id)[0].id
        sim.grant(GRADE)
        served = review(sim, client, attempt)
        url = sim.url
    assert COMMENT_LINK.findall(served[0]["html"]) == []  # the description
    for question in served[1:]:
        links = COMMENT_LINK.findall(question["html"])
        assert links == [f"{url}/mod/quiz/comment.php?attempt={attempt}&slot={question['slot']}"]
        assert question["html"].count('<div class="comment clearfix">') == 1
    assert (
        'Comment: <p>That is sad. I think you need to rethink your opinon on cake :c</p><div class="commentlink">'
        in ("".join(q["html"] for q in served))
    )


def _normalised(html: str, host: str) -> str:
    """Question HTML without its JavaScript tail, the host and every number (ids differ between the sites)."""
    html = html.split("<script", 1)[0].replace(host, RECORDED_HOST)
    return re.sub(r"\d+", "#", re.sub(r'id="action_link\w+"', 'id="action_link"', html))


def test_the_replayed_review_is_the_recorded_graders_review(livesim: MoodleSimulator, client: httpx.Client) -> None:
    """With the grant, each question's HTML is the recorded one (up to ids and host); state and marks as recorded."""
    livesim.grant(GRADE)
    served = review(livesim, client, live_attempt(livesim))
    recording = recorded(livesim.release, "04-mod_quiz_get_attempt_review")["response"]["questions"]
    assert [q["type"] for q in served] == [q["type"] for q in recording]
    for mine, theirs in zip(served, recording, strict=True):
        for key in ("state", "status", "mark", "maxmark", "questionnumber"):
            assert mine.get(key) == theirs.get(key), (mine["slot"], key)
        assert _normalised(mine["html"], livesim.url) == _normalised(theirs["html"], RECORDED_HOST), mine["slot"]
    assert sum("commentlink" in q["html"] for q in served) == 12  # every question but the description


def test_without_the_grant_the_replayed_review_has_no_teacher_links(
    livesim: MoodleSimulator, client: httpx.Client
) -> None:
    """A token that may not grade: no links, and no comment box where only a link was; the essay keeps its comment."""
    served = review(livesim, client, live_attempt(livesim))
    page = "".join(q["html"] for q in served)
    assert "commentlink" not in page and "Make comment or override mark" not in page
    assert page.count('<div class="comment clearfix">') == 1
    assert "Comment: <p>Graded by H. Brandt: 4.5/5. Clear argument.</p></div>" in served[12]["html"]


def test_the_replayed_files_download(livesim: MoodleSimulator, client: httpx.Client) -> None:
    """The question image and both essay attachments the review links to are served."""
    served = review(livesim, client, live_attempt(livesim))
    page = "".join(q["html"] for q in served)
    urls = sorted(set(re.findall(r'(?:src|href)="([^"]*/pluginfile\.php/[^"]+)"', page)))
    assert len(urls) == 3
    for url in urls:
        download = client.get(
            url.replace("/pluginfile.php/", "/webservice/pluginfile.php/"), params={"token": livesim.token}
        )
        assert download.status_code == 200 and download.content.startswith(b"\x89PNG"), url
    files = served[12]["responsefileareas"][0]["files"]
    assert [f["filename"] for f in files] == ["proof-page1.png", "proof-page2.png"]
    assert {f["fileurl"] for f in files} <= {url.replace("&amp;", "&") for url in urls}


def test_the_5_0_course_lists_its_question_bank(client: httpx.Client) -> None:
    """As the recorded 5.0 site: a hidden `qbank` module in section 0, after the quiz, with its description."""
    with MoodleSimulator(release="5.0", size=SimulatorSize.parse("livequiz=1")) as sim:
        contents = call(sim, client, "core_course_get_contents", courseid=live_course(sim)).json()
    recording = recorded("5.0", "01-core_course_get_contents")["response"]
    assert structure_differences(recording[0], contents[0]) == []
    modules = [(m["modname"], m["name"], m["visible"], m.get("description")) for m in contents[0]["modules"]]
    bank = next(m for m in recording[0]["modules"] if m["modname"] == "qbank")
    assert modules == [
        ("quiz", "Final exam Mathematics I", 1, None),
        ("qbank", bank["name"], bank["visible"], bank["description"]),
    ]
