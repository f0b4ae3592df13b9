"""The partnership tables' pages: a table for its residents and for everyone, and what its
coordinator runs (members, meetings and attendance, events, initiatives, the fee payout); the
initiatives forwarded to the city for its officers."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from domain.calendar import local_today
from services.web.client import Refusal
from services.web.forms import N_, SENTENCES, Form, form_of, number_or_text, sent
from services.web.pages import back_to, catalogue, render
from services.web.pages.officer import cents, listed
from services.web.people import Person, needs, person, signed_in

# What the tables service's rules mean, said in the page's language. Their keys are the
# service's rule names prefixed, so that a rule another page names alike keeps its words.
TABLE_SENTENCES = {
    "table_on": N_("Check the day: not in the future, nor before the table was founded."),
    "table_until": N_("Check the day: not in the future, and after the last payout."),
    "table_member": N_("That member is on the table already, or is no member."),
    "table_member_id": N_("Give the member's identifier: lower-case letters, digits, dashes."),
    "table_attendees": N_("Tick only members of the table on the meeting's day."),
    "table_discussed": N_("Choose initiatives of this table."),
    "table_agenda": N_("Residents put this initiative on the agenda: the meeting discusses it."),
    "table_meeting": N_("That meeting is held already, or its day has not come yet."),
    "table_event": N_("That event is held already, or its day has not come yet."),
    "table_title": N_("Give a title of at most a line."),
    "table_statement": N_("Write the table's statement."),
    "table_reasons": N_("A rejection gives its reasons."),
    "table_outcome": N_("Say what was done."),
    "table_reason": N_("Say why, in a sentence."),
    "table_supported": N_("You support this initiative already."),
    "table_status": N_("That cannot be done now: the initiative has moved on."),
    "table_region": N_("Only residents of the table's areas take part here."),
    "table_answer": N_("Choose the city's answer."),
    "table_attendance": N_("Give how many came, as a whole number."),
    "table_cost_cents": N_("Give the cost in euros."),
    "table_decisions": N_("Write each decision on a line of its own."),
    "table_topics": N_("Write each topic on a line of its own, at most a line each."),
    "table_budget_cents": N_("The table has less left of the year's budget than that."),
    "table_regions": N_("A programme serves the table's own areas."),
    "table_programme": N_("This initiative is funded already."),
    "table_categories": N_("Choose at least one service."),
}
SENTENCES.update(TABLE_SENTENCES)
# Every field or rule a tables form may hear of, said with the sentences above.
SAID = {key.removeprefix("table_"): key for key in TABLE_SENTENCES}

MOST = 1000
KINDS = ("resident", "association", "business", "official")
ANSWERS = ("accepted", "rejected", "in_progress")


def lines(value: Any) -> list[str]:
    """A textarea's lines, one item each, without the empty ones."""
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def optional(value: Any) -> Any:
    """What a field sent, or None (the service's default) for nothing typed."""
    text = str(value or "").strip()
    return text or None


def members_on(history: list[dict], day: str) -> list[dict]:
    """The members of the table on ``day``, from its membership history (one joined on the
    day is a member; one who left on it no longer)."""
    found: dict[str, dict] = {}
    for m in history:
        if m["joined_on"] <= day and (m["left_on"] is None or day < m["left_on"]):
            found[m["member_id"]] = m
    return sorted(found.values(), key=lambda m: m["name"])


def coordinates(someone: Person | None, table_id: str) -> bool:
    return someone is not None and someone.holds("coordinator") and someone.table == table_id


def is_home(someone: Person | None, table: dict) -> bool:
    """Whether ``table`` is the table of the resident's region."""
    return someone is not None and someone.holds("resident") and someone.region in table["regions"]


def token_of(someone: Person | None) -> str | None:
    return someone.token if someone else None


async def table_read(state: State, table_id: str, someone: Person | None) -> dict:
    return await state.services.get("tables", f"/tables/{table_id}", token_of(someone))


