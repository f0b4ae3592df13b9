"""The municipality's calendar: a day is a day in Lahti (Europe/Helsinki), whatever time zone
a moment was written in. Pauses, contract periods, series and jobs all count days this way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Helsinki")


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


def local_today(now: datetime | None = None) -> date:
    return local_day(now or datetime.now(UTC))
