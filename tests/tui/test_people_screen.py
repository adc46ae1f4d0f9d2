"""The People screen against a real daemon process: look a person up by username, see the archive holding their
data, export it to a new file written by the TUI; the lookup and the export are in the daemon's audit log."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from textual.widgets import DataTable, Input

from archived_tui.screens.people import PeopleScreen
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.tui.conftest import make_app, notifications, until
from tests.tui.rendered import screen_text

SIZE = (120, 40)


async def test_find_a_person_and_export_their_data(daemon, tmp_path: Path) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=1)  # the test driver's archive holds user 3, jmueller
        assert (await wait_for_state(client, job_id, TERMINAL))["state"] == "completed"
    app = make_app(daemon.socket, initial_mode="people")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, PeopleScreen)
        table = app.screen.query_one("#people-table", DataTable)
        await until(pilot, lambda: app.link.state.connected, "the connection")
        assert table.row_count == 0  # nothing is looked up (and audited) unasked
        query = app.screen.query_one("#people-query", Input)
        query.focus()
        query.value = "JMUELLER"  # usernames match whatever their case
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 1, "the archive holding the person's data")
        await pilot.pause()
        text = screen_text(app)
        assert job_id[:8] in text and "1 archive(s) hold data of JMUELLER" in text, text
        assert "3 jmueller 4711001 Jürgen Müller" in str(table.get_row_at(0)[3])

        destination = tmp_path / "export" / "jmueller.zip"
        destination.parent.mkdir()
        export_to = app.screen.query_one("#people-export-to", Input)
        export_to.focus()
        export_to.value = str(destination)
        await pilot.press("enter")
        await until(pilot, lambda: any("Export written" in n or "exported to" in n for n in notifications(app)),
                    "the export")  # fmt: skip
    with zipfile.ZipFile(destination) as export:
        manifest = json.loads(export.read("manifest.json"))
    assert manifest["person"]["userid"] == 3 and [a["job_id"] for a in manifest["archives"]] == [job_id]
    with sqlite3.connect(daemon.root / "state" / "archived.sqlite3") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["people.find", "people.export"]
