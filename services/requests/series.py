"""The requests service's use cases for recurring requests and snowfall days.

A mixin of ``RequestsApplication``: each occurrence a series schedules is a ``ServiceRequest``
stored in the same commit as the series' ``OccurrenceScheduled``, so that a concurrent sweep
scheduling the same day loses with a Conflict and nothing is created twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.calendar import local_today
from domain.catalogue import Catalogue
from domain.errors import InvalidValue, NotAllowed
from domain.requests import ServiceRequest
from domain.series import RequestSeries, SnowfallDay, snowfall_day_id
from services.platform.catalogue import check_scope, region_of
from services.platform.errors import NotFound
from services.platform.identity import Caller, Role, check_sees
from services.platform.store import Receipt
from services.requests.commands import End, NewSeries, NewSnowfallDay, Pause, Resume


def acting_resident(caller: Caller) -> str:
    """Who a caller makes something new as (a request, a series): themselves, if they are a
    resident. An admin's token does not make one in a resident's name."""
    if not caller.holds(Role.RESIDENT):
        raise NotAllowed(
            "only a resident makes requests and series, as themselves", rule="resident_id"
        )
    return caller.subject


class SeriesUseCases:
    """Setting up, pausing, resuming and ending series; declaring snowfall days; and the
    sweep's scheduling of what has fallen due."""

    catalogue: Catalogue

    # --- residents -----------------------------------------------------------------------

    def start_series(self, caller: Caller, command: NewSeries) -> Receipt:
        check_scope(self.catalogue, [command.category], [])
        region = region_of(self.catalogue, command.region, command.lat, command.long)
        duration_minutes = command.duration_minutes
        if duration_minutes is None:
            duration_minutes = self.catalogue.categories[command.category].estimated_minutes
        series = RequestSeries.start(
            resident_id=acting_resident(caller),
            category=command.category,
            region=region,
            rule=command.rule,
            start_time=command.start_time,
            duration_minutes=duration_minutes,
            today=local_today(),
            weekday=command.weekday,
            day_of_month=command.day_of_month,
            description=command.description,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            address=command.address,
            lat=command.lat,
            long=command.long,
        )
        return Receipt(str(series.id), self.commit(series))

    def pause_series(self, caller: Caller, series_id: str, command: Pause) -> Receipt:
        series = self.seen_series(caller, series_id)
        series.pause(caller.subject, command.until, local_today())
        return Receipt(str(series.id), self.commit(series))

    def resume_series(self, caller: Caller, series_id: str, command: Resume) -> Receipt:
        series = self.seen_series(caller, series_id)
        series.resume(caller.subject)
        return Receipt(str(series.id), self.commit(series))

    def end_series(self, caller: Caller, series_id: str, command: End) -> Receipt:
        series = self.seen_series(caller, series_id)
        series.end(caller.subject, command.reason)
        return Receipt(str(series.id), self.commit(series))

    def get_series(self, series_id: str) -> RequestSeries:
        series = self.get(series_id, "series")
        if not isinstance(series, RequestSeries):
            raise NotFound.of("series", series_id)
        return series

    def seen_series(self, caller: Caller, series_id: str) -> RequestSeries:
        """A series the caller set up (an admin sees every one); else 404, as for a missing
        one."""
        series = self.get_series(series_id)
        check_sees(caller.is_resident(series.resident_id), "series", series_id)
        return series

    # --- the city ------------------------------------------------------------------------

    def declare_snowfall(self, caller: Caller, command: NewSnowfallDay) -> Receipt:
        """Declare a day a snowfall day in its regions (all when empty), in the caller's
        name. Declaring a day again adds regions; declaring nothing new is refused (409
        already_declared)."""
        day, regions, declared_by = command.day, command.regions, caller.subject
        check_scope(self.catalogue, [], regions)
        if day < local_today():
            raise InvalidValue(f"{day} has already passed", rule="day")
        try:
            snowfall = self.get_snowfall_day(day)
        except NotFound:
            snowfall = SnowfallDay.declare(day=day, regions=regions, declared_by=declared_by)
        else:
            snowfall.declare_more(regions, declared_by)
        return Receipt(str(snowfall.id), self.commit(snowfall))

    def get_snowfall_day(self, day: date) -> SnowfallDay:
        return self.get(snowfall_day_id(day), "snowfall day")

    # --- the sweep -----------------------------------------------------------------------

    def schedule_recurring(
        self,
        series_id: str,
        horizon: timedelta,
        preferred_provider_id: str | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """Create the weekly or monthly occurrences due within ``horizon``; end a pause whose
        day has passed and a series past its last day. Returns the new requests' ids."""
        now = now or datetime.now(UTC)
        series = self.get_series(series_id)
        series.catch_up(local_today(now))
        requests = [
            self._occurrence(series, day, preferred_provider_id)
            for day in series.due_days(now, horizon)
        ]
        if series.pending_events:
            self.commit(*requests, series)
        return [str(request.id) for request in requests]

    def schedule_snowfall(
        self,
        series_id: str,
        day: date,
        horizon: timedelta,
        preferred_provider_id: str | None = None,
        now: datetime | None = None,
    ) -> str | None:
        """Create a snowfall series' occurrence on a declared snowfall day of its region, if
        it is due; returns the new request's id, or None."""
        now = now or datetime.now(UTC)
        series = self.get_series(series_id)
        series.catch_up(local_today(now))
        request = None
        try:
            declared = self.get_snowfall_day(day)
        except NotFound:
            declared = None
        if declared and declared.covers(series.region) and series.snowfall_due(day, now, horizon):
            request = self._occurrence(series, day, preferred_provider_id)
        if series.pending_events:
            self.commit(*([request] if request else []), series)
        return str(request.id) if request else None

    def _occurrence(
        self, series: RequestSeries, day: date, preferred_provider_id: str | None
    ) -> ServiceRequest:
        window_start, window_end = series.window(day)
        request = ServiceRequest.submit(
            resident_id=series.resident_id,
            category=series.category,
            region=series.region,
            description=series.description,
            window_start=window_start,
            window_end=window_end,
            address=series.address,
            lat=series.lat,
            long=series.long,
            channel="series",
            series_id=str(series.id),
            preferred_provider_id=preferred_provider_id,
        )
        series.schedule(day, str(request.id))
        return request
