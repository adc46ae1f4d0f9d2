"""Benchmark: quiz attempt reports per second, CPU per attempt and peak memory, with 1 and 2 render workers.

Two attempts, each fed to the full report pipeline exactly as the quiz driver does it (clean the review HTML,
MathJax with its cache, images, HTML; then the render pool: WeasyPrint PDF/A, PDF check, atomic write):

- `real`: the real 16-question attempt page (tests/fixtures/real-attempt/attempt-23.html, 15 question types,
  TeX, images, drag and drop), its `.que` blocks fed as review HTML;
- `ref`: the reference site's quiz (11 questions of mixed types with TeX and an image), the recorded
  `mod_quiz_get_attempt_review` answer tests/fixtures/moodle-4.5/18-…-essay-graded.json, its image served
  from the recorded pluginfile download.

Every attempt gets its own header (attempt id, user), so every PDF differs. N attempts go through the pipeline
with as many in flight as the quiz driver keeps (its fetch concurrency + workers), the HTML made in threads as
the driver makes it; the clock starts after the worker processes are up (a job starts them once) but before the
first attempt, so the workers' cold caches and the first attempt's MathJax conversions count. Reported per run:
wall time and attempts/s; CPU seconds per attempt over the whole process tree (this process, fork server,
workers, Node), of this process alone (`daemon`: cleaning, HTML, pickling) and inside the worker's render call
(`render`), which depend far less than wall time on what else the machine is doing; peak memory as PSS summed
over the tree, sampled every 0.2 s from /proc/<pid>/smaps_rollup (the tree's members found anew every 2 s), with
its split by kind of process; the load average before the run and the CPU stolen by the hypervisor during it
(`steal`, in CPUs: 0.5 = half a core went to other guests): the machine may be shared.

`--prebuilt` makes every report's HTML before the clock starts, so that only the render pool is measured (the
`daemon` column then shows only sending the tasks and receiving the answers).

WeasyPrint's speed patches (drivers/worker/archived_render/weasy_patches.py): `--patches SPEC` (repeatable) runs every
combination once per value of ARCHIVED_WEASYPRINT_PATCHES (`all`, `off`, `all,-zlib6`, …), `--leave-out-each`
adds `all,-NAME` for every patch, and `--repeat R` runs the whole list R times, interleaved (A B C A B C …),
so that a busy neighbour on a shared machine slows every variant alike. `--instructions` counts CPU
instructions instead of timing: each variant renders the prebuilt reports of the real attempt in one process
under `valgrind --tool=callgrind` (deterministic, whatever else the machine does), one count per report.

Usage: python bench/render.py [-n 60] [--scenario real,ref] [--workers 1,2] [--prebuilt]   (about 3 minutes)
       python bench/render.py --scenario ref --workers 2 -n 25,100   (time linear in attempts?)
       python bench/render.py --scenario real --workers 1 -n 20 --prebuilt --patches all --patches off --repeat 5
       python bench/render.py --instructions -n 4 --patches all --patches off --leave-out-each   (~30 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import html as lhtml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_render import weasy_patches
from archived_render.math import MathRenderer
from archived_render.render_pool import RenderPool
from archived_render.render_task import RenderOptions, RenderTask, Resource
from bench.process_tree import RoleSampler, steal_seconds, tree_cpu_seconds

FIXTURES = Path(__file__).resolve().parents[1] / "tests/fixtures"
REAL_ATTEMPT = FIXTURES / "real-attempt/attempt-23.html"
REF_REVIEW = FIXTURES / "moodle-4.5/18-mod_quiz_get_attempt_review-1-jmueller-essay-graded.json"
REF_IMAGE = FIXTURES / "moodle-4.5/53-pluginfile-question-image.png"
SAMPLE_SECONDS = 0.2


@dataclass
class Scenario:
    """One attempt's review data, fed again and again under different headers."""

    name: str
    questions: list[QuestionInput]
    images: dict[str, Resource]
    quiz: str
    overall_feedback: str = ""
    sumgrades: float | None = None
    grade: float | None = None


