"""The resident's pages: ask for a service, follow one's requests (with a timeline of what
happened and why, updating by itself), move, cancel, confirm, dispute and rate them, and set up
recurring requests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from domain.calendar import LOCAL_TIME
from services.web import i18n
from services.web.client import Refusal, Unreachable
from services.web.forms import FORM, N_, Form, form_of, number_or_text, sent, typed_moment
from services.web.geo import region_maps
from services.web.pages import back_to, catalogue, render
from services.web.people import Person, needs

# The fields of the request form, and the service's names that stand for them.
ASK_FIELDS = (
    "category",
    "region",
    "address",
    "lat",
    "long",
    "description",
    "window_start",
    "window_end",
)
WINDOW = {"window": "window_start"}


def moment(value: str) -> str | None:
    """A ``datetime-local`` field (Lahti's time) as an ISO timestamp with its offset; what
    is no moment goes as typed, for the service to name."""
    if not value:
        return None
    at = typed_moment(value)
    return at.isoformat() if at else value


def field_moment(value: str | None) -> str:
    """An ISO timestamp as a ``datetime-local`` field shows it, in Lahti's time."""
    at = i18n.local(value)
    return at.strftime("%Y-%m-%dT%H:%M") if at else ""


def new_request(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": form.get("category"),
        "window_start": moment(form.get("window_start")),
        "window_end": moment(form.get("window_end")),
        "description": form.get("description"),
        "address": form.get("address"),
    }
    if form.get("region"):
        body["region"] = form.get("region")
    if form.get("chosen_provider_id"):
        body["chosen_provider_id"] = form.get("chosen_provider_id")
    for name in ("lat", "long"):
        if (value := number_or_text(form.get(name))) is not None:
            body[name] = value
    return body


async def choices(state: State, person: Person, form: Form) -> list[dict] | None:
    """The providers the resident may choose for the request as typed (under a service
    voucher, with their price and the resident's share); None until its service and area are
    chosen, or where matching cannot say."""
    if not (form.get("category") and form.get("region")):
        return None
    start = typed_moment(form.get("window_start"))
    day = start.astimezone(LOCAL_TIME).date() if start else None  # None: matching's today
    try:
        return await state.services.get(
            "matching",
            "/choices/",
            person.token,
            category=form.get("category"),
            region=form.get("region"),
            day=day.isoformat() if day else None,
        )
    except (Refusal, Unreachable):
        return None


def default_window() -> dict[str, str]:
    """Tomorrow morning, 08 to 12 in Lahti: what a form offers before anything is typed."""
    tomorrow = datetime.now(LOCAL_TIME).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), LOCAL_TIME).replace(hour=8)
    return {
        "window_start": start.strftime("%Y-%m-%dT%H:%M"),
        "window_end": (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
    }


# What a resident may do at each status, and the form that does it.
ACTIONS = {
    "submitted": ("reschedule", "cancel"),
    "offered": ("reschedule", "cancel"),
    "unmatched": ("reschedule", "cancel"),
    "assigned": ("cancel",),
    "completed": ("confirm", "dispute"),
    "confirmed": ("rate",),
}
ACTION_PATHS = {
    "reschedule": "reschedule",
    "cancel": "cancellation",
    "confirm": "confirmation",
    "dispute": "dispute",
    "rate": "rating",
}
NOTICES = {
    "reschedule": N_("The request was moved to the new time."),
    "cancel": N_("The request was cancelled."),
    "confirm": N_("Thank you: the work is confirmed."),
    "dispute": N_("The dispute was sent to the city's officer."),
    "rate": N_("Thank you for the rating."),
}


def action_body(action: str, form: Form) -> dict[str, Any]:
    if action == "reschedule":
        return {
            "window_start": moment(form.get("window_start")),
            "window_end": moment(form.get("window_end")),
        }
    if action in ("cancel", "dispute"):
        return {"reason": form.get("reason")}
    if action == "rate":
        stars = form.get("stars")
        return {
            "stars": int(stars) if str(stars).isdigit() else stars,
            "comment": form.get("comment"),
        }
    return {}


def reason_offer(entry: dict[str, Any], history: list[dict] | None) -> dict | None:
    """While a request is offered or assigned its ``reason`` is matching's English sentence
    for the offer: that offer's entry of the history, whose facts word it in the page's
    language (None when the reason is something else)."""
    if entry.get("status") not in ("offered", "assigned") or not history:
        return None
    offers = [step for step in history if step.get("what") == "offered"]
    if not offers or offers[-1].get("why") != entry.get("reason"):
        return None
    return offers[-1]


class ResidentPages(Controller):
    dependencies = {"person": Provide(needs("resident"))}

    @get("/ask", summary="Ask for a service")
    async def ask(self, request: Request, state: State, person: Person) -> Template:
        form = Form(values={**default_window(), **dict(request.query_params)})
        return await self._ask_page(request, state, form)

    async def _ask_page(
        self,
        request: Request,
        state: State,
        form: Form,
        status_code: int = 200,
        person: Person | None = None,
    ) -> Template:
        found = await catalogue(state)
        return render(
            request,
            "resident/ask.html",
            status_code=status_code,
            form=form,
            categories=found["categories"],
            regions=found["regions"],
            region_options=[(r["code"], r["name"]) for r in found["regions"]],
            maps=region_maps(
                found["regions"],
                form.get("region"),
                form.get("lat"),
                form.get("long"),
                tiles=state.settings.map_tiles,
                closer=i18n.gettext("The smaller areas, closer"),
            ),
            attribution=state.settings.map_attribution,
            choices=await choices(state, person, form) if person else None,
        )

    @post("/ask", summary="Send a request")
    async def send(self, request: Request, state: State, person: Person) -> Template | Redirect:
        form = await form_of(request)
        if form.get("see_choices"):  # not sent yet: the providers the resident may choose
            return await self._ask_page(request, state, form, person=person)
        receipt = await sent(
            form,
            state.services.post(
                "requests", "/requests/", new_request(form), person.token, key=form.key
            ),
            ASK_FIELDS,
            WINDOW,
        )
        if form.refused:
            return await self._ask_page(
                request, state, form, status_code=form.refused, person=person
            )
        return back_to(
            request,
            f"/my/requests/{receipt['id']}?position={receipt['position']}",
            N_("Your request was sent. Matching looks for a community provider."),
        )

    @get("/my/requests", summary="My requests")
    async def requests(self, request: Request, state: State, person: Person) -> Template:
        mine = await state.services.get("requests", "/requests/", person.token, limit=100)
        found = await catalogue(state)
        return render(
            request,
            "resident/requests.html",
            requests=mine,
            names=found["names"],
            regions=found["region_names"],
        )

    @get("/my/requests/{request_id:str}", summary="One of my requests")
    async def one(
        self, request: Request, state: State, person: Person, request_id: str, position: int = 0
    ) -> Template:
        context = await self._request(state, person, request_id, position)
        return render(request, "resident/request.html", **context)

    @get("/my/requests/{request_id:str}/now", summary="Where the request is now (live part)")
    async def now(
        self, request: Request, state: State, person: Person, request_id: str, shown: str = ""
    ) -> Template | Response:
        context = await self._request(state, person, request_id, 0)
        if shown and context["entry"]["status"] != shown:
            # it moved on: the whole page again, with what can be done now
            return Response(b"", status_code=200, headers={"HX-Refresh": "true"})
        return render(request, "resident/request_now.html", **context)

    async def _request(
        self, state: State, person: Person, request_id: str, position: int
    ) -> dict[str, Any]:
        entry = await state.services.get(
            "requests", f"/requests/{request_id}", person.token, position=position or None
        )
        try:
            history = await state.services.get(
                "requests", f"/requests/{request_id}/history", person.token
            )
        except Refusal:
            history = None
        found = await catalogue(state)
        return {
            "entry": entry,
            "history": history,
            "reason_offer": reason_offer(entry, history),
            "actions": ACTIONS.get(entry["status"], ()) if not entry.get("rating") else (),
            "category": next(
                (c for c in found["categories"] if c["code"] == entry["category"]), None
            ),
            "regions": found["region_names"],
            "forms": {},
            "window": {
                "window_start": field_moment(entry["window_start"]),
                "window_end": field_moment(entry["window_end"]),
            },
        }

    @post("/my/requests/{request_id:str}/{action:str}", summary="Act on one of my requests")
    async def act(
        self, request: Request, state: State, person: Person, request_id: str, action: str
    ) -> Template | Redirect:
        if action not in ACTION_PATHS:
            return render(request, "error.html", status_code=404, status=404, detail="")
        form = await form_of(request)
        receipt = await sent(
            form,
            state.services.post(
                "requests",
                f"/requests/{request_id}/{ACTION_PATHS[action]}",
                action_body(action, form),
                person.token,
                key=form.key,
            ),
            ("window_start", "window_end", "reason", "stars", "comment"),
            WINDOW,
        )
        if form.refused:
            context = await self._request(state, person, request_id, 0)
            context["forms"] = {action: form}
            if FORM in form.errors and len(form.errors) == 1:
                context["problem"] = form.errors[FORM]
            return render(request, "resident/request.html", status_code=form.refused, **context)
        return back_to(
            request,
            f"/my/requests/{request_id}?position={receipt['position']}",
            NOTICES[action],
        )

    @get("/my/data", summary="Download my data")
    async def my_data(self, state: State, person: Person) -> Response:
        """Everything the services hold about the signed-in resident, as the requests service
        gives it (``GET /residents/me/data``), as a file to keep."""
        data = await state.services.get("requests", "/residents/me/data", person.token)
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2).encode(),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="talkoot-my-data.json"'},
        )

    # --- recurring requests ----------------------------------------------------------------

    @get("/my/series", summary="My recurring requests")
    async def series(self, request: Request, state: State, person: Person) -> Template:
        return await self._series_page(request, state, person, Form(values={"rule": "weekly"}))

    async def _series_page(
        self, request: Request, state: State, person: Person, form: Form, status_code: int = 200
    ) -> Template:
        mine = await state.services.get("requests", "/series/", person.token)
        found = await catalogue(state)
        return render(
            request,
            "resident/series.html",
            status_code=status_code,
            series=mine,
            form=form,
            categories=found["categories"],
            regions=found["regions"],
            names=found["names"],
            region_names=found["region_names"],
        )

    @post("/my/series", summary="Set up a recurring request")
    async def start_series(
        self, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        rule = form.get("rule")
        body: dict[str, Any] = {
            "category": form.get("category"),
            "region": form.get("region"),
            "rule": rule,
            "start_time": form.get("start_time"),
            "description": form.get("description"),
            "address": form.get("address"),
        }
        if rule == "weekly":
            body["weekday"] = form.get("weekday")
        if rule == "monthly":
            day = form.get("day_of_month")
            body["day_of_month"] = int(day) if str(day).isdigit() else day
        for name in ("starts_on", "ends_on"):
            if form.get(name):
                body[name] = form.get(name)
        if minutes := form.get("duration_minutes"):
            body["duration_minutes"] = int(minutes) if str(minutes).isdigit() else minutes
        await sent(
            form,
            state.services.post("requests", "/series/", body, person.token, key=form.key),
            SERIES_FIELDS,
            {"starts": "starts_on", "ends": "ends_on"},
            passes=(401,),
        )
        if form.refused:
            return await self._series_page(request, state, person, form, form.refused)
        return back_to(request, "/my/series", N_("The recurring request is set up."))

    @post("/my/series/{series_id:str}/{action:str}", summary="Pause, resume or end a series")
    async def series_action(
        self, request: Request, state: State, person: Person, series_id: str, action: str
    ) -> Template | Redirect:
        if action not in ("pause", "resume", "end"):
            return render(request, "error.html", status_code=404, status=404, detail="")
        form = await form_of(request)
        body = {"reason": form.get("reason")} if action == "end" else {}
        if action == "pause" and form.get("until"):
            body["until"] = form.get("until")
        await sent(
            form,
            state.services.post(
                "requests", f"/series/{series_id}/{action}", body, person.token, key=form.key
            ),
        )
        if form.refused:
            return await self._series_page(
                request,
                state,
                person,
                Form(values={"rule": "weekly"}, errors=form.errors),
                form.refused,
            )
        notice = {
            "pause": N_("The series is paused."),
            "resume": N_("The series goes on."),
            "end": N_("The series has ended."),
        }[action]
        return back_to(request, "/my/series", notice)


SERIES_FIELDS = (
    "category",
    "region",
    "rule",
    "weekday",
    "day_of_month",
    "start_time",
    "duration_minutes",
    "description",
    "address",
    "starts_on",
    "ends_on",
)

RESIDENT_PAGES = [ResidentPages]
