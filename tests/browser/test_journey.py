"""A whole request in a real browser: a resident asks for snow clearing, the provider's member
sees the offer appear and accepts it, the resident sees it assigned without reloading, the
member reports the hours, the resident confirms and rates, and the city's officer finds the
charge on the contract. Every page is checked with axe-core, and the main ones are saved as
screenshots for the README."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from domain.calendar import LOCAL_TIME
from tests.browser.support import check_accessibility, screenshot
from tests.conftest import unused_scope

pytestmark = pytest.mark.slow


def tomorrow(hour: int) -> str:
    day = datetime.now(LOCAL_TIME).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hour:02}:00"


def signed_in(browser: Browser, web, role: str, subject: str, acts_for=None, locale="fi-FI"):
    """A page of a new browser context, signed in through the demo sign-in as that person."""
    web.person(role, subject, acts_for)
    context = browser.new_context(locale=locale, timezone_id="Europe/Helsinki")
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused_by_policy: list[str] = []  # what the pages' Content-Security-Policy blocked
    page.on(
        "console",
        lambda message: (
            refused_by_policy.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.refused_by_policy = refused_by_policy
    page.goto(f"{web.url}/language/{locale[:2]}?next=/signin")
    page.check(f"input[name='subject'][value='{subject}']")
    page.get_by_role("button", name=re.compile("^(Sign in|Kirjaudu sisään)$")).click()
    return page


def accessible(page: Page, name: str | None = None) -> None:
    assert not getattr(page, "refused_by_policy", []), page.refused_by_policy
    check_accessibility(page)
    if name:
        screenshot(page, name)


@pytest.fixture
def people(browser, web, talkoot):
    """A provider with a signed contract for snow clearing in a region of the tests' own, and
    the pages of its member, a resident and the partner's officer."""
    category, region = unused_scope()
    while category != "snow-clearing":  # a pair no other test uses, for snow clearing
        category, region = unused_scope()
    provider_id, contract_id = talkoot.ready_provider(category, region)
    resident = signed_in(browser, web, "resident", f"resident-{uuid.uuid4().hex[:6]}")
    member = signed_in(
        browser, web, "provider", f"member-{uuid.uuid4().hex[:6]}", provider_id, "en-GB"
    )
    officer = signed_in(browser, web, "officer", "officer-lahti-city", "lahti-city", "en-GB")
    yield {
        "category": category,
        "region": region,
        "provider_id": provider_id,
        "contract_id": contract_id,
        "resident": resident,
        "member": member,
        "officer": officer,
    }
    for page in (resident, member, officer):
        page.context.close()


def test_a_whole_request_in_the_browser(people, web, talkoot):
    resident, member, officer = people["resident"], people["member"], people["officer"]

    # The resident asks, in Finnish.
    resident.goto(f"{web.url}/ask")
    resident.check(f"input[name='category'][value='{people['category']}']")
    resident.select_option("select[name='region']", people["region"])
    resident.fill("input[name='address']", "Rautatienkatu 1")
    resident.fill("input[name='window_start']", tomorrow(8))
    resident.fill("input[name='window_end']", tomorrow(12))
    resident.fill("textarea[name='description']", "Ajotie ja portaat, noin 20 metriä.")
    accessible(resident, "resident-ask")
    resident.get_by_role("button", name="Lähetä pyyntö").click()
    expect(resident.get_by_text("Pyyntösi lähetettiin")).to_be_visible()
    request_id = resident.url.split("?")[0].rsplit("/", 1)[1]

    # The offer appears in the member's inbox by itself, with the reason it was made.
    member.goto(f"{web.url}/provider/offers")
    offer = member.locator(f"[data-offer-id][data-request-id='{request_id}']")
    expect(offer).to_be_visible(timeout=20_000)
    accessible(member, "provider-inbox")
    offer.get_by_role("button", name="Take the job").click()

    # The resident's page shows it assigned, without a reload.
    expect(resident.locator("#now .status")).to_have_text("tekijä löytyi", timeout=20_000)
    accessible(resident, "resident-request")

    # The member reports 2.5 hours on the job.
    member.goto(f"{web.url}/provider/jobs")
    job = member.locator(f"[data-request-id='{request_id}']")
    job.get_by_label("Hours worked").fill("2.5")
    job.get_by_role("button", name="Report the hours").click()
    expect(member.get_by_text("The hours are reported")).to_be_visible()
    accessible(member, "provider-jobs")

    # The resident confirms and rates.
    expect(resident.locator("#now .status")).to_have_text("työ ilmoitettu tehdyksi", timeout=20_000)
    resident.get_by_role("button", name="Kyllä, kuittaa työ").click()
    expect(resident.get_by_text("Kiitos: työ on kuitattu.")).to_be_visible()
    resident.check("input[name='stars'][value='5']")
    resident.get_by_role("button", name="Lähetä arvio").click()
    expect(resident.get_by_text("Kiitos arviosta.")).to_be_visible()
    accessible(resident)

    # The officer sees the charge: 2.5 h at 30.00 € an hour.
    talkoot.wait_until_quiet()
    officer.goto(f"{web.url}/officer/contracts")
    expect(officer.get_by_text("€75.00").first).to_be_visible()
    accessible(officer, "officer-contracts")