def real_scenario() -> Scenario:
    """The 16 `.que` blocks of the real attempt page."""
    page = lhtml.parse(str(REAL_ATTEMPT)).getroot()
    blocks = page.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " que ")]')
    questions = [QuestionInput(slot=i + 1, html=lhtml.tostring(b, encoding="unicode")) for i, b in enumerate(blocks)]
    return Scenario("real", questions, {}, "Real quiz (16 questions)")


def ref_scenario() -> Scenario:
    """The reference site's 11-question quiz as `mod_quiz_get_attempt_review` returned it."""
    review = json.loads(REF_REVIEW.read_text())["response"]
    questions = [QuestionInput.from_ws(q) for q in review["questions"]]
    png = Resource(REF_IMAGE.read_bytes(), "image/png")
    images = {"http://moodle.example/pluginfile.php/13/question/questiontext/1/6/6/triangle%20diagram.png": png}
    feedback = next((d["content"] for d in review.get("additionaldata", []) if d.get("id") == "feedback"), "")
    return Scenario(
        "ref", questions, images, "Final exam Mathematics I", feedback, review["attempt"]["sumgrades"], review["grade"]
    )


def _header(scenario: Scenario, number: int) -> AttemptHeader:
    """Attempt number `number`'s own header: every report differs from the others."""
    return AttemptHeader(
        attempt_id=1000 + number, attempt_number=1, state="finished", timestart=1_700_000_000,
        timefinish=1_700_002_400, sumgrades=scenario.sumgrades, quiz_sumgrades=24.0, grade=scenario.grade,
        quiz_grade=100.0, user_fullname=f"Student {number}", username=f"student{number}",
        idnumber=f"M{number:06d}", course="Mathematics I (MATH1)", quiz=scenario.quiz,
        overall_feedback_html=scenario.overall_feedback, archived_at=datetime(2026, 1, 1, tzinfo=UTC),
        job_id="bench",
    )  # fmt: skip


def _options(scenario: Scenario, settings: QuizSettings, number: int) -> RenderOptions:
    return RenderOptions(
        pdf_variant=settings.pdf_variant, page_size=settings.paper_format.css_size, identifier=f"bench-{number}",
        title=f"{scenario.quiz} — attempt {number}", created="2026-01-01T00:00:00Z",
    )  # fmt: skip


async def build_task(
    scenario: Scenario, settings: QuizSettings, math: MathRenderer, number: int, output: Path | None = None
) -> RenderTask:
    """Attempt `number`'s report task, made as the quiz driver makes it: the HTML in threads (the event loop stays
    free to hand workers their tasks), the formulas from MathJax and its cache."""
    prepared = await asyncio.to_thread(prepare_report, _header(scenario, number), scenario.questions, settings)
    formulas = await math.render_many(prepared.formulas)
    images = {url: scenario.images.get(url) for url in prepared.image_urls}
    document = await asyncio.to_thread(finish_report, prepared, formulas, images)
    options = _options(scenario, settings, number)
    return RenderTask(f"attempt {number}", document.html, document.resources, options, output)


