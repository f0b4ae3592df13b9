"""The admin's pages: snowfall days for regions, and the catalogue as it stands."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from services.web.client import Refusal
from services.web.forms import N_, Form, form_of, refused
from services.web.pages import back_to, render
from services.web.pages.officer import listed
from services.web.pages.resident import catalogue
from services.web.people import Person, needs


class AdminPages(Controller):
    dependencies = {"person": Provide(needs("admin"))}

    async def _snowfall(self, request: Request, state: State, form: Form, status_code=200):
        days = await state.services.get("requests", "/snowfall-days/", None)
        found = await catalogue(state)
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
    async def snowfall(self, request: Request, state: State, person: Person) -> Template:
        return await self._snowfall(request, state, Form())

    @post("/admin/snowfall", summary="Declare a snowfall day")
    async def declare(self, request: Request, state: State, person: Person) -> Template | Redirect:
        form = await form_of(request)
        body = {"day": form.get("day") or None, "regions": listed(form.get("regions"))}
        try:
            await state.services.post(
                "requests", "/snowfall-days/", body, person.token, key=form.key
            )
        except Refusal as refusal:
            if refusal.status == 401:
                raise
            refused(form, refusal, ("day", "regions"))
            return await self._snowfall(request, state, form, refusal.status)
        return back_to(request, "/admin/snowfall", N_("The snowfall day is declared."))

    @get("/admin/catalogue", summary="The catalogue")
    async def catalogue_page(self, request: Request, state: State, person: Person) -> Template:
        return render(request, "admin/catalogue.html", **await catalogue(state))


ADMIN_PAGES = [AdminPages]
