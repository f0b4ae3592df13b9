"""The municipality's calendar: a day is a day in Lahti (Europe/Helsinki), whatever time zone
a moment was written in. Pauses, contract periods, series and jobs all count days this way.

Everything that asks what day it is asks here (``local_today``), never ``date.today()`` or a
UTC date: the machine's own zone, or UTC, is a different day for two or three hours a night."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Helsinki")


def now() -> datetime:
    """This moment, in UTC: the instant that events and timestamps record."""
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


def local_today(now: datetime | None = None) -> date:
    """Lahti's date at ``now`` (this moment if not given)."""
    return local_day(now or datetime.now(UTC))


def local_moment(day: date, clock: time) -> datetime:
    """The instant (in UTC) at which Lahti's clocks show ``clock`` on ``day``. A time the
    spring change skips is read with the offset before the change (03:30 is 04:30 summer
    time); one the autumn change shows twice is the first of the two."""
    return datetime.combine(day, clock, tzinfo=LOCAL_TIME).astimezone(UTC)
