"""The quiz driver against a Moodle that serves hostile question HTML and names: nothing cut off, nothing fatal.

The simulator's world is edited before it serves anything: the midterm's first question carries a 10 MB
inline image before its text, the second an `<embed>` and an `<iframe>` in the middle of its text, the third a
NUL, a lone surrogate and a big picture that the site serves as application/octet-stream; in the exam's course,
one student's names, a group, the course and the quiz carry characters that XML, UTF-8 and CSV cannot carry.
Every report is read back with pdftotext.
"""

from __future__ import annotations

import base64
import io
import json
import random
import subprocess

import pytest
import pytest_asyncio
from PIL import Image
from pypdf import PdfReader

from archived.interfaces.activity import DriverEnvironment, LogLevel
from archived.jobs.results import result_to_dict
from archived.moodle.api import MoodleApi
from archived.moodle.client import MoodleClient
from archived.simulator.simulator import MoodleSimulator
from archived.simulator.storedfile import StoredFile
from archived_quiz.driver import QuizDriver
from archived_quiz.xml_chars import CLEANED_NOTE
from archived_render.service import RenderLimits, RenderService
from tests.drivers.activity.quiz.test_quiz_driver import EXAM, MIDTERM, Run, archive, missing_from
from tests.support.simulator import pdf_text, squash

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCAN_SIZE = (2100, 1400)  # random pixels: a PNG of ~8.8 MB, an inline data: URL of ~11.8 MB
CHART_SIZE = (1600, 1600)  # served by the site with a type that does not say "image"
EMBED = "https://media.example.org/clip.swf"
FRAME = "https://video.example.org/embed/42"
EMBEDDED_MEDIA = (
    f'<p>Watch the clip:</p><embed src="{EMBED}" type="application/x-shockwave-flash">'
    f'<p>Text after the embed stays.</p><iframe src="{FRAME}" width="560"></iframe><p>And after the frame.</p>'
)
CONTROL_TEXT = "<p>Control\x00characters\ud800here.</p>"
HOSTILE_STUDENT = 9  # mkowalska: attempt 7 of the exam, not in the midterm
HOSTILE_GROUP = 2  # her exam room


