"""The connection limits a daemon derives from `[daemon]` and its open-file limit (pure logic)."""

from __future__ import annotations

import pytest

from archived.config import DaemonConfig, parse_config
from archived.errors import ConfigError
from archived.rpc.limits import MIN_CONNECTIONS, ConnectionLimits


def test_the_open_file_limit_bounds_the_cap_so_that_jobs_keep_their_reserve() -> None:
    config = DaemonConfig(max_connections=512, file_descriptor_reserve=256, operator_connections=16)
    roomy = ConnectionLimits.derive(config, open_files_limit=65536, open_files=20)
    assert roomy.max_connections == 512 and not roomy.bounded_by_open_files
    tight = ConnectionLimits.derive(config, open_files_limit=600, open_files=20)
    assert tight.max_connections == 600 - 20 - 256 and tight.bounded_by_open_files
    starved = ConnectionLimits.derive(config, open_files_limit=200, open_files=20)
    assert starved.max_connections == MIN_CONNECTIONS
    assert starved.operator_connections == MIN_CONNECTIONS // 2  # operators keep some, readers too


def test_refusals_name_the_limit_that_applies() -> None:
    limits = ConnectionLimits(max_connections=10, max_connections_per_user=4, operator_connections=3)

    def refusal(*, operator: bool, total: int, of_user: int) -> str | None:
        return limits.refusal(user="alice", uid=1000, operator=operator, total=total, of_user=of_user)

    assert refusal(operator=False, total=3, of_user=3) is None
    assert "daemon.max_connections_per_user" in (refusal(operator=False, total=3, of_user=4) or "")
    assert "daemon.operator_connections" in (refusal(operator=False, total=7, of_user=0) or "")
    assert refusal(operator=True, total=7, of_user=0) is None  # the reserve is theirs
    assert "all 10 are in use" in (refusal(operator=True, total=10, of_user=0) or "")


def test_operators_reserve_must_leave_room() -> None:
    with pytest.raises(ConfigError, match="operator_connections"):
        parse_config({"daemon": {"max_connections": 8, "operator_connections": 8}})
