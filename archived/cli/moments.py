"""Moments typed on the command line (`--since 2h`, `--until 2026-12-01`): an age back from now, or a date or time
(local time unless it names its zone)."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

_AGE = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def moment(text: str, *, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `3d`, `1w` ago, or an ISO date/time such as `2026-12-01` or `2026-12-01T08:00`; always with its
    zone (UTC). `argparse.ArgumentTypeError` for anything else."""
    text = text.strip()
    age = _AGE.match(text.lower())
    if age:
        return (now or datetime.now(UTC)) - timedelta(seconds=int(age.group(1)) * _UNITS[age.group(2)])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an age such as 30m, 2h, 3d or 1w, or a date/time such as 2026-12-01 or 2026-12-01T08:00; "
            f"got {text!r}"
        ) from None
    # A time without a zone is the operator's local time.
    return (parsed if parsed.tzinfo else parsed.astimezone()).astimezone(UTC)
