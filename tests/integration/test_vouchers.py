"""Service vouchers on the running stack: a contract priced per job with a voucher charges the
city at most the voucher and the resident the rest, and the ledger shows both shares; the
resident sees them on their request page before confirming; the budget alerts at 80 % and
100 % reach the ledger and the officer's page; and a dispute voided after the work was charged
reverses the charge, giving its share back to the budget."""

from __future__ import annotations

import uuid

import pytest

from contracts.events import ContractBudgetAlertV1, ContractChargeReversedV1
from tests.client import Talkoot, eventually
from tests.client import published as published_by
from tests.integration.test_contract_versions import entry_of
from tests.web import text_of

pytestmark = pytest.mark.slow

PARTNER = "lahti-city"


def completed(talkoot: Talkoot, scope, provider_id: str, resident_id: str, hours: float) -> str:
    category, region = scope
    request_id = talkoot.assigned_request(category, region, provider_id, resident_id)
    member = talkoot.member(provider_id)
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": hours}, who=member))
    talkoot.wait_for_status(request_id, "completed")
    return request_id


def test_a_voucher_contract_charges_the_city_its_share_and_the_resident_sees_both_first(
    talkoot: Talkoot, web, scope
):
    provider_id, contract_id = talkoot.ready_provider(
        *scope, unit_price_cents=6000, budget_cents=100_000, pricing="job", voucher_cents=4000
    )
    resident_id = f"resident-web-{uuid.uuid4().hex[:8]}"
    request_id = completed(talkoot, scope, provider_id, resident_id, hours=3)

    path = f"/requests/{request_id}"
    seen = talkoot.ok(talkoot.get("requests", path, who=talkoot.resident(resident_id)), 200)
    assert seen["price"] == {
        "pricing": "job",
        "unit_price_cents": 6000,
        "voucher_cents": 4000,
        "version": 1,
    }
    assert seen["estimate"] == {
        "amount_cents": 6000,
        "city_cents": 4000,
        "resident_cents": 2000,
    }
    # the provider's member reads the request, but not the resident's estimate
    other = talkoot.ok(talkoot.get("requests", path, who=talkoot.member(provider_id)), 200)
    assert other["estimate"] is None

    browser = web.signed_in("resident", resident_id, lang="en")
    page = browser.get(f"/my/requests/{request_id}").text
    words = text_of(page)
    assert "The city pays €40.00, your share €20.00." in words
    assert words.index("The city pays") < words.index("Yes, confirm the work")
    in_finnish = web.signed_in("resident", resident_id, lang="fi")
    finnish = text_of(in_finnish.get(f"/my/requests/{request_id}").text)
    assert "Kaupunki maksaa" in finnish and "omavastuusi on" in finnish

    resident = talkoot.resident(resident_id)
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))
    entry = entry_of(talkoot, contract_id, request_id)
    assert (entry["outcome"], entry["amount_cents"]) == ("charged", 6000)
    assert (entry["city_cents"], entry["resident_cents"]) == (4000, 2000)
    contract = talkoot.ledger(contract_id)
    assert (contract["charged_cents"], contract["remaining_cents"]) == (4000, 96_000)
    assert (contract["pricing"], contract["voucher_cents"]) == ("job", 4000)


def test_budget_alerts_at_80_and_100_per_cent_reach_the_ledger_and_the_officers_page(
    talkoot: Talkoot, web, scope
):
    provider_id, contract_id = talkoot.ready_provider(
        *scope, unit_price_cents=1000, budget_cents=5000
    )
    first = completed(talkoot, scope, provider_id, "resident-1", hours=4)
    talkoot.ok(talkoot.on_request(first, "confirmation", {}, who=talkoot.resident("resident-1")))
    entry_of(talkoot, contract_id, first)
    alerts = eventually(
        lambda: talkoot.ledger(contract_id)["alerts"], lambda found: len(found) == 1, 20, "alert"
    )
    assert [(a["threshold"], a["charged_cents"], a["budget_cents"]) for a in alerts] == [
        (80, 4000, 5000)
    ]
    assert talkoot.ledger(contract_id)["alert"] == 80
    officer = web.signed_in("officer", f"web-officer-of-{PARTNER}", PARTNER, lang="en")
    page = officer.get("/officer/contracts").text
    assert 'data-alert="80"' in page and "Budget alert: 80 % of the budget is charged." in page

    # the officer charges an hour, 10.00 €, of the 10.00 € left: 100 %
    talkoot.ok(
        talkoot.post(
            "partnerships",
            f"/contracts/{contract_id}/charges",
            {"request_id": str(uuid.uuid4()), "hours": 1},
            who=talkoot.officer(PARTNER),
        )
    )
    eventually(lambda: talkoot.ledger(contract_id)["alert"], lambda found: found == 100, 20, "100")
    published = [
        e
        for _, e in published_by(talkoot.stack, "partnerships")
        if isinstance(e, ContractBudgetAlertV1) and e.contract_id == contract_id
    ]
    assert [e.threshold for e in published] == [80, 100]
    page = officer.get("/officer/contracts").text
    assert 'data-alert="100"' in page


def test_a_dispute_voided_after_the_charge_reverses_it_once_and_the_budget_grows_back(
    talkoot: Talkoot, scope
):
    provider_id, contract_id = talkoot.ready_provider(
        *scope, unit_price_cents=3000, budget_cents=100_000, voucher_cents=2000
    )
    request_id = completed(talkoot, scope, provider_id, "resident-1", hours=2)
    # the officer charged the reported work before the resident disputed it
    talkoot.ok(
        talkoot.post(
            "partnerships",
            f"/contracts/{contract_id}/charges",
            {"request_id": request_id, "hours": 2},
            who=talkoot.officer(PARTNER),
        )
    )
    charged = entry_of(talkoot, contract_id, request_id)
    assert (charged["amount_cents"], charged["city_cents"], charged["resident_cents"]) == (
        6000,
        2000,
        4000,
    )
    resident = talkoot.resident("resident-1")
    talkoot.ok(talkoot.on_request(request_id, "dispute", {"reason": "Not done"}, who=resident))
    talkoot.ok(
        talkoot.on_request(
            request_id,
            "resolution",
            {"outcome": "voided", "note": "Nobody came"},
            who=talkoot.officer(PARTNER),
        )
    )

    entries = eventually(
        lambda: [
            e for e in talkoot.ledger(contract_id)["entries"] if e["request_id"] == request_id
        ],
        lambda found: len(found) == 2,
        20,
        "the reversal",
    )
    assert [(e["outcome"], e["city_cents"], e["remaining_cents"]) for e in entries] == [
        ("charged", 2000, 98_000),
        ("reversed", 2000, 100_000),
    ]
    contract = talkoot.ledger(contract_id)
    assert (contract["charged_cents"], contract["remaining_cents"], contract["reversals"]) == (
        0,
        100_000,
        1,
    )
    (reversal,) = [
        e
        for _, e in published_by(talkoot.stack, "partnerships")
        if isinstance(e, ContractChargeReversedV1) and e.request_id == request_id
    ]
    assert (reversal.city_cents, reversal.resident_cents) == (2000, 4000)
    # the same request is not charged again
    again = talkoot.post(
        "partnerships",
        f"/contracts/{contract_id}/charges",
        {"request_id": request_id, "hours": 1},
        who=talkoot.officer(PARTNER),
    )
    assert again.status_code == 409, again.text
    budgets = talkoot.ok(talkoot.get("matching", "/budgets/"), 200)
    assert any(b["contract_id"] == contract_id for b in budgets)
