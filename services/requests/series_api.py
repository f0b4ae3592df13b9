"""HTTP API of recurring requests and snowfall days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
from litestar import Controller, get, post

from domain.series import RequestSeries
from projections import series as series_model
from services.platform.http import (
    Limit,
    Offset,
    PathId,
    Position,
    QueryCode,
    QueryId,
    Reads,
    caught_up,
    check_query_day,
)
from services.platform.identity import ADMIN, PUBLIC, RESIDENT, SIGNED_IN, Caller, Role
from services.platform.personal import open_rows
from services.platform.store import Receipt
from services.requests.application import RequestsApplication
from services.requests.commands import End, NewSeries, NewSnowfallDay, Pause, Resume


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

    @post("/", guards=[RESIDENT], sync_to_thread=True, summary="Set up a recurring request")
    def start(self, data: NewSeries, caller: Caller, application: RequestsApplication) -> Receipt:
        """A resident sets a rule once: every week (``weekday``), every month
        (``day_of_month``, 1 to 28 or ``"last"``) or every snowfall day the city declares in
        the region, at ``start_time`` (Helsinki) for ``duration_minutes`` (by default the
        category's estimated duration). Each occurrence becomes its own service request,
        created ahead of its day.

        A resident, in their own name."""
        return application.start_series(caller, data)

    @get("/{series_id:str}", guards=[SIGNED_IN], sync_to_thread=True, summary="One series")
    def get_series(
        self, series_id: PathId, caller: Caller, application: RequestsApplication
    ) -> SeriesView:
        """The rule, its status, the next days it falls on and the occurrences scheduled so
        far with their request ids (follow them on ``GET /requests/{id}``).

        The resident who set it up, or an admin; to anybody else it does not exist (404)."""
        return view(application.seen_series(caller, series_id))

    @get("/", guards=[SIGNED_IN], summary="Series, newest first")
    async def list_series(
        self,
        caller: Caller,
        reads: Reads,
        application: RequestsApplication,
        resident_id: QueryId = None,
        status: QueryCode = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[SeriesEntry]:
        """The caller's own series (an admin's: anybody's, or one resident's with
        ``?resident_id=``); ``status`` is active, paused or ended.

        Anybody signed in: a resident sees their own, others none."""
        await caught_up(reads, series_model.PROJECTION, series_model.UPSTREAM, position)
        if not caller.is_admin:
            # nobody's but the caller's own; another id given finds nothing
            own = caller.subject if caller.holds(Role.RESIDENT) else None
            if own is None or resident_id not in (None, own):
                return []
            resident_id = own
        rows = await series_model.list_series(
            reads.pool,
            reads.schema,
            resident_id=resident_id,
            status=status,
            limit=limit,
            offset=offset,
        )
        rows = await open_rows(application.keyring, reads.primary, rows, series_model.SEALED)
        return msgspec.convert(rows, list[SeriesEntry])

    @post(
        "/{series_id:str}/pause", guards=[RESIDENT], sync_to_thread=True, summary="Pause a series"
    )
    def pause(
        self, series_id: PathId, data: Pause, caller: Caller, application: RequestsApplication
    ) -> Receipt:
        """No new occurrences until resumed or, with ``until``, until that day has passed.
        Occurrences already created stay.

        The resident who set it up."""
        return application.pause_series(caller, series_id, data)

    @post(
        "/{series_id:str}/resume",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Resume a paused series",
    )
    def resume(
        self, series_id: PathId, data: Resume, caller: Caller, application: RequestsApplication
    ) -> Receipt:
        """The body is empty: ``{}``.

        The resident who set it up."""
        return application.resume_series(caller, series_id, data)

    @post("/{series_id:str}/end", guards=[RESIDENT], sync_to_thread=True, summary="End a series")
    def end(
        self, series_id: PathId, data: End, caller: Caller, application: RequestsApplication
    ) -> Receipt:
        """For good: an ended series creates nothing more.

        The resident who set it up."""
        return application.end_series(caller, series_id, data)


class SnowfallController(Controller):
    path = "/snowfall-days"
    tags = ["series"]

    @post("/", guards=[ADMIN], sync_to_thread=True, summary="Declare a snowfall day")
    def declare(
        self, data: NewSnowfallDay, caller: Caller, application: RequestsApplication
    ) -> Receipt:
        """The city declares ``day`` a snowfall day in ``regions`` (every region when empty).
        Every active snowfall series there gets an occurrence that day. Declaring the same day
        again adds regions; declaring nothing new is refused (409 ``already_declared``).

        An admin of the city; the declaration is in their name."""
        return application.declare_snowfall(caller, data)

    @get("/", guards=[PUBLIC], summary="Declared snowfall days, latest first")
    async def list_days(
        self,
        reads: Reads,
        since: date | None = None,
        limit: Limit = 100,
        position: Position = None,
    ) -> list[SnowfallDayEntry]:
        """Anybody, signed in or not."""
        check_query_day("since", since)
        await caught_up(reads, series_model.PROJECTION, series_model.UPSTREAM, position)
        rows = await series_model.list_snowfall_days(
            reads.pool, reads.schema, since=since, limit=limit
        )
        return msgspec.convert(rows, list[SnowfallDayEntry])
