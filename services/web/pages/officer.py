"""The city officer's pages: the partner's contracts (budget use as a bar, charges, proposing
and signing), disputes to rule on, the providers under the partner's contracts (suspend,
reinstate), and the matching decisions of the partner's jobs."""

from __future__ import annotations

import asyncio
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

CONTRACT_FIELDS = (
    "provider_id",
    "categories",
    "regions",
    "unit_price",
    "budget",
    "valid_from",
    "valid_until",
)
CONTRACT_ALIASES = {"unit_price_cents": "unit_price", "budget_cents": "budget"}


def cents(value: Any) -> Any:
    """Euros as typed (``32,50``) in cents; what is not a number goes as typed, to be named."""
    number = number_or_text(value)
    return round(number * 100) if isinstance(number, float) else number


def listed(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


class OfficerPages(Controller):
    dependencies = {"person": Provide(needs("officer"))}

    async def _contracts(self, state: State, person: Person, form: Form) -> dict[str, Any]:
        ledger = await state.services.get("partnerships", "/ledger/", person.token)
        whole = await asyncio.gather(
            *(
                state.services.get("partnerships", f"/contracts/{c['contract_id']}", person.token)
                for c in ledger
            )
        )
        found = await catalogue(state)
        return {
            "contracts": whole,
            "form": form,
            "categories": found["categories"],
            "regions": found["regions"],
            "names": {c["code"]: c["name"] for c in found["categories"]},
            "region_names": {r["code"]: r["name"] for r in found["regions"]},
        }

    @get("/officer/contracts", summary="The partner's contracts")
    async def contracts(self, request: Request, state: State, person: Person) -> Template:
        context = await self._contracts(state, person, Form())
        return render(request, "officer/contracts.html", **context)

    @post("/officer/contracts", summary="Propose a contract")
    async def propose(self, request: Request, state: State, person: Person) -> Template | Redirect:
        form = await form_of(request)
        body = {
            "provider_id": form.get("provider_id"),
            "categories": listed(form.get("categories")),
            "regions": listed(form.get("regions")),
            "unit_price_cents": cents(form.get("unit_price")),
            "budget_cents": cents(form.get("budget")),
            "valid_from": form.get("valid_from") or None,
            "valid_until": form.get("valid_until") or None,
        }
        try:
            await state.services.post(
                "partnerships", "/contracts/", body, person.token, key=form.key
            )
        except Refusal as refusal:
            if refusal.status == 401:
                raise
            refused(form, refusal, CONTRACT_FIELDS, CONTRACT_ALIASES)
            context = await self._contracts(state, person, form)
            return render(request, "officer/contracts.html", status_code=refusal.status, **context)
        return back_to(request, "/officer/contracts", N_("The contract is proposed."))

    @post("/officer/contracts/{contract_id:str}/sign", summary="Sign a contract")
    async def sign(
        self, request: Request, state: State, person: Person, contract_id: str
    ) -> Redirect:
        form = await form_of(request)
        await state.services.post(
            "partnerships",
            f"/contracts/{contract_id}/signatures",
            {"party": "partner"},
            person.token,
            key=form.key,
        )
        return back_to(request, "/officer/contracts", N_("You signed the contract."))

    @get("/officer/disputes", summary="Disputes waiting for a ruling")
    async def disputes(self, request: Request, state: State, person: Person) -> Template:
        return render(request, "officer/disputes.html", **await self._disputes(state, person))

    async def _disputes(self, state: State, person: Person) -> dict[str, Any]:
        waiting = await state.services.get(
            "requests", "/requests/", person.token, status="disputed"
        )
        found = await catalogue(state)
        return {
            "disputes": waiting,
            "names": {c["code"]: c["name"] for c in found["categories"]},
            "forms": {},
        }

    @post("/officer/disputes/{request_id:str}", summary="Rule on a dispute")
    async def rule(
        self, request: Request, state: State, person: Person, request_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {"outcome": form.get("outcome"), "note": form.get("note")}
        if form.get("hours"):
            body["hours"] = number_or_text(form.get("hours"))
        try:
            await state.services.post(
                "requests", f"/requests/{request_id}/resolution", body, person.token, key=form.key
            )
        except Refusal as refusal:
            if refusal.status in (401, 404):
                raise
            refused(form, refusal, ("outcome", "note", "hours"))
            context = await self._disputes(state, person)
            context["forms"] = {request_id: form}
            return render(request, "officer/disputes.html", status_code=refusal.status, **context)
        return back_to(request, "/officer/disputes", N_("The dispute is ruled."))

    async def _providers(self, state: State, person: Person) -> list[dict]:
        ledger = await state.services.get("partnerships", "/ledger/", person.token)
        ids = list(dict.fromkeys(c["provider_id"] for c in ledger))
        return list(
            await asyncio.gather(
                *(state.services.get("providers", f"/providers/{i}", person.token) for i in ids)
            )
        )

    @get("/officer/providers", summary="Providers under the partner's contracts")
    async def providers(self, request: Request, state: State, person: Person) -> Template:
        return render(
            request,
            "officer/providers.html",
            providers=await self._providers(state, person),
            forms={},
        )

    @post("/officer/providers/{provider_id:str}/{decision:str}", summary="Suspend or reinstate")
    async def decide(
        self, request: Request, state: State, person: Person, provider_id: str, decision: str
    ) -> Template | Redirect:
        if decision not in ("suspension", "reinstatement"):
            return render(request, "error.html", status_code=404, status=404, detail="")
        form = await form_of(request)
        try:
            await state.services.post(
                "providers",
                f"/providers/{provider_id}/{decision}",
                {"reason": form.get("reason")},
                person.token,
                key=form.key,
            )
        except Refusal as refusal:
            if refusal.status in (401, 404):
                raise
            refused(form, refusal, ("reason",))
            return render(
                request,
                "officer/providers.html",
                status_code=refusal.status,
                providers=await self._providers(state, person),
                forms={provider_id: form},
            )
        notice = (
            N_("The provider is suspended.")
            if decision == "suspension"
            else N_("The provider is reinstated.")
        )
        return back_to(request, "/officer/providers", notice)

    @get("/officer/decisions", summary="The matching decisions of the partner's jobs")
    async def decisions(self, request: Request, state: State, person: Person) -> Template:
        jobs = await state.services.get("requests", "/requests/", person.token, limit=100)
        found = await catalogue(state)
        return render(
            request,
            "officer/decisions.html",
            jobs=jobs,
            names={c["code"]: c["name"] for c in found["categories"]},
        )

    @get("/officer/decisions/{request_id:str}", summary="Why a job went where it did")
    async def decision(
        self, request: Request, state: State, person: Person, request_id: str
    ) -> Template:
        job = await state.services.get("matching", f"/jobs/{request_id}", person.token)
        offers = await asyncio.gather(
            *(
                state.services.get("matching", f"/offers/{o['offer_id']}", person.token)
                for o in job.get("offers", [])
            )
        )
        return render(request, "officer/decision.html", job=job, offers=offers)


OFFICER_PAGES = [OfficerPages]
