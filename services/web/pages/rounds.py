"""Participatory budgeting's pages: a round for its residents (proposals, selection, the
ballot with its running total against the rule) and for its coordinator (review, phases,
paper ballots, the tally); the recount for the city's officers."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from domain.calendar import local_today
from domain.errors import DomainError
from domain.tables.budgeting import BallotRule, Rule
from services.web import i18n
from services.web.forms import N_, SENTENCES, Form, form_of, number_or_text, sent
from services.web.pages import back_to, catalogue, render
from services.web.pages.officer import cents, listed
from services.web.people import NotForYou, Person, needs, person, signed_in

COORDINATOR_ROUNDS = "/coordinator/rounds"

# CONSUL Democracy's phases, in their order, as the page names them.
PHASES = (
    ("accepting", N_("Proposals")),
    ("reviewing", N_("Review")),
    ("selecting", N_("Selection")),
    ("publishing_costs", N_("Costs published")),
    ("balloting", N_("Voting")),
    ("finished", N_("Result")),
)
PHASE_ORDER = [code for code, _ in PHASES]
RULES = (
    ("between", N_("Pick between a minimum and a maximum of proposals")),
    ("at_least", N_("Pick at least a number of proposals")),
    ("share", N_("Spend at least a share of the budget")),
)

# What the services say of a round's fields, in the page's language (the keys that would
# mean something else on another page are said under a name of their own: ``said_as``).
SENTENCES.update(
    {
        "title": N_("Give a title."),
        "cost_cents": N_("Give the cost in euros: more than nothing, at most the round's budget."),
        "year": N_("Give the year, such as 2026."),
        "round_rule": N_("Choose the ballot's rule."),
        "threshold_percent": N_("Give the share of the budget, 1 to 100 per cent."),
        "minimum": N_("Give the smallest number of proposals a ballot picks, from 1 up."),
        "maximum": N_("Give the largest number of proposals a ballot picks: at least the least."),
        "selection_threshold": N_("Give the supports a proposal needs, from 0 up."),
        "phase": N_("That cannot be done in the round's present phase."),
        "feasible": N_("Choose whether the proposal is feasible."),
        "proposals": N_("Check the proposals picked."),
        "ballot": N_("That is your ballot already."),
        "voter": N_("Give the resident's id as checked at the booth."),
        "round_region": N_("The round is for the residents of the table's areas."),
        "supported": N_("You support that proposal already."),
    }
)
SAID_AS = {"rule": "round_rule", "region": "round_region"}
ROUND_FIELDS = (
    "title",
    "year",
    "budget",
    "rule",
    "threshold_percent",
    "minimum",
    "maximum",
    "selection_threshold",
)
ROUND_ALIASES = {"budget_cents": "budget"}
PROPOSAL_FIELDS = ("title", "description", "cost")
REVIEW_FIELDS = ("feasible", "reason", "cost")
COST = {"cost_cents": "cost"}
# A ballot's refusals name the rule's figure it breaks: all of them are about what is picked.
BALLOT_ALIASES = {"threshold_percent": "proposals", "minimum": "proposals", "maximum": "proposals"}


def number(value: Any) -> Any:
    """A whole number as typed; what is none goes as typed, for the service to name."""
    found = number_or_text(value)
    return int(found) if isinstance(found, float) and found.is_integer() else found


def phase_steps(phase: str) -> list[dict[str, Any]]:
    """The phases as steps: done, the present one, and those to come."""
    at = PHASE_ORDER.index(phase) if phase in PHASE_ORDER else -1
    return [
        {
            "code": code,
            "name": i18n.gettext(name),
            "state": "done" if n < at else "now" if n == at else "next",
        }
        for n, (code, name) in enumerate(PHASES)
    ]


def next_phase(phase: str) -> str | None:
    """The phase the coordinator moves the round to (the tally finishes a ballot)."""
    at = PHASE_ORDER.index(phase) if phase in PHASE_ORDER else len(PHASE_ORDER)
    following = PHASE_ORDER[at + 1 : at + 2]
    return following[0] if following and following[0] != "finished" else None


def rule_in_words(budgeting: dict) -> str:
    """The round's ballot rule as a resident reads it."""
    if budgeting["rule"] == BallotRule.SHARE:
        return i18n.gettext("Spend at least %(percent)s %% of the budget, %(least)s.") % {
            "percent": budgeting["threshold_percent"],
            "least": i18n.money(least_spent(budgeting)),
        }
    if budgeting["rule"] == BallotRule.AT_LEAST:
        return i18n.gettext("Pick at least %(n)s proposals.") % {"n": budgeting["minimum"]}
    return i18n.gettext("Pick between %(least)s and %(most)s proposals.") % {
        "least": budgeting["minimum"],
        "most": budgeting["maximum"],
    }


