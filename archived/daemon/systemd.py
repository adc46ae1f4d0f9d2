"""systemd integration without libsystemd: sd_notify messages and socket activation."""

from __future__ import annotations

import os
import socket


class Notifier:
    """Sends `READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1` to `$NOTIFY_SOCKET` when systemd set it."""

    def __init__(self) -> None:
        address = os.environ.get("NOTIFY_SOCKET", "")
        self.address: str | None = ("\0" + address[1:]) if address.startswith("@") else (address or None)
        usec = os.environ.get("WATCHDOG_USEC", "")
        watchdog_pid = os.environ.get("WATCHDOG_PID", "")
        applies = not watchdog_pid or watchdog_pid == str(os.getpid())
        self.watchdog_interval = int(usec) / 1e6 / 2 if usec.isdigit() and applies else None

    @property
    def enabled(self) -> bool:
        """True under systemd (Type=notify)."""
        return self.address is not None

    def notify(self, message: str) -> None:
        """Send one message; errors are ignored (systemd may be gone during shutdown)."""
        if self.address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall(message.encode())
        except OSError:
            pass

    def ready(self, status: str) -> None:
        """Startup finished."""
        self.notify(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        """A one-line status for `systemctl status`."""
        self.notify(f"STATUS={status}")

    def watchdog(self) -> None:
        """Keep-alive ping."""
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        """Shutdown began."""
        self.notify("STOPPING=1\nSTATUS=draining")


def inherited_socket() -> socket.socket | None:
    """The first socket passed by systemd socket activation (`LISTEN_FDS`), if any."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    if int(os.environ.get("LISTEN_FDS", "0") or 0) < 1:
        return None
    return socket.socket(fileno=3)
