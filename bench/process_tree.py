"""Measuring a process and all its descendants for the benchmarks: memory (PSS), CPU time, hypervisor steal."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


def _pss_kib(pid: int) -> int | None:
    """PSS of one process (None when it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    return sum(int(line.split()[1]) for line in lines if line.startswith("Pss:"))


def tree_pss_kib(root: int) -> int:
    """Sum of PSS over `root` and its descendants."""
    return sum(_pss_kib(pid) or 0 for pid in process_tree(root))


def _role(pid: int, root: int) -> str:
    """What a process of the daemon's tree is, from its command line."""
    if pid == root:
        return "daemon"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "tex2svg" in command:
        return "mathjax"
    if "resource_tracker" in command:
        return "resource tracker"
    if "forkserver" in command:
        # The fork server and the workers it forks share its command line; the workers are its children.
        return "fork server" if _parent(pid) == root else "render worker"
    return "other"


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


def pss_by_role_mib(root: int) -> dict[str, float]:
    """PSS of `root`'s tree per kind of process (daemon, render worker — summed —, fork server, mathjax…)."""
    return RoleSampler(root).sample()


class RoleSampler:
    """PSS of a process tree per kind of process, cheap enough to sample several times a second.

    Finding the tree means reading every process's stat file under /proc (~10 ms on this machine); its members
    change only when a worker or the MathJax child is replaced, so the tree is read again every `rescan`
    samples (and after a member is gone), and each sample only reads the members' smaps_rollup.
    """

    def __init__(self, root: int, rescan: int = 10) -> None:
        self.root = root
        self.rescan = rescan
        self._roles: dict[int, str] = {}
        self._samples = 0

    def sample(self) -> dict[str, float]:
        """PSS in MiB per kind of process (render workers summed)."""
        if self._samples % self.rescan == 0 or not self._roles:
            self._roles = {pid: _role(pid, self.root) for pid in process_tree(self.root)}
        self._samples += 1
        totals: dict[str, float] = {}
        for pid, role in list(self._roles.items()):
            kib = _pss_kib(pid)
            if kib is None:
                del self._roles[pid]
                self._samples = 0  # read the tree again next time
                continue
            totals[role] = round(totals.get(role, 0.0) + kib / 1024, 1)
        return totals


def steal_seconds() -> float:
    """CPU time the hypervisor gave to others while this VM wanted it (all CPUs, since boot)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[8]) / CLOCK_TICKS if len(fields) > 8 else 0.0


def tree_cpu_seconds(root: int) -> float:
    """CPU time of `root`'s tree, including descendants that ended and were reaped (cutime/cstime)."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / CLOCK_TICKS


class PeakSampler:
    """Samples a process tree's PSS every `interval` seconds in a thread until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PeakSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, await asyncio.to_thread(tree_pss_kib, self.pid))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
