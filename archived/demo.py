"""`archived demo`: the whole system on the embedded default, from a fresh machine, in one command.

Starts the Moodle simulator on a free loopback port, a daemon with a SQLite store and a local-directory storage
target in a fresh folder, archives one quiz and one assignment through the daemon's socket (like an operator
would), verifies the archives offline and says where they are. With `keep`, the daemon and the simulator stay up
for the TUI. With `s3`, the archives are also stored on WORM storage: a local S3 server with Object Lock
(`archived.demo_worm`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import secrets
import socket
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archived.archive.verify import VerifyReport, verify_archive
from archived.config import parse_config
from archived.daemon.server import Daemon
from archived.rpc.client import RpcClient
from archived.simulator.simulator import MoodleSimulator
from archived.store.records import iso

DEMO_COURSE = 2  # "Exam WS2026" of the seeded site
DEMO_QUIZ_CMID = 2  # "Final exam Mathematics I": 11 questions of 9 types, TeX, an image, an essay with attachment
DEMO_ASSIGN_CMID = 3  # "Lab report: numerical integration": online texts with TeX, files, grades, feedback files


@dataclass
class DemoResult:
    """What the demo archived and how the archive verified."""

    job: dict[str, Any]
    archive: Path | None
    attempts: int
    report: VerifyReport | None
    folder: Path
    socket: Path
    copies: list[dict[str, Any]] | None = None  # every stored copy: target, location, size, sha256, stored_at
    assignment: ArchivedActivity | None = None  # the assignment archived after the quiz


@dataclass
class ArchivedActivity:
    """One activity the demo archived: its job, the local archive, how it verified, its copies."""

    job: dict[str, Any]
    archive: Path | None
    report: VerifyReport | None
    copies: list[dict[str, Any]]


def write_demo_config(folder: Path, moodle_url: str, token: str, *, extra_targets: str = "") -> Path:
    """The daemon configuration of the demo (everything inside `folder`)."""
    token_file = folder / "moodle-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    config = f"""\
# Written by `archived demo`: a daemon on the built-in Moodle simulator, everything in this folder.
[daemon]
state_dir = "{folder / "state"}"
socket = "{folder / "archived.sock"}"
socket_mode = "0600"
max_running_jobs = 2

[retry]
max_retries = 3
backoff_base_seconds = 1.0

[moodle]
url = "{moodle_url}"
token_file = "{token_file}"
max_concurrent_requests = 8
requests_per_second = 0

[archive]
source_organization = "archived demo"

