"""The officer's audit pages: the partner's arrangements (filtered, and as CSV), one
arrangement's timeline across the services, and the settlement statement of a period (and as
CSV). Each reads the partnerships service with the officer's token: the partner is theirs."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Template

from services.web.forms import Form, sent
from services.web.pages import catalogue, render
from services.web.people import Person, needs

ARRANGEMENT_FILTERS = ("provider_id", "category", "region", "from", "until")
PERIOD = ("from", "until")


def csv_file(text: str, name: str) -> Response:
    return Response(
        content=text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def chosen(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """The filters as the query gives them: the ones filled in."""
    return {
        n: request.query_params.get(n, "").strip() for n in names if request.query_params.get(n)
    }


class AuditPages(Controller):
    dependencies = {"person": Provide(needs("officer"))}

    async def _read(self, state: State, person: Person, path: str, form: Form, csv: bool) -> Any:
        """The read, or None with the service's refusal on ``form`` beside its filter."""
        services, query = state.services, form.values
        return await sent(
            form,
            services.text("partnerships", path, person.token, format="csv", **query)
            if csv
            else services.get("partnerships", path, person.token, **query),
            (*ARRANGEMENT_FILTERS, *PERIOD),
            {"from_": "from"},
        )

    @get("/officer/arrangements", summary="The partner's arrangements")
    async def arrangements(
        self, request: Request, state: State, person: Person, format: str | None = None
    ) -> Template | Response:
        form = Form(values=chosen(request, ARRANGEMENT_FILTERS))
        rows, found = await asyncio.gather(
            self._read(state, person, "/audit/arrangements", form, format == "csv"),
            catalogue(state),
        )
        if format == "csv" and rows is not None:
            return csv_file(rows, "arrangements")
        return render(
            request,
            "officer/arrangements.html",
            status_code=form.refused or 200,
            person=person,
            rows=rows or [],
            form=form,
            query=request.url.query,
            category_options=list(found["names"].items()),
            region_options=list(found["region_names"].items()),
            **found,
        )

    @get("/officer/arrangements/{request_id:str}", summary="One arrangement's timeline")
    async def arrangement(
        self, request: Request, state: State, person: Person, request_id: str
    ) -> Template:
        trail, found = await asyncio.gather(
            state.services.get("partnerships", f"/audit/arrangements/{request_id}", person.token),
            catalogue(state),
        )
        return render(request, "officer/arrangement.html", person=person, trail=trail, **found)

    @get("/officer/settlements", summary="The settlement of a period")
    async def settlements(
        self, request: Request, state: State, person: Person, format: str | None = None
    ) -> Template | Response:
        form = Form(values=chosen(request, PERIOD))
        statement = await self._read(state, person, "/settlements", form, format == "csv")
        if format == "csv" and statement is not None:
            return csv_file(statement, "settlement")
        return render(
            request,
            "officer/settlements.html",
            status_code=form.refused or 200,
            person=person,
            statement=statement,
            form=form,
            query=request.url.query,
        )


AUDIT_PAGES = [AuditPages]