class TablePages(Controller):
    """The pages anybody may read, and a resident's commands at their own table."""

    async def _table(
        self, state: State, table_id: str, someone: Person | None, form: Form | None = None
    ) -> dict[str, Any]:
        table, initiatives, rounds, found = await asyncio.gather(
            table_read(state, table_id, someone),
            state.services.get("tables", f"/tables/{table_id}/initiatives", token_of(someone)),
            state.services.get("tables", f"/tables/{table_id}/rounds", None),
            catalogue(state),
        )
        titles = {i["initiative_id"]: i["title"] for i in initiatives}
        # the overdue first, then the newest
        initiatives.sort(key=lambda i: (not i["overdue"], i["raised_on"]), reverse=False)
        overdue = [i for i in initiatives if i["overdue"]]
        rest = sorted(
            (i for i in initiatives if not i["overdue"]), key=lambda i: i["raised_on"], reverse=True
        )
        return {
            "table": table,
            "initiatives": overdue + rest,
            "titles": titles,
            "rounds": rounds,
            "home": is_home(someone, table),
            "coordinator": coordinates(someone, table_id),
            "form": form or Form(),
            "today": local_today().isoformat(),
            **found,
        }

    @get("/tables", summary="The partnership tables")
    async def tables(self, request: Request, state: State) -> Template:
        found, known = await asyncio.gather(
            state.services.get("tables", "/tables", None), catalogue(state)
        )
        return render(request, "tables/tables.html", tables=found, **known)

    @get(
        "/your-table",
        summary="The table of the resident's region",
        dependencies={"person": Provide(needs("resident"))},
    )
    async def your_table(self, state: State, person: Person) -> Redirect:
        found = await state.services.get("tables", "/tables", None)
        for table in found:
            if person.region in table["regions"]:
                return Redirect(f"/tables/{table['table_id']}", status_code=303)
        raise NotFoundException("no table for your region")

    @get(
        "/our-table",
        summary="The coordinator's table",
        dependencies={"person": Provide(needs("coordinator"))},
    )
    async def our_table(self, person: Person) -> Redirect:
        if not person.table:
            raise NotFoundException("no table")
        return Redirect(f"/tables/{person.table}", status_code=303)

    @get("/tables/{table_id:str}", summary="A partnership table")
    async def table(self, request: Request, state: State, table_id: str) -> Template:
        someone = signed_in(request)
        context = await self._table(state, table_id, someone)
        return render(request, "tables/table.html", **context)

    @post("/tables/{table_id:str}/initiatives", summary="Raise an initiative")
    async def raise_initiative(
        self, request: Request, state: State, table_id: str
    ) -> Template | Redirect:
        someone = await person(request)
        form = await form_of(request)
        body: dict[str, Any] = {
            "title": str(form.get("title") or "").strip(),
            "description": str(form.get("description") or "").strip(),
        }
        if form.get("from_event"):  # the coordinator, from a Speak out session's topic
            body["from_event"] = form.get("from_event")
            body["topic"] = number_or_text(form.get("topic"))
            body["origin"] = "resident"
        receipt = await sent(
            form,
            state.services.post(
                "tables", f"/tables/{table_id}/initiatives", body, someone.token, key=form.key
            ),
            ("title", "description", "region", "origin"),
            said_as=SAID,
        )
        if form.refused:
            if form.get("from_event"):
                context = await events_context(state, someone, table_id)
                context["topic_form"] = form
                return render(request, "tables/events.html", status_code=form.refused, **context)
            context = await self._table(state, table_id, someone, form)
            return render(request, "tables/table.html", status_code=form.refused, **context)
        return back_to(request, f"/initiatives/{receipt['id']}", N_("The initiative is raised."))


# --- an initiative ----------------------------------------------------------------------------

INITIATIVE_FORMS = ("support", "forward", "answer", "implemented", "closure", "programme")


async def providers_of(state: State, regions: list[str]) -> list[dict]:
    """The active providers of the directory working in any of ``regions``, by name."""
    found = await asyncio.gather(
        *(
            state.services.get("providers", "/providers/", None, region=r, status="active")
            for r in regions
        )
    )
    named = {p["provider_id"]: p for every in found for p in every}
    return sorted(named.values(), key=lambda p: p["name"])


