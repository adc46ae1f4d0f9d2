"""Cron expressions with a time zone, read with APScheduler 3's `CronTrigger`.

Crontab counts the day of week from Sunday = 0; APScheduler 3 from Monday = 0. A numeric day-of-week field would
run on a different day than the operator meant, so only day names are accepted there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from archived.errors import FatalError

MAX_COUNTED_MISSES = 10_000  # counting missed cron times stops here (a daemon down for years)


class InvalidCron(FatalError):
    """A cron expression or time zone that cannot be used."""

    code = "invalid_setting"


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """The trigger of a five-field crontab expression in `timezone`; `InvalidCron` says what is wrong."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCron(f"unknown time zone {timezone!r}; give an IANA name such as Europe/Berlin or UTC") from None
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidCron(
            f"cron expression {expression!r} has {len(fields)} field(s); expected five: minute hour day-of-month "
            'month day-of-week, e.g. "0 2 * * mon-fri"'
        )
    day_of_week = fields[4]
    if re.search(r"\d", day_of_week.split("/")[0]) or re.fullmatch(r"\*/\d+", day_of_week):
        raise InvalidCron(
            f"cron expression {expression!r}: the day-of-week field {day_of_week!r} is numeric, which is ambiguous "
            "(crontab counts Sunday as 0, APScheduler Monday); name the days instead, e.g. mon-fri, sat,sun or *"
        )
    try:
        return CronTrigger.from_crontab(expression, timezone=zone)
    except ValueError as exc:
        raise InvalidCron(f"cron expression {expression!r}: {exc}") from None


def next_time(trigger: CronTrigger, after: float) -> float | None:
    """The first cron time strictly after the Unix time `after` (None if the expression never fires again)."""
    moment = datetime.fromtimestamp(after, UTC) + timedelta(microseconds=1)
    following = trigger.get_next_fire_time(None, moment)
    return following.timestamp() if following is not None else None


def missed_times(trigger: CronTrigger, since: float, until: float) -> int:
    """How many cron times fall in [since, until] (capped: a count, not a list)."""
    count = 0
    moment: float | None = since
    while moment is not None and moment <= until and count < MAX_COUNTED_MISSES:
        count += 1
        moment = next_time(trigger, moment)
    return count
