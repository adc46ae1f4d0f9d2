"""Freezing a test server's uploads mid-way: writes that reach past a byte offset wait until the test releases them.

Both test file servers (SFTP, FTP) consult one of these, so a test can act while an upload is half done: kill the
daemon that is uploading, or create the final name behind the driver's back.

    server.gate.hold_after(512 * 1024)
    ... start the upload ...
    assert server.gate.wait_held(30)   # the upload is stuck at 512 KiB
    server.gate.release()
"""

from __future__ import annotations

import threading


class UploadGate:
    """Holds writes that end past `hold_after(offset)` until `release()`; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hold_from: int | None = None
        self._held = threading.Event()

    def hold_after(self, offset: int) -> None:
        """From now on, writes ending past `offset` wait."""
        with self._lock:
            self._hold_from = offset
            self._held.clear()

    def release(self) -> None:
        """Let every write through again."""
        with self._lock:
            self._hold_from = None

    def must_wait(self, end_offset: int) -> bool:
        """Whether a write ending at `end_offset` has to wait now (the servers poll this while they wait)."""
        with self._lock:
            if self._hold_from is not None and end_offset > self._hold_from:
                self._held.set()
                return True
            return False

    def wait_held(self, timeout: float) -> bool:
        """Block until some write is being held."""
        return self._held.wait(timeout)
