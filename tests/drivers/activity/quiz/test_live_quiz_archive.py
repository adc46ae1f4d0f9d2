"""The replayed grader's review of the real Moodle 4.5.6 site, archived by a real daemon with a token that may grade.

The simulator serves the recorded review with its teacher links (the service user holds `mod/quiz:grade`); each
report PDF of the archive keeps every word a reader needs — the grader's comment, each cloze blank's answer,
feedback and mark as a numbered note, the drag-and-drop choices as a labelled list — and none of the controls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archived.simulator.simulator import MoodleSimulator
from archived.simulator.size import SimulatorSize
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import RAW_TEX, archive_payload, moodle_overrides, pdf_text

pytestmark = pytest.mark.slow

NOTES = [
    "[1] 5 ✔ — Correct — Correct — The correct answer is: 5 — Mark 1.00 out of 1.00",
    "[2] convex ✔ — Correct — Right — The correct answer is: convex — Mark 1.00 out of 1.00",
]


async def test_a_graders_reports_have_no_teacher_controls(daemon_factory, tmp_path: Path) -> None:
    with MoodleSimulator(release="4.5", size=SimulatorSize(livequiz=True)) as sim:
        sim.grant("mod/quiz:grade")
        course_id = next(c.id for c in sim.world.courses.values() if c.shortname == "MATH1-WS2026")
        quiz = next(q for q in sim.world.quizzes.values() if q.course == course_id)
        daemon = daemon_factory(**moodle_overrides(tmp_path, sim), **{"workers.render_processes": 1})
        async with daemon.client() as client:
            answer = await client.call("jobs.create", {"course_id": course_id, "cmid": quiz.cmid})
            job_id = str(answer["job"]["id"])
            job = await wait_for_state(client, job_id, TERMINAL, timeout=240)
            assert job["state"] == "completed", job
            detail = await client.call("jobs.get", {"job_id": job_id})
    (location,) = [loc["location"] for artifact in detail["artifacts"] for loc in artifact["locations"]]
    data = archive_payload(daemon.root / "archive" / location, tmp_path / "unpacked")
    reports = sorted(p for p in data.joinpath("attempts").rglob("*.pdf") if "attachments" not in p.parts)
    assert len(reports) == 3
    for report in reports:
        text = pdf_text(report)
        lines = [" ".join(line.split()) for line in text.splitlines()]
        assert "Make comment or override mark" not in text and "Flag question" not in text
        assert not RAW_TEX.search(text), report.name
        assert "Graded by H. Brandt: 4.5/5. Clear argument." in " ".join(lines)
        for note in NOTES:
            assert note in lines, (report.name, note)
        assert "Group 1: derivative · integral · limit · matrix · series" in lines
        assert "Group 3: assiduous" in lines and "6 · 5 · 1 · 0" in lines
        assert "derivative integral limit" not in " ".join(lines)
    attachments = sorted(p.name for p in data.joinpath("attempts").rglob("attachments/*/*"))
    assert attachments == ["proof-page1.png"] * 3 + ["proof-page2.png"] * 3
