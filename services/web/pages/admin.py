"""The admin's pages: snowfall days for regions, and the catalogue as it stands."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from services.web.forms import N_, Form, form_of, sent
from services.web.pages import back_to, catalogue, render
from services.web.pages.officer import FROM_THE_LISTS, listed
from services.web.people import Person, needs


class AdminPages(Controller):
    dependencies = {"person": Provide(needs("admin"))}

    async def _snowfall(
        self, request: Request, state: State, form: Form, status_code=200, position: int = 0
    ):
        days, found = await asyncio.gather(
            state.services.get("requests", "/snowfall-days/", None, position=position or None),
            catalogue(state),
        )
        return render(
            request,
            "admin/snowfall.html",
            status_code=status_code,
            days=days,
            form=form,
            regions=found["regions"],
            region_names={r["code"]: r["name"] for r in found["regions"]},
        )

    @get("/admin/snowfall", summary="Snowfall days")
    async def snowfall(
        self, request: Request, state: State, person: Person, position: int = 0
    ) -> Template:
        return await self._snowfall(request, state, Form(), position=position)

    @post("/admin/snowfall", summary="Declare a snowfall day")
    async def declare(self, request: Request, state: State, person: Person) -> Template | Redirect:
        form = await form_of(request)
        body = {"day": form.get("day") or None, "regions": listed(form.get("regions"))}
        receipt = await sent(
            form,
            state.services.post("requests", "/snowfall-days/", body, person.token, key=form.key),
            ("day", "regions"),
            {"region": "regions"},
            FROM_THE_LISTS,
            passes=(401,),
        )
        if form.refused:
            return await self._snowfall(request, state, form, form.refused)
        return back_to(
            request,
            f"/admin/snowfall?position={receipt['position']}",
            N_("The snowfall day is declared."),
        )

    @get("/admin/catalogue", summary="The catalogue")
    async def catalogue_page(self, request: Request, state: State, person: Person) -> Template:
        return render(request, "admin/catalogue.html", **await catalogue(state))


ADMIN_PAGES = [AdminPages]
