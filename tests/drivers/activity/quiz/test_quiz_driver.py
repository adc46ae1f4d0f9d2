"""The quiz driver end to end against the Moodle simulator: real HTTP, real render pool, real MathJax.

One simulator and one driver (two render processes) serve the whole module; each scenario archives a quiz
once into its own payload folder and the tests read the PDFs back with pdftotext. The seeded world gets a
few additions before it starts: preview attempts (never archived), a second attempt of one student on the
small quiz (two attempts sharing a folder), a student whose last name tries to climb out of the archive,
and attachments whose names collide or look like paths.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote

import pytest
import pytest_asyncio

from archived.archive.names import sanitise_segment
from archived.errors import FatalError
from archived.interfaces.activity import ActivityResult, DriverEnvironment, LogLevel
from archived.moodle.api import MoodleApi
from archived.moodle.client import MoodleClient
from archived.simulator.simulator import MoodleSimulator
from archived_quiz import checkpoints
from archived_quiz.attempt_pipeline import AttemptPipeline, QuizRun
from archived_quiz.driver import QuizDriver
from archived_quiz.moodle_records import enrolled_students, list_attempts
from archived_quiz.settings import QuizSettings
from archived_render.pdf_check import check_pdf
from archived_render.service import RenderLimits, RenderService
from tests.support.simulator import RAW_TEX, add_attempt, pdf_text, squash

pytestmark = pytest.mark.asyncio(loop_scope="module")

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DATE, TIME = "2026-01-02", "03-04-05"
JOB_ID = "5f0c7a52-8d3e-4c1b-9a47-0d2b6e3f9a11"
EXAM = SimpleNamespace(course=2, cmid=2, quiz=1)  # 11 questions of 9 types, TeX, an image, an essay
MIDTERM = SimpleNamespace(course=3, cmid=4, quiz=2)  # 3 questions, attempts 11-13 (+ 60 added below)
PREVIEWS = (50, 51)
SECOND_MIDTERM_ATTEMPT = 60
ABANDONED = 52  # lschmidt, a copy of attempt 1 with its scan; only archived when asked for abandoned attempts
# Attempt 7 (mkowalska) uploads these for the essay (slot 11): names that collide once made portable, a
# Windows-style path, dot files; each must arrive as its own file inside attachments/11/.
TRICKY_ATTACHMENTS = [
    "notes.pdf", "Notes.pdf", "n tes.pdf", "n_tes.pdf", "nötes.pdf", "..\\..\\escape.pdf", ".bashrc", "x" * 300,
]  # fmt: skip


@dataclass
class RecordingContext:
    """An `ArchiveContext` that keeps logs, progress and the checkpoint in memory."""

    root: Path
    settings: QuizSettings
    course_id: int
    cmid: int
    job_id: str = JOB_ID
    created_at: datetime = CREATED
    logs: list[tuple[LogLevel, str]] = field(default_factory=list)
    progress_lines: list[tuple[float, str]] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    checkpoint_items: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.payload_dir = self.root / "payload"
        self.work_dir = self.root / "work"
        self.payload_dir.mkdir(parents=True)
        self.work_dir.mkdir()

    async def progress(self, percent: float, text: str) -> None:
        """Keep progress lines."""
        self.progress_lines.append((percent, text))

    async def log(self, level: LogLevel, message: str) -> None:
        """Keep log lines."""
        self.logs.append((level, message))

    async def load_checkpoint(self) -> dict[str, Any] | None:
        """The checkpoint saved last."""
        return self.checkpoint

    async def save_checkpoint(self, data: dict[str, Any]) -> None:
        """Keep the checkpoint (a JSON round trip, as the store does)."""
        self.checkpoint = json.loads(json.dumps(data))

    async def load_checkpoint_items(self) -> dict[str, Any]:
        """Every checkpoint item saved so far."""
        return dict(self.checkpoint_items)

    async def save_checkpoint_items(self, items: dict[str, Any]) -> None:
        """Add checkpoint items (a JSON round trip, as the store does)."""
        self.checkpoint_items.update(json.loads(json.dumps(items)))


@dataclass
class Run:
    """One archived quiz: the context it ran with and what the driver returned."""

    ctx: RecordingContext
    result: ActivityResult

    @property
    def payload(self) -> Path:
        """The payload folder."""
        return self.ctx.payload_dir

    def reports(self) -> dict[str, Path]:
        """Every report PDF by its path relative to the payload."""
        return {
            p.relative_to(self.payload).as_posix(): p
            for p in self.payload.joinpath("attempts").rglob("*.pdf")
            if "attachments" not in p.relative_to(self.payload).parts
        }

    def csv_rows(self) -> list[dict[str, str]]:
        """attempts.csv."""
        return list(csv.DictReader(io.StringIO(self.payload.joinpath("attempts.csv").read_text(encoding="utf-8"))))

    def report_of(self, attempt_id: int) -> Path:
        """The PDF of one attempt, found through attempts.csv."""
        row = next(r for r in self.csv_rows() if r["attemptid"] == str(attempt_id))
        return self.payload / row["path"]


@pytest.fixture(scope="module")
def simulator():
    """The recorded site plus previews, a second midterm attempt, a hostile last name, tricky attachments."""
    sim = MoodleSimulator()
    add_attempt(sim, like=9, attempt_id=PREVIEWS[0], userid=11, attempt=1, preview=1)  # the teacher's preview
    add_attempt(sim, like=1, attempt_id=PREVIEWS[1], attempt=2, preview=1)  # a preview by a student
    add_attempt(sim, like=13, attempt_id=SECOND_MIDTERM_ATTEMPT, attempt=2)  # amartin again
    add_attempt(sim, like=1, attempt_id=ABANDONED, userid=6, attempt=2, state="abandoned")
    sim.world.users[5].lastname = "../../Martin"  # amartin
    sim.world.attempts[7].plan.attachments = {11: list(TRICKY_ATTACHMENTS)}
    sim.start()
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


async def archive(driver: QuizDriver, root: Path, quiz: SimpleNamespace, **settings: Any) -> Run:
    """Archive a quiz into `root/payload`."""
    ctx = RecordingContext(root, QuizSettings(**settings), quiz.course, quiz.cmid)
    result = await driver.archive(ctx)
    return Run(ctx, result)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def exam(driver: QuizDriver, tmp_path_factory) -> Run:
    """The exam archived with the default settings (every section on, finished attempts)."""
    return await archive(driver, tmp_path_factory.mktemp("exam"), EXAM)


def finished_attempts(sim: MoodleSimulator, quiz_id: int) -> list[int]:
    """The ids of the real finished attempts of a quiz, as the simulator's data has them."""
    return [a.id for a in sim.world.quiz_attempts(quiz_id) if a.state == "finished" and not a.preview]