def test_each_role_is_refused_what_is_not_theirs(people, web, browser):
    cases = [
        (people["resident"], "/officer/contracts"),
        (people["member"], "/ask"),
        (people["officer"], "/provider/offers"),
        (people["resident"], "/admin/snowfall"),
    ]
    for page, path in cases:
        response = page.goto(f"{web.url}{path}")
        assert response.status == 403, path
        check_accessibility(page)
    nobody = browser.new_context().new_page()
    nobody.goto(f"{web.url}/my/requests")
    assert "/signin" in nobody.url
    nobody.context.close()


def test_the_front_and_sign_in_pages_for_the_readme(browser, web):
    page = browser.new_context(locale="fi-FI").new_page()
    page.goto(f"{web.url}/")
    accessible(page, "front-page")
    page.goto(f"{web.url}/signin")
    accessible(page, "sign-in")
    page.context.close()


def test_every_page_of_every_role_passes_the_accessibility_check(people, web, browser):
    """Each page a person can reach from the navigation, in Finnish and English."""
    pages = {
        "resident": ["/", "/ask", "/my/requests", "/my/series"],
        "member": ["/provider/offers", "/provider/jobs", "/provider/team"],
        "officer": [
            "/officer/contracts",
            "/officer/disputes",
            "/officer/providers",
            "/officer/decisions",
        ],
    }
    for who, paths in pages.items():
        page = people[who]
        for path in paths:
            response = page.goto(f"{web.url}{path}")
            assert response.status == 200, path
            check_accessibility(page)
    admin = signed_in(browser, web, "admin", "admin-web", locale="en-GB")
    for path in ("/admin/snowfall", "/admin/catalogue"):
        assert admin.goto(f"{web.url}{path}").status == 200
        check_accessibility(admin)
    screenshot(admin, "admin-catalogue")
    admin.context.close()
    nobody = browser.new_context(locale="en-GB").new_page()
    for path in ("/", "/signin", "/no-such-page"):
        nobody.goto(f"{web.url}{path}")
        check_accessibility(nobody)
    nobody.context.close()


def test_a_click_on_the_map_sets_the_point_and_the_area_on_both_maps(web, browser):
    page = signed_in(browser, web, "resident", "map-resident", locale="en-GB")
    page.goto(f"{web.url}/ask")
    whole, closer = page.locator("svg.map").all()
    closer.locator("path[data-code='lahti-laune']").click()

    assert page.input_value("#f-region") == "lahti-laune"
    lat, long = float(page.input_value("#f-lat")), float(page.input_value("#f-long"))
    assert 60.92 < lat < 60.97 and 25.64 < long < 25.69  # inside Laune's outline
    for svg in (whole, closer):
        expect(svg.locator("path.chosen")).to_have_attribute("data-code", "lahti-laune")
        expect(svg.locator("circle.pin")).to_have_count(1)

    whole.locator("path[data-code='nastola']").focus()  # and by keyboard
    page.keyboard.press("Enter")
    assert page.input_value("#f-region") == "nastola"
    assert not page.refused_by_policy  # the map's script and htmx run under the page's policy
    page.context.close()
