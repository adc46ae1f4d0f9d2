"""The daemon process: single instance, systemd notifications, graceful drain and hard stop, secrets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.daemon import DaemonProcess, write_config
from tests.support.jobs import create_job, wait_for_state


def test_a_second_daemon_on_the_same_store_is_refused(daemon, tmp_path: Path) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "archived", "daemon", "--config", str(daemon.config)],
        capture_output=True, text=True, timeout=60, env=daemon.env,
    )  # fmt: skip
    assert second.returncode == 2
    assert f"another archived daemon (pid {daemon.process.pid})" in second.stderr


def test_systemd_notifications(tmp_path: Path) -> None:
    address = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(address))
    listener.settimeout(30)
    process = DaemonProcess(write_config(tmp_path), tmp_path)
    process.env.update(NOTIFY_SOCKET=str(address), WATCHDOG_USEC="400000")  # ping every 0.2 s
    process.start()
    try:
        messages: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("WATCHDOG=1" in m for m in messages):
            messages.append(listener.recv(4096).decode())
        assert messages[0].startswith("READY=1\nSTATUS=")
        assert any("WATCHDOG=1" in m for m in messages)
        assert process.terminate() == 0
        rest = []
        listener.settimeout(1)
        try:
            while True:
                rest.append(listener.recv(4096).decode())
        except TimeoutError:
            pass
        assert any(m.startswith("STOPPING=1") for m in rest)
    finally:
        process.kill()
        listener.close()


async def test_first_sigterm_drains_the_running_stage(daemon) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=12, delay_seconds=0.15)
        await wait_for_state(client, job_id, {"activity_archiving"})
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(60) == 0  # it waited for the stage, then stopped by itself
    assert "draining" in daemon.log()
    daemon.restart()
    async with daemon.client() as client:
        job = await wait_for_state(client, job_id, {"completed", "failed"})
        assert job["state"] == "completed"
        timeline = [s["to"] for s in (await client.call("jobs.get", {"job_id": job_id}))["timeline"]]
    assert timeline.count("activity_archiving") == 1  # the drained stage finished; it was not redone


async def test_second_sigterm_stops_at_once(daemon) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=200, delay_seconds=0.1)
        await wait_for_state(client, job_id, {"activity_archiving"})
    started = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(30) == 0
    assert time.monotonic() - started < 10  # the 20-second stage was not waited for
    daemon.restart()
    async with daemon.client() as client:
        job = await client.call("jobs.get", {"job_id": job_id})
        assert job["job"]["state"] in {"activity_archiving", "completed", "post_processing", "store"}


def test_a_world_readable_token_file_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("0123456789abcdef0123456789abcdef\n")
    token.chmod(0o644)
    config = write_config(tmp_path, **{"moodle.url": "http://127.0.0.1:9", "moodle.token_file": str(token)})
    result = subprocess.run(
        [sys.executable, "-m", "archived", "daemon", "--config", str(config)],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert result.returncode == 2
    assert "readable by others" in result.stderr and "chmod" in result.stderr
    assert "0123456789abcdef" not in result.stderr


def test_systemd_socket_activation(tmp_path: Path) -> None:
    """The daemon serves a socket it inherits as fd 3 (LISTEN_FDS), as under a systemd .socket unit."""
    path = tmp_path / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    config = write_config(tmp_path, **{"daemon.socket": str(tmp_path / "unused.sock")})
    process = DaemonProcess(config, tmp_path)
    process.socket = path

    def as_fd_3() -> None:
        os.dup2(listener.fileno(), 3)
        os.set_inheritable(3, True)

    command = f'LISTEN_PID=$$ LISTEN_FDS=1 exec "{sys.executable}" -m archived daemon --config "{config}"'
    with process.log_path.open("ab") as log:
        process.process = subprocess.Popen(
            ["sh", "-c", command],
            env=process.env,
            preexec_fn=as_fd_3,
            close_fds=False,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        process.wait_ready()
        assert not (tmp_path / "unused.sock").exists()
        assert process.terminate() == 0
        assert path.exists()  # an inherited socket belongs to systemd: the daemon does not remove it
    finally:
        process.kill()
        listener.close()