def missing_from(text: str, fragments: list[str]) -> list[str]:
    """The fragments not in the extracted text (compared with whitespace and hyphens removed)."""
    squashed = squash(text)
    return [fragment for fragment in fragments if squash(fragment) not in squashed]


# -- every finished attempt, complete -----------------------------------------------------------------------


async def test_every_finished_attempt_has_a_report_and_nothing_else(exam: Run, simulator: MoodleSimulator) -> None:
    expected = finished_attempts(simulator, EXAM.quiz)
    assert len(expected) == 9
    rows = exam.csv_rows()
    assert [int(r["attemptid"]) for r in rows] == expected  # no in-progress attempt 10, no previews
    assert sorted(exam.reports()) == sorted(r["path"] for r in rows)
    assert exam.result.summary["attempts"] == 9
    for row in rows:
        data = (exam.payload / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        check_pdf(data, task_id=row["path"])  # opens, PDF/A metadata and output intent, text extractable


@pytest.mark.parametrize("attempt_id", [1, 2, 3, 4, 5, 6, 7, 8, 9])
async def test_report_holds_questions_responses_right_answers(
    exam: Run, simulator: MoodleSimulator, attempt_id: int
) -> None:
    expectation = simulator.attempt_expectations(attempt_id)
    text = pdf_text(exam.report_of(attempt_id))
    assert not RAW_TEX.search(text), "a formula was left as raw TeX"
    for slot in expectation.slots:
        assert not missing_from(text, list(slot.question_texts)), f"slot {slot.slot} question text"
        assert not missing_from(text, list(slot.response_texts)), f"slot {slot.slot} response"
        assert not missing_from(text, list(slot.right_answer_texts)), f"slot {slot.slot} right answer"
        # History lines; a saved essay shows its formulas typeset, so compare the part before the first one.
        actions = [action.split("\\(")[0].split("\\[")[0] for action in slot.history_actions]
        assert not missing_from(text, actions), f"slot {slot.slot} history"
        if slot.comment:
            assert not missing_from(text, [slot.comment]), f"slot {slot.slot} grader's comment"
    header = [expectation.fullname, expectation.username, expectation.idnumber, "Final exam Mathematics I", JOB_ID]
    assert not missing_from(text, header)


@pytest.mark.parametrize("attempt_id", [1, 2, 3, 4, 5, 6, 7, 8, 9])
async def test_formulas_are_typeset_and_searchable(exam: Run, simulator: MoodleSimulator, attempt_id: int) -> None:
    """No raw TeX delimiters, and each formula's TeX is in the (invisible) text layer over its drawing."""
    text = pdf_text(exam.report_of(attempt_id))
    assert not RAW_TEX.search(text), "a formula was left as raw TeX"
    for slot in simulator.attempt_expectations(attempt_id).slots:
        assert not missing_from(text, [html.unescape(tex) for tex in slot.tex]), f"slot {slot.slot}"


@pytest.mark.parametrize("attempt_id", [1, 7])
async def test_report_lists_the_attachments(exam: Run, simulator: MoodleSimulator, attempt_id: int) -> None:
    text = pdf_text(exam.report_of(attempt_id))
    names = [name for slot in simulator.attempt_expectations(attempt_id).slots for name in slot.attachments]
    # A 300-character name wraps over lines in the PDF: compare without white space.
    flat = "".join(text.split())
    assert names and [name for name in names if "".join(name.split()) not in flat] == []


async def test_default_names_and_attachments(exam: Run, simulator: MoodleSimulator) -> None:
    for row in exam.csv_rows():
        attempt_id, username = row["attemptid"], row["username"]
        folder = f"attempts/{username}/{attempt_id}-{DATE}_{TIME}"
        assert row["path"] == f"{folder}/attempt-{attempt_id}-{username}_{DATE}-{TIME}.pdf"
    # Attempt 1's scan, byte for byte as Moodle serves it.
    scan = simulator.world.detail(simulator.world.attempts[1]).questions[10].attachments[0]
    stored = exam.payload / f"attempts/jmueller/1-{DATE}_{TIME}/attachments/11/Induktion_Skizze.pdf"
    assert stored.read_bytes() == scan.content


async def test_attachment_names_stay_inside_and_do_not_overwrite_each_other(
    exam: Run, simulator: MoodleSimulator
) -> None:
    folder = exam.payload / f"attempts/mkowalska/7-{DATE}_{TIME}/attachments/11"
    stored = sorted(p.name for p in folder.iterdir())
    assert len(stored) == len(TRICKY_ATTACHMENTS), stored
    assert all(name == sanitise_segment(name) for name in stored)
    assert len({name.casefold() for name in stored}) == len(stored)
    originals = {
        f.filename: f.content for f in simulator.world.detail(simulator.world.attempts[7]).questions[10].attachments
    }
    assert sorted(p.read_bytes() for p in folder.iterdir()) == sorted(originals.values())
    # Nothing was written anywhere else in the payload.
    everything = {p.relative_to(exam.payload).as_posix() for p in exam.payload.rglob("*") if p.is_file()}
    attachments = {name for name in everything if "/attachments/" in name}
    assert {name.rsplit("/", 1)[0] for name in attachments} == {
        f"attempts/jmueller/1-{DATE}_{TIME}/attachments/11",
        f"attempts/mkowalska/7-{DATE}_{TIME}/attachments/11",
    }
    assert everything == set(exam.reports()) | attachments | {"attempts.csv"}


async def test_csv_and_users(exam: Run, simulator: MoodleSimulator) -> None:
    rows = exam.csv_rows()
    row = next(r for r in rows if r["attemptid"] == "2")
    expectation = simulator.attempt_expectations(2)
    assert (row["username"], row["firstname"], row["lastname"], row["idnumber"]) == (
        "zotsuka",
        "Zoë",
        "Ōtsuka",
        "4711002",
    )
    assert row["state"] == "finished" and float(row["sumgrades"]) == pytest.approx(expectation.sumgrades)
    assert float(row["grade"]) == pytest.approx(expectation.grade)
    # Everyone with an archived attempt is listed once (REQ-TR-03); nobody else.
    users = exam.result.users
    assert [u.id for u in users] == sorted(
        {simulator.world.attempts[a].userid for a in finished_attempts(simulator, 1)}
    )
    assert {u.username for u in users} == {r["username"] for r in rows}
    zoe = next(u for u in users if u.username == "zotsuka")
    assert (zoe.firstname, zoe.lastname, zoe.idnumber) == ("Zoë", "Ōtsuka", "4711002")
    assert "emustermann" not in {u.username for u in users}  # the teacher only previewed
    assert exam.result.activity.cmid == EXAM.cmid and exam.result.course.shortname == "EXAM-WS2026"
    assert exam.result.moodle_release.startswith("4.5")


# -- which attempts ----------------------------------------------------------------------------------------


async def test_in_progress_attempt_only_when_asked(driver: QuizDriver, simulator: MoodleSimulator, tmp_path) -> None:
    run = await archive(driver, tmp_path, EXAM, attempt_states=["inprogress"])
    assert [r["attemptid"] for r in run.csv_rows()] == ["10"]
    expectation = simulator.attempt_expectations(10)
    text = pdf_text(run.report_of(10))
    assert not RAW_TEX.search(text)
    assert not missing_from(text, expectation.all_response_texts())
    assert not missing_from(text, [t for s in expectation.slots for t in s.question_texts])
    assert [u.username for u in run.result.users] == ["bweber"]


# -- section toggles ----------------------------------------------------------------------------------------


async def test_switched_off_sections_are_gone(driver: QuizDriver, simulator: MoodleSimulator, tmp_path) -> None:
    run = await archive(
        driver,
        tmp_path,
        MIDTERM,
        section_header=False,
        section_rightanswer=False,
        section_history=False,
        section_general_feedback=False,
    )
    assert len(run.reports()) == 4
    for row in run.csv_rows():
        expectation = simulator.attempt_expectations(int(row["attemptid"]))
        text = pdf_text(run.payload / row["path"])
        squashed = squash(text).casefold()
        for slot in expectation.slots:
            assert not missing_from(text, list(slot.question_texts) + list(slot.response_texts))
            for right in slot.right_answer_texts:
                if right.startswith("The correct answer"):
                    assert squash(right).casefold() not in squashed
        assert "thecorrectansweris" not in squashed
        assert "responsehistory" not in squashed and "attemptfinished" not in squashed
        assert "generalfeedback" not in squashed
        for header_fact in ("idnumber", expectation.idnumber, "archivedat", JOB_ID.replace("-", ""), "linearalgebrai"):
            assert squash(header_fact).casefold() not in squashed


async def test_questions_off_leaves_the_header(driver: QuizDriver, simulator: MoodleSimulator, tmp_path) -> None:
    run = await archive(driver, tmp_path, EXAM, section_question=False)
    assert run.ctx.settings.section_attachments is False  # dependent sections follow their parent
    for row in run.csv_rows():
        expectation = simulator.attempt_expectations(int(row["attemptid"]))
        text = pdf_text(run.payload / row["path"])
        assert not missing_from(text, [expectation.fullname, expectation.idnumber, "Final exam Mathematics I"])
        squashed = squash(text).casefold()
        assert "question1" not in squashed and "classifytheanimals" not in squashed
        assert "thecorrectansweris" not in squashed and "responsehistory" not in squashed
        if row["attemptid"] == "1":  # 92 %: the top feedback band; quiz_feedback stays with the header
            assert not missing_from(text, ["Overall feedback Excellent work!"])
    assert not list(run.payload.rglob("attachments"))  # attachments need the questions: not downloaded


# -- names ------------------------------------------------------------------------------------------------


async def test_custom_patterns_with_folders_and_hostile_values(
    driver: QuizDriver, simulator: MoodleSimulator, tmp_path
) -> None:
    run = await archive(
        driver,
        tmp_path,
        MIDTERM,
        section_question=False,  # the names are what matters here; keep the reports small
        folder_pattern="${ courseshortname }/${lastname}-${firstname}",
        file_pattern="${quizname}_${idnumber}",
        keep_html=True,
    )
    paths = {int(r["attemptid"]): r["path"] for r in run.csv_rows()}
    assert paths == {
        11: "attempts/LA1-WS2026/Mueller-Juergen/Midterm_quiz_4711001.pdf",
        12: "attempts/LA1-WS2026/Otsuka-Zoe/Midterm_quiz_4711002.pdf",
        13: "attempts/LA1-WS2026/_.._Martin-Anna/Midterm_quiz_4711003.pdf",  # "../../Martin" stays one segment
        # amartin's second attempt shares the folder and the name: it gets its attempt id appended.
        60: "attempts/LA1-WS2026/_.._Martin-Anna/Midterm_quiz_4711003_60.pdf",
    }
    assert sorted(run.reports()) == sorted(paths.values())
    for path in paths.values():  # the HTML copy sits next to its PDF
        assert "Midterm quiz" in (run.payload / path).with_suffix(".html").read_text(encoding="utf-8")
    for path in run.payload.rglob("*"):
        assert path.resolve().is_relative_to(run.payload.resolve())


def reviews_by_attempt(sim: MoodleSimulator) -> dict[int, int]:
    """How often each attempt's review was fetched so far."""
    counts: dict[int, int] = {}
    for record in sim.stats.log():
        if record.function == "mod_quiz_get_attempt_review":
            attempt = int(dict(record.params)["attemptid"])
            counts[attempt] = counts.get(attempt, 0) + 1
    return counts


async def test_a_rerun_keeps_intact_attempts_and_redoes_damaged_ones(
    driver: QuizDriver, simulator: MoodleSimulator, tmp_path
) -> None:
    ctx = RecordingContext(tmp_path, QuizSettings(section_question=False, keep_html=True), MIDTERM.course, MIDTERM.cmid)
    await driver.archive(ctx)
    first = Run(ctx, await driver.archive(ctx)).csv_rows()  # nothing to do the second time
    before = reviews_by_attempt(simulator)
    # Damage: one report overwritten, one HTML copy gone; and a file of an earlier run whose name changed since.
    by_id = {r["attemptid"]: r for r in first}
    (ctx.payload_dir / by_id["12"]["path"]).write_bytes(b"%PDF-1.7 garbage")
    (ctx.payload_dir / by_id["13"]["path"]).with_suffix(".html").unlink()
    stale = ctx.payload_dir / "attempts/amartin/13-old/attempt-13-amartin.pdf"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"%PDF-1.7 from an earlier run")
    run = Run(ctx, await driver.archive(ctx))
    after = reviews_by_attempt(simulator)
    assert {a: after[a] - before.get(a, 0) for a in after if after[a] != before.get(a, 0)} == {12: 1, 13: 1}
    assert run.csv_rows() == first  # the re-rendered reports are byte-identical (same sha256)
    assert not stale.exists() and not stale.parent.exists()
    assert (LogLevel.INFO, "removed 1 file(s) of an earlier run that no longer belong here") in ctx.logs
    assert (ctx.payload_dir / by_id["13"]["path"]).with_suffix(".html").is_file()


