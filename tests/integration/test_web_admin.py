"""The admin's pages of the web front, on the running stack: declaring a snowfall day for areas
(and what is refused: a day gone by, an area the catalogue does not know, a day declared
already), the catalogue as it stands; and that nobody else gets them."""

from __future__ import annotations

import html
import random
import re
import uuid
from datetime import date, timedelta

import pytest

from domain.calendar import local_today
from services.platform.catalogue import load_catalogue
from tests.client import Talkoot
from tests.web import text_of

pytestmark = pytest.mark.slow

CATALOGUE = load_catalogue()


def admin(web, lang: str = "en"):
    return web.signed_in("admin", "web-admin-1", lang=lang)


def a_day_to_come() -> date:
    """A day of this test's own, years ahead: no snowfall series makes its requests for it
    yet, and no other test declares it."""
    return local_today() + timedelta(days=random.randint(1000, 3000))


def declared(talkoot: Talkoot, day: date) -> list[dict]:
    days = talkoot.ok(talkoot.get("requests", "/snowfall-days", who=None, limit=1000), 200)
    return [d for d in days if d["day"] == day.isoformat()]


def error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field_id}"
    return html.unescape(text_of(found.group(1)))


def test_the_admin_declares_a_snowfall_day_for_an_area(web, talkoot: Talkoot, scope):
    _, region = scope
    day = a_day_to_come()
    browser = admin(web)
    form = browser.get("/admin/snowfall")
    assert form.status_code == 200, form.text
    assert f'value="{region}"' in form.text

    page = browser.post("/admin/snowfall", {"day": day.isoformat(), "regions": [region]})

    assert page.status_code == 200, page.text
    assert page.url.path == "/admin/snowfall"
    assert "The snowfall day is declared." in text_of(page.text)
    (stored,) = declared(talkoot, day)
    assert (stored["regions"], stored["declared_by"]) == ([region], "web-admin-1")
    # the list is read as of the declaration
    shown = re.search(rf'<li data-day="{day.isoformat()}">(.*?)</li>', page.text, re.S)
    assert shown and CATALOGUE.regions[region].name in text_of(shown.group(1))

    # the same day and area again: refused at the top of the form, nothing more stored
    again = browser.post("/admin/snowfall", {"day": day.isoformat(), "regions": [region]})
    assert again.status_code == 409, again.text
    assert "already a snowfall day" in text_of(again.text)
    assert 'role="alert"' in again.text
    in_finnish = admin(web, "fi").post(
        "/admin/snowfall", {"day": day.isoformat(), "regions": [region]}
    )
    assert "Se päivä on jo ilmoitettu sille alueelle." in text_of(in_finnish.text)
    (stored,) = declared(talkoot, day)
    assert stored["regions"] == [region]


@pytest.mark.parametrize("lang", ["fi", "en"])
@pytest.mark.parametrize(
    ("case", "field", "finnish", "english"),
    [
        ("yesterday", "f-day", "Tarkista päivä.", "has already passed"),
        ("no day", "f-day", "Tarkista päivä.", "Expected `date`"),
        ("an unknown area", "f-regions", "Valitse alueet luettelosta.", "unknown region"),
    ],
)
def test_a_refused_snowfall_day_says_why_beside_the_field_and_declares_nothing(
    web, talkoot: Talkoot, scope, case, field, finnish, english, lang
):
    _, region = scope
    day = {"yesterday": local_today() - timedelta(days=1), "no day": None}.get(
        case, a_day_to_come()
    )
    regions = [region, "no-such-area"] if case == "an unknown area" else [region]
    typed = {"day": day.isoformat() if day else "", "regions": regions}

    page = admin(web, lang).post("/admin/snowfall", typed)

    assert page.status_code in (400, 422), page.text
    said = error_beside(page.text, field)
    assert (finnish if lang == "fi" else english) in said, said
    assert f'href="#{field}"' in page.text  # at the top too, leading to the field
    if day:
        assert f'value="{day.isoformat()}"' in page.text
        assert declared(talkoot, day) == []
    assert f'id="reg-{region}" value="{region}" checked' in page.text


def test_the_catalogue_page_lists_the_services_and_areas(web):
    page = admin(web).get("/admin/catalogue")
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    for code, category in CATALOGUE.categories.items():
        assert code in words and category.name in words
    for code, region in CATALOGUE.regions.items():
        assert f"{region.name} ({code})" in words

    finnish = text_of(admin(web, "fi").get("/admin/catalogue").text)
    assert "Palveluluettelo nykyisellään" in finnish
    assert "Lumityöt" in finnish  # the catalogue's own Finnish name


ADMIN_PAGES = ("/admin/snowfall", "/admin/catalogue")


def test_nobody_but_an_admin_gets_the_admin_pages(web):
    people = [
        web.signed_in("resident", "web-resident-not-admin"),
        web.signed_in("provider", "web-member-not-admin", acts_for=str(uuid.uuid4())),
        web.signed_in("officer", "web-officer-not-admin", acts_for="lahti-city"),
    ]
    for browser in people:
        for path in ADMIN_PAGES:
            page = browser.get(path)
            assert page.status_code == 403, path
            assert "This page is for Talkoot's administrators." in text_of(page.text)
        day = {"day": a_day_to_come().isoformat(), "regions": []}
        assert browser.post("/admin/snowfall", day).status_code == 403
    in_finnish = web.signed_in("resident", "web-resident-not-admin", lang="fi")
    words = text_of(in_finnish.get("/admin/snowfall").text)
    assert "Tämä sivu on Talkoon ylläpitäjille." in words
    # and an admin is not an officer
    assert admin(web).get("/officer/contracts").status_code == 403


def test_a_visitor_signed_out_is_sent_to_sign_in(web):
    for path in ADMIN_PAGES:
        page = web.browser().get(path)
        assert page.url.path == "/signin", path
        assert page.url.params["next"] == path
