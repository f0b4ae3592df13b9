"""Recurring requests: the days a rule falls on, the windows they get, and the series' life."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from domain import calendar
from domain.calendar import LOCAL_TIME as HELSINKI
from domain.calendar import local_today
from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.series import (
    RequestSeries,
    SnowfallDay,
    occurrence_days,
    snowfall_day_id,
    window,
)

WEEK = timedelta(days=7)


def helsinki(*args: int) -> datetime:
    return datetime(*args, tzinfo=HELSINKI).astimezone(UTC)


def weekly(**overrides) -> RequestSeries:
    fields = dict(
        resident_id="resident-1",
        category="snow-clearing",
        region="hollola",
        rule="weekly",
        weekday="monday",
        start_time="08:00",
        duration_minutes=90,
        today=date(2026, 11, 23),
    )
    return RequestSeries.start(**(fields | overrides))


# --- the calendar --------------------------------------------------------------------------


def test_weekly_days_fall_on_the_weekday_including_both_ends():
    days = occurrence_days("weekly", date(2026, 11, 23), date(2026, 12, 7), weekday="monday")
    assert days == [date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert occurrence_days("weekly", date(2026, 11, 24), date(2026, 11, 29), weekday="monday") == []


def test_monthly_last_day_follows_the_length_of_each_month():
    days = occurrence_days("monthly", date(2027, 1, 1), date(2028, 3, 31), day_of_month="last")
    assert days[:3] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    assert date(2027, 4, 30) in days and date(2028, 2, 29) in days  # 2028 is a leap year
    assert len(days) == 15


def test_monthly_numbered_day_within_a_partial_month():
    days = occurrence_days("monthly", date(2027, 1, 20), date(2027, 3, 10), day_of_month=15)
    assert days == [date(2027, 2, 15)]


def test_a_snowfall_rule_has_no_calendar_days():
    assert occurrence_days("snowfall", date(2027, 1, 1), date(2027, 12, 31)) == []


def test_local_start_time_keeps_across_the_autumn_change():
    # Summer time (UTC+3) ends on Sunday 25 October 2026; 09:00 in Helsinki moves in UTC.
    before, _ = window(date(2026, 10, 24), "09:00", 60)
    after, end = window(date(2026, 10, 26), "09:00", 60)
    assert before == datetime(2026, 10, 24, 6, tzinfo=UTC)
    assert after == datetime(2026, 10, 26, 7, tzinfo=UTC)
    assert end - after == timedelta(minutes=60)


def test_a_window_over_the_change_lasts_its_real_duration():
    # 02:00 to 05:00 on the night summer time starts is three real hours
    start, end = window(date(2027, 3, 28), "02:00", 180)
    assert start == datetime(2027, 3, 28, 0, tzinfo=UTC)
    assert end == datetime(2027, 3, 28, 3, tzinfo=UTC)
    assert end.astimezone(HELSINKI).hour == 6


def test_a_start_time_the_spring_change_skips_counts_as_an_hour_later():
    start, _ = window(date(2027, 3, 28), "03:30", 60)
    assert start == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert start.astimezone(HELSINKI).strftime("%H:%M %Z") == "04:30 EEST"


# A weekly series on Sundays at 07:30, set up at night: just after midnight in Lahti while
# UTC is still on Saturday, and a few minutes before each of the clock changes, or the evening
# before them. Its occurrences start at 07:30 on Lahti's clocks, in winter or summer time.
SUNDAYS_AT_07_30 = [
    ("2026-12-05T22:30:00Z", date(2026, 12, 6), ["2026-12-06T05:30Z", "2026-12-13T05:30Z"]),
    ("2027-03-27T21:55:00Z", date(2027, 3, 27), ["2027-03-28T04:30Z", "2027-04-04T04:30Z"]),
    ("2027-03-28T00:55:00Z", date(2027, 3, 28), ["2027-03-28T04:30Z", "2027-04-04T04:30Z"]),
    ("2027-10-30T20:55:00Z", date(2027, 10, 30), ["2027-10-31T05:30Z", "2027-11-07T05:30Z"]),
    ("2027-10-31T00:55:00Z", date(2027, 10, 31), ["2027-10-31T05:30Z", "2027-11-07T05:30Z"]),
]


@pytest.mark.dates
@pytest.mark.parametrize(("moment", "today", "starts"), SUNDAYS_AT_07_30)
def test_a_series_at_07_30_starts_at_07_30_in_lahti_across_the_clock_changes(moment, today, starts):
    with time_machine.travel(moment, tick=False):
        series = weekly(weekday="sunday", start_time="07:30", today=local_today())
        due = series.due_days(calendar.now(), timedelta(days=8))
    assert series.starts_on == today
    windows = [series.window(day) for day in due]
    assert [start for start, _ in windows] == [datetime.fromisoformat(s) for s in starts]
    assert {start.astimezone(HELSINKI).strftime("%a %H:%M") for start, _ in windows} == {
        "Sun 07:30"
    }
    assert {end - start for start, end in windows} == {timedelta(minutes=90)}
    assert series.next_days(datetime.fromisoformat(moment), 2) == due


# --- starting a series ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rule": "daily"}, "rule"),
        ({"weekday": "funday"}, "weekday"),
        ({"weekday": None}, "weekday"),
        ({"rule": "monthly", "weekday": None, "day_of_month": 29}, "day_of_month"),
        ({"rule": "monthly", "weekday": None, "day_of_month": "first"}, "day_of_month"),
        ({"rule": "monthly", "weekday": None}, "day_of_month"),
        ({"rule": "monthly"}, "weekday"),
        ({"day_of_month": 3}, "day_of_month"),
        ({"start_time": "8:00"}, "start_time"),
        ({"start_time": "24:00"}, "start_time"),
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"starts_on": date(2027, 2, 1), "ends_on": date(2027, 1, 1)}, "ends_on"),
        ({"ends_on": date(2026, 11, 1)}, "ends_on"),
        ({"resident_id": " "}, "resident_id"),
        ({"lat": 61.0}, "long"),  # the missing one is named
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidValue) as refused:
        weekly(**overrides)
    assert refused.value.rule == field


def test_a_series_starts_today_unless_told():
    assert weekly().starts_on == date(2026, 11, 23)
    assert weekly(starts_on=date(2027, 1, 4)).starts_on == date(2027, 1, 4)


# --- what falls due ------------------------------------------------------------------------


def test_due_days_are_the_ones_starting_within_the_horizon_and_not_yet_scheduled():
    series = weekly()  # Mondays 08:00
    now = helsinki(2026, 11, 23, 9, 0)  # Monday, after this morning's start
    assert series.due_days(now, timedelta(days=8)) == [date(2026, 11, 30)]
    series.schedule(date(2026, 11, 30), "request-1")
    assert series.due_days(now, timedelta(days=8)) == []
    assert series.due_days(now + WEEK, timedelta(days=8)) == [date(2026, 12, 7)]


def test_an_occurrence_is_due_only_once_its_start_is_within_the_horizon():
    series = weekly()  # Mondays 08:00
    week = timedelta(days=7)
    assert series.due_days(helsinki(2026, 11, 23, 7, 0), week) == [date(2026, 11, 23)]
    assert series.due_days(helsinki(2026, 11, 23, 8, 30), week) == [date(2026, 11, 30)]
    assert series.due_days(helsinki(2026, 11, 22, 8, 30), timedelta(hours=23)) == []


def test_nothing_is_due_after_ends_on_or_before_starts_on():
    series = weekly(starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 14))
    now = helsinki(2026, 11, 23, 9, 0)
    assert series.due_days(now, timedelta(days=30)) == [date(2026, 12, 7), date(2026, 12, 14)]
    series.catch_up(date(2026, 12, 15))
    assert series.status == "ended"
    assert series.due_days(now, timedelta(days=30)) == []


def test_a_day_is_never_scheduled_twice():
    series = weekly()
    series.schedule(date(2026, 11, 30), "request-1")
    with pytest.raises(WrongState):
        series.schedule(date(2026, 11, 30), "request-2")


def test_a_paused_series_has_nothing_due_until_its_pause_day_has_passed():
    series = weekly()
    now = helsinki(2026, 11, 23, 9, 0)
    series.pause("resident-1", until=date(2026, 12, 2), today=date(2026, 11, 23))
    assert series.due_days(now, timedelta(days=8)) == []
    series.catch_up(date(2026, 12, 2))
    assert series.status == "paused"
    series.catch_up(date(2026, 12, 3))
    assert series.status == "active"
    later = helsinki(2026, 12, 3, 9, 0)
    assert series.due_days(later, timedelta(days=8)) == [date(2026, 12, 7)]


def test_an_open_pause_lasts_until_resumed():
    series = weekly()
    series.pause("resident-1", until=None, today=date(2026, 11, 23))
    series.catch_up(date(2027, 6, 1))
    assert series.status == "paused"
    assert series.next_days(helsinki(2026, 11, 23, 9)) == []
    series.resume("resident-1")
    assert series.due_days(helsinki(2026, 11, 23, 9), timedelta(days=8)) == [date(2026, 11, 30)]


def test_next_days_skip_the_pause():
    series = weekly()
    series.pause("resident-1", until=date(2026, 12, 1), today=date(2026, 11, 23))
    assert series.next_days(helsinki(2026, 11, 23, 9), 2) == [
        date(2026, 12, 7),
        date(2026, 12, 14),
    ]


def test_an_ended_series_has_nothing_due_and_cannot_be_resumed_or_paused():
    series = weekly()
    series.end("resident-1", "moved away")
    assert series.due_days(helsinki(2026, 11, 23, 7), timedelta(days=30)) == []
    with pytest.raises(WrongState):
        series.resume("resident-1")
    with pytest.raises(WrongState):
        series.pause("resident-1", None, date(2026, 11, 23))
    with pytest.raises(WrongState):
        series.end("resident-1", "again")


def test_only_the_series_resident_pauses_resumes_and_ends_it():
    series = weekly()
    for command in (
        lambda: series.pause("resident-2", None, date(2026, 11, 23)),
        lambda: series.resume("resident-2"),
        lambda: series.end("resident-2", ""),
    ):
        with pytest.raises(NotAllowed) as refused:
            command()
        assert refused.value.rule == "resident_id"


def test_a_pause_cannot_end_in_the_past_and_resume_needs_a_pause():
    series = weekly()
    with pytest.raises(InvalidValue) as refused:
        series.pause("resident-1", date(2026, 11, 22), date(2026, 11, 23))
    assert refused.value.rule == "until"
    with pytest.raises(WrongState):
        series.resume("resident-1")


def test_a_snowfall_series_is_due_on_a_declared_day_in_its_span_once():
    series = weekly(rule="snowfall", weekday=None, starts_on=date(2026, 12, 1))
    now = helsinki(2026, 11, 30, 20)
    assert series.due_days(now, timedelta(days=8)) == []
    assert series.snowfall_due(date(2026, 12, 1), now, timedelta(days=8))
    assert not series.snowfall_due(date(2026, 11, 30), now, timedelta(days=8))  # before start
    assert not series.snowfall_due(date(2026, 12, 20), now, timedelta(days=8))  # too far ahead
    series.schedule(date(2026, 12, 1), "request-1")
    assert not series.snowfall_due(date(2026, 12, 1), now, timedelta(days=8))
    series.pause("resident-1", None, date(2026, 11, 30))
    assert not series.snowfall_due(date(2026, 12, 2), now, timedelta(days=8))


def test_the_aggregate_records_its_life_as_events():
    series = weekly()
    series.schedule(date(2026, 11, 30), "request-1")
    series.pause("resident-1", None, date(2026, 11, 23))
    series.resume("resident-1")
    series.end("resident-1", "moved away")
    kinds = [type(e).__name__ for e in series.collect_events()]
    assert kinds == ["Started", "OccurrenceScheduled", "Paused", "Resumed", "Ended"]
    assert series.occurrences == {date(2026, 11, 30): "request-1"}
    assert series.ended_reason == "moved away"


# --- snowfall days -------------------------------------------------------------------------


def test_a_snowfall_day_has_one_id_per_day_and_adds_regions():
    day = SnowfallDay.declare(day=date(2026, 12, 1), regions=["hollola"], declared_by="city")
    assert day.id == snowfall_day_id(date(2026, 12, 1))
    assert day.covers("hollola") and not day.covers("nastola")
    with pytest.raises(WrongState) as refused:
        day.declare_more(["hollola"], "city")
    assert refused.value.rule == "already_declared"
    day.declare_more(["nastola", "hollola"], "city")
    assert day.regions == ["hollola", "nastola"]
    assert day.collect_events()[-1].regions == ["nastola"]
    day.declare_more([], "city")
    assert day.everywhere and day.covers("orimattila")
    with pytest.raises(WrongState):
        day.declare_more(["orimattila"], "city")