async def initiative_context(
    state: State, someone: Person | None, initiative_id: str, forms: dict[str, Form] | None = None
) -> dict[str, Any]:
    initiative = await state.services.get(
        "tables", f"/initiatives/{initiative_id}", token_of(someone)
    )
    table, found = await asyncio.gather(
        table_read(state, initiative["table_id"], someone), catalogue(state)
    )
    coordinator = coordinates(someone, table["table_id"])
    providers = []
    if coordinator and initiative["programme"] is None:
        providers = await providers_of(state, table["regions"])
    meetings = {m["meeting_id"]: m for m in table["meetings"]}
    return {
        "initiative": initiative,
        "table": table,
        "meetings": meetings,
        "home": is_home(someone, table),
        "coordinator": coordinator,
        "officer": someone is not None and someone.holds("officer"),
        "providers": providers,
        "category_options": [(c["code"], c["name"], "") for c in found["categories"]],
        "region_options": [(r, found["region_names"].get(r, r), "") for r in table["regions"]],
        "forms": forms or {},
        **found,
    }


def answer_body(form: Form) -> dict[str, Any]:
    return {
        "answer": form.get("answer") or None,
        "reasons": str(form.get("reasons") or "").strip(),
        "on": optional(form.get("on")),
    }


class InitiativePages(Controller):
    """An initiative's page, and every step of its life a form on it takes."""

    @get("/initiatives/{initiative_id:str}", summary="An initiative")
    async def initiative(self, request: Request, state: State, initiative_id: str) -> Template:
        context = await initiative_context(state, signed_in(request), initiative_id)
        return render(request, "tables/initiative.html", **context)

    @post("/initiatives/{initiative_id:str}/{step:str}", summary="A step of an initiative")
    async def step(
        self, request: Request, state: State, initiative_id: str, step: str
    ) -> Template | Redirect:
        if step not in INITIATIVE_FORMS:
            raise NotFoundException(f"no step {step}")
        someone = await person(request)
        form = await form_of(request)
        body: dict[str, Any]
        fields: tuple[str, ...]
        aliases: dict[str, str] = {}
        if step == "support":
            body, fields = {}, ()
        elif step == "forward":
            body = {
                "statement": str(form.get("statement") or "").strip(),
                "on": optional(form.get("on")),
            }
            fields = ("statement", "on")
        elif step == "answer":
            body, fields = answer_body(form), ("answer", "reasons", "on")
        elif step == "implemented":
            body = {
                "outcome": str(form.get("outcome") or "").strip(),
                "on": optional(form.get("on")),
            }
            fields = ("outcome", "on")
        elif step == "closure":
            body = {"reason": str(form.get("reason") or "").strip(), "on": optional(form.get("on"))}
            fields = ("reason", "on")
        else:
            body = {
                "provider_id": optional(form.get("provider_id")),
                "categories": listed(form.get("categories")),
                "regions": listed(form.get("regions")),
                "unit_price_cents": cents(form.get("unit_price")),
                "budget_cents": cents(form.get("budget")),
                "pricing": form.get("pricing") or "hour",
                "valid_from": optional(form.get("valid_from")),
                "valid_until": optional(form.get("valid_until")),
            }
            fields = (
                "provider_id",
                "categories",
                "regions",
                "unit_price",
                "budget",
                "pricing",
                "valid_from",
                "valid_until",
            )
            aliases = {"unit_price_cents": "unit_price", "budget_cents": "budget"}
        body = {k: v for k, v in body.items() if v is not None or k in ("answer",)}
        await sent(
            form,
            state.services.post(
                "tables", f"/initiatives/{initiative_id}/{step}", body, someone.token, key=form.key
            ),
            fields,
            aliases,
            SAID,
        )
        if form.refused:
            if step == "answer" and form.get("back") == "officer":
                context = await answers_context(state, someone, {initiative_id: form})
                return render(request, "tables/answers.html", status_code=form.refused, **context)
            context = await initiative_context(state, someone, initiative_id, {step: form})
            return render(request, "tables/initiative.html", status_code=form.refused, **context)
        notices = {
            "support": N_("You support the initiative."),
            "forward": N_("The initiative is forwarded to the city."),
            "answer": N_("The city's answer is recorded."),
            "implemented": N_("The initiative is recorded as implemented."),
            "closure": N_("The initiative is closed."),
            "programme": N_("The service programme is funded."),
        }
        if step == "answer" and form.get("back") == "officer":
            return back_to(request, ANSWERS_PAGE, notices[step])
        return back_to(request, f"/initiatives/{initiative_id}", notices[step])


# --- the city's answers -----------------------------------------------------------------------

ANSWERS_PAGE = "/officer/initiatives"