[storage.local]
driver = "local"
path = "{folder / "archive"}"
{extra_targets}"""
    path = folder / "archived.toml"
    path.write_text(config)
    return path


async def run_demo(
    *,
    folder: Path | None,
    keep: bool,
    on_event: Any = None,
    release: str = "4.5",
    ready: Any = None,
    s3: bool = False,
) -> DemoResult:
    """Run the demo; `on_event(event)` sees every job event (for progress output); `s3`: store on WORM too."""
    folder = folder or Path(tempfile.mkdtemp(prefix="archived-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    logging.getLogger("archived").setLevel(logging.WARNING)
    worm = DemoWormServer(folder).start() if s3 else None  # first: without moto, say so before anything starts
    simulator = MoodleSimulator(release=release).start()
    try:
        extra = worm.target_config() if worm else ""
        config_path = write_demo_config(folder, simulator.url, simulator.token, extra_targets=extra)
        import tomllib

        config = parse_config(tomllib.loads(config_path.read_text()), str(config_path))
        daemon = Daemon(config)
        daemon_task = asyncio.create_task(daemon.run())
        client = await _connect(config.daemon.socket, daemon_task)
        try:
            await client.call("events.subscribe", {"kinds": ["job.state", "job.progress"]})
            quiz = await _archive(client, folder, DEMO_QUIZ_CMID, on_event)
            attempts = _attempts_in(quiz.archive) if quiz.archive else 0
            assignment = await _archive(client, folder, DEMO_ASSIGN_CMID, on_event)
            result = DemoResult(
                quiz.job, quiz.archive, attempts, quiz.report, folder, config.daemon.socket, quiz.copies, assignment
            )
            if keep:
                if ready is not None:
                    ready(result, config_path, simulator)
                await daemon_task  # until Ctrl-C / SIGTERM
            return result
        finally:
            await client.close()
            if not daemon_task.done():
                daemon.request_stop()
                await daemon_task
    finally:
        simulator.stop()
        if worm is not None:
            worm.stop()


async def _connect(socket: Path, daemon_task: asyncio.Task[None]) -> RpcClient:
    for _ in range(600):
        if daemon_task.done():
            daemon_task.result()  # raises the daemon's start-up error
            raise RuntimeError("the daemon stopped during start-up")
        client = RpcClient(socket, client_name="archived-demo")
        try:
            await client.connect()
            return client
        except Exception:
            await asyncio.sleep(0.05)
    raise TimeoutError(f"the demo daemon did not open {socket}")


async def _archive(client: RpcClient, folder: Path, cmid: int, on_event: Any) -> ArchivedActivity:
    """Archive one activity of the demo course (the daemon picks its driver), then verify the local archive."""
    answer = await client.call("jobs.create", {"course_id": DEMO_COURSE, "cmid": cmid})
    job_id = answer["job"]["id"]
    job = answer["job"]
    async for event in client.events():
        if event.get("job_id") != job_id:
            continue
        if on_event is not None:
            on_event(event)
        if event["kind"] == "job.state":
            job = event["data"]["job"]
            if job["state"] in ("completed", "failed", "canceled", "timed_out"):
                break
    detail = await client.call("jobs.get", {"job_id": job_id})
    archive = None
    copies = []
    for artifact in detail["artifacts"]:
        for location in artifact["locations"]:
            copies.append(location)
            if location["target"] == "local":
                archive = folder / "archive" / location["location"]
    report = verify_archive(archive) if archive else None
    return ArchivedActivity(detail["job"], archive, report, copies)


def _attempts_in(archive: Path) -> int:
    with zipfile.ZipFile(archive) as bag, contextlib.suppress(KeyError, ValueError):
        name = next(n for n in bag.namelist() if n.endswith("/data/job.json"))
        return int(json.loads(bag.read(name))["summary"].get("attempts", 0))
    return 0


DEMO_BUCKET = "archived-demo-worm"
MOTO_MISSING = (
    "archived demo --s3 needs moto, the S3 server the tests use (a test dependency, not installed with archived): "
    "install it into archived's environment with `pip install 'moto[server]'` (in a checkout: "
    "`.venv/bin/pip install -e '.[test]'`), or run the demo without --s3"
)


class WormDemoUnavailable(RuntimeError):
    """moto is not installed (the message says how to get it)."""


def moto_installed() -> bool:
    """Whether `archived demo --s3` can start its S3 server."""
    return importlib.util.find_spec("moto") is not None


class DemoWormServer:
    """moto's S3 on loopback, a bucket with Object Lock, and credentials for it in a file only its owner reads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.access_key = "AKIADEMO" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self._server: Any = None

    @property
    def endpoint_url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoWormServer:
        """Start the server and make the bucket (Object Lock on, hence versioned)."""
        if not moto_installed():
            raise WormDemoUnavailable(MOTO_MISSING)
        from moto.server import ThreadedMotoServer  # optional: only `--s3` needs it

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        import boto3  # botocore comes with the S3 driver; boto3 with moto

        client = boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1", aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )  # fmt: skip
        client.create_bucket(Bucket=DEMO_BUCKET, ObjectLockEnabledForBucket=True)
        return self

    def stop(self) -> None:
        """Stop the server (and with it every object it held)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def write_credentials(self) -> Path:
        """The credentials file of the demo's `[storage.worm]` target."""
        path = self.folder / "s3-credentials"
        keys = f"aws_access_key_id = {self.access_key}\naws_secret_access_key = {self.secret_key}\n"
        path.write_text("[default]\n" + keys)
        path.chmod(0o600)
        return path

    def target_config(self) -> str:
        """The `[storage.worm]` table: required, COMPLIANCE lock until each archive's retain-until date."""
        return f"""
[storage.worm]
driver = "s3"
tier = "remote-fast"
required = true
endpoint_url = "{self.endpoint_url}"
bucket = "{DEMO_BUCKET}"
prefix = "demo/"
addressing_style = "path"
credentials_file = "{self.write_credentials()}"
lock_mode = "COMPLIANCE"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


__all__ = ["DemoResult", "DemoWormServer", "iso", "run_demo"]
