"""Helpers for tests that drive jobs through the socket."""

from __future__ import annotations

import asyncio
from typing import Any

from archived.protocol.states import JobState
from archived.rpc.client import RpcClient

TERMINAL = {s.value for s in JobState if s.is_terminal}


async def wait_for_state(client: RpcClient, job_id: str, states: set[str], timeout: float = 60.0) -> dict[str, Any]:
    """Poll a job until it is in one of `states`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = (await client.call("jobs.get", {"job_id": job_id}))["job"]
        if job["state"] in states:
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"job {job_id} stayed {job['state']}, expected one of {sorted(states)}")
        await asyncio.sleep(0.05)


async def create_job(client: RpcClient, cmid: int = 7, **settings: Any) -> str:
    """Queue a test-driver job and return its id."""
    answer = await client.call(
        "jobs.create", {"course_id": 2, "cmid": cmid, "driver": "slowtest", "settings": settings}
    )
    return str(answer["job"]["id"])
