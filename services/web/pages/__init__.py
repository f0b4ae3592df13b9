"""The front's pages, one module per kind of user, and what every page shares: ``render``
(a template with the person, the language and the navigation) and the front's state (the
services' client, the settings)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import State
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from services.web import i18n
from services.web.forms import N_
from services.web.people import Person, signed_in

EVERYONE = "*"  # an entry for every role
# The navigation: (path, label, role); a person sees the entries of the roles they hold.
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("/ask", N_("Ask for a service"), "resident"),
    ("/my/requests", N_("My requests"), "resident"),
    ("/my/series", N_("Recurring"), "resident"),
    ("/provider/offers", N_("Offers"), "provider"),
    ("/provider/jobs", N_("Our jobs"), "provider"),
    ("/provider/team", N_("Members and pauses"), "provider"),
    ("/officer/contracts", N_("Contracts"), "officer"),
    ("/officer/disputes", N_("Disputes"), "officer"),
    ("/officer/providers", N_("Providers"), "officer"),
    ("/officer/decisions", N_("Matching decisions"), "officer"),
    ("/officer/arrangements", N_("Arrangements"), "officer"),
    ("/officer/settlements", N_("Settlement"), "officer"),
    ("/officer/audit", N_("Audit"), "officer"),
    ("/admin/snowfall", N_("Snowfall days"), "admin"),
    ("/admin/catalogue", N_("Catalogue"), "admin"),
    ("/your-table", N_("Your table"), "resident"),
    ("/our-table", N_("Our table"), "coordinator"),
    ("/tables", N_("Partnership tables"), EVERYONE),
    ("/officer/initiatives", N_("Initiatives to answer"), "officer"),
    ("/coordinator/rounds", N_("Budgeting rounds"), "coordinator"),
    ("/impact", N_("Impact report"), EVERYONE),
)


def navigation(person: Person | None) -> list[tuple[str, str]]:
    if person is None:
        return []
    return [
        (path, i18n.gettext(label))
        for path, label, role in NAVIGATION
        if role == EVERYONE or person.holds(role)
    ]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """``template`` with what every page shows: who is signed in, their navigation, the
    language switch (back to this same page) and the page's own ``context``."""
    person = context.pop("person", None) or signed_in(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Template(
        template_name=template,
        status_code=status_code,
        context={
            "person": person,
            "navigation": navigation(person),
            "here": request.url.path,
            "lang": i18n.language(),
            "has_session": "session" in request.scope,
            "switch": [
                (code, i18n.NAMES[code], f"/language/{code}?next={quote(here, safe='')}")
                for code in i18n.LANGUAGES
                if code != i18n.language()
            ],
            **context,
        },
    )


def back_to(request: Request, path: str, notice: str | None = None) -> Redirect:
    """After a command: the page to look at (303, so a reload does not send it again), with
    ``notice`` (words of the catalogue) shown once at its top."""
    if notice:
        flash(request, i18n.gettext(notice), category="done")
    return Redirect(path, status_code=303)


async def catalogue(state: State) -> dict[str, Any]:
    """The service catalogue as the requests service publishes it (``GET /catalogue``), each
    name and description in the page's language: ``categories`` and ``regions`` in the
    catalogue's order, and ``names`` and ``region_names`` by code."""
    found = await state.services.catalogue()
    lang = i18n.language()

    def in_language(entry: dict) -> dict:
        return {
            **entry,
            "name": (entry.get("names") or {}).get(lang) or entry["name"],
            "description": (entry.get("descriptions") or {}).get(lang)
            or entry.get("description", ""),
        }

    categories = [in_language(c) for c in found["categories"]]
    regions = [in_language(r) for r in found["regions"]]
    return {
        "categories": categories,
        "regions": regions,
        "names": {c["code"]: c["name"] for c in categories},
        "region_names": {r["code"]: r["name"] for r in regions},
    }
