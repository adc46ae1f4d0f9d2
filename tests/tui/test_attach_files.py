"""The job detail's "attach files" (key A): the dialog asks for paths and a note; the TUI reads the files and sends
them over the socket as `archived jobs attach` does; they end up under data/operator/ of the archive. Offered only
while the job has not begun packing. (A real daemon, the TUI through Textual's Pilot.)"""

from __future__ import annotations

import json
import zipfile

from textual.widgets import Input, TextArea

from archived.protocol.attachments import ATTACH_CHUNK_BYTES
from archived_tui.dialogs.attach_files import AttachFilesDialog
from archived_tui.screens.job_detail import JobDetailScreen
from archived_tui.screens.jobs import JobsScreen
from archived_tui.widgets.job_table import JobTable
from tests.support.jobs import TERMINAL, create_job, wait_for_state
from tests.tui.conftest import make_app, notifications, until


def dialog_error(app: object) -> str:
    screen = getattr(app, "screen", None)
    if not isinstance(screen, AttachFilesDialog):
        return ""
    return str(screen.query_one("#dialog-error").render())


async def test_files_attached_in_the_tui_are_in_the_archive_and_attach_ends_with_packing(daemon, tmp_path) -> None:
    seating = tmp_path / "seating plan.pdf"
    seating.write_bytes(b"%PDF-1.7 seating\n" + bytes(range(256)) * 3000)  # more than one chunk
    assert seating.stat().st_size > ATTACH_CHUNK_BYTES
    protocol = tmp_path / "protocol.txt"
    protocol.write_text("Exam protocol: no incidents.\n")

    async with daemon.client() as client:
        job_id = await create_job(client, files=60, delay_seconds=0.25)
        await wait_for_state(client, job_id, {"activity_archiving"})

        app = make_app(daemon.socket)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.link.state.connected, "the connection")
            await pilot.press("3")
            await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.query_one(JobTable).items,
                        "the jobs table")  # fmt: skip
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.view is not None,
                        "the job detail")  # fmt: skip
            detail = app.screen
            assert isinstance(detail, JobDetailScreen) and detail.job_id == job_id
            assert detail.check_action("attach", ()) is True

            await pilot.press("A")
            await until(pilot, lambda: isinstance(app.screen, AttachFilesDialog), "the attach dialog")
            app.screen.query_one("#attach-paths", TextArea).text = str(tmp_path / "missing.pdf")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "not a readable file" in dialog_error(app), "the refusal")

            app.screen.query_one("#attach-paths", TextArea).text = f"{seating}\n\n{protocol}\n"
            app.screen.query_one("#attach-note", Input).value = "signed by the invigilator"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: any("added to job" in n for n in notifications(app)), "the notification")
            added = next(n for n in notifications(app) if "added to job" in n)
            assert "operator/seating_plan.pdf" in added and "operator/protocol.txt" in added

            job = await wait_for_state(client, job_id, TERMINAL, timeout=180)
            assert job["state"] == "completed", job
            # Packed: no longer offered, and the key opens nothing.
            await until(pilot, lambda: detail.view is not None and detail.view.job.state == "completed", "the end")
            assert detail.check_action("attach", ()) is False
            await pilot.press("A")
            await pilot.pause()
            assert app.screen is detail
        answer = await client.call("jobs.get", {"job_id": job_id})

    location = answer["artifacts"][0]["locations"][0]["location"]
    with zipfile.ZipFile(daemon.root / "archive" / location) as bag:
        top = bag.namelist()[0].split("/")[0]
        assert bag.read(f"{top}/data/operator/seating_plan.pdf") == seating.read_bytes()
        assert bag.read(f"{top}/data/operator/protocol.txt") == protocol.read_bytes()
        index = json.loads(bag.read(f"{top}/data/operator/operator-files.json"))
    assert [f["note"] for f in index["files"]] == ["signed by the invigilator"] * 2
