"""Recurring requests: a resident's rule (every week, every month, every snowfall day) and the
city's snowfall days. Each occurrence of a series becomes its own service request.

Local times are Europe/Helsinki; the windows the occurrences get are aware UTC.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.calendar import LOCAL_TIME, local_today
from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.place import check_location

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LAST = "last"
MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 24 * 60
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Rule(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    SNOWFALL = "snowfall"


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


# --- pure rules of the calendar ------------------------------------------------------------


def clock(text: str) -> time:
    """``"07:30"`` as a time of day; refuses anything else, naming the field."""
    match = _CLOCK.match(text)
    if match is None:
        raise InvalidValue(
            f"start_time must be a local time HH:MM (00:00 to 23:59), got {text!r}",
            rule="start_time",
        )
    return time(int(match[1]), int(match[2]))


def day_in_month(year: int, month: int, day_of_month: int | str) -> date:
    """The day of a month a monthly rule falls on: 1 to 28, or the month's last day."""
    if day_of_month == LAST:
        return date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, int(day_of_month))


def _months(first: date, last: date) -> Iterator[tuple[int, int]]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def occurrence_days(
    rule: str,
    first: date,
    last: date,
    *,
    weekday: str | None = None,
    day_of_month: int | str | None = None,
) -> list[date]:
    """The days from ``first`` to ``last`` (both included) a weekly or monthly rule falls on.
    A snowfall rule falls on the days the city declares, which no calendar knows: none here."""
    if last < first:
        return []
    if rule == Rule.WEEKLY:
        assert weekday is not None
        ahead = (WEEKDAYS.index(weekday) - first.weekday()) % 7
        day, days = first + timedelta(days=ahead), []
        while day <= last:
            days.append(day)
            day += timedelta(days=7)
        return days
    if rule == Rule.MONTHLY:
        assert day_of_month is not None
        days = (day_in_month(y, m, day_of_month) for y, m in _months(first, last))
        return [day for day in days if first <= day <= last]
    return []


def window(day: date, start_time: str, duration_minutes: int) -> tuple[datetime, datetime]:
    """The UTC window of an occurrence: ``start_time`` on ``day`` in Helsinki, for the duration.

    A start time the spring change skips (03:30 on the last Sunday of March) counts as the
    same clock reading before the change, one hour later in summer time."""
    local = datetime.combine(day, clock(start_time), tzinfo=LOCAL_TIME)
    start = local.astimezone(UTC)
    return start, start + timedelta(minutes=duration_minutes)


def check_rule(
    rule: str,
    start_time: str,
    duration_minutes: int,
    weekday: str | None,
    day_of_month: int | str | None,
    starts_on: date,
    ends_on: date | None,
) -> None:
    if rule not in tuple(Rule):
        raise InvalidValue(f"rule must be one of {', '.join(Rule)}, got {rule!r}", rule="rule")
    clock(start_time)
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidValue(
            f"duration_minutes must be from {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES}, "
            f"got {duration_minutes}",
            rule="duration_minutes",
        )
    if rule == Rule.WEEKLY:
        if weekday not in WEEKDAYS:
            raise InvalidValue(
                f"a weekly series needs weekday, one of {', '.join(WEEKDAYS)}; got {weekday!r}",
                rule="weekday",
            )
    elif weekday is not None:
        raise InvalidValue(f"weekday belongs to weekly series only, not {rule}", rule="weekday")
    if rule == Rule.MONTHLY:
        whole = isinstance(day_of_month, int) and not isinstance(day_of_month, bool)
        if not (day_of_month == LAST or (whole and 1 <= day_of_month <= 28)):
            raise InvalidValue(
                f'a monthly series needs day_of_month, 1 to 28 or "last"; got {day_of_month!r}',
                rule="day_of_month",
            )
    elif day_of_month is not None:
        raise InvalidValue(
            f"day_of_month belongs to monthly series only, not {rule}", rule="day_of_month"
        )
    if ends_on is not None and ends_on < starts_on:
        raise InvalidValue(
            f"ends_on ({ends_on}) must not be before starts_on ({starts_on})", rule="ends_on"
        )


# --- the aggregates ------------------------------------------------------------------------