async def answers_context(
    state: State, officer: Person, forms: dict[str, Form] | None = None
) -> dict[str, Any]:
    """The initiatives forwarded to the city that wait for its answer (forwarded, or answered
    "in progress"), across the tables, the overdue first and then by when they are due."""
    tables = await state.services.get("tables", "/tables", None)
    found = await asyncio.gather(
        *(
            state.services.get(
                "tables", f"/tables/{t['table_id']}/initiatives", officer.token, status=status
            )
            for t in tables
            for status in ("forwarded", "answered")
        )
    )
    waiting = [
        i
        for every in found
        for i in every
        if i["status"] == "forwarded"
        or (i["answers"] and i["answers"][-1]["answer"] == "in_progress")
    ]
    waiting.sort(key=lambda i: (not i["overdue"], i["due_on"] or "9999"))
    return {
        "waiting": waiting,
        "table_names": {t["table_id"]: t["name"] for t in tables},
        "forms": forms or {},
        "today": local_today().isoformat(),
    }


class AnswerPages(Controller):
    dependencies = {"person": Provide(needs("officer"))}

    @get(ANSWERS_PAGE, summary="Initiatives waiting for the city's answer")
    async def answers(self, request: Request, state: State, person: Person) -> Template:
        context = await answers_context(state, person)
        return render(request, "tables/answers.html", **context)


# --- the coordinator's pages ------------------------------------------------------------------


async def events_context(state: State, coordinator: Person, table_id: str) -> dict[str, Any]:
    table = await table_read(state, table_id, coordinator)
    if not coordinates(coordinator, table_id):
        raise NotFoundException("no such table")
    return {
        "table": table,
        "forms": {},
        "form": Form(),
        "topic_form": None,
        "today": local_today().isoformat(),
    }