def abandoned_attempts_scan(simulator: MoodleSimulator) -> tuple[Any, str]:
    """The file the abandoned attempt's student uploaded to question 11, and its pluginfile path."""
    scan = simulator.world.detail(simulator.world.attempts[ABANDONED]).questions[10].attachments[0]
    path = (
        f"/{scan.contextid}/question/response_attachments/{simulator.world.attempts[ABANDONED].uniqueid}/11/"
        f"{scan.itemid}/{quote(scan.filename)}"
    )
    return scan, path


async def test_a_missing_attachment_fails_naming_attempt_and_file(
    driver: QuizDriver, simulator: MoodleSimulator, tmp_path
) -> None:
    """An uploaded file Moodle cannot serve is the student's work lost: the attempt (and job) fails, loudly."""
    scan, path = abandoned_attempts_scan(simulator)
    simulator.faults.fail(404, endpoint="pluginfile", params={"path": path})
    try:
        with pytest.raises(FatalError) as failure:
            await archive(driver, tmp_path, EXAM, attempt_states=["abandoned"])
    finally:
        simulator.faults.clear()
    message = str(failure.value)
    assert f"attempt {ABANDONED} (user lschmidt) could not be archived" in message
    assert scan.filename in unquote(message) and "404" in message
    assert not list(tmp_path.rglob("*.pdf")) and not (tmp_path / "payload/attempts.csv").exists()


