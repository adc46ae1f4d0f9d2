"""The course overview against the Moodle simulator over real HTTP, through a real daemon's socket."""

from __future__ import annotations

import pytest

from archived.protocol.errors import ErrorCode, RpcError
from tests.support.jobs import TERMINAL, wait_for_state


async def test_tree_and_list(moodle_daemon) -> None:
    async with moodle_daemon.client() as client:
        tree = await client.call("courses.tree")
        names = {c["name"]: c for c in tree["categories"]}
        assert {"Faculty of Science", "Exams"} <= set(names)
        assert names["Exams"]["parent"] == names["Faculty of Science"]["id"]
        listing = await client.call("courses.list")
        shortnames = {c["shortname"] for c in listing["courses"]}
        assert shortnames == {"EXAM-WS2026", "LA1-WS2026", "EMPTY-C"}  # the front page is not a course to archive
        by_category = await client.call("courses.list", {"category_id": names["Faculty of Science"]["id"]})
        assert by_category["total"] == 3  # subcategories included
        search = await client.call("courses.list", {"search": "linear"})
        assert [c["shortname"] for c in search["courses"]] == ["LA1-WS2026"]


async def test_show_badges_and_change_detection(moodle_daemon, simulator) -> None:
    async with moodle_daemon.client() as client:
        course = await client.call("courses.show", {"course_id": 2})
        activities = {a["cmid"]: a for a in course["activities"]}
        assert activities[2]["modname"] == "quiz" and activities[2]["driver"] == "quiz"
        assert activities[2]["badge"] == "never" and activities[2]["archivable"]
        assert activities[2]["fingerprint"]
        assert activities[1]["badge"] == "unsupported" and "no archiving driver for resource" in activities[1]["reason"]

        # Archive the quiz: no driver named, the daemon finds it from the activity's type.
        answer = await client.call("jobs.create", {"course_id": 2, "cmid": 2})
        assert answer["job"]["driver"] == "quiz"
        job = await wait_for_state(client, answer["job"]["id"], TERMINAL, timeout=240)
        assert job["state"] == "completed", job

        course = await client.call("courses.show", {"course_id": 2})
        quiz = next(a for a in course["activities"] if a["cmid"] == 2)
        assert quiz["badge"] == "archived"
        assert quiz["last_archive"]["job_id"] == job["id"]

        # The student of the in-progress attempt 10 saves an answer after the archive was made. (The quiz's own
        # timemodified is invisible to a service user without moodle/course:manageactivities, as on real Moodle.)
        simulator.world.attempts[10].timemodified += 10**6
        await client.call("courses.refresh", {"course_id": 2, "force": True})  # within the cooldown: forced
        course = await client.call("courses.show", {"course_id": 2})
        quiz = next(a for a in course["activities"] if a["cmid"] == 2)
        assert quiz["badge"] == "changed"


async def test_quiz_without_attempts_is_not_ready(moodle_daemon, simulator) -> None:
    # The empty course has no activities at all; quiz 2 of course 3 has attempts; make one without.
    async with moodle_daemon.client() as client:
        course = await client.call("courses.show", {"course_id": 4})
        assert course["activities"] == []
        with pytest.raises(RpcError) as err:
            await client.call("courses.show", {"course_id": 999})
        assert err.value.code == ErrorCode.NOT_FOUND


async def test_unsupported_activity_cannot_be_archived(moodle_daemon) -> None:
    async with moodle_daemon.client() as client:
        with pytest.raises(RpcError) as err:
            await client.call("jobs.create", {"course_id": 2, "cmid": 1})
        assert err.value.code == ErrorCode.INVALID_SETTING
        assert "resource" in err.value.message
        with pytest.raises(RpcError) as err:
            await client.call("jobs.create", {"course_id": 2, "cmid": 99})
        assert err.value.code == ErrorCode.NOT_FOUND


async def test_moodle_status_in_daemon_status(moodle_daemon) -> None:
    async with moodle_daemon.client() as client:
        await client.call("courses.tree")  # waits for the first refresh
        status = await client.call("daemon.status")
        assert status["moodle"]["reachable"] is True
        assert status["moodle"]["release"].startswith("4.5")
