"""How many connections the control socket admits, and why it refuses one.

Anyone who can open the socket may read, so a reader must not be able to starve the operators, or the jobs of
file descriptors: connections are capped in total and per user, the last few are kept for operators, and the
total is bounded by the open-file limit minus a reserve for the jobs (report files, pipes, HTTP connections).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from archived.config import DaemonConfig

MIN_CONNECTIONS = 4  # even with almost no file descriptors, an operator must be able to get in


@dataclass(frozen=True)
class ConnectionLimits:
    """The effective limits of one running daemon (configuration bounded by its open-file limit)."""

    max_connections: int = 512
    max_connections_per_user: int = 32
    operator_connections: int = 16
    hello_timeout_seconds: float = 5.0
    idle_timeout_seconds: float = 900.0
    file_descriptor_reserve: int = 256
    open_files_limit: int | None = None  # the soft RLIMIT_NOFILE the cap was derived from
    bounded_by_open_files: bool = False

    @classmethod
    def derive(cls, config: DaemonConfig, *, open_files_limit: int | None, open_files: int = 0) -> ConnectionLimits:
        """Limits from `[daemon]`, keeping `file_descriptor_reserve` descriptors free beyond the `open_files` in use."""
        cap = config.max_connections
        bounded = False
        if open_files_limit is not None:
            room = open_files_limit - open_files - config.file_descriptor_reserve
            if room < cap:
                cap, bounded = max(MIN_CONNECTIONS, room), True
        return cls(
            max_connections=cap,
            max_connections_per_user=config.max_connections_per_user,
            operator_connections=min(config.operator_connections, cap // 2),
            hello_timeout_seconds=config.hello_timeout_seconds,
            idle_timeout_seconds=config.idle_timeout_seconds,
            file_descriptor_reserve=config.file_descriptor_reserve,
            open_files_limit=open_files_limit,
            bounded_by_open_files=bounded,
        )

    @property
    def reader_connections(self) -> int:
        """Connections open to users who are not operators (all of them together)."""
        return self.max_connections - self.operator_connections

    def to_dict(self) -> dict[str, Any]:
        """For `daemon.status`."""
        return asdict(self)

    def refusal(self, *, user: str, uid: int, operator: bool, total: int, of_user: int) -> str | None:
        """Why one more connection of this peer is refused (given those open now), or None to admit it."""
        retry = "close idle clients (other archived tui or scripts) and try again; connection closed"
        if of_user >= self.max_connections_per_user:
            return (
                f"too many connections from user {user} (uid {uid}): {of_user} are open, at most "
                f"{self.max_connections_per_user} per user are allowed (daemon.max_connections_per_user); {retry}"
            )
        if total >= self.max_connections:
            return (
                f"too many connections to the daemon: all {self.max_connections} are in use "
                f"({self._cap_source()}); {retry}"
            )
        if not operator and total >= self.reader_connections:
            return (
                f"too many connections to the daemon: the {self.reader_connections} connections open to users who "
                f"are not operators are in use; the last {self.operator_connections} of {self.max_connections} are "
                f"kept for operators (daemon.operator_connections, daemon.max_connections); {retry}"
            )
        return None

    def _cap_source(self) -> str:
        if self.bounded_by_open_files:
            return (
                f"bounded by the open-file limit {self.open_files_limit} minus daemon.file_descriptor_reserve "
                f"{self.file_descriptor_reserve} kept for jobs; raise LimitNOFILE= in the service unit"
            )
        return "daemon.max_connections"