async def test_attempts_finished_before_a_failure_are_recorded_for_the_retry(
    driver: QuizDriver, simulator: MoodleSimulator, tmp_path, monkeypatch
) -> None:
    """One attempt fails (its scan is gone) after every other one has finished: the job fails, and the finished
    attempts are in the checkpoint, so a retry does not render them again. (No periodic checkpoint during the
    run: what is recorded is recorded because of the failure.)"""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_SECONDS", 3600.0)
    _scan, path = abandoned_attempts_scan(simulator)
    simulator.faults.delay(8.0, endpoint="pluginfile", params={"path": path})  # the others finish first
    simulator.faults.fail(404, endpoint="pluginfile", params={"path": path})
    ctx = RecordingContext(tmp_path, QuizSettings(attempt_states=["finished", "abandoned"]), EXAM.course, EXAM.cmid)
    try:
        with pytest.raises(FatalError, match=f"attempt {ABANDONED} "):
            await driver.archive(ctx)
    finally:
        simulator.faults.clear()
    assert set(ctx.checkpoint_items) == {str(a) for a in finished_attempts(simulator, EXAM.quiz)}
    assert all((ctx.payload_dir / row["path"]).is_file() for row in ctx.checkpoint_items.values())


class BrokenStoreContext(RecordingContext):
    """A context whose store cannot take the finished attempts (say, a full disk)."""

    async def save_checkpoint_items(self, items: dict[str, Any]) -> None:
        """Fail as a full disk would."""
        raise OSError(28, "No space left on device")


