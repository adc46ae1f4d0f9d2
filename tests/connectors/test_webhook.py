"""The webhook connector against a real receiver on loopback that checks the HMAC signature: retries until it
recovers, dead letters and their redelivery, permanent refusals, secrets kept out of every record and answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.connectors import consumer as consumer_module
from archived.connectors.service import Connectors
from archived.protocol.connectors import ConnectorTestParams, DeadLettersParams, RedeliverParams
from archived.protocol.errors import ErrorCode, RpcError
from archived.store.jobs import JobStore

from .conftest import add_job, index_people, running, secret_file, store_archive, until, until_async
from .receiver import WebhookReceiver

SECRET = "s3cret-signing-key"
TOKEN = "bearer-token-0123456789"
FAST = {"retry_base_seconds": 0.01, "retry_max_seconds": 0.05}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(secret=SECRET).start()
    yield server
    server.stop()


def webhook(tmp_path: Path, receiver: WebhookReceiver, **keys: object) -> dict[str, object]:
    return {
        "driver": "webhook", "url": receiver.url, "secret_file": str(secret_file(tmp_path, "hook.secret", SECRET)),
        **FAST, **keys,
    }  # fmt: skip


async def test_a_receiver_failing_the_first_tries_gets_each_event_once_signed(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    receiver.fail_first = 2
    async with running(store, {"campus": webhook(tmp_path, receiver, events=["job.created"], max_attempts=5)}) as c:
        job = await add_job(store, "job-1")
        await add_job(store, "job-2")
        await until(lambda: len(receiver.accepted) == 2, "both events accepted")

        async def both_recorded() -> bool:  # recorded once the answer is in, after the receiver has the event
            return (await c.status()).connectors[0].delivered == 2

        await until_async(both_recorded, "both deliveries recorded")
        status = (await c.status()).connectors[0]
    first = next(r for r in receiver.accepted.values() if r.json()["data"]["job"]["id"] == job.id)
    body = first.json()
    assert set(body) == {"id", "kind", "version", "at", "job_id", "data"}
    assert body["kind"] == "job.created" and body["version"] == 1 and first.event_id == str(body["id"])
    assert body["data"]["job"]["course_id"] == 2
    assert all(r.signature_ok for r in receiver.requests)
    assert receiver.attempts(body["id"]) == 3  # two refusals, then accepted: the same id every time
    assert receiver.repeats == 0
    assert status.delivered == 2 and status.dead_letters == 0 and status.retrying_event is None
    assert "503" in status.last_error


async def test_the_signature_is_a_hex_hmac_sha256_of_the_exact_body(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    async with running(store, {"campus": webhook(tmp_path, receiver, events=["job.*"])}):
        await add_job(store, "job-1")
        await until(lambda: receiver.accepted, "an event accepted")
    request = next(iter(receiver.accepted.values()))
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Archived-Signature"] == f"sha256={expected}"
    assert request.headers["Content-Type"] == "application/json"


async def test_an_endpoint_that_never_recovers_ends_in_dead_letters_then_redelivery_succeeds(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    receiver.down = True
    async with running(store, {"campus": webhook(tmp_path, receiver, events=["job.created"], max_attempts=3)}) as c:
        await add_job(store, "job-1")
        await add_job(store, "job-2")  # the lane moves on after the first one's attempts ran out
        await until_async(lambda: _dead_count(c, 2), "two dead letters")
        page = await c.dead_letters(DeadLettersParams())
        assert [d.attempts for d in page.dead_letters] == [3, 3]
        assert all("HTTP 503" in d.error for d in page.dead_letters)
        assert receiver.accepted == {}

        receiver.down = False
        oldest = page.dead_letters[-1]
        attempt = await c.redeliver(RedeliverParams(id=oldest.id))
        assert attempt.delivered and attempt.event_id == oldest.event_id
        assert list(receiver.accepted) == [str(oldest.event_id)]
        left = await c.dead_letters(DeadLettersParams())
        assert [d.id for d in left.dead_letters] == [page.dead_letters[0].id] and left.total == 1
        status = (await c.status()).connectors[0]
        assert status.delivered == 1 and status.dead_letters == 1


async def _dead_count(connectors: Connectors, count: int) -> bool:
    return (await connectors.dead_letters(DeadLettersParams())).total >= count


async def test_a_4xx_refusal_is_a_dead_letter_at_once_but_408_and_429_are_retried(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    async with running(store, {"campus": webhook(tmp_path, receiver, events=["job.created"], max_attempts=5)}) as c:
        receiver.fail_first, receiver.fail_status = 1, 429
        await add_job(store, "job-1")
        await until(lambda: len(receiver.accepted) == 1, "accepted after a 429")
        receiver.down, receiver.fail_status = True, 422
        await add_job(store, "job-2")
        await until_async(lambda: _dead_count(c, 1), "a dead letter")
        [dead] = (await c.dead_letters(DeadLettersParams())).dead_letters
    assert dead.attempts == 1 and "HTTP 422" in dead.error and "permanent" in dead.error


async def test_secrets_never_reach_records_errors_answers_or_logs(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.down, receiver.fail_status = True, 400
    keys = {"auth": "bearer", "token_file": str(secret_file(tmp_path, "hook.token", TOKEN))}
    # A hostile receiver echoes what it was sent, the Authorization header included.
    receiver.refusal = f"you sent Authorization: Bearer {TOKEN}; we know {SECRET}".encode()
    async with running(store, {"campus": webhook(tmp_path, receiver, events=["job.created"], **keys)}) as c:
        await add_job(store, "job-1")
        await until_async(lambda: _dead_count(c, 1), "a dead letter")
        answers = [
            (await c.status()).model_dump_json(),
            (await c.dead_letters(DeadLettersParams())).model_dump_json(),
            (await c.test(ConnectorTestParams(name="campus"))).model_dump_json(),
        ]
    assert receiver.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    rows = store.db.connection.execute("SELECT error, output, body FROM connector_deliveries")
    async with rows as cur:
        stored = json.dumps([tuple(r) for r in await cur.fetchall()])
    assert "Bearer ***" in answers[1]  # the receiver's answer is kept, with the secrets blotted out
    for text in [*answers, stored, caplog.text]:
        assert TOKEN not in text and SECRET not in text


async def test_only_events_of_the_configured_kinds_and_courses_are_sent(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    keys = {"events": ["storage.write.completed"], "courses": [5]}
    async with running(store, {"campus": webhook(tmp_path, receiver, **keys)}):
        await add_job(store, "other-course", course_id=2)
        await add_job(store, "our-course", course_id=5)
        await store_archive(store, "other-course")
        await store_archive(store, "our-course")
        await until(lambda: receiver.accepted, "an event accepted")
        await add_job(store, "last", course_id=5)  # job.created: not a kind it takes
        await store_archive(store, "last")
        await until(lambda: len(receiver.accepted) == 2, "the second archive's event")
    kinds_and_jobs = [(r.json()["kind"], r.json()["job_id"]) for r in receiver.requests]
    assert kinds_and_jobs == [("storage.write.completed", "our-course"), ("storage.write.completed", "last")]


async def test_a_body_template_posts_what_the_receiver_expects_once_the_archive_is_indexed(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    template = (
        '{"course": {{ job.course_name | tojson }}, "exam": {{ job.activity_name | tojson }}, '
        '"location": {{ event.data.location | tojson }}, "sha256": {{ event.data.sha256 | tojson }}, '
        '"students": {{ people | map(attribute="idnumber") | list | tojson }}}'
    )
    keys = {"events": ["storage.write.completed"], "body_template": template, "max_attempts": 100}
    async with running(store, {"campus": webhook(tmp_path, receiver, **keys)}) as c:
        await add_job(store, "job-1")
        artifact = await store_archive(store, "job-1", sha256="cd" * 32)
        await until(lambda: c.consumers["campus"].state.attempts > 0, "the lane waits for the people index")
        assert receiver.requests == [] and "people index" in c.consumers["campus"].state.last_error
        await index_people(store, artifact, (3, "4711", "Ada", "Lovelace"), (4, "0815", "Alan", "Turing"))
        await until(lambda: len(receiver.accepted) == 1, "the first archive announced")
        await add_job(store, "job-2")
        await index_people(store, await store_archive(store, "job-2", sha256="ef" * 32))
        await until(lambda: len(receiver.accepted) == 2, "two archives announced")
    first, second = (r.json() for r in receiver.requests)
    assert first == {
        "course": "Linear Algebra", "exam": "Final exam", "location": "2026/job-1.zip", "sha256": "cd" * 32,
        "students": ["4711", "0815"],
    }  # fmt: skip
    assert second["students"] == [] and second["sha256"] == "ef" * 32


async def test_a_template_that_fails_on_an_event_is_a_dead_letter_naming_the_key(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    keys = {"events": ["job.created"], "body_template": "{{ event.data.no_such_field }}"}
    async with running(store, {"campus": webhook(tmp_path, receiver, **keys)}) as c:
        await add_job(store, "job-1")
        await until_async(lambda: _dead_count(c, 1), "a dead letter")
        [dead] = (await c.dead_letters(DeadLettersParams())).dead_letters
    assert dead.attempts == 1 and "connectors.campus.body_template" in dead.error and "no_such_field" in dead.error
    assert receiver.requests == []


async def test_delivery_records_are_kept_as_long_as_the_outbox_keeps_their_event_dead_letters_longer(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer_module, "TRIM_INTERVAL_SECONDS", 0.0)  # trim after every batch
    async with running(store, {"campus": webhook(tmp_path, receiver, events=["job.created"])}) as c:
        await add_job(store, "job-1")
        await until(lambda: len(receiver.accepted) == 1, "the first event")
        receiver.down, receiver.fail_status = True, 422
        await add_job(store, "job-2")
        await until_async(lambda: _dead_count(c, 1), "a dead letter")
        receiver.down = False
        await add_job(store, "job-3")
        await until(lambda: len(receiver.accepted) == 2, "the third event")
        first, second, third = sorted(int(i) for i in [*receiver.accepted, receiver.requests[1].event_id])
        assert await store.outbox.sweep_delivered(before=time.time() + 1, delivered_up_to=second) == 2
        await add_job(store, "job-4")
        await until(lambda: len(receiver.accepted) == 3, "the fourth event")
        fourth = max(int(i) for i in receiver.accepted)

        async def recorded() -> list[tuple[int, str]]:
            async with (
                store.db.committed_view() as conn,
                conn.execute("SELECT event_id, state FROM connector_deliveries ORDER BY event_id") as cur,
            ):
                return [(int(row[0]), str(row[1])) for row in await cur.fetchall()]

        await until_async(lambda: _first_recorded_is(recorded, second), "the swept event's record forgotten")
        assert await recorded() == [(second, "dead"), (third, "delivered"), (fourth, "delivered")]
        assert first < second


async def _first_recorded_is(recorded, event_id: int) -> bool:  # type: ignore[no-untyped-def]
    rows = await recorded()
    return bool(rows) and rows[0][0] == event_id


async def test_a_test_send_of_an_outbox_event_goes_out_unrecorded_and_a_missing_event_is_named(
    store: JobStore, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    keys = {"events": ["storage.write.completed"], "body_template": '{"course": {{ job.course_name | tojson }}}'}
    async with running(store, {"campus": webhook(tmp_path, receiver, **keys)}) as c:
        await add_job(store, "job-1")  # job.created: not a kind the connector takes
        [created] = await store.outbox.after(0)
        sent = await c.test(ConnectorTestParams(name="campus", event_id=created.id))
        synthetic = await c.test(ConnectorTestParams(name="campus"))
        with pytest.raises(RpcError) as missing:
            await c.test(ConnectorTestParams(name="campus", event_id=created.id + 100))
        with pytest.raises(RpcError) as unknown:
            await c.test(ConnectorTestParams(name="nosuch"))
        status = (await c.status()).connectors[0]
    assert sent.delivered and sent.event_id == created.id
    assert receiver.requests[0].json() == {"course": "Linear Algebra"}
    assert receiver.requests[0].event_id == str(created.id)
    assert not synthetic.delivered and "connectors.campus.body_template" in synthetic.error  # no job: no course
    assert missing.value.code == ErrorCode.NOT_FOUND and f"no event {created.id + 100}" in missing.value.message
    assert unknown.value.code == ErrorCode.NOT_FOUND and "known: campus" in unknown.value.message
    assert status.delivered == 0 and status.dead_letters == 0  # test sends are not recorded
