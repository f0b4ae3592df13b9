"""The provider member's pages: the inbox of open offers (updating by itself) with the reason
each was made and the time left to answer, accepting and declining; the provider's jobs and
reporting their hours; its members and pauses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from services.web.client import Refusal
from services.web.forms import N_, Form, form_of, refused
from services.web.pages import back_to, render
from services.web.pages.resident import catalogue, number_or_text
from services.web.people import Person, needs


def time_left(expires_at: str | None) -> dict[str, int] | None:
    if not expires_at:
        return None
    seconds = int((datetime.fromisoformat(expires_at) - datetime.now(UTC)).total_seconds())
    seconds = max(seconds, 0)
    return {"hours": seconds // 3600, "minutes": seconds % 3600 // 60}


class ProviderPages(Controller):
    dependencies = {"person": Provide(needs("provider"))}

    async def _inbox(self, state: State, person: Person) -> dict[str, Any]:
        offers = await state.services.get("matching", "/offers/", person.token, status="open")

        async def why(offer: dict) -> dict:
            try:
                made = await state.services.get(
                    "matching", f"/offers/{offer['offer_id']}", person.token
                )
            except Refusal:
                made = {}
            return {**offer, "why": made.get("why", ""), "left": time_left(offer["expires_at"])}

        found = await catalogue(state)
        return {
            "offers": await asyncio.gather(*(why(o) for o in offers)),
            "names": {c["code"]: c["name"] for c in found["categories"]},
            "regions": {r["code"]: r["name"] for r in found["regions"]},
            "forms": {},
        }

    @get("/provider/offers", summary="The provider's inbox")
    async def offers(self, request: Request, state: State, person: Person) -> Template:
        return render(request, "provider/offers.html", **await self._inbox(state, person))

    @get("/provider/offers/list", summary="The inbox's offers (live part)")
    async def offers_list(self, request: Request, state: State, person: Person) -> Template:
        return render(request, "provider/offers_list.html", **await self._inbox(state, person))

    @post("/provider/offers/{offer_id:str}/{answer:str}", summary="Accept or decline an offer")
    async def answer(
        self, request: Request, state: State, person: Person, offer_id: str, answer: str
    ) -> Template | Redirect:
        if answer not in ("accept", "decline"):
            return render(request, "error.html", status_code=404, status=404, detail="")
        form = await form_of(request)
        path, body = (
            ("acceptance", {})
            if answer == "accept"
            else ("decline", {"reason": form.get("reason")})
        )
        try:
            await state.services.post(
                "matching", f"/offers/{offer_id}/{path}", body, person.token, key=form.key
            )
        except Refusal as refusal:
            if refusal.status in (401, 404):
                raise
            refused(form, refusal, ("reason",))
            context = await self._inbox(state, person)
            context["forms"] = {offer_id: form}
            return render(request, "provider/offers.html", status_code=refusal.status, **context)
        notice = (
            N_("You took the job: it is in your jobs.")
            if answer == "accept"
            else N_("You passed the job on: the next provider is asked.")
        )
        return back_to(request, "/provider/offers", notice)

    async def _jobs(self, state: State, person: Person) -> dict[str, Any]:
        jobs = await state.services.get(
            "requests", "/requests/", person.token, provider_id=person.provider, limit=100
        )
        found = await catalogue(state)
        return {
            "jobs": jobs,
            "names": {c["code"]: c["name"] for c in found["categories"]},
            "regions": {r["code"]: r["name"] for r in found["regions"]},
            "forms": {},
        }

    @get("/provider/jobs", summary="The provider's jobs")
    async def jobs(self, request: Request, state: State, person: Person) -> Template:
        return render(request, "provider/jobs.html", **await self._jobs(state, person))

    @post("/provider/jobs/{request_id:str}/hours", summary="Report the hours of a job")
    async def hours(
        self, request: Request, state: State, person: Person, request_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            await state.services.post(
                "requests",
                f"/requests/{request_id}/completion",
                {"hours": number_or_text(form.get("hours"))},
                person.token,
                key=form.key,
            )
        except Refusal as refusal:
            if refusal.status in (401, 404):
                raise
            refused(form, refusal, ("hours",))
            context = await self._jobs(state, person)
            context["forms"] = {request_id: form}
            return render(request, "provider/jobs.html", status_code=refusal.status, **context)
        return back_to(request, "/provider/jobs", N_("The hours are reported to the resident."))

    @get("/provider/team", summary="The provider's members and pauses")
    async def team(self, request: Request, state: State, person: Person) -> Template:
        record = await state.services.get(
            "providers", f"/providers/{person.provider}", person.token
        )
        return render(request, "provider/team.html", record=record, form=Form())

    @post("/provider/team/{what:str}", summary="Add a member, or pause")
    async def change_team(
        self, request: Request, state: State, person: Person, what: str
    ) -> Template | Redirect:
        form = await form_of(request)
        base = f"/providers/{person.provider}"
        calls = {
            "members": (
                f"{base}/members",
                {"name": form.get("name"), "role": form.get("role")},
            ),
            "pauses": (
                f"{base}/pauses",
                {
                    k: v
                    for k, v in {
                        "starts": form.get("starts"),
                        "ends": form.get("ends"),
                        "reason": form.get("reason"),
                    }.items()
                    if v
                },
            ),
        }
        if what not in calls:
            return render(request, "error.html", status_code=404, status=404, detail="")
        path, body = calls[what]
        try:
            await state.services.post("providers", path, body, person.token, key=form.key)
        except Refusal as refusal:
            if refusal.status in (401, 404):
                raise
            refused(form, refusal, ("name", "role", "starts", "ends", "reason"))
            record = await state.services.get("providers", base, person.token)
            return render(
                request, "provider/team.html", status_code=refusal.status, record=record, form=form
            )
        return back_to(request, "/provider/team", N_("Saved."))


PROVIDER_PAGES = [ProviderPages]
