"""HTTP API of the impact report: the figures as JSON, as CSV (one figure a row) and as SVG
charts, for a period (this year by default), city-wide, for a region or for a table. Public."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import Parameter

from domain.calendar import local_today
from projections import tables as tables_model
from services.platform.catalogue import load_catalogue
from services.platform.errors import NotFound
from services.platform.http import (
    Position,
    QueryCode,
    QueryId,
    Reads,
    bad_query,
    caught_up,
    csv_text,
    query_day,
)
from services.platform.identity import PUBLIC
from services.platform.openapi import CsvOperation, errors
from services.tables import charts, impact
from services.tables.application import TablesApplication

SVG = "image/svg+xml"
CSV_FIELDS = ("section", "figure", "scope", "value")


def period_of(since_text: str | None, until_text: str | None) -> impact.Period:
    """The days asked for, both included: the year of the one given when only one is, this
    year in Lahti when neither."""
    since, until = query_day("from", since_text), query_day("until", until_text)
    if since is None and until is None:
        return impact.year_of(local_today())
    if since is None:
        since = date(until.year, 1, 1)
    if until is None:
        until = date(since.year, 12, 31)
    if until < since:
        raise bad_query("until", f"until ({until}) is before from ({since})")
    return impact.Period(since, until)


async def scoped(
    reads: Reads, since: str | None, until: str | None, region: str | None, table: str | None
) -> tuple[impact.Scope, list[str], list[str] | None]:
    """The report's scope, the regions its coverage lists, and the regions its requests are
    read from (None: every one)."""
    period = period_of(since, until)
    known = list(load_catalogue().regions)
    if region is not None and region not in known:
        raise bad_query("region", f"no region {region!r} in the catalogue")
    if table is not None:
        of_table = await impact.table_regions(reads.pool, reads.schema, table)
        if of_table is None:
            raise bad_query("table", f"no partnership table {table!r}")
        if region is not None and region not in of_table:
            raise bad_query("region", f"the table {table} does not serve the region {region}")
        regions = [region] if region else of_table
    else:
        regions = [region] if region else None
    return impact.Scope(period, region, table), regions or known, regions


async def report_for(
    reads: Reads,
    application: TablesApplication,
    since: str | None,
    until: str | None,
    region: str | None,
    table: str | None,
    position: int | None = None,
) -> dict[str, Any]:
    """The report of the query; with ``position`` (a receipt's, from the tables service),
    once the tables' read model has applied it (bounded: 503 if it has not in time), so
    that a client reads its own write."""
    scope, listed, regions = await scoped(reads, since, until, region, table)
    await caught_up(reads, tables_model.PROJECTION, tables_model.UPSTREAM, position)
    data = await impact.fetch(reads.pool, reads.schema, scope, regions)
    settings = application.settings
    plan = impact.Plan(
        personnel_and_fees_cents=settings.tables_personnel_and_fees_cents,
        common_expenses_cents=settings.tables_common_expenses_cents,
    )
    return impact.report(data, scope, listed, plan)


def as_csv(report: dict) -> str:
    return csv_text(
        CSV_FIELDS,
        (
            (section, figure, where, "" if value is None else value)
            for section, figure, where, value in impact.rows_of(report)
        ),
    )


Since = Annotated[
    str | None, Parameter(query="from", description="the first day (Lahti's), YYYY-MM-DD")
]
Until = Annotated[str | None, Parameter(description="the last day, included, YYYY-MM-DD")]
Region = Annotated[QueryCode, Parameter(description="a region of the catalogue")]
Table = Annotated[QueryId, Parameter(description="a partnership table")]
ChartFile = Annotated[
    str,
    Parameter(
        pattern=r"^[a-z-]{1,40}\.svg$",
        description="the chart: " + ", ".join(f"{name}.svg" for name in charts.CHARTS),
    ),
]


class ImpactController(Controller):
    path = "/"
    tags = ["impact"]
    guards = [PUBLIC]

    @get("/impact", summary="The impact report", responses=errors(400))
    async def impact_report(
        self,
        reads: Reads,
        application: TablesApplication,
        since: Since = None,
        until: Until = None,
        region: Region = None,
        table: Table = None,
        position: Position = None,
    ) -> dict[str, Any]:
        """The partnership model's impact from each stakeholder's view, for the days
        ``from`` to ``until`` (this year by default), city-wide or for a ``region`` or a
        ``table``: the city (spending through contracts and table funds, cost per delivered
        service by category, coverage by region, the median time from request to
        assignment, the share unmatched), the providers (jobs, hours, revenue, acceptance
        and completion, per provider and per category), the community (requests fulfilled,
        ratings, taking part in the tables, initiatives and the city's share of them) and the
        tables (events, attendees, initiatives, statements, the budget planned and spent).
        services/tables/IMPACT.md says how each figure is worked out. With ``position`` (a
        receipt's from the tables service) it waits, a bounded time, until the tables' read
        model has applied it (503 if not)."""
        return await report_for(reads, application, since, until, region, table, position)

    @get(
        "/impact.csv",
        summary="The impact report as CSV, one figure a row",
        media_type="text/csv",
        operation_class=CsvOperation,
        responses=errors(400),
    )
    async def impact_csv(
        self,
        reads: Reads,
        application: TablesApplication,
        since: Since = None,
        until: Until = None,
        region: Region = None,
        table: Table = None,
        position: Position = None,
    ) -> Response[str]:
        """The figures of ``GET /impact`` for the same query, one a row:
        ``section,figure,scope,value`` (scope: ``city``, ``region:<code>``,
        ``category:<code>``, ``provider:<id>``, ``origin:<origin>`` or ``table:<id>``); money
        in cents, an empty value where there is nothing to divide."""
        found = await report_for(reads, application, since, until, region, table, position)
        return Response(
            as_csv(found),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="impact.csv"'},
        )

    @get(
        "/impact/charts/{chart:str}",
        summary="A chart of the impact report (SVG)",
        media_type=SVG,
        responses=errors(400, 404),
    )
    async def impact_chart(
        self,
        chart: ChartFile,
        reads: Reads,
        application: TablesApplication,
        since: Since = None,
        until: Until = None,
        region: Region = None,
        table: Table = None,
        position: Position = None,
    ) -> Response[str]:
        """One chart of the report for the same query, as an SVG image with a title and a
        description, drawn on the server, with no script: ``spending``, ``cost-per-service``,
        ``coverage``, ``providers``, ``rates``, ``participation``, ``initiatives``,
        ``budget`` (each ``<name>.svg``)."""
        draw = charts.CHARTS.get(chart.removesuffix(".svg"))
        if draw is None:
            raise NotFound.of("chart", chart)
        found = await report_for(reads, application, since, until, region, table, position)
        return Response(draw(found), media_type=SVG)