def least_spent(budgeting: dict) -> int:
    return math.ceil(budgeting["budget_cents"] * budgeting["threshold_percent"] / 100)


def on_ballot(budgeting: dict) -> list[dict]:
    ballot = set(budgeting.get("ballot") or ())
    return [p for p in budgeting["proposals"] if p["proposal_id"] in ballot]


def running_total(budgeting: dict, picked: list[str]) -> dict[str, Any]:
    """What a ballot of ``picked`` spends of the round's budget, whether the round's rule takes
    it (the domain's own check of a ballot) and, where not, what it needs, in the page's
    language."""
    costs = {p["proposal_id"]: p["cost_cents"] for p in on_ballot(budgeting)}
    budget = budgeting["budget_cents"]
    spent = sum(costs.get(p, 0) for p in picked)
    count = len(picked)
    needs_words = ""
    rule = Rule(
        BallotRule(budgeting["rule"]),
        budgeting["threshold_percent"],
        budgeting["minimum"],
        budgeting["maximum"],
    )
    try:
        rule.check(picked, costs, budget)
    except DomainError as broken:
        needs_words = what_it_needs(broken.rule, budgeting, spent, count, costs, picked)
    return {
        "spent": spent,
        "budget": budget,
        "left": budget - spent,
        "count": count,
        "valid": not needs_words,
        "needs": needs_words,
        "width": round(min(100.0, 100 * spent / budget), 1) if budget else 0.0,
        "mark": round(min(100.0, budgeting["threshold_percent"]), 1)
        if budgeting["rule"] == BallotRule.SHARE
        else None,
    }


def what_it_needs(
    rule: str, budgeting: dict, spent: int, count: int, costs: dict, picked: list[str]
) -> str:
    budget = budgeting["budget_cents"]
    if rule == "proposals":
        if any(p not in costs for p in picked) or len(set(picked)) != len(picked):
            return i18n.gettext("Pick only proposals on the ballot, each once.")
        return i18n.gettext("That costs %(over)s more than the budget: take something away.") % {
            "over": i18n.money(spent - budget)
        }
    if rule == "threshold_percent":
        return i18n.gettext("Spend at least %(percent)s %% of the budget: %(more)s more.") % {
            "percent": budgeting["threshold_percent"],
            "more": i18n.money(least_spent(budgeting) - spent),
        }
    if rule == "minimum":
        return i18n.gettext("Pick at least %(n)s proposals: %(more)s more.") % {
            "n": budgeting["minimum"],
            "more": budgeting["minimum"] - count,
        }
    if rule == "maximum":
        return i18n.gettext("Pick at most %(n)s proposals: %(fewer)s fewer.") % {
            "n": budgeting["maximum"],
            "fewer": count - budgeting["maximum"],
        }
    return i18n.gettext("The ballot does not keep the round's rule.")


def lives_at(someone: Person | None, table: dict) -> bool:
    """A resident of one of the table's regions: who takes part in its rounds."""
    return bool(
        someone and someone.holds("resident") and someone.region in table.get("regions", ())
    )


