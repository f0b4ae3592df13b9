"""HTTP API of recurring requests and snowfall days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from msgspec import Meta

from domain.series import RequestSeries
from projections import series as series_model
from projections.schema import read_schema
from services.platform.http import (
    Body,
    Code,
    Id,
    Integer,
    Lat,
    Limit,
    Long,
    Offset,
    PathId,
    Position,
    QueryCode,
    QueryId,
    caught_up,
    check_query_day,
    line,
)
from services.platform.store import Receipt
from services.requests.api import Description, Reason, application

SeriesAddress = line(500)
LocalTime = Annotated[line(20), Meta(description="local time in Helsinki, HH:MM")]


class NewSeries(Body):
    resident_id: Id
    category: Code
    region: Code
    rule: Annotated[Code, Meta(description="weekly, monthly or snowfall")]
    start_time: LocalTime
    duration_minutes: Annotated[
        Integer | None, Meta(description="default: the category's estimated duration")
    ] = None
    weekday: Annotated[Code | None, Meta(description="weekly: monday … sunday")] = None
    day_of_month: Annotated[
        Integer | Code | None, Meta(description='monthly: 1 to 28 or "last"')
    ] = None
    description: Description = ""
    address: SeriesAddress = ""
    lat: Lat | None = None
    long: Long | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class Pause(Body):
    resident_id: Id
    until: date | None = None


class Resume(Body):
    resident_id: Id


class End(Body):
    resident_id: Id
    reason: Reason = ""


class NewSnowfallDay(Body):
    day: date
    declared_by: Id
    regions: Annotated[list[Code], Meta(max_length=50)] = []


class Occurrence(msgspec.Struct):
    day: date
    request_id: str


class SeriesView(msgspec.Struct):
    series_id: str
    resident_id: str
    category: str
    region: str
    rule: str
    weekday: str | None
    day_of_month: int | str | None
    start_time: str
    duration_minutes: int
    description: str
    address: str
    lat: float | None
    long: float | None
    starts_on: date
    ends_on: date | None
    status: str
    paused_until: date | None
    ended_reason: str | None
    next_days: list[date]
    occurrences: list[Occurrence]
    version: int


class SeriesEntry(msgspec.Struct):
    series_id: str
    resident_id: str
    category: str
    region: str
    rule: str
    description: str
    status: str
    paused_until: date | None
    ended_reason: str | None
    occurrences: int
    last_day: date | None
    started_at: datetime
    updated_at: datetime
    position: int


class SnowfallDayEntry(msgspec.Struct):
    day: date
    day_id: str
    regions: list[str]
    declared_by: str
    declared_at: datetime
    updated_at: datetime
    position: int


def view(series: RequestSeries) -> SeriesView:
    return SeriesView(
        series_id=str(series.id),
        resident_id=series.resident_id,
        category=series.category,
        region=series.region,
        rule=series.rule,
        weekday=series.weekday,
        day_of_month=series.day_of_month,
        start_time=series.start_time,
        duration_minutes=series.duration_minutes,
        description=series.description,
        address=series.address,
        lat=series.lat,
        long=series.long,
        starts_on=series.starts_on,
        ends_on=series.ends_on,
        status=series.status,
        paused_until=series.paused_until,
        ended_reason=series.ended_reason,
        next_days=series.next_days(datetime.now(UTC)),
        occurrences=[
            Occurrence(day=day, request_id=request_id)
            for day, request_id in sorted(series.occurrences.items())
        ],
        version=series.version,
    )


class SeriesController(Controller):
    path = "/series"
    tags = ["series"]

    @post("/", sync_to_thread=True, summary="Set up a recurring request")
    def start(self, data: NewSeries, state: State) -> Receipt:
        """A resident sets a rule once: every week (``weekday``), every month
        (``day_of_month``, 1 to 28 or ``"last"``) or every snowfall day the city declares in
        the region, at ``start_time`` (Helsinki) for ``duration_minutes`` (by default the
        category's estimated duration). Each occurrence becomes its own service request,
        created ahead of its day."""
        return application(state).start_series(
            resident_id=data.resident_id,
            category=data.category,
            region=data.region,
            rule=data.rule,
            start_time=data.start_time,
            duration_minutes=data.duration_minutes,
            weekday=data.weekday,
            day_of_month=data.day_of_month,
            description=data.description,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            address=data.address,
            lat=data.lat,
            long=data.long,
        )

    @get("/{series_id:str}", sync_to_thread=True, summary="One series")
    def get_series(self, series_id: PathId, state: State) -> SeriesView:
        """The rule, its status, the next days it falls on and the occurrences scheduled so
        far with their request ids (follow them on ``GET /requests/{id}``)."""
        return view(application(state).get_series(series_id))

    @get("/", summary="Series, newest first")
    async def list_series(
        self,
        state: State,
        resident_id: QueryId = None,
        status: QueryCode = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[SeriesEntry]:
        """A resident's series with ``?resident_id=``; ``status`` is active, paused or ended."""
        await caught_up(state, series_model.PROJECTION, series_model.UPSTREAM, position)
        rows = await series_model.list_series(
            state.pool,
            read_schema(state.settings.namespace),
            resident_id=resident_id,
            status=status,
            limit=limit,
            offset=offset,
        )
        return msgspec.convert(rows, list[SeriesEntry])

    @post("/{series_id:str}/pause", sync_to_thread=True, summary="Pause a series")
    def pause(self, series_id: PathId, data: Pause, state: State) -> Receipt:
        """No new occurrences until resumed or, with ``until``, until that day has passed.
        Occurrences already created stay."""
        return application(state).pause_series(series_id, data.resident_id, data.until)

    @post("/{series_id:str}/resume", sync_to_thread=True, summary="Resume a paused series")
    def resume(self, series_id: PathId, data: Resume, state: State) -> Receipt:
        return application(state).resume_series(series_id, data.resident_id)

    @post("/{series_id:str}/end", sync_to_thread=True, summary="End a series")
    def end(self, series_id: PathId, data: End, state: State) -> Receipt:
        """For good: an ended series creates nothing more."""
        return application(state).end_series(series_id, data.resident_id, data.reason)


class SnowfallController(Controller):
    path = "/snowfall-days"
    tags = ["series"]

    @post("/", sync_to_thread=True, summary="Declare a snowfall day")
    def declare(self, data: NewSnowfallDay, state: State) -> Receipt:
        """The city declares ``day`` a snowfall day in ``regions`` (every region when empty).
        Every active snowfall series there gets an occurrence that day. Declaring the same day
        again adds regions; declaring nothing new is refused (409 ``already_declared``)."""
        return application(state).declare_snowfall(data.day, data.regions, data.declared_by)

    @get("/", summary="Declared snowfall days, latest first")
    async def list_days(
        self,
        state: State,
        since: date | None = None,
        limit: Limit = 100,
        position: Position = None,
    ) -> list[SnowfallDayEntry]:
        check_query_day("since", since)
        await caught_up(state, series_model.PROJECTION, series_model.UPSTREAM, position)
        rows = await series_model.list_snowfall_days(
            state.pool, read_schema(state.settings.namespace), since=since, limit=limit
        )
        return msgspec.convert(rows, list[SnowfallDayEntry])
