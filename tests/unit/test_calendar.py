"""Lahti's calendar: the day of a moment, today at any hour, and local clock times, also at
the instants Europe/Helsinki changes its clocks (the last Sundays of March and October)."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
import time_machine

from domain import calendar
from domain.calendar import local_day, local_moment, local_today
from domain.errors import WrongState
from domain.requests import ServiceRequest

pytestmark = pytest.mark.dates


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_day_is_the_day_in_lahti_whatever_zone_the_moment_was_written_in():
    # 01:30 in Lahti on 2 February is still 1 February in UTC
    assert local_day(datetime(2026, 2, 1, 23, 30, tzinfo=UTC)) == date(2026, 2, 2)
    assert local_day(datetime(2026, 2, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))) == date(
        2026, 2, 2
    )
    # summer time: UTC+3
    assert local_day(datetime(2026, 7, 1, 20, 59, tzinfo=UTC)) == date(2026, 7, 1)
    assert local_day(datetime(2026, 7, 1, 21, 0, tzinfo=UTC)) == date(2026, 7, 2)


def test_today_is_lahtis_today():
    assert local_today(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("moment", "today"),
    [
        ("2026-12-01T23:30:00Z", date(2026, 12, 2)),  # 01:30 in Lahti, still 1 Dec in UTC
        ("2026-12-31T21:59:59Z", date(2026, 12, 31)),
        ("2026-12-31T22:00:00Z", date(2027, 1, 1)),  # a new year in Lahti, not yet in UTC
        # spring: at 03:00 EET (01:00 UTC) the clocks go to 04:00 EEST
        ("2027-03-27T21:59:00Z", date(2027, 3, 27)),
        ("2027-03-27T22:00:00Z", date(2027, 3, 28)),
        ("2027-03-28T00:59:59Z", date(2027, 3, 28)),
        ("2027-03-28T01:00:00Z", date(2027, 3, 28)),
        ("2027-03-28T20:59:59Z", date(2027, 3, 28)),  # 23:59:59 EEST
        ("2027-03-28T21:00:00Z", date(2027, 3, 29)),  # midnight is an hour earlier in UTC now
        # autumn: at 04:00 EEST (01:00 UTC) the clocks go back to 03:00 EET
        ("2027-10-30T20:59:59Z", date(2027, 10, 30)),
        ("2027-10-30T21:00:00Z", date(2027, 10, 31)),
        ("2027-10-31T01:30:00Z", date(2027, 10, 31)),  # 03:30 for the second time
        ("2027-10-31T21:59:59Z", date(2027, 10, 31)),  # the day lasts 25 hours
        ("2027-10-31T22:00:00Z", date(2027, 11, 1)),
    ],
)
def test_today_at_any_hour_is_lahtis_day(moment, today):
    with time_machine.travel(moment, tick=False):
        assert calendar.now() == utc(moment)
        assert calendar.now().tzinfo is UTC
        assert local_today() == today


@pytest.mark.parametrize(
    ("day", "clock", "moment"),
    [
        (date(2027, 3, 27), time(7, 30), "2027-03-27T05:30:00Z"),  # EET, UTC+2
        (date(2027, 3, 28), time(2, 59), "2027-03-28T00:59:00Z"),
        (date(2027, 3, 28), time(3, 30), "2027-03-28T01:30:00Z"),  # skipped: read as EET
        (date(2027, 3, 28), time(4, 0), "2027-03-28T01:00:00Z"),  # EEST, UTC+3
        (date(2027, 3, 28), time(7, 30), "2027-03-28T04:30:00Z"),
        (date(2027, 10, 30), time(7, 30), "2027-10-30T04:30:00Z"),
        (date(2027, 10, 31), time(3, 30), "2027-10-31T00:30:00Z"),  # twice: the first one
        (date(2027, 10, 31), time(7, 30), "2027-10-31T05:30:00Z"),
    ],
)
def test_a_local_clock_time_is_the_instant_lahtis_clocks_show_it(day, clock, moment):
    assert local_moment(day, clock) == utc(moment)
    assert local_moment(day, clock).tzinfo is UTC


def test_a_window_across_the_spring_change_stays_open_until_its_real_end():
    with time_machine.travel("2027-03-28T00:30:00Z", tick=False) as traveller:  # 02:30 EET
        end = local_moment(date(2027, 3, 28), time(5, 0))  # 05:00 EEST: 1.5 real hours on
        request = ServiceRequest.submit(
            resident_id="resident-1",
            category="snow-clearing",
            region="kivimaa",
            description="steps",
            window_start=calendar.now(),
            window_end=end,
            now=calendar.now(),
        )
        assert end - request.window_start == timedelta(hours=1, minutes=30)
        traveller.move_to("2027-03-28T01:59:59Z")  # 04:59:59 EEST
        with pytest.raises(WrongState):
            request.expire(calendar.now())
        traveller.move_to("2027-03-28T02:00:01Z")
        request.expire(calendar.now())
        assert request.status == "expired"


def test_a_window_across_the_autumn_change_lasts_the_extra_hour():
    with time_machine.travel("2027-10-31T00:30:00Z", tick=False) as traveller:  # 03:30 EEST
        start = calendar.now()
        end = local_moment(date(2027, 10, 31), time(4, 0))  # 04:00 EET: 1.5 real hours on
        request = ServiceRequest.submit(
            resident_id="resident-1",
            category="snow-clearing",
            region="kivimaa",
            description="steps",
            window_start=start,
            window_end=end,
            now=calendar.now(),
        )
        # half an hour on the clock face, an hour and a half of real time
        assert request.window_end - start == timedelta(hours=1, minutes=30)
        traveller.move_to("2027-10-31T01:30:00Z")  # 03:30 EET: the same clock time again
        assert local_today() == date(2027, 10, 31)
        with pytest.raises(WrongState):
            request.expire(calendar.now())
        traveller.move_to("2027-10-31T02:00:01Z")
        request.expire(calendar.now())
