"""`MoodleApi` against the replay server: each method must send exactly the recorded request (the server only
answers exact matches) and parse the recorded answer of both Moodle versions into its model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from archived.moodle.api import MoodleApi, parse_answer
from archived.moodle.errors import MalformedResponseError, RecordNotFoundError
from archived.moodle.models import AttemptReview, AttemptState, SubmissionStatusCode

from .conftest import SITE, ReplayMoodle, load_fixture


async def test_site_info(replay: ReplayMoodle, make_client: Any, version: str) -> None:
    api = MoodleApi(make_client(replay, site_url=None))
    info = await api.site_info()
    assert info.sitename == f"Archiver Test Site (Moodle {version})"
    assert info.username == "archiver" and info.userid == 12
    assert info.branch == version
    assert len(info.functions) == (18 if version == "4.5" else 19)
    assert info.downloadfiles == 1
    assert "userprivateaccesskey" not in info.model_dump()
    # Moodle's wwwroot is learnt as an alias, so its file URLs are fetched from the loopback server.
    assert api.client.site_aliases == (SITE,)
    assert api.client.file_url(SITE + "/pluginfile.php/1/a/b/0/x.png").startswith(replay.url + "/webservice/")
    assert await api.site_info() is info
    assert len(replay.rest_calls()) == 1


async def test_courses_and_contents(replay: ReplayMoodle, make_client: Any) -> None:
    api = MoodleApi(make_client(replay))
    categories = await api.categories()
    assert [c.name for c in categories] == ["Category 1", "Faculty of Science", "Exams"]
    children = await api.categories(parent=2, addsubcategories=False)
    assert [c.id for c in children] == [3]
    assert {c.id for c in await api.courses()} == {1, 2, 3, 4}
    assert [c.shortname for c in await api.courses([2, 3])] == ["EXAM-WS2026", "LA1-WS2026"]
    course = (await api.courses_by_field("id", 2)).courses[0]
    assert course.fullname == "Exam WS2026" and course.contacts[0].fullname == "Erika Mustermann"
    assert {c.id for c in (await api.courses_by_field("category", 3)).courses} == {2, 4}
    assert len((await api.courses_by_field("ids", [2, 3, 4])).courses) == 3
    sections = await api.course_contents(2)
    modules = {m.modname: m for s in sections for m in s.modules}
    assert modules["quiz"].instance == 1 and modules["quiz"].id == 2
    assert isinstance(modules["assign"].customdata_dict["duedate"], int)
    assert modules["resource"].contents[0].fileurl is not None
    assert all(not s.modules for s in await api.course_contents(4))


async def test_users(replay: ReplayMoodle, make_client: Any) -> None:
    api = MoodleApi(make_client(replay))
    everyone = await api.enrolled_users(2)
    assert {u.username for u in everyone} >= {"jmueller", "bweber", "emustermann"}
    students = await api.enrolled_users(
        2,
        withcapability="mod/quiz:attempt",
        userfields=["id", "username", "idnumber", "firstname", "lastname", "email", "groups", "roles"],
        limitnumber=200,
    )
    first = students[0]
    assert first.fullname == "Jürgen Müller" and first.idnumber == "4711001"
    assert first.groups[0].name == "Exam room H1" and first.roles[0].shortname == "student"
    found = await api.users_by_field("idnumber", ["4711001", "4711002", "4799999"])
    assert [u.username for u in found] == ["jmueller", "zotsuka"]
    assert found[1].lastname == "Ōtsuka" and found[1].suspended is False


async def test_quiz_functions(replay: ReplayMoodle, make_client: Any, version: str) -> None:
    api = MoodleApi(make_client(replay))
    quizzes = (await api.quizzes_by_courses([2, 3])).quizzes
    assert (quizzes[0].id, quizzes[0].coursemodule, quizzes[0].name) == (1, 2, "Final exam Mathematics I")
    assert quizzes[0].sumgrades == 24 and quizzes[0].grade == 100

    if version == "4.5":
        attempts = (await api.user_attempts(1, 4)).attempts
        assert [a.id for a in attempts] == [2, 9]
        assert replay.rest_calls()[-1].wsfunction == "mod_quiz_get_user_attempts"
    else:
        attempts = (await api.user_attempts(2, 6)).attempts
        assert attempts[0].state == AttemptState.NOTSTARTED and attempts[0].state is AttemptState.NOTSTARTED
        assert replay.rest_calls()[-1].wsfunction == "mod_quiz_get_user_quiz_attempts"
    bweber = (await api.user_attempts(1, 10)).attempts
    assert [a.state for a in bweber] == [AttemptState.FINISHED, AttemptState.INPROGRESS]
    assert bweber[1].timecheckstate is not None and bweber[0].timecheckstate is None
    ungraded = (await api.user_attempts(1, 7)).attempts
    assert ungraded[0].sumgrades is None

    review = await api.attempt_review(1)
    assert review.grade == pytest.approx(92.361125)
    assert len(review.questions) == 11
    essay = review.questions[10]
    assert essay.type == "essay" and essay.mark == "9.50" and essay.mark_value == Decimal("9.50")
    assert essay.responsefileareas[0].files[0].filename == "Induktion_Skizze.pdf"
    assert review.overall_feedback is not None and "filter_mathjaxloader_equation" in review.overall_feedback
    assert review.questions[0].settings_dict["answernumbering"] == "123"
    assert (await api.attempt_review(5)).grade is None
    in_progress = await api.attempt_review(10)
    assert in_progress.attempt.state == AttemptState.INPROGRESS
    assert in_progress.questions[0].mark == "" and in_progress.questions[0].mark_value is None

    best = await api.user_best_grade(1, 3)
    assert best.hasgrade and best.grade == pytest.approx(92.36113) and best.gradetopass == 50
    assert not (await api.user_best_grade(1, 9)).hasgrade
    feedback = await api.quiz_feedback_for_grade(1, 97.92)
    assert "Excellent" in feedback.feedbacktext
    await api.quiz_feedback_for_grade(1, 44.44)


async def test_assignment_functions(replay: ReplayMoodle, make_client: Any, version: str) -> None:
    api = MoodleApi(make_client(replay))
    assignment = (await api.assignments([2])).courses[0].assignments[0]
    assert (assignment.id, assignment.cmid, assignment.grade) == (1, 3, 100)
    assert assignment.gradepenalty == (0 if version == "5.0" else None)
    submissions = (await api.submissions([1])).assignments[0].submissions
    mueller = next(s for s in submissions if s.userid == 3)
    assert mueller.status == SubmissionStatusCode.SUBMITTED
    files = [f for p in mueller.plugins for a in p.fileareas for f in a.files]
    assert [f.filename for f in files] == ["Laborbericht_Müller.pdf"]
    grades = (await api.grades([1])).assignments[0].grades
    graded = next(g for g in grades if g.userid == 3)
    assert graded.grade == "85.00000" and graded.grade_value == Decimal("85")
    status = await api.submission_status(1, 3)
    assert status.feedback is not None and status.feedback.grade is not None
    assert status.feedback.grade.grade_value == Decimal("85")
    assert status.lastattempt is not None and status.lastattempt.submission is not None
    assert status.lastattempt.extensionduedate == 0
    not_graded = await api.submission_status(1, 6)
    assert not_graded.feedback is None and not_graded.lastattempt is not None
    assert not_graded.lastattempt.gradingstatus == "notgraded"
    draft = await api.submission_status(1, 7)
    assert draft.lastattempt is not None and draft.lastattempt.submission is not None
    assert draft.lastattempt.submission.status == SubmissionStatusCode.DRAFT
    participants = await api.list_participants(1)
    assert {p.username: p.submissionstatus for p in participants}["edubois"] == "draft"


async def test_file_listing(replay: ReplayMoodle, make_client: Any) -> None:
    api = MoodleApi(make_client(replay))
    listing = await api.files(25, "mod_resource", "content", 0, "/", "")
    assert listing.files == []
    root = await api.files(-1, "", "", 0, "", "", contextlevel="course", instanceid=2)
    assert root.files == [] and root.parents


async def test_file_listing_with_managefiles(start_replay: Any, make_client: Any) -> None:
    replay = start_replay("4.5", prefer=("with-managefiles",))
    api = MoodleApi(make_client(replay))
    listing = await api.files(25, "mod_resource", "content", 0, "/", "")
    stored = [f for f in listing.files if not f.isdir]
    assert stored[0].filename == "Exam regulations WS2026.pdf"
    assert stored[0].url is not None and "/pluginfile.php/" in stored[0].url


async def test_unknown_attempt_is_record_not_found(replay: ReplayMoodle, make_client: Any) -> None:
    client = make_client(replay)
    with pytest.raises(RecordNotFoundError) as caught:
        await client.call("mod_quiz_get_attempt_review", {"attemptid": 999999})
    assert "attemptid=999999" in str(caught.value)
    assert len(replay.rest_calls()) == 1  # fatal: not retried


async def test_wrong_shape_is_malformed_and_not_retried(replay: ReplayMoodle, make_client: Any) -> None:
    from .conftest import json_reply

    replay.script(json_reply({"foo": 1}))
    api = MoodleApi(make_client(replay))
    with pytest.raises(MalformedResponseError) as caught:
        await api.site_info()
    assert caught.value.function == "core_webservice_get_site_info"
    assert caught.value.field == "sitename"
    assert "core_webservice_get_site_info" in str(caught.value) and "sitename" in str(caught.value)
    assert len(replay.rest_calls()) == 1


def test_parse_answer_names_the_first_offending_field() -> None:
    data = load_fixture("4.5", "18")["response"]
    del data["questions"][3]["slot"]
    with pytest.raises(MalformedResponseError) as caught:
        parse_answer("mod_quiz_get_attempt_review", AttemptReview, data)
    assert caught.value.field == "questions[3].slot"
    bad = load_fixture("4.5", "18")["response"]
    bad["questions"] = "nope"
    with pytest.raises(MalformedResponseError, match="questions"):
        parse_answer("mod_quiz_get_attempt_review", AttemptReview, bad)
