"""A real Dask render cluster on loopback for tests: `dask scheduler` and `archived render-worker` as processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
# As config/archived-render-scheduler.service sets it: no copies of sent messages (report tasks are large).
SCHEDULER_ENV = {"DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH": "0"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RenderCluster:
    """A scheduler process and render-worker processes (each a nanny with its worker processes)."""

    folder: Path
    scheme: str = "tcp"
    tls_args: Sequence[str] = ()
    port: int = field(default_factory=free_port)
    scheduler: subprocess.Popen[bytes] | None = None
    hosts: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start_scheduler(self) -> None:
        """`dask scheduler` on loopback, no dashboard."""
        log = (self.folder / "scheduler.log").open("ab")
        self.scheduler = subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
             "--no-dashboard", "--protocol", self.scheme, *self.tls_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **SCHEDULER_ENV},
        )  # fmt: skip

    def start_host(self, name: str, processes: int = 1, *extra: str, env: dict[str, str] | None = None) -> None:
        """`archived render-worker` with `processes` worker processes named NAME-1…"""
        log = (self.folder / f"host-{name}.log").open("ab")
        self.hosts.append(
            subprocess.Popen(
                [
                    str(BIN / "archived"),
                    "render-worker",
                    "--scheduler",
                    self.address,
                    "--processes",
                    str(processes),
                    "--name",
                    name,
                    "--memory-limit",
                    "1GiB",
                    "--listen-host",
                    "127.0.0.1",
                    *self.tls_args,
                    *extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        )

    @contextlib.contextmanager
    def joined(self, workers: int, *, security: object = None) -> Iterator[RenderCluster]:
        """Wait until `workers` worker processes have joined, hand the cluster over, stop it afterwards; what the
        processes wrote is printed when the block fails (a fixture's set-up included)."""
        try:
            asyncio.run(wait_for_workers(self.address, workers, security=security))
            yield self
        except BaseException:
            print(self.log())
            raise
        finally:
            self.stop()

    def log(self) -> str:
        """Everything the processes wrote (for failing tests)."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        """Stop every process (their process groups: nannies and workers too)."""
        for process in [*self.hosts, self.scheduler]:
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 15
        for process in [*self.hosts, self.scheduler]:
            if process is None:
                continue
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


async def wait_for_workers(address: str, count: int, *, security: object = None, timeout: float = 90.0) -> None:
    """Until `count` workers have joined the scheduler at `address`."""
    from distributed import Client

    deadline = time.monotonic() + timeout
    while True:
        try:
            async with Client(address, asynchronous=True, timeout=5, security=security, set_as_default=False) as client:
                await client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


def fontconfig_with_one_font(folder: Path) -> dict[str, str]:
    """An environment whose fontconfig sees one DejaVu file: a host set up differently from the daemon's."""
    fonts = folder / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    sans = next(Path("/usr/share/fonts").rglob("DejaVuSans.ttf"))
    shutil.copy(sans, fonts / sans.name)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n"
    )
    return {"FONTCONFIG_FILE": str(config)}
