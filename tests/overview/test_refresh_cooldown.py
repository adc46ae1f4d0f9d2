"""`courses.refresh` has a cooldown: whoever asks again within it gets the data already fetched, and Moodle
(the simulator, counting its requests) sees one round; only operators can force another."""

from __future__ import annotations

import asyncio

import pytest

from archived.protocol.errors import ErrorCode, RpcError
from tests.cli.test_cli import run
from tests.overview.conftest import moodle_overrides

READER_ONLY = {"access.operator_users": [], "access.operator_groups": [], "access.allow_daemon_user": False}


def requests(simulator) -> int:
    return sum(simulator.stats.counts().values())


async def test_repeated_refreshes_by_a_reader_cost_moodle_one_round(daemon_factory, simulator, tmp_path) -> None:
    daemon = daemon_factory(**moodle_overrides(tmp_path, simulator), **READER_ONLY)
    async with daemon.client() as client:
        assert client.server_info["peer"]["operator"] is False
        await client.call("courses.tree")  # the daemon's own first refresh has finished
        simulator.stats.reset()
        answers = await asyncio.gather(*(client.call("courses.refresh", {"course_id": 2}) for _ in range(10)))
        one_round = requests(simulator)
        assert simulator.stats.count("core_course_get_contents") == 1
        assert one_round > 2  # the course's contents, then requests per enrolled user for the quiz
        assert [a["refreshed"] for a in answers].count(True) == 1
        for answer in answers:
            if not answer["refreshed"]:
                assert "s ago" in answer["message"]
                assert "daemon.overview_refresh_cooldown_seconds" in answer["message"]
        # The whole site was fetched moments ago by the daemon itself: that counts too.
        site = await client.call("courses.refresh")
        assert site["refreshed"] is False
        with pytest.raises(RpcError) as err:
            await client.call("courses.refresh", {"course_id": 2, "force": True})
        assert err.value.code == ErrorCode.PERMISSION_DENIED and "not an operator" in err.value.message
        assert requests(simulator) == one_round
        # A course that does not exist never reaches Moodle.
        with pytest.raises(RpcError) as err:
            await client.call("courses.refresh", {"course_id": 999})
        assert err.value.code == ErrorCode.NOT_FOUND
        assert requests(simulator) == one_round


async def test_an_operator_can_force_a_refresh(moodle_daemon, simulator) -> None:
    async with moodle_daemon.client() as client:
        await client.call("courses.show", {"course_id": 2})  # fetched by looking at it: that is a round too
        simulator.stats.reset()
        assert (await client.call("courses.refresh", {"course_id": 2}))["refreshed"] is False
        assert requests(simulator) == 0
        forced = await client.call("courses.refresh", {"course_id": 2, "force": True})
        assert forced["refreshed"] is True and forced["message"] == "fetched from Moodle now"
        assert simulator.stats.count("core_course_get_contents") == 1
        site = await client.call("courses.refresh", {"force": True})
        assert site["refreshed"] is True and simulator.stats.count("core_course_get_categories") == 1


async def test_a_failed_refresh_is_not_retried_within_the_cooldown(moodle_daemon, simulator) -> None:
    async with moodle_daemon.client() as client:
        await client.call("courses.tree")
        simulator.faults.moodle_error(
            "nopermissions", "required_capability_exception", function="core_course_get_contents"
        )
        with pytest.raises(RpcError):
            await client.call("courses.refresh", {"course_id": 2, "force": True})
        simulator.stats.reset()
        with pytest.raises(RpcError) as err:
            await client.call("courses.refresh", {"course_id": 2})
        assert err.value.code == ErrorCode.UPSTREAM_ERROR
        assert "failed" in err.value.message and "daemon.overview_refresh_cooldown_seconds" in err.value.message
        assert requests(simulator) == 0


def test_the_cli_says_whether_moodle_was_asked(moodle_daemon) -> None:
    first = run("courses", "refresh", "2", "--force", socket=moodle_daemon.socket)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "overview for course 2: fetched from Moodle now"
    again = run("courses", "refresh", "2", socket=moodle_daemon.socket)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("overview for course 2: refreshed ") and "s ago" in again.stdout
