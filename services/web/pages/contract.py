"""The officer's page of one contract: its versions side by side (as it stands, or as it stood
at a moment), the amendment waiting for signatures, and amending, suspending, resuming and
terminating it; and the audit page: each service's latest signed checkpoint and whether its
signature holds."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from domain.audit.checkpoint import open_checkpoint
from domain.audit.note import NoteError, Verifier
from services import registry
from services.web.client import Refusal, Unreachable
from services.web.forms import N_, Form, form_of, sent, typed_moment
from services.web.pages import back_to, catalogue, render
from services.web.pages.officer import CONTRACTS, cents, listed, provider_record
from services.web.people import Person, needs

# The terms a version holds, as its table's rows show them.
TERMS = (
    ("unit_price_cents", N_("Price per hour")),
    ("budget_cents", N_("Budget")),
    ("categories", N_("Services")),
    ("regions", N_("Areas")),
    ("valid_from", N_("Valid from")),
    ("valid_until", N_("Valid until")),
)
AMENDMENT_FIELDS = ("effective_from", "unit_price", "budget", "valid_until", "reason")
AMENDMENT_ALIASES = {"unit_price_cents": "unit_price", "budget_cents": "budget"}
# What an officer decides of a contract in force: the service's path, and its notice.
DECISIONS = {
    "suspend": ("suspension", N_("The contract is suspended: no new work under it.")),
    "resume": ("resumption", N_("The contract is in force again.")),
    "terminate": ("termination", N_("The contract is terminated.")),
}


class ContractPages(Controller):
    dependencies = {"person": Provide(needs("officer"))}

    async def _page(
        self,
        request: Request,
        state: State,
        person: Person,
        contract_id: str,
        forms: dict[str, Form] | None = None,
        as_of: str | None = None,
        status_code: int = 200,
    ) -> Template:
        at = typed_moment(as_of)
        history, found = await asyncio.gather(
            state.services.get(
                "partnerships",
                f"/contracts/{contract_id}/versions",
                person.token,
                as_of=at.isoformat() if at else None,
            ),
            catalogue(state),
        )
        record = await provider_record(state, person, history["provider_id"])
        return render(
            request,
            "officer/contract.html",
            provider_name=record["name"] if record else history["provider_id"],
            status_code=status_code,
            person=person,
            contract=history,
            terms=TERMS,
            forms=forms or {},
            as_of=as_of or "",
            **found,
        )

    @get(f"{CONTRACTS}/{{contract_id:str}}", summary="One contract, its versions side by side")
    async def contract(
        self,
        request: Request,
        state: State,
        person: Person,
        contract_id: str,
        as_of: str | None = None,
    ) -> Template:
        return await self._page(request, state, person, contract_id, as_of=as_of)

    @post(f"{CONTRACTS}/{{contract_id:str}}/amend", summary="Propose an amendment")
    async def amend(
        self, request: Request, state: State, person: Person, contract_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body: dict[str, Any] = {
            "effective_from": form.get("effective_from") or None,
            "reason": form.get("reason"),
        }
        for field, term in (("unit_price", "unit_price_cents"), ("budget", "budget_cents")):
            if form.get(field):
                body[term] = cents(form.get(field))
        if form.get("valid_until"):
            body["valid_until"] = form.get("valid_until")
        if form.get("regions"):
            body["regions"] = listed(form.get("regions"))
        receipt = await sent(
            form,
            state.services.post(
                "partnerships",
                f"/contracts/{contract_id}/amendments",
                body,
                person.token,
                key=form.key,
            ),
            AMENDMENT_FIELDS,
            AMENDMENT_ALIASES,
        )
        if form.refused:
            return await self._page(
                request, state, person, contract_id, {"amend": form}, status_code=form.refused
            )
        return back_to(
            request,
            f"{CONTRACTS}/{contract_id}?position={receipt['position']}",
            N_("The amendment is proposed: both parties sign it next."),
        )

    @post(f"{CONTRACTS}/{{contract_id:str}}/{{decision:str}}", summary="Suspend, resume, end")
    async def decide(
        self, request: Request, state: State, person: Person, contract_id: str, decision: str
    ) -> Template | Redirect:
        if decision not in DECISIONS:
            return render(request, "error.html", status_code=404, status=404, detail="")
        path, notice = DECISIONS[decision]
        form = await form_of(request)
        body: dict[str, Any] = {"reason": form.get("reason")}
        if decision == "terminate" and form.get("on"):
            body["on"] = form.get("on")
        await sent(
            form,
            state.services.post(
                "partnerships", f"/contracts/{contract_id}/{path}", body, person.token, key=form.key
            ),
            ("reason", "on"),
        )
        if form.refused:
            return await self._page(
                request, state, person, contract_id, {decision: form}, status_code=form.refused
            )
        return back_to(request, f"{CONTRACTS}/{contract_id}", notice)


async def latest_checkpoint(state: State, service: str) -> dict[str, Any]:
    """A service's latest signed checkpoint, and whether its signature holds with the key
    the service publishes (which a partner compares with the one they keep)."""
    try:
        kept, key = await asyncio.gather(
            state.services.get(service, "/audit/checkpoints", None, limit=1),
            state.services.text(service, "/audit/key"),
        )
    except (Refusal, Unreachable) as failed:
        return {"service": service, "error": str(failed)}
    if not kept:
        return {"service": service, "key": key.strip(), "latest": None, "holds": False}
    latest = kept[0]
    try:
        open_checkpoint(latest["note"], [Verifier.parse(key)])
        holds = True
    except (NoteError, ValueError):
        holds = False
    return {"service": service, "key": key.strip(), "latest": latest, "holds": holds}


@get(
    "/officer/audit",
    summary="Each log's latest signed checkpoint",
    dependencies={"person": Provide(needs("officer"))},
)
async def audit_page(request: Request, state: State, person: Person) -> Template:
    logs = await asyncio.gather(
        *(latest_checkpoint(state, service.name) for service in registry.SERVICES)
    )
    return render(request, "officer/audit.html", person=person, logs=logs)


CONTRACT_PAGES = [ContractPages, audit_page]
