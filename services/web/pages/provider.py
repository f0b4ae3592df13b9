"""The provider member's pages: the inbox of open offers (accept or decline, kept up to date
by polling), the provider's jobs (report the hours of an assigned one), and its members and
pauses. Each calls the services with the member's own token; the provider is the one their
token names."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template

from domain.calendar import local_today
from services.web import i18n
from services.web.client import Refusal
from services.web.forms import Form, form_of, number_or_text, sent
from services.web.pages import back_to, catalogue, render
from services.web.people import Person, needs

OFFERS = "/provider/offers"
JOBS = "/provider/jobs"
TEAM = "/provider/team"


def moment(value: Any) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def window_words(start: Any, end: Any) -> str:
    """When a job is to be done: the start in full, then the end's time (or its day too when
    it ends on another day), joined by a dash."""
    begins, ends = moment(start), moment(end)
    if begins is None:
        return ""
    if ends is None:
        return i18n.when(begins)
    same_day = i18n.local(begins).date() == i18n.local(ends).date()
    return f"{i18n.when(begins)}\N{EN DASH}{i18n.clock(ends) if same_day else i18n.when(ends)}"


def time_left(expires_at: Any, now: datetime | None = None) -> str:
    """How long the offer waits for an answer, in words."""
    lapses = moment(expires_at)
    if lapses is None:
        return i18n.gettext("No time limit to answer.")
    seconds = int((lapses - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return i18n.gettext("The time to answer is up.")
    minutes = max(1, seconds // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return i18n.gettext("%(hours)s h %(minutes)s min left to answer.") % {
            "hours": hours,
            "minutes": minutes,
        }
    return i18n.ngettext(
        "%(num)s minute left to answer.", "%(num)s minutes left to answer.", minutes
    ) % {"num": minutes}


STATUSES = {
    "submitted": "submitted",
    "offered": "offered to you",
    "assigned": "yours to do",
    "completed": "hours reported",
    "confirmed": "confirmed",
    "unmatched": "unmatched",
    "cancelled": "cancelled",
    "disputed": "disputed",
    "voided": "voided",
    "expired": "expired",
}


def status_words(status: str) -> str:
    return i18n.gettext(STATUSES.get(status, status))


class ProviderPages(Controller):
    path = "/provider"
    dependencies = {"person": Provide(needs("provider"))}

    # --- offers ----------------------------------------------------------------------------

    async def _offers(self, state: State, person: Person, position: int = 0) -> list[dict]:
        services = state.services
        inbox = await services.get(
            "matching", "/offers/", person.token, status="open", position=position or None
        )

        async def decision(entry: dict) -> dict | None:
            try:
                return await services.get("matching", f"/offers/{entry['offer_id']}", person.token)
            except Refusal:  # answered or withdrawn meanwhile: it leaves the inbox next time
                return None

        decisions = await asyncio.gather(*(decision(e) for e in inbox))
        known = await catalogue(state)
        return [
            {
                **entry,
                "category_name": known["names"].get(entry.get("category"), entry.get("category")),
                "region_name": known["region_names"].get(entry.get("region"), entry.get("region")),
                "window": window_words(entry.get("window_start"), entry.get("window_end")),
                "time_left": time_left(entry.get("expires_at")),
                "why": (found or {}).get("why", ""),
                "explanation": (found or {}).get("explanation"),
            }
            for entry, found in zip(inbox, decisions, strict=True)
        ]

    async def _offers_page(
        self,
        request: Request,
        state: State,
        person: Person,
        forms: dict[str, Form] | None = None,
        status_code: int = 200,
        position: int = 0,
    ) -> Template:
        offers = await self._offers(state, person, position)
        return render(
            request,
            "provider/offers.html",
            status_code=status_code,
            person=person,
            offers=offers,
            forms=forms or {},
        )

    @get("/offers", summary="The inbox of open offers")
    async def offers(
        self, request: Request, state: State, person: Person, position: int = 0
    ) -> Template:
        return await self._offers_page(request, state, person, position=position)

    @get("/offers/list", summary="The open offers alone, for the page to poll")
    async def offer_list(
        self, request: Request, state: State, person: Person, position: int = 0
    ) -> Template:
        offers = await self._offers(state, person, position)
        return render(request, "provider/offer_list.html", person=person, offers=offers, forms={})

    @post("/offers/{offer_id:str}/accept", summary="Accept an offer")
    async def accept(
        self, offer_id: str, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        await sent(
            form,
            state.services.post(
                "matching", f"/offers/{offer_id}/acceptance", {}, person.token, key=form.key
            ),
            passes=(401,),
        )
        if form.refused:
            return await self._offers_page(
                request, state, person, {offer_id: form}, status_code=form.refused
            )
        return back_to(request, JOBS, "You took the job: it is among your jobs.")

    @post("/offers/{offer_id:str}/decline", summary="Decline an offer")
    async def decline(
        self, offer_id: str, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        # matching judges the reason (its rule, not the page's); a refusal stands beside the
        # field
        receipt = await sent(
            form,
            state.services.post(
                "matching",
                f"/offers/{offer_id}/decline",
                {"reason": str(form.get("reason")).strip()},
                person.token,
                key=form.key,
            ),
            ["reason"],
            passes=(401,),
        )
        if form.refused:
            return await self._offers_page(
                request, state, person, {offer_id: form}, status_code=form.refused
            )
        return back_to(
            request, f"{OFFERS}?position={receipt['position']}", "You declined the offer."
        )

    # --- jobs ------------------------------------------------------------------------------

    async def _jobs_page(
        self,
        request: Request,
        state: State,
        person: Person,
        forms: dict[str, Form] | None = None,
        status_code: int = 200,
    ) -> Template:
        rows = await state.services.get(
            "requests", "/requests/", person.token, provider_id=person.provider
        )
        known = await catalogue(state)
        jobs = [
            {
                **row,
                "category_name": known["names"].get(row.get("category"), row.get("category")),
                "region_name": known["region_names"].get(row.get("region"), row.get("region")),
                "window": window_words(row.get("window_start"), row.get("window_end")),
                "status_words": status_words(row.get("status", "")),
                "hours": (row["minutes"] / 60) if row.get("minutes") is not None else None,
            }
            for row in rows
        ]
        return render(
            request,
            "provider/jobs.html",
            status_code=status_code,
            person=person,
            jobs=jobs,
            forms=forms or {},
        )

    @get("/jobs", summary="Our jobs")
    async def jobs(self, request: Request, state: State, person: Person) -> Template:
        return await self._jobs_page(request, state, person)

    @post("/jobs/{request_id:str}/hours", summary="Report the hours of a job")
    async def report_hours(
        self, request_id: str, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        await sent(
            form,
            state.services.post(
                "requests",
                f"/requests/{request_id}/completion",
                {"hours": number_or_text(form.get("hours"))},
                person.token,
                key=form.key,
            ),
            ["hours"],
            passes=(401,),
        )
        if form.refused:
            return await self._jobs_page(
                request, state, person, {request_id: form}, status_code=form.refused
            )
        return back_to(request, JOBS, "The hours are reported: the resident confirms them next.")

    # --- members and pauses ---------------------------------------------------------------

    async def _team_page(
        self,
        request: Request,
        state: State,
        person: Person,
        status_code: int = 200,
        **forms: Form,
    ) -> Template:
        provider = await state.services.get(
            "providers", f"/providers/{person.provider}", person.token
        )
        return render(
            request,
            "provider/team.html",
            status_code=status_code,
            person=person,
            provider=provider,
            status_words={
                "active": i18n.gettext("active"),
                "paused": i18n.gettext("paused"),
                "suspended": i18n.gettext("suspended"),
            },
            today=local_today().isoformat(),
            member_form=forms.get("member_form") or Form(),
            pause_form=forms.get("pause_form") or Form(),
            row_form=forms.get("row_form"),
        )

    @get("/team", summary="Members and pauses")
    async def team(self, request: Request, state: State, person: Person) -> Template:
        return await self._team_page(request, state, person)

    async def _command(
        self,
        request: Request,
        state: State,
        person: Person,
        path: str,
        body: dict | None,
        form: Form,
        which: str,
        notice: str,
        fields: list[str],
        aliases: dict[str, str] | None = None,
    ) -> Template | Redirect:
        """A command on our provider; back to the team page, or the form with the refusal."""
        services = state.services
        await sent(
            form,
            services.delete("providers", path, person.token)
            if body is None
            else services.post("providers", path, body, person.token, key=form.key),
            fields,
            aliases,
            passes=(401,),
        )
        if form.refused:
            return await self._team_page(
                request, state, person, status_code=form.refused, **{which: form}
            )
        return back_to(request, TEAM, notice)

    @post("/team/members", summary="Add a member")
    async def add_member(
        self, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        body = {"name": str(form.get("name")).strip(), "role": str(form.get("role")).strip()}
        return await self._command(
            request,
            state,
            person,
            f"/providers/{person.provider}/members",
            body,
            form,
            "member_form",
            "The member was added.",
            fields=["name", "role"],
        )

    @post("/team/members/{member_id:str}/removal", summary="Remove a member")
    async def remove_member(
        self, member_id: str, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        return await self._command(
            request,
            state,
            person,
            f"/providers/{person.provider}/members/{member_id}",
            None,
            form,
            "row_form",
            "The member was removed.",
            fields=[],
        )

    @post("/team/pauses", summary="Declare a pause")
    async def pause(self, request: Request, state: State, person: Person) -> Template | Redirect:
        form = await form_of(request)
        body: dict[str, Any] = {
            "starts": str(form.get("starts")).strip(),
            "reason": str(form.get("reason")).strip(),
        }
        if str(form.get("ends")).strip():
            body["ends"] = str(form.get("ends")).strip()
        return await self._command(
            request,
            state,
            person,
            f"/providers/{person.provider}/pauses",
            body,
            form,
            "pause_form",
            "The pause is declared: no offers come during it.",
            fields=["starts", "ends", "reason"],
            aliases={"overlapping_pause": "starts", "until": "ends"},
        )

    @post("/team/pauses/{pause_id:str}/end", summary="End a pause early")
    async def end_pause(
        self, pause_id: str, request: Request, state: State, person: Person
    ) -> Template | Redirect:
        form = await form_of(request)
        return await self._command(
            request,
            state,
            person,
            f"/providers/{person.provider}/pauses/{pause_id}/end",
            {},
            form,
            "row_form",
            "The pause is ended: offers come again.",
            fields=[],
        )


PROVIDER_PAGES = [ProviderPages]
