"""The web front as a resident uses it: signing in, asking for a service, a refused form that
keeps what was typed, and what other people may not see. Real stack, real HTTP, cookies and
CSRF as a browser sends them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from domain.calendar import LOCAL_TIME
from tests.web import text_of

pytestmark = pytest.mark.slow


def tomorrow(hour: int) -> str:
    day = datetime.now(LOCAL_TIME).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hour:02}:00"


def resident(web, lang="en"):
    subject = f"resident-web-{uuid.uuid4().hex[:8]}"
    return subject, web.signed_in("resident", subject, lang=lang)


def test_the_front_page_speaks_finnish_first_and_english_on_request(web):
    browser = web.browser(lang="")
    page = browser.get("/")
    assert page.status_code == 200
    assert '<html lang="fi">' in page.text and "Kirjaudu sisään" in page.text
    switched = browser.get("/language/en", next="/signin")
    assert switched.url.path == "/signin" and '<html lang="en">' in switched.text
    assert "Sign in" in text_of(switched.text)


@pytest.mark.parametrize("path", ["/", "/signin", "/static/talkoot.css", "/no-such-page"])
def test_every_answer_keeps_the_page_to_the_fronts_own_scripts_and_out_of_frames(web, path):
    answer = web.browser().get(path)
    policy = dict(
        part.strip().split(" ", 1) for part in answer.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and "unsafe-inline" not in policy["style-src"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in answer.headers  # this machine: plain HTTP


def test_a_language_switch_goes_back_only_to_a_page_of_the_front(web):
    page = web.browser().get("/language/en", next="//elsewhere.example/")
    assert page.url.host == "127.0.0.1" and page.url.path == "/"


def test_signing_in_as_a_demo_person_and_out(web):
    subject, browser = resident(web)
    page = browser.get("/my/requests")
    assert page.status_code == 200 and f"Signed in as {subject}" in page.text
    cookie = next(c for c in browser.http.cookies.jar if c.name == "talkoot_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    browser.post("/signout", {})
    again = browser.get("/my/requests")
    assert again.url.path == "/signin" and "next=%2Fmy%2Frequests" in str(again.url)


def test_the_demo_people_are_named_in_the_pages_language(web):
    asked = ({"category": "snow-clearing", "region": "lahti-mukkula"},)
    asked += ({"category": "shopping-help", "rule": "weekly"},)
    web.person("resident", "resident-named", asked=asked)
    web.person("officer", "officer-named", "lahti-city-wellbeing")

    finnish = text_of(web.browser(lang="fi").get("/signin").text)
    english = text_of(web.browser(lang="en").get("/signin").text)

    assert "resident-named — Lumityöt: Lahti, Mukkula; Kauppa-apu joka viikko" in finnish
    assert "resident-named — Snow clearing in Lahti, Mukkula; Shopping help every week" in english
    assert "lahti-city-wellbeing, saa allekirjoittaa sen sopimukset" in finnish


def test_a_form_without_its_csrf_token_is_refused_and_signs_nobody_in(web):
    web.person("resident", "resident-web-csrf")
    browser = web.browser()
    refused = browser.post("/signin/demo", {"subject": "resident-web-csrf"}, csrf=False)
    assert refused.status_code == 403
    assert browser.get("/my/requests").url.path == "/signin"


def test_someone_not_on_the_demo_list_is_not_signed_in(web):
    browser = web.browser()
    page = browser.post("/signin/demo", {"subject": "resident-nobody"})
    assert page.status_code == 400 and "Choose one of the people listed" in page.text
    assert browser.get("/my/requests").url.path == "/signin"


def test_a_resident_asks_for_a_service_and_sees_it(web, talkoot, scope):
    category, region = scope
    subject, browser = resident(web)
    form = browser.get("/ask")
    assert form.status_code == 200 and 'name="category"' in form.text
    page = browser.post(
        "/ask",
        {
            "category": category,
            "region": region,
            "address": "Rautatienkatu 1",
            "description": "Front steps, please",
            "window_start": tomorrow(8),
            "window_end": tomorrow(12),
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert page.status_code == 200, page.text
    assert page.url.path.startswith("/my/requests/")
    assert "Your request was sent" in page.text and "Front steps, please" in page.text
    request_id = page.url.path.rsplit("/", 1)[1]
    stored = talkoot.ok(talkoot.get("requests", f"/requests/{request_id}"), 200)
    assert stored["resident_id"] == subject and stored["category"] == category
    # the window was Lahti's local time
    assert datetime.fromisoformat(stored["window_start"]).astimezone(LOCAL_TIME).hour == 8
    listed = browser.get("/my/requests")
    assert f"/my/requests/{request_id}" in listed.text


def test_sending_the_same_form_twice_asks_once(web, talkoot, scope):
    category, region = scope
    subject, browser = resident(web)
    form = {
        "category": category,
        "region": region,
        "window_start": tomorrow(9),
        "window_end": tomorrow(11),
        "idempotency_key": uuid.uuid4().hex,
    }
    first = browser.post("/ask", form)
    second = browser.post("/ask", form)
    assert first.url.path == second.url.path
    mine = talkoot.ok(talkoot.get("requests", "/requests/", who=talkoot.resident(subject)), 200)
    assert len(mine) == 1


def test_a_refused_request_shows_why_beside_the_field_and_keeps_what_was_typed(web, talkoot, scope):
    category, region = scope
    subject, browser = resident(web, lang="fi")
    page = browser.post(
        "/ask",
        {
            "category": category,
            "region": region,
            "description": "Lumet pois portailta",
            "window_start": tomorrow(12),
            "window_end": tomorrow(8),
        },
    )
    assert page.status_code in (400, 422), page.text
    assert 'aria-invalid="true"' in page.text
    assert "Tarkista aika" in page.text  # the service's refusal, in the page's language
    assert "Lumet pois portailta" in page.text and tomorrow(12) in page.text
    mine = talkoot.ok(talkoot.get("requests", "/requests/", who=talkoot.resident(subject)), 200)
    assert mine == []


def test_a_provider_member_is_not_shown_the_residents_form(web):
    browser = web.signed_in("provider", "member-web-not-resident", acts_for=str(uuid.uuid4()))
    page = browser.get("/ask")
    assert page.status_code == 403 and "This page is for residents" in page.text


def test_someone_elses_request_is_not_found(web, talkoot, scope):
    category, region = scope
    _, owner = resident(web)
    asked = owner.post(
        "/ask",
        {
            "category": category,
            "region": region,
            "window_start": tomorrow(8),
            "window_end": tomorrow(10),
        },
    )
    path = asked.url.path
    _, other = resident(web)
    page = other.get(path)
    assert page.status_code == 404 and "not yours to see" in page.text
    cancelled = other.post(f"{path}/cancel", {"reason": "not mine"})
    assert cancelled.status_code == 404
    assert owner.get(path).status_code == 200


def test_the_request_page_says_in_finnish_why_it_was_offered_to_whom(web, talkoot, scope):
    provider_id, _ = talkoot.ready_provider(*scope)
    subject, browser = resident(web, lang="fi")
    request_id = talkoot.submit(*scope, resident_id=subject)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == provider_id

    page = browser.get(f"/my/requests/{request_id}")

    assert page.status_code == 200, page.text
    words = text_of(page.text)
    said = "Tarjottu palveluntuottajalle Testiosuuskunta, joka oli ainoa sopiva."
    # where it stands (its reason) and its history, both in Finnish from matching's facts
    assert words.count(said) == 2, words
    assert "Sille ei ollut tehty yhtään tarjousta viimeisen 30 päivän aikana." in words
    assert "the only eligible provider" not in words and 'class="why" lang="en"' not in page.text
    in_english = web.signed_in("resident", subject, lang="en")
    words = text_of(in_english.get(f"/my/requests/{request_id}").text)
    assert words.count("Offered to Testiosuuskunta, the only eligible provider.") == 2
