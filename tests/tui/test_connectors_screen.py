"""The Connectors screen against a real daemon process and a webhook receiver on loopback: a job's event the
receiver refused becomes a dead letter on the screen, `r` redelivers it once the receiver is up, `t` sends a test
event; without operator rights both are refused and the screen says so. Its keys are in the remappable catalogue."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from archived.protocol.connectors import ConnectorStatus
from archived_tui.keymap import binding_catalogue
from archived_tui.screens.connectors import ConnectorsScreen, lane_state
from archived_tui.settings_file import TuiSettings
from tests.connectors.conftest import secret_file
from tests.connectors.receiver import WebhookReceiver
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.tui.conftest import make_app, notifications, settle, until
from tests.tui.rendered import screen_text

SIZE = (140, 40)
SECRET = "tui-connector-secret"


def webhook(tmp_path: Path, url: str) -> str:
    """A `[connectors.campus]` table: job.completed to `url`, giving up after two quick tries."""
    secret = secret_file(tmp_path, "webhook.secret", SECRET)
    return (
        f'[connectors.campus]\ndriver = "webhook"\nurl = "{url}"\nsecret_file = "{secret}"\n'
        'events = ["job.completed"]\nmax_attempts = 2\nretry_base_seconds = 0.05\nretry_max_seconds = 0.1\n'
    )


async def dead_letter_of_a_job(daemon_factory: Any, tmp_path: Path, receiver: WebhookReceiver) -> tuple[Any, str]:
    """A daemon whose webhook gave up on a completed job's event: (the daemon, the job id)."""
    daemon = daemon_factory(extra=webhook(tmp_path, receiver.url))
    async with daemon.client() as client:
        job_id = await create_job(client, files=1)
        assert (await wait_for_state(client, job_id, TERMINAL))["state"] == "completed"
        deadline = asyncio.get_running_loop().time() + 60
        while (await client.call("connectors.dead_letters", {}))["total"] == 0:
            assert asyncio.get_running_loop().time() < deadline, "the webhook never gave up"
            await asyncio.sleep(0.05)
    return daemon, job_id


def dead_rows(app: Any) -> int:
    return int(app.screen.query_one("#dead-letters-table", DataTable).row_count)


async def test_a_dead_letter_shows_and_r_redelivers_it_once_the_receiver_is_up(daemon_factory, tmp_path) -> None:
    """The receiver's answer is shown literally: not read as markup, its escape sequence visible."""
    receiver = WebhookReceiver(secret=SECRET, down=True, refusal=b"[b]busy[/b] \x1b[2J").start()
    try:
        daemon, job_id = await dead_letter_of_a_job(daemon_factory, tmp_path, receiver)
        app = make_app(daemon.socket)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p", *"go: connectors")
            await until(pilot, lambda: "Show the Connectors screen" in screen_text(app), "the palette's command")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConnectorsScreen), "the Connectors screen")
            await settle(pilot)
            await until(pilot, lambda: dead_rows(app) == 1, "the dead letter")
            text = screen_text(app)
            assert "campus" in text and "webhook" in text and "dead letters 1" in text, text
            assert "job.completed" in text and job_id[:8] in text and "HTTP 503" in text, text
            assert "1 dead letter(s)" in text, text
            assert "output [b]busy[/b] \\x1b[2J" in text, text
            assert receiver.accepted == {}

            receiver.down = False
            await pilot.press("r")
            await until(pilot, lambda: dead_rows(app) == 0, "the dead letter to leave the table")
            await until(pilot, lambda: "Redeliver dead letter" in screen_text(app), "the outcome")
            assert "delivered" in screen_text(app)
            assert [r.json()["kind"] for r in receiver.accepted.values()] == ["job.completed"]
            assert "delivering" in screen_text(app)

            await pilot.press("t")
            await until(pilot, lambda: "0" in receiver.accepted, "the test event")
            assert receiver.accepted["0"].kind == "connector.test"
            await until(pilot, lambda: any("Test event to campus: delivered" in n for n in notifications(app)),
                        "the test's outcome")  # fmt: skip
    finally:
        receiver.stop()


async def test_without_operator_rights_redeliver_and_test_are_refused_plainly(daemon_factory, tmp_path) -> None:
    """Refused, the screen says why (a remapped key does the same: the `[keys]` table reaches this screen)."""
    receiver = WebhookReceiver(secret=SECRET, down=True).start()
    try:
        daemon, _ = await dead_letter_of_a_job(daemon_factory, tmp_path, receiver)
        daemon.kill()
        daemon = daemon_factory(**{"access.operator_users": [], "access.allow_daemon_user": False},
                                extra=webhook(tmp_path, receiver.url))  # fmt: skip
        receiver.down = False
        tried = len(receiver.requests)
        settings = TuiSettings(keys={"connectors.redeliver": "x"})
        app = make_app(daemon.socket, initial_mode="connectors", settings=settings)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await until(pilot, lambda: dead_rows(app) == 1, "the dead letter (reading is allowed)")
            await pilot.press("x")
            await until(pilot, lambda: any("not an operator" in n for n in notifications(app)), "the refusal")
            refusal = next(n for n in notifications(app) if "not an operator" in n)
            assert refusal.startswith("Redeliver dead letter") and "may not call connectors.redeliver" in refusal
            await until(pilot, lambda: "not allowed" in screen_text(app), "the refusal on the status line")
            await pilot.press("t")
            await until(pilot, lambda: any("may not call connectors.test" in n for n in notifications(app)),
                        "the test's refusal")  # fmt: skip
            await settle(pilot)
            assert dead_rows(app) == 1
        assert len(receiver.requests) == tried  # nothing was sent
    finally:
        receiver.stop()


def test_schedules_and_connectors_keys_are_remappable() -> None:
    catalogue = {info.binding_id: info for info in binding_catalogue()}
    assert {"schedules.run_now", "schedules.dry_run", "schedules.toggle"} <= set(catalogue)
    assert catalogue["connectors.redeliver"].key == "r" and catalogue["connectors.redeliver"].where == "connectors"
    assert catalogue["connectors.test"].key == "t"


def test_a_lane_says_whether_it_delivers_retries_or_holds_dead_letters() -> None:
    lane = ConnectorStatus(name="campus", driver="webhook", target="https://campus.example/hook", events=[])
    assert lane_state(lane).plain == "delivering"
    assert lane_state(lane.model_copy(update={"dead_letters": 3})).plain == "dead letters 3"
    retrying = lane.model_copy(update={"retrying_event": 12, "attempts": 2})
    assert lane_state(retrying).plain == "retrying event 12 (2 failed)"
    both = retrying.model_copy(update={"dead_letters": 1})
    assert lane_state(both).plain == "retrying event 12 (2 failed) · dead letters 1"
