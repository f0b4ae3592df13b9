"""The city officer's pages: the partner's contracts (budget use as a bar of what is charged,
held for jobs not yet charged and remaining; the charges; proposing and signing), disputes to
rule on, the providers under the partner's contracts (suspend, reinstate), and the matching
decisions of the partner's jobs."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from services.web.client import Refusal
from services.web.forms import FORM, N_, Form, form_of, number_or_text, say, sent
from services.web.pages import back_to, catalogue, render
from services.web.people import Person, needs

CONTRACTS = "/officer/contracts"
DISPUTES = "/officer/disputes"
PROVIDERS = "/officer/providers"

CONTRACT_FIELDS = (
    "provider_id",
    "categories",
    "regions",
    "unit_price",
    "budget",
    "valid_from",
    "valid_until",
    "pricing",
    "voucher",
)
# The service's names of the form's fields: the cents are typed in euros, and an unknown
# category or region is a choice of the lists.
CONTRACT_ALIASES = {
    "unit_price_cents": "unit_price",
    "budget_cents": "budget",
    "voucher_cents": "voucher",
    "category": "categories",
    "region": "regions",
}
# An unknown code is said as a choice from the list, not as a request form's one category.
FROM_THE_LISTS = {"category": "known_categories", "region": "known_regions"}
RULING_FIELDS = ("outcome", "note", "hours")
DECISIONS = ("suspension", "reinstatement")
# The most a page lists (the services' own bound).
MOST = 1000


def cents(value: Any) -> Any:
    """Euros as typed (``32,50``) in cents; what is not a number of euros goes as typed, for
    the service to name."""
    number = number_or_text(value)
    return round(number * 100) if isinstance(number, float) else number


def listed(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def budget_bar(contract: dict, held_cents: int) -> dict[str, Any]:
    """A contract's budget in three parts: charged, held for jobs offered or accepted but not
    yet charged, and what remains of it (the budget less both, never below nothing), each in
    cents and as its share of the bar (in per cent, adding up to 100)."""
    budget = max(contract.get("budget_cents") or 0, 0)
    charged = max(contract.get("charged_cents") or 0, 0)
    held = max(held_cents, 0)
    remaining = max(budget - charged - held, 0)
    if budget == 0:
        return {"charged": charged, "held": held, "remaining": 0, "widths": (0.0, 0.0, 0.0)}
    charged_width = min(100.0, 100 * charged / budget)
    held_width = min(100.0 - charged_width, 100 * held / budget)
    widths = (charged_width, held_width, 100.0 - charged_width - held_width)
    return {"charged": charged, "held": held, "remaining": remaining, "widths": widths}


async def provider_record(state: State, person: Person, provider_id: str) -> dict | None:
    """The provider's record as the officer reads it; None for one that is not there (a
    contract proposed before proposals were checked may name anybody)."""
    try:
        return await state.services.get("providers", f"/providers/{provider_id}", person.token)
    except Refusal as refusal:
        if refusal.status in (400, 404):
            return None
        raise


class OfficerPages(Controller):
    dependencies = {"person": Provide(needs("officer"))}

    # --- contracts -----------------------------------------------------------------------

    async def _contracts(
        self, state: State, person: Person, form: Form, position: int = 0
    ) -> dict[str, Any]:
        ledger, budgets, found = await asyncio.gather(
            state.services.get(
                "partnerships", "/ledger/", person.token, limit=MOST, position=position or None
            ),
            state.services.get("matching", "/budgets/", person.token, limit=MOST),
            catalogue(state),
        )
        held = {b["contract_id"]: b["held_cents"] for b in budgets}
        providers = list(dict.fromkeys(c["provider_id"] for c in ledger))
        whole, records = await asyncio.gather(
            asyncio.gather(
                *(
                    state.services.get(
                        "partnerships", f"/contracts/{c['contract_id']}", person.token
                    )
                    for c in ledger
                )
            ),
            asyncio.gather(*(provider_record(state, person, i) for i in providers)),
        )
        named = {i: r["name"] for i, r in zip(providers, records, strict=True) if r}
        return {
            "contracts": [
                {
                    **c,
                    "bar": budget_bar(c, held.get(c["contract_id"], 0)),
                    "provider_name": named.get(c["provider_id"], c["provider_id"]),
                }
                for c in whole
            ],
            "form": form,
            "problem": "",
            **found,
        }

    @get(CONTRACTS, summary="The partner's contracts")
    async def contracts(
        self, request: Request, state: State, person: Person, position: int = 0
    ) -> Template:
        context = await self._contracts(state, person, Form(), position)
        return render(request, "officer/contracts.html", **context)

    @post(CONTRACTS, summary="Propose a contract")
    async def propose(self, request: Request, state: State, person: Person) -> Template | Redirect:
        form = await form_of(request)
        body = {
            "provider_id": str(form.get("provider_id") or "").strip() or None,
            "categories": listed(form.get("categories")),
            "regions": listed(form.get("regions")),
            "unit_price_cents": cents(form.get("unit_price")),
            "budget_cents": cents(form.get("budget")),
            "valid_from": form.get("valid_from") or None,
            "valid_until": form.get("valid_until") or None,
            "pricing": form.get("pricing") or "hour",
        }
        if form.get("voucher"):
            body["voucher_cents"] = cents(form.get("voucher"))
        receipt = await sent(
            form,
            state.services.post("partnerships", "/contracts/", body, person.token, key=form.key),
            CONTRACT_FIELDS,
            CONTRACT_ALIASES,
            FROM_THE_LISTS,
            passes=(401,),
        )
        if form.refused:
            context = await self._contracts(state, person, form)
            return render(request, "officer/contracts.html", status_code=form.refused, **context)
        return back_to(
            request, f"{CONTRACTS}?position={receipt['position']}", N_("The contract is proposed.")
        )

    @post(f"{CONTRACTS}/{{contract_id:str}}/sign", summary="Sign a contract")
    async def sign(
        self, request: Request, state: State, person: Person, contract_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            receipt = await state.services.post(
                "partnerships",
                f"/contracts/{contract_id}/signatures",
                {"party": "partner"},
                person.token,
                key=form.key,
            )
        except Refusal as refusal:
            if refusal.status in (401, 404):
                raise
            # signing without the right to sign, or a contract signed already: said at the top
            context = await self._contracts(state, person, Form())
            rule = refusal.rule or FORM
            context["problem"] = say(
                "already_signed" if rule == "wrong_state" else rule, refusal.detail
            )
            return render(request, "officer/contracts.html", status_code=refusal.status, **context)
        return back_to(
            request, f"{CONTRACTS}?position={receipt['position']}", N_("You signed the contract.")
        )

    # --- disputes ------------------------------------------------------------------------

    async def _disputes(self, state: State, person: Person, position: int = 0) -> dict[str, Any]:
        waiting, found = await asyncio.gather(
            state.services.get(
                "requests",
                "/requests/",
                person.token,
                status="disputed",
                limit=MOST,
                position=position or None,
            ),
            catalogue(state),
        )
        return {"disputes": waiting, "forms": {}, **found}

    @get(DISPUTES, summary="Disputes waiting for a ruling")
    async def disputes(
        self, request: Request, state: State, person: Person, position: int = 0
    ) -> Template:
        context = await self._disputes(state, person, position)
        return render(request, "officer/disputes.html", **context)

    @post(f"{DISPUTES}/{{request_id:str}}", summary="Rule on a dispute")
    async def rule(
        self, request: Request, state: State, person: Person, request_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {"outcome": form.get("outcome") or None, "note": form.get("note")}
        if form.get("hours"):
            body["hours"] = number_or_text(form.get("hours"))
        receipt = await sent(
            form,
            state.services.post(
                "requests", f"/requests/{request_id}/resolution", body, person.token, key=form.key
            ),
            RULING_FIELDS,
        )
        if form.refused:
            context = await self._disputes(state, person)
            context["forms"] = {request_id: form}
            return render(request, "officer/disputes.html", status_code=form.refused, **context)
        return back_to(
            request, f"{DISPUTES}?position={receipt['position']}", N_("The dispute is ruled.")
        )

    # --- providers -----------------------------------------------------------------------

    async def _providers(self, state: State, person: Person) -> list[dict]:
        """The providers the partner has a contract in force with today, as the providers
        service says (each record names its partners): those the officer may suspend."""
        ledger = await state.services.get("partnerships", "/ledger/", person.token, limit=MOST)
        ids = list(dict.fromkeys(c["provider_id"] for c in ledger if c["status"] == "active"))
        found = await asyncio.gather(*(provider_record(state, person, i) for i in ids))
        return [p for p in found if p is not None and person.partner in p.get("partners", [])]

    @get(PROVIDERS, summary="Providers under the partner's contracts")
    async def providers(self, request: Request, state: State, person: Person) -> Template:
        return render(
            request,
            "officer/providers.html",
            providers=await self._providers(state, person),
            forms={},
        )

    @post(f"{PROVIDERS}/{{provider_id:str}}/{{decision:str}}", summary="Suspend or reinstate")
    async def decide(
        self, request: Request, state: State, person: Person, provider_id: str, decision: str
    ) -> Template | Redirect:
        if decision not in DECISIONS:
            return render(request, "error.html", status_code=404, status=404, detail="")
        form = await form_of(request)
        await sent(
            form,
            state.services.post(
                "providers",
                f"/providers/{provider_id}/{decision}",
                {"reason": form.get("reason")},
                person.token,
                key=form.key,
            ),
            ("reason",),
            said_as={"wrong_state": "provider_moved_on"},
        )
        if form.refused:
            return render(
                request,
                "officer/providers.html",
                status_code=form.refused,
                providers=await self._providers(state, person),
                forms={provider_id: form},
            )
        notice = (
            N_("The provider is suspended.")
            if decision == "suspension"
            else N_("The provider is reinstated.")
        )
        return back_to(request, PROVIDERS, notice)

    # --- matching decisions --------------------------------------------------------------

    @get("/officer/decisions", summary="The matching decisions of the partner's jobs")
    async def decisions(self, request: Request, state: State, person: Person) -> Template:
        jobs, found = await asyncio.gather(
            state.services.get("requests", "/requests/", person.token, limit=100),
            catalogue(state),
        )
        return render(request, "officer/decisions.html", jobs=jobs, **found)

    @get("/officer/decisions/{request_id:str}", summary="Why a job went where it did")
    async def decision(
        self, request: Request, state: State, person: Person, request_id: str
    ) -> Template:
        job, found = await asyncio.gather(
            state.services.get("matching", f"/jobs/{request_id}", person.token),
            catalogue(state),
        )
        offers = await asyncio.gather(
            *(
                state.services.get("matching", f"/offers/{o['offer_id']}", person.token)
                for o in job.get("offers", [])
            )
        )
        return render(request, "officer/decision.html", job=job, offers=offers, **found)


OFFICER_PAGES = [OfficerPages]
