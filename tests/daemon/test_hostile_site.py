"""A Moodle site that attacks the archiver, end to end: the real daemon archives a quiz from the simulator whose
question texts and names were written by an attacker (or by bad luck), and an operator reads the result.

What the site serves (set up before its first request):
- file URLs that leave `/webservice/pluginfile.php` through dot segments, percent-encoded dot segments and a
  backslash, an image on another host, a `file:` reference;
- a 10 MB inline image before a question's text;
- `<embed>`, `<iframe>`, `<object>`, `<video>` with text after each;
- NUL, a lone surrogate and terminal escapes in question text, student names, course and quiz names;
- rich/Textual markup in every name.
The job must complete with warnings, the archive must verify, every word after the hostile parts must be in
the PDFs, the token must go nowhere but web-service endpoints, and the CLI must print every name literally.
"""

from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image

from archived.simulator.simulator import MoodleSimulator
from tests.cli.test_cli import run
from tests.support.daemon import DaemonProcess, write_config
from tests.support.hostile_names import MIDTERM, assert_terminal_safe, hostile_site
from tests.support.jobs import TERMINAL, wait_for_state
from tests.support.simulator import archive_payload, moodle_overrides, pdf_text, squash

QUIZ = {"course_id": 3, "cmid": 4}  # quiz 2 "Midterm": attempts 11-13 of users 3, 4, 5
STUDENT = 4  # zotsuka: attempt 12
STUDENT_FIRST = "Zoë [/b] \x1b[2J\x00"
AFTER_IMAGE = "Words after the big image stay."
AFTER_EMBED = "Words after the embed stay."
AFTER_FRAME = "Words after the frame stay."
AFTER_OBJECT = "Words after the object stay."
AFTER_VIDEO = "Words after the video stay."
AFTER_CONTROL = "Words after the control characters stay."
EMBED_URL = "https://media.example.org/clip.swf"
FRAME_URL = "https://video.example.org/embed/42"


def big_png() -> bytes:
    """A PNG of random pixels whose data: URL is past libxml2's 10,000,000-byte limit (the same bytes every run)."""
    size = (2100, 1400)
    image = Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture(scope="module")
def simulator():
    sim = hostile_site(MoodleSimulator())
    slots = {slot.slot: slot.question for slot in sim.world.quizzes[2].slots}
    image = "data:image/png;base64," + base64.b64encode(big_png()).decode()
    assert len(image) > 10_000_000
    slots[1].text = f'<p><img src="{image}" alt="scan"></p><p>{AFTER_IMAGE}</p>{slots[1].text}'
    slots[2].text += (
        f'<embed src="{EMBED_URL}"><p>{AFTER_EMBED}</p><iframe src="{FRAME_URL}"></iframe><p>{AFTER_FRAME}</p>'
        '<object data="https://evil.example/applet.class">fallback text</object>'
        f'<p>{AFTER_OBJECT}</p><video src="https://evil.example/v.mp4"></video><p>{AFTER_VIDEO}</p>'
    )
    slots[3].text = f"<p>NUL\x00 surrogate\ud800 escape\x1b[2J end</p><p>{AFTER_CONTROL}</p>{slots[3].text}"
    sim.world.users[STUDENT].firstname = STUDENT_FIRST
    sim.start()
    # Addresses on the site need its port, known once it listens (and before anything was served).
    site = sim.url
    slots[2].text += (
        f'<p><img src="{site}/pluginfile.php/../../../wiki/x.php" alt="dots">'
        f'<img src="{site}/pluginfile.php/%2e%2e/%2e%2e/login/index.php" alt="encoded">'
        f'<img src="{site}/webservice/pluginfile.php/..%5c..%5cadmin/index.php" alt="backslash">'
        '<img src="https://evil.example/steal.png" alt="elsewhere">'
        '<img src="file:///etc/passwd" alt="local"></p>'
    )
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def archived_job(simulator: MoodleSimulator, tmp_path_factory):
    """The midterm archived by a real daemon; returns (daemon, job id)."""
    root = tmp_path_factory.mktemp("hostile")
    daemon = DaemonProcess(write_config(root, **moodle_overrides(root, simulator)), root)
    daemon.start(timeout=60)
    created = run("jobs", "create", "--course", "3", "--activity", "4", "--json", socket=daemon.socket)
    assert created.returncode == 0, created.stderr
    job_id = json.loads(created.stdout)["job"]["id"]
    yield daemon, job_id
    daemon.kill()