class CoordinatorPages(Controller):
    dependencies = {"person": Provide(needs("coordinator"))}
    path = "/tables/{table_id:str}"

    async def _mine(self, state: State, person: Person, table_id: str) -> dict:
        """The table, read as its coordinator; another's is not there for them (404)."""
        if not coordinates(person, table_id):
            raise NotFoundException("no such table")
        return await table_read(state, table_id, person)

    # --- members ---------------------------------------------------------------------------

    async def _members(
        self, state: State, person: Person, table_id: str, forms: dict[str, Form] | None = None
    ) -> dict[str, Any]:
        table = await self._mine(state, person, table_id)
        history = await state.services.get("tables", f"/tables/{table_id}/members", person.token)
        return {
            "table": table,
            "current": [m for m in history if m["left_on"] is None],
            "past": [m for m in history if m["left_on"] is not None],
            "forms": forms or {},
            "form": (forms or {}).get("join") or Form(),
            "today": local_today().isoformat(),
        }

    @get("/members", summary="The table's members")
    async def members(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template:
        context = await self._members(state, person, table_id)
        return render(request, "tables/members.html", **context)

    @post("/members", summary="A member joins")
    async def join(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {
            "member_id": str(form.get("member_id") or "").strip(),
            "name": str(form.get("name") or "").strip(),
            "kind": form.get("kind") or "resident",
            "on": optional(form.get("on")),
        }
        await sent(
            form,
            state.services.post(
                "tables", f"/tables/{table_id}/members", body, person.token, key=form.key
            ),
            ("member_id", "name", "kind", "on"),
            {"member": "member_id"},
            SAID,
        )
        if form.refused:
            context = await self._members(state, person, table_id, {"join": form})
            return render(request, "tables/members.html", status_code=form.refused, **context)
        return back_to(request, f"/tables/{table_id}/members", N_("The member has joined."))

    @post("/members/{member_id:str}/departure", summary="A member leaves")
    async def leave(
        self, request: Request, state: State, person: Person, table_id: str, member_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {"reason": str(form.get("reason") or "").strip(), "on": optional(form.get("on"))}
        await sent(
            form,
            state.services.post(
                "tables",
                f"/tables/{table_id}/members/{member_id}/departure",
                body,
                person.token,
                key=form.key,
            ),
            ("reason", "on"),
            said_as=SAID,
        )
        if form.refused:
            context = await self._members(state, person, table_id, {member_id: form})
            return render(request, "tables/members.html", status_code=form.refused, **context)
        return back_to(request, f"/tables/{table_id}/members", N_("The member has left."))

    # --- meetings --------------------------------------------------------------------------

    async def _meetings(
        self, state: State, person: Person, table_id: str, form: Form | None = None
    ) -> dict[str, Any]:
        table = await self._mine(state, person, table_id)
        return {"table": table, "form": form or Form(), "today": local_today().isoformat()}

    @get("/meetings", summary="The table's meetings")
    async def meetings(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template:
        context = await self._meetings(state, person, table_id)
        return render(request, "tables/meetings.html", **context)

    @post("/meetings", summary="Plan a meeting")
    async def plan_meeting(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {"on": optional(form.get("on")), "agenda": str(form.get("agenda") or "").strip()}
        await sent(
            form,
            state.services.post(
                "tables", f"/tables/{table_id}/meetings", body, person.token, key=form.key
            ),
            ("on", "agenda"),
            said_as=SAID,
        )
        if form.refused:
            context = await self._meetings(state, person, table_id, form)
            return render(request, "tables/meetings.html", status_code=form.refused, **context)
        return back_to(request, f"/tables/{table_id}/meetings", N_("The meeting is planned."))

    async def _meeting(
        self, state: State, person: Person, table_id: str, meeting_id: str, form: Form | None
    ) -> dict[str, Any]:
        table = await self._mine(state, person, table_id)
        meeting = next((m for m in table["meetings"] if m["meeting_id"] == meeting_id), None)
        if meeting is None:
            raise NotFoundException("no such meeting")
        history, initiatives = await asyncio.gather(
            state.services.get("tables", f"/tables/{table_id}/members", person.token),
            state.services.get("tables", f"/tables/{table_id}/initiatives", person.token),
        )
        # what residents put on its agenda by its day (the service's rule ``agenda``)
        raised_on = {i["initiative_id"]: i["raised_on"] for i in initiatives}
        due = {i for i in table["agenda"] if raised_on.get(i, "9999") <= meeting["on"]}
        open_ones = [
            i
            for i in initiatives
            if i["status"] in ("proposed", "discussed") or i["initiative_id"] in due
        ]
        open_ones.sort(key=lambda i: (i["initiative_id"] not in due, i["raised_on"]))
        if form is None:
            form = Form(values={"discussed": sorted(due)})
        return {
            "table": table,
            "meeting": meeting,
            "members": members_on(history, meeting["on"]),
            "initiatives": open_ones,
            "due": due,
            "form": form,
            "today": local_today().isoformat(),
        }

    @get("/meetings/{meeting_id:str}", summary="Record a held meeting")
    async def meeting(
        self, request: Request, state: State, person: Person, table_id: str, meeting_id: str
    ) -> Template:
        context = await self._meeting(state, person, table_id, meeting_id, None)
        return render(request, "tables/meeting.html", **context)

    @post("/meetings/{meeting_id:str}", summary="Record a held meeting")
    async def record_meeting(
        self, request: Request, state: State, person: Person, table_id: str, meeting_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        form.values["attendees"] = listed(form.get("attendees"))
        form.values["discussed"] = listed(form.get("discussed"))
        body = {
            "attendees": form.get("attendees"),
            "decisions": lines(form.get("decisions")),
            "discussed": form.get("discussed"),
            "cost_cents": cents(form.get("cost")) if form.get("cost") else 0,
        }
        await sent(
            form,
            state.services.post(
                "tables",
                f"/tables/{table_id}/meetings/{meeting_id}/record",
                body,
                person.token,
                key=form.key,
            ),
            ("attendees", "decisions", "discussed", "cost"),
            {"agenda": "discussed", "cost_cents": "cost"},
            SAID,
        )
        if form.refused:
            context = await self._meeting(state, person, table_id, meeting_id, form)
            return render(request, "tables/meeting.html", status_code=form.refused, **context)
        return back_to(request, f"/tables/{table_id}/meetings", N_("The meeting is recorded."))

    # --- events ----------------------------------------------------------------------------

    @get("/events", summary="The table's events and Speak out sessions")
    async def events(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template:
        context = await events_context(state, person, table_id)
        return render(request, "tables/events.html", **context)

    @post("/events", summary="Plan an event")
    async def plan_event(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {
            "title": str(form.get("title") or "").strip(),
            "on": optional(form.get("on")),
            "kind": form.get("kind") or "event",
        }
        await sent(
            form,
            state.services.post(
                "tables", f"/tables/{table_id}/events", body, person.token, key=form.key
            ),
            ("title", "on", "kind"),
            said_as=SAID,
        )
        if form.refused:
            context = await events_context(state, person, table_id)
            context["form"] = form
            return render(request, "tables/events.html", status_code=form.refused, **context)
        return back_to(request, f"/tables/{table_id}/events", N_("The event is planned."))

    @post("/events/{event_id:str}", summary="Record a held event")
    async def record_event(
        self, request: Request, state: State, person: Person, table_id: str, event_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {
            "attendance": number_or_text(form.get("attendance")),
            "topics": lines(form.get("topics")),
            "cost_cents": cents(form.get("cost")) if form.get("cost") else 0,
        }
        if isinstance(body["attendance"], float) and body["attendance"].is_integer():
            body["attendance"] = int(body["attendance"])
        await sent(
            form,
            state.services.post(
                "tables",
                f"/tables/{table_id}/events/{event_id}/record",
                body,
                person.token,
                key=form.key,
            ),
            ("attendance", "topics", "cost"),
            {"cost_cents": "cost", "event": "attendance"},
            SAID,
        )
        if form.refused:
            context = await events_context(state, person, table_id)
            context["forms"] = {event_id: form}
            return render(request, "tables/events.html", status_code=form.refused, **context)
        return back_to(request, f"/tables/{table_id}/events", N_("The event is recorded."))

    # --- fees ------------------------------------------------------------------------------

    async def _fees(
        self, state: State, person: Person, table_id: str, until: str | None, form: Form | None
    ) -> dict[str, Any]:
        table = await self._mine(state, person, table_id)
        form = form or Form(values={"until": until or local_today().isoformat()})
        day = str(form.get("until") or "")
        try:
            date.fromisoformat(day)
        except ValueError:
            day = ""
        fees_form = Form(values=dict(form.values))
        fees, payouts = await asyncio.gather(
            sent(
                fees_form,
                state.services.get(
                    "tables", f"/tables/{table_id}/fees", person.token, until=day or None
                ),
                ("until",),
                said_as=SAID,
            ),
            state.services.get("tables", f"/tables/{table_id}/payouts", person.token),
        )
        if fees_form.errors and not form.errors:
            form.errors = fees_form.errors
        return {
            "table": table,
            "fees": fees or {"lines": [], "total_cents": 0, "until": day},
            "payouts": list(reversed(payouts)),
            "form": form,
            "today": local_today().isoformat(),
        }

    @get("/fees", summary="The meeting fees unpaid, and the payouts")
    async def fees(
        self,
        request: Request,
        state: State,
        person: Person,
        table_id: str,
        until: str | None = None,
    ) -> Template:
        context = await self._fees(state, person, table_id, until, None)
        status = 422 if context["form"].errors else 200
        return render(request, "tables/fees.html", status_code=status, **context)

    @post("/payouts", summary="Pay the meeting fees")
    async def pay(
        self, request: Request, state: State, person: Person, table_id: str
    ) -> Template | Redirect:
        form = await form_of(request)
        receipt = await sent(
            form,
            state.services.post(
                "tables",
                f"/tables/{table_id}/payouts",
                {"until": optional(form.get("until"))},
                person.token,
                key=form.key,
            ),
            ("until",),
            said_as=SAID,
        )
        if form.refused:
            context = await self._fees(state, person, table_id, None, form)
            return render(request, "tables/fees.html", status_code=form.refused, **context)
        return back_to(
            request,
            f"/tables/{table_id}/fees#payout-{receipt['id']}",
            N_("The meeting fees are paid."),
        )

    @get("/payouts/{payout_file:str}", summary="A payout list as CSV")
    async def payout_csv(
        self, state: State, person: Person, table_id: str, payout_file: str
    ) -> Response:
        if not coordinates(person, table_id):
            raise NotFoundException("no such table")
        try:
            text = await state.services.text(
                "tables", f"/tables/{table_id}/payouts/{payout_file}", person.token
            )
        except Refusal as refusal:
            if refusal.status in (400, 404):
                raise NotFoundException("no such payout") from None
            raise
        name = f"{table_id}-payout-{payout_file}"
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


TABLE_PAGES: list = [TablePages, InitiativePages, AnswerPages, CoordinatorPages]