def runs(someone: Person | None, table_id: str) -> bool:
    return bool(
        someone
        and ((someone.holds("coordinator") and someone.table == table_id) or someone.holds("admin"))
    )


async def audits(request: Request) -> Person:
    """The recount's reader: an officer or an admin."""
    found = await person(request)
    if not (found.holds("officer") or found.holds("admin")):
        raise NotForYou("officer")
    return found


async def show_round(
    request: Request,
    state: State,
    round_id: str,
    forms: dict[str, Form] | None = None,
    status_code: int = 200,
    picked: list[str] | None = None,
) -> Template:
    someone = signed_in(request)
    token = someone.token if someone else None
    budgeting = await state.services.get("tables", f"/rounds/{round_id}", token)
    table, found = await asyncio.gather(
        state.services.get("tables", f"/tables/{budgeting['table_id']}", None),
        catalogue_names(state),
    )
    resident = lives_at(someone, table)
    mine = None
    if resident and budgeting["phase"] in ("balloting", "finished"):
        mine = await state.services.get("tables", f"/rounds/{round_id}/ballot", token)
    if picked is None:
        picked = list(mine["proposals"]) if mine else []
    names = {p["proposal_id"]: p["title"] for p in budgeting["proposals"]}
    return render(
        request,
        "rounds/round.html",
        status_code=status_code,
        round=budgeting,
        table=table,
        steps=phase_steps(budgeting["phase"]),
        rule_words=rule_in_words(budgeting),
        on_ballot=on_ballot(budgeting),
        names=names,
        resident=resident,
        elsewhere=bool(someone and someone.holds("resident") and not resident),
        coordinates=runs(someone, budgeting["table_id"]),
        audits=bool(someone and (someone.holds("officer") or someone.holds("admin"))),
        next_phase=next_phase(budgeting["phase"]),
        mine=mine,
        picked=picked,
        total=running_total(budgeting, picked),
        forms=forms or {},
        region_names=found,
        rules={code: i18n.gettext(words) for code, words in RULES},
    )


class RoundPages(Controller):
    """A round's page for everybody, with what the signed-in person may do there."""

    @get("/rounds/{round_id:str}", summary="A participatory budgeting round")
    async def round_page(self, request: Request, state: State, round_id: str) -> Template:
        return await show_round(request, state, round_id)

    @get("/rounds", summary="A table's budgeting rounds")
    async def rounds(self, request: Request, state: State, table: str = "") -> Template:
        if not table:
            someone = signed_in(request)
            table = (someone.table if someone else None) or ""
        return await rounds_page(request, state, table, Form())

    @get("/rounds/{round_id:str}/recount", summary="The round recounted from its events")
    async def recount(self, request: Request, state: State, round_id: str) -> Template:
        someone = await audits(request)
        budgeting, again = await asyncio.gather(
            state.services.get("tables", f"/rounds/{round_id}", someone.token),
            state.services.get("tables", f"/rounds/{round_id}/recount", someone.token),
        )
        names = {p["proposal_id"]: p["title"] for p in budgeting["proposals"]}
        return render(request, "rounds/recount.html", round=budgeting, recount=again, names=names)


async def catalogue_names(state: State) -> dict[str, str]:
    return (await catalogue(state))["region_names"]


async def rounds_page(
    request: Request, state: State, table_id: str, form: Form, status_code: int = 200
) -> Template:
    someone = signed_in(request)
    table = rounds = None
    if table_id:
        table, rounds = await asyncio.gather(
            state.services.get("tables", f"/tables/{table_id}", None),
            state.services.get("tables", f"/tables/{table_id}/rounds", None),
        )
    tables = [] if table else await state.services.get("tables", "/tables", None)
    return render(
        request,
        "rounds/rounds.html",
        status_code=status_code,
        table=table,
        rounds=rounds or [],
        tables=tables,
        coordinates=bool(table and runs(someone, table["table_id"])),
        form=form,
        rule_options=[(code, i18n.gettext(words)) for code, words in RULES],
        phase_names={code: i18n.gettext(name) for code, name in PHASES},
    )


