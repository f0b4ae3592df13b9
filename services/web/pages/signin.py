"""Signing in and out: with the city's identity provider (OpenID Connect, services/web/oidc.py)
where it is configured, and from the local demo's list of people where that is on."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from services.web import i18n
from services.web.client import Refusal, Unreachable
from services.web.forms import N_, form_of
from services.web.oidc import OIDC_PAGES, end_session_url
from services.web.pages import catalogue, render
from services.web.pages.home import start_of
from services.web.people import DemoPerson, Person, demo_people, sign_in, sign_out, signed_in


def safe_next(target: str | None) -> str | None:
    """A page of this front to go back to; never an address elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


HOW_OFTEN = {
    "weekly": N_("every week"),
    "monthly": N_("every month"),
    "snowfall": N_("on every snowfall day"),
}


async def described(state: State, people: list[DemoPerson] | None) -> list[dict] | None:
    """The demo's people, each with what they are there for in the page's language: what a
    resident asked for (the catalogue's names), whom an officer works for."""
    if people is None:
        return None
    try:
        known = await catalogue(state)
    except (Unreachable, Refusal):  # the codes stand in for the names
        known = {"names": {}, "region_names": {}}

    def asked(what: dict) -> str:
        category = known["names"].get(what.get("category"), what.get("category", ""))
        if "rule" in what:
            how_often = HOW_OFTEN.get(what["rule"])
            return i18n.gettext("%(category)s %(how_often)s") % {
                "category": category,
                "how_often": i18n.gettext(how_often) if how_often else what["rule"],
            }
        region = known["region_names"].get(what.get("region"), what.get("region", ""))
        return i18n.gettext("%(category)s in %(region)s") % {"category": category, "region": region}

    def about(person: DemoPerson) -> str:
        if person.asked:
            return "; ".join(asked(what) for what in person.asked)
        if person.role == "officer" and person.acts_for:
            return i18n.gettext("%(partner)s, may sign its contracts") % {
                "partner": person.acts_for
            }
        if person.role == "admin":
            return i18n.gettext("runs the service")
        return person.about  # a provider's name

    return [{"role": p.role, "subject": p.subject, "about": about(p)} for p in people]


@get("/signin", summary="Sign in")
async def signin_page(request: Request, state: State, next: str | None = None) -> Template:
    settings = state.settings
    return render(
        request,
        "signin.html",
        next=safe_next(next) or "",
        oidc=settings.oidc is not None,
        people=await described(state, demo_people(settings.demo_people)),
        person=signed_in(request),
    )


@post("/signin/demo", summary="Sign in as a person of the demo")
async def demo_signin(request: Request, state: State) -> Template | Redirect:
    form = await form_of(request)
    people = demo_people(state.settings.demo_people)
    if people is None:
        return render(request, "error.html", status_code=404, status=404, detail="")
    chosen = next((p for p in people if p.subject == form.get("subject")), None)
    if chosen is None:
        form.errors["subject"] = i18n.gettext("Choose one of the people listed.")
        return render(
            request,
            "signin.html",
            status_code=400,
            next=safe_next(form.get("next")) or "",
            oidc=state.settings.oidc is not None,
            people=await described(state, people),
            form=form,
        )
    person = Person.of_token(chosen.token, about=chosen.about, how="demo")
    sign_in(request, person)
    return Redirect(safe_next(form.get("next")) or start_of(person), status_code=HTTP_303_SEE_OTHER)


@post("/signout", summary="Sign out")
async def signout(request: Request, state: State) -> Redirect:
    """Ends the front's session, and the identity provider's too for a person signed in
    there (a shared computer in a library must not keep them signed in at the provider)."""
    provider = await end_session_url(state.settings, signed_in(request))
    sign_out(request)
    return Redirect(provider or "/", status_code=HTTP_303_SEE_OTHER)


SIGNIN_PAGES = [signin_page, demo_signin, signout, *OIDC_PAGES]
