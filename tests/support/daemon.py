"""Running the real daemon as a child process for integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from archived.rpc.client import RpcClient

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(root: Path, **overrides: Any) -> Path:
    """A daemon configuration under `root`; `overrides` are `{"section.key": value}` or raw TOML in `extra`."""
    sections: dict[str, dict[str, Any]] = {
        "daemon": {
            "state_dir": str(root / "state"),
            "socket": str(root / "archived.sock"),
            "max_running_jobs": 4,
            "log_level": "debug",
        },
        "retry": {"max_retries": 3, "backoff_base_seconds": 0.1, "backoff_max_seconds": 1.0},
        "access": {"operator_users": ["root"], "operator_groups": [], "allow_daemon_user": True},
        "storage.local": {"driver": "local", "path": str(root / "archive")},
    }
    extra = str(overrides.pop("extra", ""))
    for dotted, value in overrides.items():
        section, _, key = dotted.rpartition(".")
        sections.setdefault(section, {})[key] = value
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    path = root / "archived.toml"
    path.write_text("\n".join(lines) + extra)
    return path


class DaemonProcess:
    """One `archived daemon` child process."""

    def __init__(self, config: Path, root: Path) -> None:
        self.config = config
        self.root = root
        self.socket = root / "archived.sock"
        self.log_path = root / "daemon.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.argv = ["-m", "archived", "daemon", "--config", str(config)]  # after the Python interpreter
        self.umask = -1  # the umask the daemon starts with (-1: this process's)
        self.env = dict(os.environ)
        self.env["ARCHIVED_TEST_RUNS_DIR"] = str(root / "runs")
        self.env["PYTHONPATH"] = os.pathsep.join([str(TESTS / "plugins"), str(REPO), self.env.get("PYTHONPATH", "")])

    def start(self, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Start the daemon and wait until its socket answers `hello`."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, *self.argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.root,
            umask=self.umask,
        )
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the daemon answers on its socket."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}:\n{self.log()}")
            try:
                self._hello()
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"daemon did not become ready:\n{self.log()}")

    def _hello(self) -> None:
        # Blocking on purpose: this runs from sync fixtures and from inside async tests alike.
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1}}\n')
            answer = sock.makefile("rb").readline()
        if b'"result"' not in answer:
            raise OSError(f"unexpected hello answer: {answer!r}")

    def client(self) -> RpcClient:
        """A new (not yet connected) client for this daemon."""
        return RpcClient(self.socket, client_name="tests")

    def log(self) -> str:
        """Everything the daemon printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def restart(self) -> None:
        """Start again on the same store."""
        self.start()