async def _job(daemon: DaemonProcess, job_id: str) -> dict:
    async with daemon.client() as client:
        return await wait_for_state(client, job_id, TERMINAL, timeout=240)


async def test_the_job_completes_and_its_archive_verifies(archived_job, tmp_path: Path) -> None:
    daemon, job_id = archived_job
    job = await _job(daemon, job_id)
    assert job["state"] == "completed", job.get("error_message")
    detail = json.loads(run("jobs", "show", job_id, "--json", socket=daemon.socket).stdout)
    archive = daemon.root / "archive" / detail["artifacts"][0]["locations"][0]["location"]
    verified = run("verify", str(archive), "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"]
    data = archive_payload(archive, tmp_path)
    pdfs = sorted(data.rglob("*.pdf"))
    assert len(pdfs) == 3
    for pdf in pdfs:
        text = squash(pdf_text(pdf))
        for words in (AFTER_IMAGE, AFTER_EMBED, AFTER_FRAME, AFTER_OBJECT, AFTER_VIDEO, AFTER_CONTROL):
            assert squash(words) in text, f"{pdf.name} lost {words!r}"
        assert EMBED_URL in text and FRAME_URL in text  # the placeholders say what could not be archived
        assert "root:x:0:0" not in text  # file: was never read
    csv_text = (data / "attempts.csv").read_text(encoding="utf-8")
    assert "\x00" not in csv_text and "Zoë [/b]" in csv_text


async def test_the_token_went_only_to_web_service_endpoints(archived_job, simulator: MoodleSimulator) -> None:
    daemon, job_id = archived_job
    await _job(daemon, job_id)
    paths = simulator.stats.token_paths()
    assert paths, "the simulator saw no request with the token"
    web_service = ("/webservice/rest/server.php", "/webservice/pluginfile.php/")
    leaked = sorted(p for p in paths if p != web_service[0] and not p.startswith(web_service[1]))
    assert leaked == []
    assert not any(".." in p or "%2e" in p.lower() or "\\" in p or "%5c" in p.lower() for p in paths)


async def test_the_operator_learns_what_could_not_be_archived(archived_job) -> None:
    """Every refused or unarchivable reference is a warning naming it; the token itself is never shown."""
    daemon, job_id = archived_job
    await _job(daemon, job_id)
    logs = run("jobs", "logs", job_id, "--level", "warning", socket=daemon.socket)
    assert logs.returncode == 0, logs.stderr
    assert_terminal_safe(logs.stdout)
    text = logs.stdout
    for expected in ("embedded", EMBED_URL, FRAME_URL, "evil.example/steal.png", "file:///etc/passwd", "wiki/x.php"):
        assert expected in text, f"no warning mentions {expected!r}:\n{text}"
    token = (daemon.root / "moodle-token").read_text().strip()
    assert token not in text and token not in daemon.log()


async def test_names_print_literally_and_safely(archived_job) -> None:
    daemon, job_id = archived_job
    await _job(daemon, job_id)
    shown = run("jobs", "show", job_id, socket=daemon.socket)
    assert shown.returncode == 0, shown.stderr
    assert_terminal_safe(shown.stdout)
    assert MIDTERM in shown.stdout  # "Quiz [/red] [link=file:///etc/passwd]x", markup shown as written
    listed = run("jobs", "list", socket=daemon.socket)
    assert listed.returncode == 0
    assert_terminal_safe(listed.stdout)
    [job] = json.loads(run("jobs", "list", "--json", socket=daemon.socket).stdout)["jobs"]
    assert job["activity_name"] == MIDTERM  # --json keeps the exact value
