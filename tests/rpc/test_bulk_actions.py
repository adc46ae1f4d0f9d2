"""Finding jobs and acting on every job a filter matches, through a real daemon process: `jobs.list` filters, search,
sort and cursor over the socket (protocol 1's offset paging still works), and `jobs.retry_matching`,
`jobs.cancel_matching` and `jobs.delete_matching` with their counts, skips, the `expected` refusal and the
operator-only rule."""

from __future__ import annotations

from typing import Any

import pytest

from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.client import RpcClient
from tests.support.jobs import TERMINAL, create_job, wait_for_state


async def ended(client: RpcClient, job_ids: list[str]) -> list[dict[str, Any]]:
    return [await wait_for_state(client, job_id, TERMINAL) for job_id in job_ids]


async def log_lines(client: RpcClient, job_id: str) -> list[str]:
    return [entry["message"] for entry in (await client.call("jobs.logs", {"job_id": job_id}))["entries"]]


async def test_jobs_list_filters_searches_sorts_and_pages_over_the_socket(daemon) -> None:
    async with daemon.client() as client:
        failed = [await create_job(client, cmid=8, files=1, fatal=True) for _ in range(2)]
        completed = [await create_job(client, cmid=9, files=1, course_name="Organic chemistry") for _ in range(3)]
        await ended(client, failed + completed)

        page = await client.call("jobs.list", {"states": ["failed"]})
        assert page["total"] == 2 and {job["id"] for job in page["jobs"]} == set(failed)
        assert page["next_cursor"] is None
        codes = {job["error_code"] for job in page["jobs"]}
        [code] = codes
        assert (await client.call("jobs.list", {"error_codes": [code]}))["total"] == 2
        assert (await client.call("jobs.list", {"search": code.upper()}))["total"] == 2
        assert (await client.call("jobs.list", {"search": "ORGANIC"}))["total"] == 3
        assert (await client.call("jobs.list", {"search": failed[0][:8]}))["jobs"][0]["id"] == failed[0]
        assert (await client.call("jobs.list", {"cmid": 9, "course_id": 2}))["total"] == 3

        # A cursor walks the jobs oldest first, two at a time, each once.
        seen, cursor = [], None
        while True:
            params: dict[str, Any] = {"sort": "created", "descending": False, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = await client.call("jobs.list", params)
            assert page["total"] == 5
            seen += [job["id"] for job in page["jobs"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == failed + completed

        # Protocol 1's offset paging is unchanged.
        newest = await client.call("jobs.list", {"limit": 2, "offset": 1})
        assert [job["id"] for job in newest["jobs"]] == completed[::-1][1:3] and newest["offset"] == 1
        for wrong in ({"cursor": "x", "offset": 1}, {"cursor": "garbage"}, {"sort": "colour"}):
            with pytest.raises(RpcError) as err:
                await client.call("jobs.list", wrong)
            assert err.value.code == ErrorCode.INVALID_PARAMS


async def test_retry_matching_acts_on_the_failed_skips_the_rest_and_refuses_more_than_expected(daemon) -> None:
    async with daemon.client() as client:
        failed = [await create_job(client, cmid=8, files=1, fatal=True) for _ in range(3)]
        completed = await create_job(client, cmid=8, files=1)
        await ended(client, [*failed, completed])

        with pytest.raises(RpcError) as err:
            await client.call("jobs.retry_matching", {"cmid": 8, "expected": 3})
        assert err.value.code == ErrorCode.MORE_MATCHES
        assert err.value.data == {"expected": 3, "matched": 4}
        assert "matches 4 jobs" in err.value.message
        assert [(await client.call("jobs.get", {"job_id": j}))["job"]["state"] for j in failed] == ["failed"] * 3

        await client.call("events.subscribe", {"kinds": ["job.state"]})
        result = await client.call("jobs.retry_matching", {"cmid": 8, "expected": 4})
        assert result["matched"] == 4 and result["acted"] == 3 and result["job_ids"] == failed
        assert result["skipped"] == [
            {"reason": "not failed, canceled or timed out (completed)", "job_ids": [completed]}
        ]
        for job_id in failed:
            assert any(line.startswith("retry requested by operator:") for line in await log_lines(client, job_id))
            timeline = (await client.call("jobs.get", {"job_id": job_id}))["timeline"]
            assert any(step["to"] == "queued" and "retry requested" in step["reason"] for step in timeline)
        # Each retried job's `job.state` event (failed → queued) reaches subscribers.
        queued: list[str] = []
        async for event in client.events():
            data = event["data"]
            if event["kind"] == "job.state" and data["from"] == "failed" and data["to"] == "queued":
                queued.append(event["job_id"])
            if len(queued) >= 3:
                break
        assert sorted(queued) == sorted(failed)

        # Fewer matches than expected is fine (jobs may have moved on): it acts on what matches.
        await ended(client, failed)
        again = await client.call("jobs.retry_matching", {"states": ["failed"], "expected": 10})
        assert again["matched"] == 3 and again["acted"] == 3


async def test_cancel_matching_cancels_the_active_and_skips_the_ended(daemon) -> None:
    async with daemon.client() as client:
        done = await create_job(client, files=1)
        await ended(client, [done])
        slow = [await create_job(client, files=50, delay_seconds=0.5) for _ in range(2)]
        result = await client.call("jobs.cancel_matching", {"expected": 3})
        assert result["matched"] == 3 and sorted(result["job_ids"]) == sorted(slow)
        assert result["skipped"] == [{"reason": "already ended (completed)", "job_ids": [done]}]
        assert {job["state"] for job in await ended(client, slow)} == {"canceled"}


async def test_delete_matching_keeps_retained_archives_unless_forced(daemon) -> None:
    async with daemon.client() as client:
        jobs = [await create_job(client, files=1) for _ in range(2)]
        await ended(client, jobs)
        kept = await client.call("jobs.delete_matching", {"states": ["completed"], "expected": 2})
        assert kept["acted"] == 0 and kept["matched"] == 2
        [skipped] = kept["skipped"]
        assert skipped["reason"].startswith("retained until ") and skipped["reason"].endswith("(needs force)")
        assert sorted(skipped["job_ids"]) == sorted(jobs)

        deleted = await client.call("jobs.delete_matching", {"states": ["completed"], "expected": 2, "force": True})
        assert deleted["acted"] == 2 and deleted["deleted_copies"] == 2
        assert (await client.call("jobs.list", {}))["total"] == 0
        assert (await client.call("jobs.list", {"include_deleted": True}))["total"] == 2
        again = await client.call("jobs.delete_matching", {"include_deleted": True, "expected": 2, "force": True})
        assert again["acted"] == 0 and again["skipped"][0]["reason"] == "already deleted"


async def test_bulk_actions_need_an_operator(daemon_factory) -> None:
    daemon = daemon_factory(
        **{"access.operator_users": [], "access.operator_groups": [], "access.allow_daemon_user": False}
    )
    async with daemon.client() as client:
        for method in ("jobs.retry_matching", "jobs.cancel_matching", "jobs.delete_matching"):
            with pytest.raises(RpcError) as err:
                await client.call(method, {"states": ["failed"], "expected": 0})
            assert err.value.code == ErrorCode.PERMISSION_DENIED
