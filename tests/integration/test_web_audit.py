"""The officer's audit pages of the web front, on the running stack: the partner's
arrangements (filters, CSV), one arrangement's timeline, and the settlement of a period; and
who may open them."""

from __future__ import annotations

import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.test_arrangements import arrangement
from tests.web import text_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def charged(talkoot: Talkoot) -> dict:
    from tests.conftest import unused_scope

    category, region = unused_scope()
    provider_id, contract_id = talkoot.ready_provider(category, region, unit_price_cents=3000)
    request_id = talkoot.completed_request(category, region, provider_id, hours=2.0)
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=talkoot.resident()))
    arrangement(talkoot, request_id, "charged", who=talkoot.officer())
    return {"category": category, "request_id": request_id, "contract_id": contract_id}


def officer(web, lang="en"):
    return web.signed_in("officer", "web-auditor-of-lahti-city", acts_for="lahti-city", lang=lang)


def test_the_arrangements_page_lists_filters_and_downloads_the_partners_arrangements(web, charged):
    page = officer(web).get("/officer/arrangements", category=charged["category"])
    assert page.status_code == 200, page.text
    assert f'href="/officer/arrangements/{charged["request_id"]}"' in page.text
    assert "anon-" in page.text and "resident-1" not in text_of(page.text)
    other = officer(web).get("/officer/arrangements", category="no-such-category")
    assert charged["request_id"] not in other.text
    csv = officer(web).get("/officer/arrangements", category=charged["category"], format="csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert charged["request_id"] in csv.text and "request_id" in csv.text.splitlines()[0]


def test_one_arrangements_timeline_names_each_step_and_its_source(web, charged):
    page = officer(web, lang="fi").get(f"/officer/arrangements/{charged['request_id']}")
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert "Aikajana" in words and "Lähde: requests" in words and "Lähde: partnerships" in words
    for step in ("submitted", "offered", "completed", "confirmed", "charged"):
        assert step in words, step


def test_the_settlement_page_totals_the_period_and_refuses_a_period_backwards(web, charged):
    today = local_today().isoformat()
    page = officer(web).get("/officer/settlements", **{"from": today, "until": today})
    assert page.status_code == 200, page.text
    assert f'href="/officer/contracts/{charged["contract_id"]}"' in page.text
    assert "60.00" in text_of(page.text) or "60,00" in text_of(page.text)  # 2 h at 30.00 €
    csv = officer(web).get("/officer/settlements", **{"from": today, "format": "csv"})
    assert csv.status_code == 200 and charged["request_id"] in csv.text
    backwards = officer(web).get("/officer/settlements", **{"from": today, "until": "2020-01-01"})
    assert backwards.status_code == 400, backwards.text
    assert "problems" in backwards.text


def test_only_an_officer_opens_the_audit_pages(web):
    resident = web.signed_in("resident", "web-resident-auditless")
    for path in ("/officer/arrangements", "/officer/settlements", "/officer/audit"):
        assert resident.get(path).status_code == 403, path