class ResidentRoundPages(Controller):
    """What a resident of the table's regions does in its round."""

    dependencies = {"person": Provide(needs("resident"))}

    @post("/rounds/{round_id:str}/selection/{proposal_id:str}", summary="Support a proposal")
    async def select(
        self, request: Request, state: State, person: Person, round_id: str, proposal_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        path = f"/rounds/{round_id}/proposals/{proposal_id}/selection"
        await sent(
            form,
            state.services.post("tables", path, {}, person.token, key=form.key),
            said_as=SAID_AS,
        )
        if form.refused:
            return await show_round(
                request, state, round_id, {f"select-{proposal_id}": form}, form.refused
            )
        return back_to(
            request, f"/rounds/{round_id}#p-{proposal_id}", N_("You support the proposal.")
        )

    @post("/rounds/{round_id:str}/ballot", summary="Check or cast one's ballot")
    async def ballot(
        self, request: Request, state: State, person: Person, round_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        picked = list(dict.fromkeys(listed(form.get("proposals"))))
        if form.get("action") != "cast":  # a check: the total, and nothing sent
            return await show_round(request, state, round_id, {}, picked=picked)
        await sent(
            form,
            state.services.put(
                "tables",
                f"/rounds/{round_id}/ballot",
                {"proposals": picked},
                person.token,
                key=form.key,
            ),
            ("proposals",),
            BALLOT_ALIASES,
            SAID_AS,
        )
        if form.refused:
            budgeting = await state.services.get("tables", f"/rounds/{round_id}", person.token)
            total = running_total(budgeting, picked)
            if total["needs"] and "proposals" in form.errors:
                form.errors["proposals"] = total["needs"]
            return await show_round(
                request, state, round_id, {"ballot": form}, form.refused, picked
            )
        return back_to(request, f"/rounds/{round_id}#ballot", N_("Your ballot is cast."))

    @post("/rounds/{round_id:str}/ballot/total", summary="The ballot's running total")
    async def total(
        self, request: Request, state: State, person: Person, round_id: str
    ) -> Template:
        """What the ticked proposals spend against the rule, for the page to show as the
        resident ticks (htmx swaps it in); nothing is sent to the service."""
        form = await form_of(request)
        picked = list(dict.fromkeys(listed(form.get("proposals"))))
        budgeting = await state.services.get("tables", f"/rounds/{round_id}", person.token)
        return render(
            request,
            "rounds/total.html",
            round=budgeting,
            total=running_total(budgeting, picked),
            rule_words=rule_in_words(budgeting),
        )


class ProposalPages(Controller):
    """A proposal, made by a resident of the regions or the table's coordinator."""

    @post("/rounds/{round_id:str}/proposals", summary="Make a proposal")
    async def propose(self, request: Request, state: State, round_id: str) -> Template | Redirect:
        someone = await person(request)
        form = await form_of(request)
        body = {
            "title": str(form.get("title") or "").strip(),
            "description": str(form.get("description") or "").strip(),
            "cost_cents": cents(form.get("cost")),
        }
        await sent(
            form,
            state.services.post(
                "tables", f"/rounds/{round_id}/proposals", body, someone.token, key=form.key
            ),
            PROPOSAL_FIELDS,
            COST,
            SAID_AS,
            passes=(401, 404),
        )
        if form.refused:
            return await show_round(request, state, round_id, {"propose": form}, form.refused)
        return back_to(request, f"/rounds/{round_id}", N_("Your proposal is in the round."))


class CoordinatorRoundPages(Controller):
    """What the table's coordinator does with its rounds."""

    dependencies = {"person": Provide(needs("coordinator"))}

    @get(COORDINATOR_ROUNDS, summary="The coordinator's table's rounds")
    async def mine(self, request: Request, state: State, person: Person) -> Template:
        fresh = Form(values={"year": str(local_today().year), "selection_threshold": "0"})
        return await rounds_page(request, state, person.table or "", fresh)

    @post(COORDINATOR_ROUNDS, summary="Open a round")
    async def open_round(
        self, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        body: dict[str, Any] = {
            "title": str(form.get("title") or "").strip(),
            "year": number(form.get("year")),
            "budget_cents": cents(form.get("budget")),
            "rule": form.get("rule") or None,
        }
        for name in ("threshold_percent", "minimum", "maximum", "selection_threshold"):
            if form.get(name) not in (None, ""):
                body[name] = number(form.get(name))
        receipt = await sent(
            form,
            state.services.post(
                "tables", f"/tables/{person.table}/rounds", body, person.token, key=form.key
            ),
            ROUND_FIELDS,
            ROUND_ALIASES,
            SAID_AS,
        )
        if form.refused:
            return await rounds_page(request, state, person.table or "", form, form.refused)
        return back_to(request, f"/rounds/{receipt['id']}", N_("The round is open."))

    @post("/rounds/{round_id:str}/phase", summary="Move the round on")
    async def advance(
        self, request: Request, state: State, person: Person, round_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        await sent(
            form,
            state.services.post(
                "tables",
                f"/rounds/{round_id}/phase",
                {"phase": form.get("phase") or None},
                person.token,
                key=form.key,
            ),
            said_as=SAID_AS,
        )
        if form.refused:
            return await show_round(request, state, round_id, {"phase": form}, form.refused)
        return back_to(request, f"/rounds/{round_id}", N_("The round moved on."))

    @post("/rounds/{round_id:str}/review/{proposal_id:str}", summary="Review a proposal")
    async def review(
        self, request: Request, state: State, person: Person, round_id: str, proposal_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        feasible = {"yes": True, "no": False}.get(str(form.get("feasible")))
        body: dict[str, Any] = {
            "feasible": feasible,
            "reason": str(form.get("reason") or "").strip(),
        }
        if form.get("cost"):
            body["cost_cents"] = cents(form.get("cost"))
        await sent(
            form,
            state.services.post(
                "tables",
                f"/rounds/{round_id}/proposals/{proposal_id}/review",
                body,
                person.token,
                key=form.key,
            ),
            REVIEW_FIELDS,
            COST,
            SAID_AS,
        )
        if form.refused:
            return await show_round(
                request, state, round_id, {f"review-{proposal_id}": form}, form.refused
            )
        return back_to(request, f"/rounds/{round_id}#p-{proposal_id}", N_("The review is saved."))

    @post("/rounds/{round_id:str}/paper-ballots", summary="Enter a paper ballot")
    async def paper(
        self, request: Request, state: State, person: Person, round_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {
            "voter": str(form.get("voter") or "").strip(),
            "proposals": list(dict.fromkeys(listed(form.get("proposals")))),
        }
        await sent(
            form,
            state.services.post(
                "tables", f"/rounds/{round_id}/paper-ballots", body, person.token, key=form.key
            ),
            ("voter", "proposals"),
            BALLOT_ALIASES,
            SAID_AS,
        )
        if form.refused:
            return await show_round(request, state, round_id, {"paper": form}, form.refused)
        return back_to(request, f"/rounds/{round_id}#paper", N_("The paper ballot is entered."))

    @post("/rounds/{round_id:str}/tally", summary="Tally the round")
    async def tally(
        self, request: Request, state: State, person: Person, round_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        await sent(
            form,
            state.services.post(
                "tables", f"/rounds/{round_id}/tally", {}, person.token, key=form.key
            ),
            said_as=SAID_AS,
        )
        if form.refused:
            return await show_round(request, state, round_id, {"tally": form}, form.refused)
        return back_to(request, f"/rounds/{round_id}#result", N_("The round is tallied."))


ROUND_PAGES = [RoundPages, ResidentRoundPages, ProposalPages, CoordinatorRoundPages]
