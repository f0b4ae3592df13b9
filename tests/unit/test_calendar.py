from datetime import UTC, date, datetime, timedelta, timezone

from domain.calendar import local_day, local_today


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
