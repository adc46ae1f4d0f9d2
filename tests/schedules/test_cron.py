"""Cron expressions: day names only in the day-of-week field, times in the schedule's zone, missed times counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archived.schedules.cron import InvalidCron, cron_trigger, missed_times, next_time

from .conftest import MONDAY_0030_BERLIN


@pytest.mark.parametrize("day_of_week", ["1-5", "0", "7", "1,3", "*/2", "mon,3"])
def test_a_numeric_day_of_week_is_refused_with_the_reason(day_of_week: str) -> None:
    with pytest.raises(InvalidCron) as err:
        cron_trigger(f"0 2 * * {day_of_week}", "UTC")
    message = str(err.value)
    assert "ambiguous" in message and "Sunday" in message and "mon-fri" in message


@pytest.mark.parametrize("day_of_week", ["mon-fri", "sat,sun", "*", "mon-fri/2"])
def test_day_names_are_accepted(day_of_week: str) -> None:
    cron_trigger(f"0 2 * * {day_of_week}", "Europe/Berlin")


@pytest.mark.parametrize(
    ("expression", "zone", "words"),
    [("0 2 * *", "UTC", "five"), ("0 25 * * *", "UTC", "maximum value"), ("0 2 * * *", "Mars/Olympus", "time zone")],
)
def test_other_mistakes_are_named(expression: str, zone: str, words: str) -> None:
    with pytest.raises(InvalidCron, match=words):
        cron_trigger(expression, zone)


def test_times_are_in_the_schedules_zone() -> None:
    trigger = cron_trigger("0 2 * * mon-fri", "Europe/Berlin")
    following = next_time(trigger, MONDAY_0030_BERLIN)
    assert following is not None
    assert datetime.fromtimestamp(following, UTC) == datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # 02:00 CET
    friday = datetime(2027, 1, 8, 1, 0, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(next_time(trigger, friday) or 0, UTC) == datetime(2027, 1, 11, 1, 0, tzinfo=UTC)


def test_missed_times_are_counted_within_the_window() -> None:
    trigger = cron_trigger("0 * * * *", "UTC")
    start = datetime(2027, 1, 4, 1, 0, tzinfo=UTC).timestamp()
    assert missed_times(trigger, start, start + 3 * 3600 + 59) == 4
    assert missed_times(trigger, start, start) == 1