async def test_the_jobs_own_failure_is_raised_when_recording_the_finished_ones_fails(
    driver: QuizDriver, simulator: MoodleSimulator, tmp_path, caplog
) -> None:
    """The attempt's failure is what the operator must see, not the store error met while recording."""
    _scan, path = abandoned_attempts_scan(simulator)
    simulator.faults.fail(404, endpoint="pluginfile", params={"path": path})
    ctx = BrokenStoreContext(tmp_path, QuizSettings(attempt_states=["abandoned"]), EXAM.course, EXAM.cmid)
    try:
        with pytest.raises(FatalError, match=f"attempt {ABANDONED} "):
            await driver.archive(ctx)
    finally:
        simulator.faults.clear()
    assert "finished attempts not recorded for the retry" in caplog.text and "No space left" in caplog.text


async def test_attachment_with_a_path_for_a_name_lands_inside(
    driver: QuizDriver, simulator: MoodleSimulator, tmp_path
) -> None:
    """A review whose file name is a path (a hostile or broken site) still writes inside attachments/<slot>/."""
    ctx = RecordingContext(tmp_path, QuizSettings(), EXAM.course, EXAM.cmid)
    env = driver.env
    assert env.moodle is not None and env.render is not None
    run = QuizRun(ctx, ctx.settings, env.moodle, env.render.session("test"), None, None, {}, {})  # no course or quiz
    real = simulator.world.detail(simulator.world.attempts[1]).questions[10].attachments[0]
    url = (
        f"{simulator.url}/pluginfile.php/{real.contextid}/question/response_attachments/1/11/{real.itemid}/"
        f"{real.filename}?forcedownload=1"
    )
    names = ["../../../../escape.pdf", "/etc/passwd", "..", "."]
    files = [SimpleNamespace(filename=name, fileurl=url) for name in names]
    review = SimpleNamespace(
        questions=[SimpleNamespace(slot=11, responsefileareas=[SimpleNamespace(area="attachments", files=files)])]
    )
    stored = await AttemptPipeline(run)._attachments(review, "attempts/x/attachments")
    assert len(stored) == 4
    for relative in stored:
        path = (ctx.payload_dir / relative).resolve()
        assert path.parent == (ctx.payload_dir / "attempts/x/attachments/11").resolve()
        assert path.read_bytes() == real.content
    assert not any(tmp_path.glob("escape*")) and not any(p.name == "passwd" for p in tmp_path.rglob("*"))


