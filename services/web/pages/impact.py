"""The impact report's page, for everyone: the figures for a period and a region or a table,
the charts and the CSV, all read from the tables service through the front."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.response import Template

from domain.calendar import local_today
from services.web.client import Refusal
from services.web.forms import N_, SENTENCES, Form, refused
from services.web.pages import catalogue, render

QUERY = ("from", "until", "region", "table")
# The charts the tables service draws, and what each shows, for the image's text.
CHARTS = (
    ("spending", N_("The city's spending through contracts and through the tables' funds")),
    ("cost-per-service", N_("The cost per delivered service, by service")),
    ("coverage", N_("The share of requests assigned to a provider, by area")),
    ("providers", N_("Each provider's revenue")),
    ("rates", N_("Each provider's acceptance and completion rates")),
    ("participation", N_("Meeting attendances, event attendance and voters")),
    ("initiatives", N_("Initiatives raised by origin, forwarded and answered")),
    ("budget", N_("The tables' budget, planned and spent, line by line")),
)
CHART_NAMES = {name for name, _ in CHARTS}
BUDGET_LINES = (
    ("personnel_and_fees_cents", N_("Personnel and meeting fees")),
    ("table_budget_cents", N_("The tables' own budgets")),
    ("common_expenses_cents", N_("Common expenses")),
    ("total_cents", N_("Total")),
)
SPENT_PARTS = (
    ("personnel_cents", N_("coordinators' working time")),
    ("meeting_fees_cents", N_("meeting fees")),
    ("meetings_cents", N_("meetings")),
    ("activities_cents", N_("events")),
    ("rounds_cents", N_("budgeting rounds")),
    ("programmes_cents", N_("service programmes")),
)
ORIGINS = (("resident", N_("residents")), ("member", N_("members")), ("city", N_("the city")))
KINDS = {
    "cooperative": N_("cooperative"),
    "association": N_("association"),
    "village_group": N_("village group"),
    "social_enterprise": N_("social enterprise"),
    "business": N_("business"),
}

# The report's query, said in the page's language where the service refuses it.
SENTENCES.update(
    {
        "impact_from": N_("Give the first day as a date, such as 1.1.2026."),
        "impact_until": N_("Give the last day as a date, not before the first."),
        "impact_region": N_("Choose an area from the list."),
        "impact_table": N_("Choose a table from the list; its area, or all of them."),
    }
)
SAID_AS = {name: f"impact_{name}" for name in QUERY}


def query_of(request: Request) -> dict[str, str]:
    """The report's query as asked: only its own parameters, each as typed."""
    return {
        name: str(request.query_params.get(name) or "").strip()
        for name in QUERY
        if request.query_params.get(name)
    }


def this_year() -> dict[str, str]:
    year = local_today().year
    return {"from": date(year, 1, 1).isoformat(), "until": date(year, 12, 31).isoformat()}


@get("/impact", summary="The impact report")
async def impact_page(request: Request, state: State) -> Template:
    asked = query_of(request)
    form = Form(values={**this_year(), **asked})
    query = {k: v for k, v in form.values.items() if k in QUERY and v}
    report = None
    status = 200
    try:
        report = await state.services.get("tables", "/impact", None, **query)
    except Refusal as refusal:
        if refusal.status != 400:
            raise
        refused(form, refusal, QUERY, said_as=SAID_AS)
        status = 400
    found, tables = await asyncio.gather(
        catalogue(state), state.services.get("tables", "/tables", None)
    )
    encoded = urlencode(query)
    return render(
        request,
        "impact/report.html",
        status_code=status,
        form=form,
        report=report,
        query=encoded,
        charts=CHARTS,
        budget_lines=BUDGET_LINES,
        spent_parts=SPENT_PARTS,
        origins=ORIGINS,
        kinds=KINDS,
        regions=[(r["code"], r["name"]) for r in found["regions"]],
        region_names=found["region_names"],
        names=found["names"],
        tables=[(t["table_id"], t["name"]) for t in tables],
        table_names={t["table_id"]: t["name"] for t in tables},
    )


@get("/impact.csv", summary="The impact report as CSV")
async def impact_csv(request: Request, state: State) -> Response:
    text = await state.services.text("tables", "/impact.csv", None, **query_of(request))
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="impact.csv"'},
    )


@get("/impact/charts/{chart:str}", summary="A chart of the impact report")
async def impact_chart(request: Request, state: State, chart: str) -> Response:
    name = chart.removesuffix(".svg")
    if not chart.endswith(".svg") or name not in CHART_NAMES:
        raise NotFoundException(f"no chart {chart}")
    path = f"/impact/charts/{name}.svg"
    svg = await state.services.text("tables", path, None, **query_of(request))
    return Response(svg, media_type="image/svg+xml")


IMPACT_PAGES: list[Any] = [impact_page, impact_csv, impact_chart]