async def run(scenario: Scenario, workers: int, attempts: int, out: Path, prebuilt: bool = False) -> dict[str, Any]:
    """Render `attempts` reports of `scenario` with `workers` processes; return the measurements.

    `prebuilt`: every task's HTML is made before the clock starts, so only the render pool is measured.
    """
    peak = 0.0
    peak_roles: dict[str, float] = {}
    sampling_cpu = 0.0
    stop = asyncio.Event()

    tree = RoleSampler(os.getpid())

    def measure() -> dict[str, float]:
        nonlocal sampling_cpu
        started = time.thread_time()
        try:
            return tree.sample()
        finally:
            sampling_cpu += time.thread_time() - started

    async def sample() -> None:
        nonlocal peak, peak_roles
        while not stop.is_set():
            roles = await asyncio.to_thread(measure)
            if sum(roles.values()) > peak:
                peak, peak_roles = sum(roles.values()), roles
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)

    math = MathRenderer()
    settings = QuizSettings()
    worker_cpu: list[float] = []
    load = os.getloadavg()[0]
    async with RenderPool(workers, timeout=300) as pool:
        await pool.warm_up()
        sampler = asyncio.create_task(sample())

        async def build(number: int) -> RenderTask:
            return await build_task(scenario, settings, math, number, out / f"{number}.pdf")

        ready = {n: await build(n) for n in range(attempts)} if prebuilt else {}

        async def one(number: int) -> None:
            task = ready.pop(number) if prebuilt else await build(number)
            result = await pool.render(task)
            assert result.check is not None and result.path is not None
            worker_cpu.append(result.cpu_seconds)

        gate = asyncio.Semaphore(settings.fetch_concurrency + workers)  # as many in flight as the driver has

        async def gated(number: int) -> None:
            async with gate:
                await one(number)

        steal_before = steal_seconds()
        cpu_before = tree_cpu_seconds(os.getpid())
        own_before = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(gated(n) for n in range(attempts)))
        elapsed = time.perf_counter() - started
        cpu = tree_cpu_seconds(os.getpid()) - cpu_before - sampling_cpu  # the sampler is not the pipeline
        own = time.process_time() - own_before - sampling_cpu
        steal = steal_seconds() - steal_before
        stop.set()
        await sampler
        pool_patches = pool.stats.weasyprint
    await math.close()
    return {
        "seconds": elapsed, "rate": attempts / elapsed, "cpu": cpu / attempts, "daemon_cpu": own / attempts,
        "worker_cpu": sum(worker_cpu) / max(1, len(worker_cpu)),
        "peak": peak, "peak_roles": peak_roles, "load": load, "steal": steal / elapsed,
        "patches": pool_patches,
    }  # fmt: skip


def _variants(args: argparse.Namespace) -> list[str | None]:
    """The ARCHIVED_WEASYPRINT_PATCHES values to compare (None: leave the environment as it is)."""
    variants: list[str | None] = list(args.patches or [])
    if args.leave_out_each:
        variants += [f"all,-{name}" for name in weasy_patches.PATCHES]
    for value in variants:
        if value is not None:
            weasy_patches.parse(value)  # fail now, not after an hour of measuring
    return variants or [None]


async def _prebuilt_tasks(scenario: Scenario, attempts: int) -> list[RenderTask]:
    """`attempts` report tasks of `scenario`, made exactly as `run` makes them (MathJax included)."""
    math = MathRenderer()
    settings = QuizSettings()
    tasks = [await build_task(scenario, settings, math, number) for number in range(attempts)]
    await math.close()
    return tasks


def callgrind_child(tasks_file: Path) -> None:
    """Inside valgrind: render the pickled tasks one by one, marking each end for callgrind to dump its count.

    `os.getloadavg()` is the marker: callgrind runs with `--dump-before=getloadavg`, and nothing else here
    calls it. Dumps: 1 imports, 2 engine start and warm-up document, 3 first report (cold caches), 4… the rest.
    """
    from archived_render.pdf_engine import PdfEngine
    from archived_render.render_worker import WARMUP_HTML

    tasks = pickle.loads(tasks_file.read_bytes())
    os.getloadavg()
    engine = PdfEngine()
    engine.render(RenderTask("warm-up", WARMUP_HTML, options=RenderOptions(check=False)))
    os.getloadavg()
    for task in tasks:
        result = engine.render(task)
        assert result.check is not None
        os.getloadavg()
    print(engine.patches.label, flush=True)