async def test_listing_attempts_asks_per_user_and_raises_moodle_errors_unwrapped() -> None:
    """`list_attempts` with a stand-in for the web-service API (the listing logic alone; the simulator-backed
    tests above cover the real calls): every user asked once, previews left out, sorted by attempt id, and a
    failing call raises that error itself (the engine classifies it), not a task group around it."""
    from archived.errors import RecoverableError

    asked: list[int] = []

    def attempt(attempt_id: int, preview: bool) -> SimpleNamespace:
        return SimpleNamespace(
            id=attempt_id, attempt=1, state="finished", timestart=1, timefinish=2, timemodified=2, preview=preview
        )

    class Api:
        async def user_attempts(self, quiz_id: int, user_id: int, status: str) -> Any:
            asked.append(user_id)
            if user_id == 13:
                raise RecoverableError("Moodle answered 503", code="http_503")
            attempts = [attempt(100 - user_id, preview=False), attempt(500, preview=True)]
            return SimpleNamespace(attempts=attempts if user_id != 5 else [])

    users = [SimpleNamespace(id=i) for i in range(1, 11)]
    found = await list_attempts(Api(), 7, users)
    assert sorted(asked) == list(range(1, 11))
    assert [a.id for _, a in found] == sorted(100 - i for i in range(1, 11) if i != 5)
    assert 500 not in [a.id for _, a in found]  # the preview

    with pytest.raises(RecoverableError, match="503"):
        await list_attempts(Api(), 7, [*users, SimpleNamespace(id=13)])


async def test_enrolled_users_come_in_one_request_with_the_fields_a_job_uses(simulator: MoodleSimulator) -> None:
    """The slim listing gives the same students as the full one, with names, ids and groups kept."""
    async with MoodleClient(simulator.url, simulator.token, requests_per_second=0) as client:
        api = MoodleApi(client)
        everyone = await api.enrolled_users(EXAM.course)
        simulator.stats.reset()
        slim = await enrolled_students(api, EXAM.course)
    asked = [dict(r.params) for r in simulator.stats.log() if r.function == "core_enrol_get_enrolled_users"]
    assert len(asked) == 1 and "username,firstname,lastname" in str(asked[0])
    assert [s.id for s in slim] == [u.id for u in everyone]
    for student, user in zip(slim, everyone, strict=True):
        assert (student.username, student.firstname, student.lastname, student.fullname, student.idnumber) == (
            user.username, user.firstname, user.lastname, user.fullname, user.idnumber
        )  # fmt: skip
        assert [(g.id, g.name) for g in student.groups] == [(g.id, g.name) for g in user.groups]
    assert any(student.groups for student in slim)
