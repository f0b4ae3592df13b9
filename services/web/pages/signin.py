"""Signing in and out: with the city's identity provider (OpenID Connect, services/web/oidc.py)
where it is configured, and from the local demo's list of people where that is on."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from services.web import i18n
from services.web.forms import form_of
from services.web.oidc import OIDC_PAGES, end_session_url
from services.web.pages import render
from services.web.pages.home import start_of
from services.web.people import Person, demo_people, sign_in, sign_out, signed_in


def safe_next(target: str | None) -> str | None:
    """A page of this front to go back to; never an address elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@get("/signin", summary="Sign in", sync_to_thread=False)
def signin_page(request: Request, state: State, next: str | None = None) -> Template:
    settings = state.settings
    return render(
        request,
        "signin.html",
        next=safe_next(next) or "",
        oidc=settings.oidc is not None,
        people=demo_people(settings.demo_people),
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
            people=people,
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