def noise_png(size: tuple[int, int]) -> bytes:
    """A big PNG that does not compress (the same bytes every run)."""
    width, height = size
    image = Image.frombytes("RGB", size, random.Random(11).randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture(scope="module")
def simulator():
    """The recorded site with hostile question texts in the midterm and hostile names in the exam's course."""
    sim = MoodleSimulator()
    slots = {slot.slot: slot.question for slot in sim.world.quizzes[MIDTERM.quiz].slots}
    scan = "data:image/png;base64," + base64.b64encode(noise_png(SCAN_SIZE)).decode()
    assert len(scan) > 10_000_000  # past libxml2's default limit for one text or attribute
    slots[1].text = f'<p>Look at the scan:</p><p><img src="{scan}" alt="scan"></p>{slots[1].text}'
    slots[2].text = slots[2].text + EMBEDDED_MEDIA
    slots[3].text = CONTROL_TEXT + slots[3].text
    student = sim.world.users[HOSTILE_STUDENT]
    student.username = "mkowal\x00ska"
    student.firstname = "Mał\x00gorzata"
    student.lastname = "Kowal\ud800ska"
    student.idnumber = "47\x1b11007"
    sim.world.groups[HOSTILE_GROUP].name = "Exam room\x01H2"
    sim.world.courses[EXAM.course].fullname = "Exam\nWS2026\x85"
    sim.world.quizzes[EXAM.quiz].name = "Final exam\ufffe Mathematics I"
    quiz = sim.world.quizzes[MIDTERM.quiz]
    chart = StoredFile(quiz.contextid, "mod_quiz", "intro", 0, "/", "chart.png", "application/octet-stream",
                       quiz.timecreated, quiz.timecreated, source=noise_png(CHART_SIZE))  # fmt: skip
    sim.world.add_file(chart)
    sim.start()
    # The address needs the port: set before the first request, when nothing has been generated yet.
    slots[
        3
    ].text += f'<p><img src="{sim.url}/pluginfile.php/{quiz.contextid}/mod_quiz/intro/chart.png" alt="chart"></p>'
    yield sim
    sim.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def driver(simulator: MoodleSimulator, tmp_path_factory):
    """A quiz driver on a render service of two processes and a real client of the simulator."""
    client = MoodleClient(simulator.url, simulator.token, requests_per_second=0, max_concurrent=8)
    async with RenderService(RenderLimits(processes=2)) as render:
        env = DriverEnvironment(moodle=MoodleApi(client), temp_dir=tmp_path_factory.mktemp("driver"), render=render)
        yield QuizDriver(env)
    await client.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def midterm(driver: QuizDriver, tmp_path_factory) -> Run:
    """The midterm with its hostile question texts, every section on."""
    return await archive(driver, tmp_path_factory.mktemp("midterm"), MIDTERM)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def exam(driver: QuizDriver, tmp_path_factory) -> Run:
    """The exam with the hostile names (header only: the names are what matters)."""
    return await archive(driver, tmp_path_factory.mktemp("exam"), EXAM, section_question=False)


def warnings_of(run: Run) -> list[str]:
    """The warnings the job log got."""
    return [message for level, message in run.ctx.logs if level is LogLevel.WARNING]


# -- size and embedded content -------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt_id", [11, 12, 13])
async def test_every_word_after_a_huge_image_an_embed_and_control_characters_is_in_the_pdf(
    midterm: Run, simulator: MoodleSimulator, attempt_id: int
) -> None:
    text = pdf_text(midterm.report_of(attempt_id))
    expectation = simulator.attempt_expectations(attempt_id)
    for slot in expectation.slots:
        questions = [t for t in slot.question_texts if "Control" not in t]
        assert not missing_from(text, questions), f"slot {slot.slot} question text"
        assert not missing_from(text, list(slot.response_texts)), f"slot {slot.slot} response"
        assert not missing_from(text, list(slot.right_answer_texts)), f"slot {slot.slot} right answer"
    assert not missing_from(text, ["Look at the scan:", "Text after the embed stays.", "And after the frame."])
    assert not missing_from(text, ["Control\ufffdcharacters\ufffdhere."])


@pytest.mark.parametrize("attempt_id", [11, 12, 13])
async def test_embedded_content_shows_its_address_as_text_and_is_warned_about(midterm: Run, attempt_id: int) -> None:
    text = pdf_text(midterm.report_of(attempt_id))
    assert not missing_from(
        text, [f"[embedded object not archived: {EMBED}]", f"[embedded web page not archived: {FRAME}]"]
    )
    reader = PdfReader(midterm.report_of(attempt_id))
    links = [a for page in reader.pages for a in page.get("/Annots") or [] if a.get_object().get("/A")]
    assert links == []  # an address to read, not a link that fetches anything
    warnings = warnings_of(midterm)
    for kind, url in (("object", EMBED), ("web page", FRAME)):
        assert (
            f"attempt {attempt_id}: question in slot 2: embedded {kind} cannot be archived, placeholder shown: {url}"
            in warnings
        )
    assert f"attempt {attempt_id}: question in slot 3: HTML {CLEANED_NOTE}" in warnings


async def test_big_images_are_in_the_pdf_scaled_down_inline_or_mislabelled(midterm: Run) -> None:
    listing = subprocess.run(
        ["pdfimages", "-list", str(midterm.report_of(11))], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    sizes = sorted((int(line.split()[3]), int(line.split()[4])) for line in listing)
    assert sizes == [(1280, 853), (1280, 1280)]  # 2100 × 1400 and 1600 × 1600 down to the 1280-pixel limit
    assert len(midterm.csv_rows()) == 3


# -- names ---------------------------------------------------------------------------------------------------


async def test_a_student_with_a_nul_in_her_name_is_archived_with_a_warning(exam: Run) -> None:
    rows = {row["attemptid"]: row for row in exam.csv_rows()}
    assert len(rows) == 9  # nobody's attempt failed
    row = rows["7"]
    assert (row["username"], row["firstname"], row["lastname"], row["idnumber"]) == (
        "mkowal\ufffdska", "Mał\ufffdgorzata", "Kowal\ufffdska", "47\ufffd11007"
    )  # fmt: skip
    assert row["path"].startswith("attempts/mkowal_ska/7-")  # a portable file name
    assert (
        f"attempt 7: user {HOSTILE_STUDENT}: username, firstname, lastname, fullname, idnumber, "
        f"group {HOSTILE_GROUP} name {CLEANED_NOTE}"
    ) in warnings_of(exam)
    # No log line carries the characters themselves.
    assert not any(c in message for _level, message in exam.ctx.logs for c in "\x00\x01\x1b\x85\ud800\ufffe")


async def test_the_cleaned_names_reach_the_report_its_metadata_and_the_job_record(exam: Run) -> None:
    pdf = exam.report_of(7)
    text = pdf_text(pdf)
    assert not missing_from(text, ["Mał\ufffdgorzata Kowal\ufffdska", "47\ufffd11007", "Exam WS2026\ufffd"])
    assert not missing_from(text, ["Final exam\ufffd Mathematics I"])
    metadata = PdfReader(pdf).metadata
    assert metadata is not None and metadata.author == "Mał\ufffdgorzata Kowal\ufffdska"
    assert metadata.title == "Final exam\ufffd Mathematics I — attempt 1 — mkowal\ufffdska"
    result = exam.result
    assert (result.course.fullname, result.activity.name) == ("Exam WS2026\ufffd", "Final exam\ufffd Mathematics I")
    student = next(user for user in result.users if user.id == HOSTILE_STUDENT)
    assert (student.firstname, student.lastname) == ("Mał\ufffdgorzata", "Kowal\ufffdska")
    # job.json is written as UTF-8 (not ASCII-escaped): a lone surrogate could not be.
    json.dumps(result_to_dict(result), ensure_ascii=False).encode("utf-8")
    warnings = warnings_of(exam)
    assert f"course {EXAM.course}: fullname {CLEANED_NOTE}" in warnings
    assert f"quiz {EXAM.quiz}: name {CLEANED_NOTE}" in warnings
    assert squash("Exam WS2026") in squash(text)
