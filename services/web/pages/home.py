"""The front door: what Talkoot is, and where each kind of user starts."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Redirect, Template

from services.web.pages import render
from services.web.people import Person, signed_in

# Where each role's work starts, in the order a person holding several is sent.
STARTS = (
    ("resident", "/my/requests"),
    ("provider", "/provider/offers"),
    ("officer", "/officer/contracts"),
    ("admin", "/admin/snowfall"),
)


def start_of(person: Person) -> str:
    return next((path for role, path in STARTS if person.holds(role)), "/")


@get("/", summary="The front page", sync_to_thread=False)
def front_page(request: Request) -> Template | Redirect:
    return render(request, "home.html", person=signed_in(request))


HOME_PAGES = [front_page]
