"""Abusive socket clients for the connection-limit tests: many idle connections from another user, and a daemon
started under a given open-file limit (as a service manager would start it)."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import DaemonProcess, write_config

READER = "nobody"  # a user that is not an operator; the tests connect as it through a child process

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="connecting as a second user (a reader beside the operator) needs root"
)

# Runs as the reader: opens `count` connections one after the other, says hello on each and sorts the answers;
# stops at the first connection the daemon neither answers nor refuses. Holds the accepted connections open
# until its stdin closes.
_READER_SCRIPT = r"""
import json, resource, socket, sys
path, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
hello = b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1}}\n'
held, refused, unanswered = [], [], 0
for _ in range(count):
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(timeout)
    line = b""
    try:
        sock.connect(path)
        try:
            sock.sendall(hello)
        except OSError:
            pass  # refused and closed before the hello arrived: the refusal is still to be read
        line = sock.makefile("rb").readline()
    except OSError:
        pass
    answer = json.loads(line) if line.strip() else {}
    if "result" in answer:
        held.append(sock)
        continue
    sock.close()
    if "error" in answer:
        refused.append(answer["error"])
    else:
        unanswered += 1
        break
print(json.dumps({"held": len(held), "refused": refused, "unanswered": unanswered}), flush=True)
sys.stdin.read()
"""


class IdleConnections:
    """Idle connections held open by a child process, as `READER` or (with `as_reader=False`) as the test user."""

    def __init__(self, socket_path: Path, count: int, *, timeout: float = 5.0, as_reader: bool = True) -> None:
        command = [sys.executable, "-I", "-S", "-c", _READER_SCRIPT, str(socket_path), str(count), str(timeout)]
        identity: dict[str, Any] = {}
        if as_reader:
            user = pwd.getpwnam(READER)
            identity = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, **identity)
        self.held = 0
        self.refused: list[dict[str, Any]] = []
        self.unanswered = 0

    async def opened(self) -> IdleConnections:
        """Wait until every connection was tried; fills `held`, `refused` and `unanswered`."""
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        report = json.loads(line)
        self.held, self.refused, self.unanswered = report["held"], report["refused"], report["unanswered"]
        return self

    def close(self) -> None:
        """Let the child close its connections and end."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


_LIMIT_SHIM = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[2]))); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


class LimitedDaemon(DaemonProcess):
    """A daemon started with RLIMIT_NOFILE set to (soft, hard); with `readers`, its socket is where `READER` can
    reach it (and in its group)."""

    def __init__(self, root: Path, nofile: tuple[int, int] | None, *, readers: bool = True, **overrides: Any) -> None:
        self.socket_dir = Path(tempfile.mkdtemp(prefix="archived-sock-"))  # tmp_path's parents are 0700
        self.socket_dir.chmod(0o711)
        socket_path = self.socket_dir / "archived.sock"
        if readers:
            overrides["daemon.socket_group"] = grp.getgrgid(pwd.getpwnam(READER).pw_gid).gr_name
        config = write_config(root, **{"daemon.socket": str(socket_path), **overrides})
        super().__init__(config, root)
        self.socket = socket_path
        self.nofile = nofile

    def start(self, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Start with the open-file limit applied to the daemon only (the test process keeps its own)."""
        command = [sys.executable, "-m", "archived", "daemon", "--config", str(self.config)]
        if self.nofile is not None:
            # A tiny exec shim rather than preexec_fn, which is unsafe while the test process runs threads.
            command = [sys.executable, "-c", _LIMIT_SHIM, *map(str, self.nofile), *command]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.root)
        if wait:
            self.wait_ready(timeout)

    def stop(self) -> None:
        """Kill the daemon and remove the socket folder."""
        self.kill()
        for child in self.socket_dir.iterdir():
            child.unlink()
        self.socket_dir.rmdir()