class RequestSeries(Aggregate):
    """A resident's standing request: a rule, the service it asks for, and the occurrences
    (one service request each) scheduled so far."""

    @event("Started")
    def __init__(
        self,
        resident_id: str,
        category: str,
        region: str,
        rule: str,
        description: str,
        start_time: str,
        duration_minutes: int,
        weekday: str | None,
        day_of_month: int | str | None,
        starts_on: date,
        ends_on: date | None,
        address: str = "",
        lat: float | None = None,
        long: float | None = None,
    ) -> None:
        self.resident_id = resident_id
        self.category = category
        self.region = region
        self.rule = rule
        self.description = description
        self.start_time = start_time
        self.duration_minutes = duration_minutes
        self.weekday = weekday
        self.day_of_month = day_of_month
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.address = address
        self.lat = lat
        self.long = long
        self.status = SeriesStatus.ACTIVE
        self.paused_until: date | None = None
        self.ended_reason: str | None = None
        self.occurrences: dict[date, str] = {}

    @classmethod
    def start(
        cls,
        *,
        resident_id: str,
        category: str,
        region: str,
        rule: str,
        start_time: str,
        duration_minutes: int,
        today: date,
        weekday: str | None = None,
        day_of_month: int | str | None = None,
        description: str = "",
        starts_on: date | None = None,
        ends_on: date | None = None,
        address: str = "",
        lat: float | None = None,
        long: float | None = None,
    ) -> RequestSeries:
        if not resident_id.strip():
            raise InvalidValue("a series needs the resident who sets it", rule="resident_id")
        starts_on = starts_on or today
        check_rule(rule, start_time, duration_minutes, weekday, day_of_month, starts_on, ends_on)
        if ends_on is not None and ends_on < today:
            raise InvalidValue(f"ends_on ({ends_on}) has already passed", rule="ends_on")
        check_location(lat, long)
        return cls(
            resident_id=resident_id,
            category=category,
            region=region,
            rule=rule,
            description=description.strip(),
            start_time=start_time,
            duration_minutes=duration_minutes,
            weekday=weekday,
            day_of_month=day_of_month,
            starts_on=starts_on,
            ends_on=ends_on,
            address=address.strip(),
            lat=lat,
            long=long,
        )

    # --- the resident --------------------------------------------------------------------

    def check_resident(self, resident_id: str, what: str) -> None:
        if resident_id != self.resident_id:
            raise NotAllowed(
                f"only the resident who set up this series can {what} it", rule="resident_id"
            )

    def check_not_ended(self, what: str) -> None:
        if self.status == SeriesStatus.ENDED:
            raise WrongState(f"the series has ended; it cannot be {what}")

    def pause(self, resident_id: str, until: date | None, today: date) -> None:
        """Stop creating occurrences, until resumed or, with ``until``, until that day has
        passed. Pausing a paused series sets its new end."""
        self.check_resident(resident_id, "pause")
        self.check_not_ended("paused")
        if until is not None and until < today:
            raise InvalidValue(f"until ({until}) has already passed", rule="until")
        self._paused(until=until)

    @event("Paused")
    def _paused(self, until: date | None) -> None:
        self.status = SeriesStatus.PAUSED
        self.paused_until = until

    def resume(self, resident_id: str) -> None:
        self.check_resident(resident_id, "resume")
        if self.status != SeriesStatus.PAUSED:
            raise WrongState(f"the series is {self.status}; only a paused series is resumed")
        self._resumed()

    @event("Resumed")
    def _resumed(self) -> None:
        self.status = SeriesStatus.ACTIVE
        self.paused_until = None

    def end(self, resident_id: str, reason: str) -> None:
        self.check_resident(resident_id, "end")
        self.check_not_ended("ended again")
        self._ended(reason=reason.strip(), resident_id=self.resident_id)

    # ``resident_id`` has a default: series ended before it was recorded have none.
    @event("Ended")
    def _ended(self, reason: str, resident_id: str = "") -> None:
        self.status = SeriesStatus.ENDED
        self.ended_reason = reason

    # --- what time brings ----------------------------------------------------------------

    def catch_up(self, today: date) -> None:
        """A pause whose day has passed ends (Resumed); a series past its last day ends."""
        if self.status == SeriesStatus.PAUSED and self.paused_until and self.paused_until < today:
            self._resumed()
        if self.status != SeriesStatus.ENDED and self.ends_on and self.ends_on < today:
            self._ended(
                reason=f"the series ran to its last day, {self.ends_on}",
                resident_id=self.resident_id,
            )

    def window(self, day: date) -> tuple[datetime, datetime]:
        return window(day, self.start_time, self.duration_minutes)

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def due_days(self, now: datetime, horizon: timedelta) -> list[date]:
        """The weekly or monthly days not yet scheduled whose window starts after ``now`` and
        at most ``horizon`` ahead of it. Nothing while paused or after the end."""
        if self.status != SeriesStatus.ACTIVE or self.rule == Rule.SNOWFALL:
            return []
        days = self._rule_days(local_today(now), local_today(now + horizon))
        return [
            day
            for day in days
            if day not in self.occurrences and now < self.window(day)[0] <= now + horizon
        ]

    def snowfall_due(self, day: date, now: datetime, horizon: timedelta) -> bool:
        """Whether a declared snowfall day gets an occurrence of this series now: an active
        snowfall series, the day in its span and not yet scheduled, its window not over and
        at most ``horizon`` ahead."""
        if self.status != SeriesStatus.ACTIVE or self.rule != Rule.SNOWFALL:
            return False
        if not self.covers(day) or day in self.occurrences:
            return False
        start, end = self.window(day)
        return now < end and start <= now + horizon

    def schedule(self, day: date, request_id: str) -> None:
        if day in self.occurrences:
            raise WrongState(
                f"{day} is already scheduled as request {self.occurrences[day]}", rule="day"
            )
        self.check_not_ended("scheduled")
        self._occurrence_scheduled(day=day, request_id=request_id)

    @event("OccurrenceScheduled")
    def _occurrence_scheduled(self, day: date, request_id: str) -> None:
        self.occurrences[day] = request_id

    def next_days(self, now: datetime, count: int = 5) -> list[date]:
        """The next days the rule falls on from today, whatever is already scheduled."""
        if self.status == SeriesStatus.ENDED or self.rule == Rule.SNOWFALL:
            return []
        first = max(local_today(now), self.starts_on)
        if self.status == SeriesStatus.PAUSED:
            if self.paused_until is None:
                return []
            first = max(first, self.paused_until + timedelta(days=1))
        days = self._rule_days(first, first + timedelta(days=31 * count))
        return [day for day in days if self.window(day)[0] > now][:count]

    def _rule_days(self, first: date, last: date) -> list[date]:
        """The days the rule falls on from ``first`` to ``last``, within the series' span."""
        first = max(first, self.starts_on)
        if self.ends_on is not None:
            last = min(last, self.ends_on)
        return occurrence_days(
            self.rule, first, last, weekday=self.weekday, day_of_month=self.day_of_month
        )


