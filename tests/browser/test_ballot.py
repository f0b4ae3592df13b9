"""A resident votes in a budgeting round in a real browser: the running total of their ballot
changes as they tick proposals, says what the rule still needs, and the ballot they cast is
shown, changeable, on the round's page. The page is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from deploy.demo import Person, write_tokens
from deploy.stack import DEMO_PEOPLE
from domain.calendar import local_today
from services.web import i18n
from tests.browser.support import check_accessibility
from tests.browser.test_journey import accessible
from tests.client import Talkoot
from tests.integration.tables import REGION, command, coordinator, found, read

pytestmark = pytest.mark.slow


def balloting_round(talkoot: Talkoot) -> str:
    """A round of 5 000 € whose ballot picks one or two of three proposals, balloting."""
    table_id = found(talkoot)
    coord = coordinator(talkoot, table_id)
    body = {
        "title": "Lähiraha",
        "year": local_today().year,
        "budget_cents": 500_000,
        "rule": "between",
        "minimum": 1,
        "maximum": 2,
    }
    round_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/rounds", body, coord))["id"]
    for title, cost in [("Leikkipuisto", 300_000), ("Penkit", 100_000), ("Katos", 150_000)]:
        path = f"/rounds/{round_id}/proposals"
        talkoot.ok(command(talkoot, path, {"title": title, "cost_cents": cost}, coord))
    made = {p["title"]: p["proposal_id"] for p in read(talkoot, f"/rounds/{round_id}")["proposals"]}
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": "reviewing"}, coord))
    for proposal_id in made.values():
        review = f"/rounds/{round_id}/proposals/{proposal_id}/review"
        talkoot.ok(command(talkoot, review, {"feasible": True}, coord))
    for phase in ("selecting", "publishing_costs", "balloting"):
        talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": phase}, coord))
    return round_id


def money(cents: int) -> str:
    with i18n.speaking("fi"):
        return i18n.money(cents)


def test_a_resident_sees_the_running_total_change_as_they_tick(
    browser: Browser, web, talkoot: Talkoot
):
    round_id = balloting_round(talkoot)
    subject = f"voter-{round_id[:8]}"
    web.people[subject] = Person("resident", subject, about="test resident", region=REGION)
    write_tokens(web.stack.data_dir / DEMO_PEOPLE, list(web.people.values()), web.stack.token)
    context = browser.new_context(locale="fi-FI", timezone_id="Europe/Helsinki")
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused_by_policy: list[str] = []
    page.on(
        "console",
        lambda m: refused_by_policy.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.refused_by_policy = refused_by_policy
    page.goto(f"{web.url}/language/fi?next=/signin")
    page.check(f"input[name='subject'][value='{subject}']")
    page.get_by_role("button", name=re.compile("^Kirjaudu sisään$")).click()

    page.goto(f"{web.url}/rounds/{round_id}")
    total = page.locator("#total")
    expect(total).to_contain_text(f"{money(0)} / {money(500_000)}")
    expect(total).to_contain_text("Valitse vähintään 1 ehdotusta")
    accessible(page)

    page.get_by_label(re.compile("^Leikkipuisto")).check()
    expect(page.locator("#total")).to_contain_text(f"{money(300_000)} / {money(500_000)}")
    expect(page.locator("#total")).to_have_attribute("data-valid", "yes")
    page.get_by_label(re.compile("^Katos")).check()
    expect(page.locator("#total")).to_contain_text(f"{money(450_000)} / {money(500_000)}")
    page.get_by_label(re.compile("^Penkit")).check()  # three: past the budget and the rule
    expect(page.locator("#total")).to_have_attribute("data-valid", "no")
    expect(page.locator("#total")).to_contain_text("yli budjetin")
    page.get_by_label(re.compile("^Leikkipuisto")).uncheck()
    expect(page.locator("#total")).to_contain_text(f"{money(250_000)} / {money(500_000)}")
    expect(page.locator("#total")).to_have_attribute("data-valid", "yes")
    accessible(page)

    page.get_by_role("button", name="Jätä äänestyslippuni").click()
    expect(page.get_by_role("status").first).to_contain_text("Äänestyslippusi on jätetty.")
    expect(page.locator("ul.mine")).to_contain_text("Penkit")
    expect(page.locator("ul.mine")).to_contain_text("Katos")
    assert page.get_by_label(re.compile("^Penkit")).is_checked()
    accessible(page)
    context.close()


def test_the_round_and_impact_pages_pass_the_accessibility_check(browser: Browser, web, talkoot):
    round_id = balloting_round(talkoot)
    for locale in ("fi-FI", "en-GB"):
        context = browser.new_context(locale=locale, timezone_id="Europe/Helsinki")
        page = context.new_page()
        page.goto(f"{web.url}/language/{locale[:2]}?next=/")
        for path in (f"/rounds/{round_id}", "/rounds", "/impact", "/impact?from=2026-02-30"):
            page.goto(f"{web.url}{path}")
            check_accessibility(page)
        images = page.evaluate("[...document.images].map(i => i.naturalWidth)")
        assert images == [], "a refused query shows no charts"
        page.goto(f"{web.url}/impact")
        page.locator(".charts img").last.scroll_into_view_if_needed()
        expect(page.locator(".charts img").last).to_have_js_property("complete", True)
        widths = page.evaluate(
            "[...document.querySelectorAll('.charts img')].map(i => i.naturalWidth)"
        )
        assert len(widths) == 8 and all(w > 0 for w in widths), widths
        context.close()
