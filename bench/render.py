"""Benchmark: quiz attempt reports per second and peak memory (PSS of the whole process tree), 1 and 2 workers.

Method: the real attempt (16 questions, tests/fixtures/real-attempt/attempt-23.html) goes through the full
report pipeline (clean, MathJax with its cache, HTML) and the render pool (WeasyPrint PDF/A + PDF check), N
attempts at a time; memory is sampled every 0.2 s from /proc/<pid>/smaps_rollup over this process and all its
descendants (workers, fork server, Node). Usage: python bench/render.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from archived.drivers.activity.quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived.drivers.activity.quiz.settings import QuizSettings
from archived.drivers.worker.math import MathRenderer
from archived.drivers.worker.render_pool import RenderPool
from archived.drivers.worker.render_task import RenderOptions, RenderTask
from lxml import html as lhtml

FIXTURE = Path(__file__).resolve().parents[1] / "tests/fixtures/real-attempt/attempt-23.html"


def tree_pss_kib(root: int) -> int:
    """Sum of PSS over `root` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


async def run(workers: int, attempts: int, questions: list[QuestionInput]) -> None:
    peak = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, await asyncio.to_thread(tree_pss_kib, os.getpid()))
            await asyncio.sleep(0.2)

    math = MathRenderer()
    settings = QuizSettings()
    async with RenderPool(workers, timeout=300) as pool:
        await pool.warm_up()
        sampler = asyncio.create_task(sample())

        async def one(number: int) -> None:
            header = AttemptHeader(attempt_id=number, attempt_number=1, quiz="Real quiz")
            prepared = prepare_report(header, questions, settings)
            document = finish_report(prepared, await math.render_many(prepared.formulas), {})
            options = RenderOptions(page_size=settings.paper_format.css_size, identifier=str(number))
            await pool.render(RenderTask(f"attempt {number}", document.html, document.resources, options))

        started = time.perf_counter()
        gate = asyncio.Semaphore(workers + 2)

        async def gated(number: int) -> None:
            async with gate:
                await one(number)

        await asyncio.gather(*(gated(n) for n in range(attempts)))
        elapsed = time.perf_counter() - started
        stop.set()
        await sampler
    await math.close()
    print(f"workers={workers} attempts={attempts} time={elapsed:.1f}s "
          f"rate={attempts / elapsed:.2f} attempts/s peak_pss={peak / 1024:.0f} MiB")  # fmt: skip


def main() -> None:
    attempts = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    page = lhtml.parse(str(FIXTURE)).getroot()
    blocks = page.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " que ")]')
    questions = [QuestionInput(slot=i + 1, html=lhtml.tostring(b, encoding="unicode")) for i, b in enumerate(blocks)]
    print(__doc__.splitlines()[0])
    for workers in (1, 2):
        asyncio.run(run(workers, attempts, questions))


if __name__ == "__main__":
    main()