def count_instructions(variants: list[str | None], attempts: int, jobs: int) -> None:
    """Print instructions per report for each variant (callgrind), `jobs` valgrind processes at a time."""
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")
    tasks = asyncio.run(_prebuilt_tasks(real_scenario(), attempts))
    print(f"{'patches':34} {'path':>8} {'first Minstr':>12} {'next Minstr (min-max)':>24}", flush=True)
    with tempfile.TemporaryDirectory(prefix="archived-callgrind-") as folder:
        tasks_file = Path(folder) / "tasks.pickle"
        tasks_file.write_bytes(pickle.dumps(tasks))

        def one(index: int, variant: str | None) -> str:
            out = Path(folder) / f"v{index}"
            out.mkdir()
            env = dict(os.environ, PYTHONHASHSEED="0")
            if variant is not None:
                env[weasy_patches.ENV_VAR] = variant
            command = [
                "valgrind", "--tool=callgrind", "--dump-before=getloadavg", f"--callgrind-out-file={out}/cg.out",
                sys.executable, str(Path(__file__).resolve()), "--callgrind-child", str(tasks_file),
            ]  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                return f"{variant or '(environment)':34} failed: {done.stderr.strip().splitlines()[-3:]}"
            dumps = sorted(out.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
            counts = [_callgrind_total(path) / 1e6 for path in dumps]
            first, rest = counts[2], counts[3:]
            spread = f"{statistics.mean(rest):.0f} ({min(rest):.0f}-{max(rest):.0f})" if rest else "-"
            label = done.stdout.strip().splitlines()[-1]
            return f"{variant or '(environment)':34} {label.split()[0]:>8} {first:>12.0f} {spread:>24}"

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for line in pool.map(one, range(len(variants)), variants):
                print(line, flush=True)


def _callgrind_total(path: Path) -> int:
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    """Parse arguments, run every (scenario, workers, N, patches) combination, print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--attempts", default="60", help="attempts per run; several: 25,200")
    parser.add_argument("--scenario", default="real,ref", help="real, ref or both (real,ref)")
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    parser.add_argument(
        "--prebuilt", action="store_true",
        help="make every report's HTML before the clock starts: measures the render pool alone",
    )  # fmt: skip
    parser.add_argument(
        "--patches", action="append",
        help=f"a value of {weasy_patches.ENV_VAR} to run with (repeatable): all, off, all,-zlib6, glyphs,…",
    )  # fmt: skip
    parser.add_argument("--leave-out-each", action="store_true", help="also run all,-NAME for every patch")
    parser.add_argument("--repeat", type=int, default=1, help="run the whole list this many times, interleaved")
    parser.add_argument("--instructions", action="store_true", help="count instructions with callgrind (real)")
    parser.add_argument("--jobs", type=int, default=1, help="valgrind processes at once (--instructions)")
    parser.add_argument("--callgrind-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind_child:
        callgrind_child(args.callgrind_child)
        return
    variants = _variants(args)
    print(__doc__.splitlines()[0])
    if args.instructions:
        count_instructions(variants, int(args.attempts.split(",")[0]), args.jobs)
        return
    makers = {"real": real_scenario, "ref": ref_scenario}
    print(f"{'scenario':8} {'workers':>7} {'attempts':>8} {'time s':>7} {'att/s':>6} {'CPU s/att':>9} "
          f"{'daemon':>6} {'render':>6} {'peak MiB':>8} {'load':>5} {'steal':>5}  patches")  # fmt: skip
    scenarios = [makers[name.strip()]() for name in args.scenario.split(",")]
    for _ in range(max(1, args.repeat)):
        for scenario in scenarios:
            for workers in (int(w) for w in args.workers.split(",")):
                for attempts in (int(n) for n in args.attempts.split(",")):
                    for variant in variants:
                        _run_one(scenario, workers, attempts, args.prebuilt, variant)
    sys.stdout.flush()


def _run_one(scenario: Scenario, workers: int, attempts: int, prebuilt: bool, variant: str | None) -> None:
    if variant is not None:
        os.environ[weasy_patches.ENV_VAR] = variant  # read by the pool, which hands it to its workers
    with tempfile.TemporaryDirectory(prefix="archived-bench-") as folder:
        m = asyncio.run(run(scenario, workers, attempts, Path(folder), prebuilt))
    line = (
        f"{scenario.name:8} {workers:>7} {attempts:>8} {m['seconds']:>7.1f} {m['rate']:>6.2f} "
        f"{m['cpu']:>9.3f} {m['daemon_cpu']:>6.3f} {m['worker_cpu']:>6.3f} {m['peak']:>8.0f} "
        f"{m['load']:>5.1f} {m['steal']:>5.2f}  {m['patches']}"
    )
    print(line, flush=True)
    roles = ", ".join(f"{role} {mib:.0f}" for role, mib in sorted(m["peak_roles"].items()))
    print(f"{'':8} at the peak (MiB): {roles}", flush=True)


if __name__ == "__main__":
    main()