SNOWFALL_NAMESPACE = uuid5(NAMESPACE_URL, "https://talkoot.lahti.fi/snowfall-days")


def snowfall_day_id(day: date) -> UUID:
    """One aggregate per calendar day: the same day always has the same id."""
    return uuid5(SNOWFALL_NAMESPACE, day.isoformat())


class SnowfallDay(Aggregate):
    """A day the city declared snowfall, and the regions it declared it for (every region
    when ``regions`` is empty). Declaring the same day again adds regions."""

    @staticmethod
    def create_id(day: date, **_: object) -> UUID:
        return snowfall_day_id(day)

    @event("Declared")
    def __init__(self, day: date, regions: list[str], declared_by: str) -> None:
        self.day = day
        self.regions = list(regions)
        self.declared_by = declared_by

    @classmethod
    def declare(cls, *, day: date, regions: list[str], declared_by: str) -> SnowfallDay:
        if not declared_by.strip():
            raise InvalidValue("say who declares the snowfall day", rule="declared_by")
        return cls(day=day, regions=sorted(set(regions)), declared_by=declared_by)

    @property
    def everywhere(self) -> bool:
        return not self.regions

    def covers(self, region: str) -> bool:
        return self.everywhere or region in self.regions

    def declare_more(self, regions: list[str], declared_by: str) -> None:
        """Declare the day for more regions (all of them when ``regions`` is empty)."""
        if not declared_by.strip():
            raise InvalidValue("say who declares the snowfall day", rule="declared_by")
        if self.everywhere:
            raise WrongState(
                f"{self.day} is already a snowfall day in every region", rule="already_declared"
            )
        added = sorted(set(regions) - set(self.regions)) if regions else []
        if regions and not added:
            raise WrongState(
                f"{self.day} is already a snowfall day in {', '.join(sorted(set(regions)))}",
                rule="already_declared",
            )
        self._extended(day=self.day, regions=added, declared_by=declared_by)

    @event("Extended")
    def _extended(self, day: date, regions: list[str], declared_by: str) -> None:
        self.regions = sorted(set(self.regions) | set(regions)) if regions else []
        self.declared_by = declared_by
