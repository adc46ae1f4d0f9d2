"""TeX → SVG through MathJax in a long-lived Node child process (`mathjax/tex2svg.js`), for asyncio callers.

The child starts on first use and is restarted if it dies; identical formulas are converted once (LRU cache);
each formula has a timeout (a child stuck on one is killed and replaced). Many formulas of one attempt go
out as one pipelined batch. After `recycle_after` conversions the child is replaced by a fresh one between two
batches: Node's heap only grows, and one job may convert new formulas for thousands of attempts (calculated
questions put each attempt's numbers into them). Macros a formula defines (newcommand, def, …) live in
the child, as in a browser page, and later formulas use them: every new child (recycled or restarted) gets the
defining formulas again before anything else. Nothing is fetched at render time: MathJax comes from
`node_modules`.

Where MathJax is found: `mathjax/tex2svg.bundle.js`, one file that holds `tex2svg.js` and the MathJax modules
it uses (built from this folder's package.json and package-lock.json by `npm ci && npm run build`, which
`scripts/setup` and the wheel build do). It ships inside the wheel, so an installed archived needs only
Node.js: `$ARCHIVED_NODE`, else `node`/`nodejs` on PATH. Without either, `available` is False with a reason
that names the fix.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import re
import shutil
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

SCRIPT_DIR = Path(__file__).resolve().parent / "mathjax"
SCRIPT = SCRIPT_DIR / "tex2svg.bundle.js"
_LINE_LIMIT = 32 * 1024 * 1024
# TeX that changes what later formulas mean; such formulas are sent again to every new child.
_DEFINES = re.compile(
    r"\\(?:newcommand|renewcommand|providecommand|def|let|DeclareMathOperator|newenvironment"
    r"|renewenvironment)(?![A-Za-z])"
)
_DEFINITIONS_KEPT = 256
_STDERR_LINES_KEPT = 20  # what Node said last, for the log when the child dies (e.g. "heap out of memory")
# V8's default heap sizing lets a child that converts thousands of distinct formulas grow to ~150 MiB PSS
# though what it keeps alive stays under 24 MiB (it still works with a 24 MiB old generation). With a 4 MiB
# young generation and a 64 MiB old one it stays near 80 MiB, for the same CPU time (3,000 distinct formulas:
# 154 → 83 MiB peak, 24.8 → 22.1–24.6 s; BENCHMARKS.md).
NODE_FLAGS = ("--max-semi-space-size=4", "--max-old-space-size=64")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class MathResult:
    """One formula: the SVG markup, or why there is none."""

    tex: str
    display: bool
    svg: str | None
    error: str | None = None


def node_binary() -> str | None:
    """The Node.js executable to run, or None."""
    configured = os.environ.get("ARCHIVED_NODE")
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    return shutil.which("node") or shutil.which("nodejs")


class MathRenderer:
    """Converts TeX to SVG; `available` is False (with `reason`) when Node or MathJax is missing."""

    def __init__(self, *, timeout: float = 10.0, cache_size: int = 512, recycle_after: int = 5000) -> None:
        self.timeout = timeout
        self.recycle_after = recycle_after
        self._cache: OrderedDict[tuple[str, bool], MathResult] = OrderedDict()
        self._cache_size = cache_size
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._errors: asyncio.Task[collections.deque[str]] | None = None
        self._pending: dict[int, asyncio.Future[MathResult]] = {}
        self._requests: dict[int, tuple[str, bool]] = {}
        self._next_id = 0
        self._start_lock = asyncio.Lock()
        self._failed_reason: str | None = None
        self._converted = 0  # by the current child
        self._definitions: OrderedDict[tuple[str, bool], None] = OrderedDict()  # formulas defining macros
        self._primed: asyncio.subprocess.Process | None = None  # the child that has been given them
        self.restarts = 0  # children replaced because they died or got stuck
        self.recycles = 0  # children replaced after `recycle_after` conversions

    @property
    def reason(self) -> str | None:
        """Why math cannot be rendered (None when it can)."""
        if self._failed_reason:
            return self._failed_reason
        if node_binary() is None:
            return "Node.js not found (install the 'nodejs' package or set ARCHIVED_NODE)"
        if not SCRIPT.is_file():
            return (
                f"the MathJax bundle {SCRIPT} is missing: this archived was installed from a source tree "
                f"whose bundle was not built (in a checkout run ./scripts/setup, or: npm ci --prefix {SCRIPT_DIR} "
                f"&& npm run build --prefix {SCRIPT_DIR}); a release wheel carries it"
            )
        return None

    @property
    def available(self) -> bool:
        """Whether formulas can be rendered here."""
        return self.reason is None

    async def render(self, tex: str, display: bool = False) -> MathResult:
        """One formula (cached)."""
        return (await self.render_many([(tex, display)]))[(tex, display)]

    async def render_many(self, formulas: Iterable[tuple[str, bool]]) -> dict[tuple[str, bool], MathResult]:
        """Many formulas at once: cached ones answered directly, the rest pipelined to the child."""
        wanted = list(dict.fromkeys(formulas))
        results: dict[tuple[str, bool], MathResult] = {}
        todo: list[tuple[str, bool]] = []
        for key in wanted:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                results[key] = hit
            else:
                todo.append(key)
        if not todo:
            return results
        reason = self.reason
        if reason is not None:
            return results | {key: MathResult(key[0], key[1], None, reason) for key in todo}
        for _ in range(2):
            try:
                converted = await self._convert(todo)
            except _ChildDied:
                continue
            return results | self._take(converted)
        # The child died twice with this batch in it: find the formula(s) that kill it, one at a time, so that
        # only they fail (and are remembered as failing: the next attempt's copy would kill the child again).
        for key in todo:
            if (reason := self.reason) is not None:  # Node cannot even start now: nothing to learn
                results[key] = MathResult(key[0], key[1], None, reason)
                continue
            try:
                results |= self._take(await self._convert([key]))
            except _ChildDied as exc:
                results[key] = MathResult(key[0], key[1], None, str(exc))
                self._remember(key, results[key])
                log.warning("MathJax could not convert %.200r: %s", key[0], exc)
        return results

    async def close(self) -> None:
        """Stop the child process."""
        await self._stop()

    def _take(self, converted: dict[tuple[str, bool], MathResult]) -> dict[tuple[str, bool], MathResult]:
        """Remember what a batch gave (not timeouts: the next try may be luckier) and return it."""
        for key, result in converted.items():
            if result.svg is not None or (result.error and "timed out" not in result.error):
                self._remember(key, result)
        return converted

    async def _convert(self, todo: list[tuple[str, bool]]) -> dict[tuple[str, bool], MathResult]:
        process = await self._ensure_started()
        if process is None or process.stdin is None:
            raise _ChildDied(self._failed_reason or "MathJax child could not start")
        futures: dict[tuple[str, bool], asyncio.Future[MathResult]] = {}
        lines: list[str] = []
        if process is not self._primed:
            # A new child knows no macros yet: the formulas that define them go first (answers not needed).
            self._primed = process
            for key in self._definitions:
                primer = self._request(key, lines)
                primer.add_done_callback(lambda f: f.cancelled() or f.exception())  # nobody awaits it
        for key in todo:
            if _DEFINES.search(key[0]):
                _keep_recent(self._definitions, key, None, _DEFINITIONS_KEPT)
            futures[key] = self._request(key, lines)
        self._converted += len(todo)
        try:
            process.stdin.write(("\n".join(lines) + "\n").encode())
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            await self._stop()
            raise _ChildDied(f"MathJax child died: {exc}") from exc
        # The child answers in order, so the batch as a whole gets a timeout per formula.
        done, not_done = await asyncio.wait(futures.values(), timeout=self.timeout * max(1, len(todo)))
        results: dict[tuple[str, bool], MathResult] = {}
        if not_done:
            log.warning("MathJax did not answer %d formula(s) in time; restarting it", len(not_done))
            await self._stop()  # a stuck child blocks everything behind it
        for key, future in futures.items():
            if future in done and not future.cancelled() and future.exception() is None:
                results[key] = future.result()
            elif future in done and isinstance(future.exception(), _ChildDied) and not not_done:
                raise _ChildDied(str(future.exception()))
            else:
                results[key] = MathResult(key[0], key[1], None, f"MathJax timed out after {self.timeout:g} s")
        return results

    async def _ensure_started(self) -> asyncio.subprocess.Process | None:
        async with self._start_lock:
            if self._process is not None and self._process.returncode is None:
                if self._converted < self.recycle_after or self._pending:
                    return self._process
                # Recycle between batches only: with nothing pending, no caller is using this child (a
                # caller registers its requests right after this returns, without yielding).
                await self._stop()
                self.recycles += 1
            elif self._process is not None:
                self.restarts += 1
            self._converted = 0
            node = node_binary()
            if node is None:
                return None
            try:
                self._process = await asyncio.create_subprocess_exec(
                    node,
                    *NODE_FLAGS,
                    str(SCRIPT),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    limit=_LINE_LIMIT,
                )
            except OSError as exc:
                self._failed_reason = f"cannot start Node.js ({exc})"
                return None
            self._errors = asyncio.create_task(self._read_errors(self._process))
            self._reader = asyncio.create_task(self._read_answers(self._process))
            return self._process

    @staticmethod
    async def _read_errors(process: asyncio.subprocess.Process) -> collections.deque[str]:
        """The last lines the child wrote to stderr (read all the time, so that the pipe never fills)."""
        assert process.stderr is not None
        tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES_KEPT)
        while line := await process.stderr.readline():
            tail.append(line.decode(errors="replace").rstrip())
        return tail

    async def _read_answers(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        errors = self._errors  # this child's (a restart replaces the attribute)
        try:
            while True:
                line = await process.stdout.readline()
                if not line:
                    break
                try:
                    answer = json.loads(line)
                except ValueError:
                    continue
                future = self._pending.pop(answer.get("id"), None)
                tex, display = self._requests.pop(answer.get("id"), ("", False))
                if future is not None and not future.done():
                    future.set_result(MathResult(tex, display, answer.get("svg"), answer.get("error")))
        finally:
            if self._process is process:  # not stopped by us: it died
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), 5)
                tail: collections.deque[str] = collections.deque()
                if errors is not None:
                    with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                        tail = await asyncio.wait_for(asyncio.shield(errors), 1)
                said = " | ".join(line for line in tail if line.strip())[-1500:]
                log.warning("MathJax child exited (exit code %s)%s", process.returncode, f": {said}" if said else "")
            self._fail_pending("MathJax child exited")

    def _fail_pending(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_ChildDied(why))
        self._pending.clear()
        self._requests.clear()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        for task in (self._reader, self._errors):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._reader = self._errors = None
        self._fail_pending("MathJax child stopped")

    def _request(self, key: tuple[str, bool], lines: list[str]) -> asyncio.Future[MathResult]:
        """Register one formula for the child (its answer resolves the future) and add its request line."""
        self._next_id += 1
        future: asyncio.Future[MathResult] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        self._requests[self._next_id] = key
        lines.append(json.dumps({"id": self._next_id, "tex": key[0], "display": key[1]}))
        return future

    def _remember(self, key: tuple[str, bool], result: MathResult) -> None:
        _keep_recent(self._cache, key, result, self._cache_size)


def _keep_recent(items: OrderedDict[K, V], key: K, value: V, limit: int) -> None:
    """Put `key` last (most recent) in `items` and drop the oldest beyond `limit`."""
    items[key] = value
    items.move_to_end(key)
    while len(items) > limit:
        items.popitem(last=False)


class _ChildDied(Exception):
    """The Node child ended while answers were outstanding."""
