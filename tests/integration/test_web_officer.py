"""The city officer's pages of the web front, on the running stack: the partner's contracts with
the budget bar (charged, held, remaining), proposing and signing one, the disputes to rule on,
suspending and reinstating a provider under the partner's contracts, and the matching decisions
of the partner's jobs; and what each page refuses, and to whom. Each test has a municipal
partner of its own, and checks the services' state afterwards as well as the page."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest

from domain.calendar import local_today
from domain.money import Money, price_of_work
from services.platform.catalogue import load_catalogue
from services.web import i18n
from tests.client import Talkoot, eventually
from tests.conftest import unused_scope
from tests.web import text_of

pytestmark = pytest.mark.slow

PRICE = 3000  # the unit price of Talkoot.contract: 30.00 € an hour


def a_partner() -> str:
    return f"web-city-{uuid.uuid4().hex[:8]}"


def officer_of(web, partner: str, lang: str = "en", may_sign: bool = True):
    subject = f"web-officer-of-{partner}" + ("" if may_sign else "-no-signing")
    return web.signed_in("officer", subject, acts_for=partner, lang=lang, may_sign=may_sign)


def card(page: str, attribute: str, value: str) -> str:
    """The section of a page about one thing (``data-contract-id="..."`` and the like)."""
    found = re.search(rf'<section[^>]*{attribute}="{re.escape(value)}".*?</section>', page, re.S)
    assert found, f"no section with {attribute}={value}"
    return found.group(0)


def error_beside(page: str, field_id: str) -> str:
    """The words of the error tied to the field whose id is ``field_id``."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field_id}"
    return html.unescape(text_of(found.group(1)))


def contracts_of(talkoot: Talkoot, partner: str) -> list[dict]:
    return talkoot.ok(talkoot.get("partnerships", "/ledger", who=talkoot.officer(partner)), 200)


def money(cents: int, lang: str) -> str:
    with i18n.speaking(lang):
        return i18n.money(cents)


def estimate(category: str) -> int:
    """What matching holds of a budget for one job of ``category`` at PRICE."""
    return price_of_work(
        Money(PRICE), load_catalogue().categories[category].estimated_minutes
    ).cents


# --- contracts ---------------------------------------------------------------------------


def test_the_contracts_page_shows_each_contract_with_charged_held_and_remaining(
    web, talkoot: Talkoot, scope
):
    category, region = scope
    city = a_partner()
    provider_id, contract_id = talkoot.ready_provider(
        category, region, partner_id=city, budget_cents=100_000
    )
    # two hours charged, 60.00 €; and a job taken, not yet charged: held
    charged = talkoot.completed_request(category, region, provider_id, hours=2.0)
    talkoot.ok(talkoot.on_request(charged, "confirmation", {}, who=talkoot.resident()))
    talkoot.assigned_request(category, region, provider_id)
    held = estimate(category)
    eventually(
        lambda: talkoot.ledger(contract_id)["charged_cents"], lambda c: c == 6000, 20, "the charge"
    )
    eventually(
        lambda: talkoot.get("matching", "/budgets", who=talkoot.officer(city)).json(),
        lambda budgets: [b["held_cents"] for b in budgets] == [held],
        20,
        "matching to hold the taken job",
    )
    # another partner's contract with the same provider is not this officer's
    theirs = talkoot.contract(provider_id, category, region, partner_id=a_partner(), sign=False)
    remaining = 100_000 - 6000 - held

    page = officer_of(web, city).get("/officer/contracts")

    assert page.status_code == 200, page.text
    assert theirs["id"] not in page.text
    ours = card(page.text, "data-contract-id", contract_id)
    label = re.search(r'class="budget" role="img" aria-label="([^"]*)"', ours).group(1)
    assert label == (
        f"Budget {money(100_000, 'en')}: charged {money(6000, 'en')}, held for jobs not yet "
        f"charged {money(held, 'en')}, remaining {money(remaining, 'en')}"
    )
    widths = re.findall(r'<span class="(charged|held|remaining)" style="width: ([\d.]+)%"', ours)
    assert widths == [
        ("charged", "6.0"),
        ("held", str(round(held / 1000, 1))),
        ("remaining", str(round(remaining / 1000, 1))),
    ]
    words = text_of(ours)
    assert f"Charged {money(6000, 'en')}" in words
    assert f"Held for jobs not yet charged {money(held, 'en')}" in words
    assert f"Remaining {money(remaining, 'en')}" in words
    assert "Charges and refusals" in words and "<td>charged</td>" in ours  # the charge
    assert f"/officer/decisions/{charged}" in ours

    assert "Provider: Testiosuuskunta" in words

    in_finnish = officer_of(web, city, "fi").get("/officer/contracts").text
    ours = card(in_finnish, "data-contract-id", contract_id)
    finnish = text_of(ours)
    assert text_of(f"Veloitettu {money(6000, 'fi')}") in finnish
    assert text_of(f"Varattu vielä veloittamattomille töille {money(held, 'fi')}") in finnish
    assert text_of(f"Jäljellä {money(remaining, 'fi')}") in finnish
    assert "<td>veloitettu</td>" in ours  # the charge's outcome, in Finnish too
    assert f"veloitettu {money(6000, 'fi')}, varattu" in ours  # the bar's label


def proposal(provider_id: str, category: str, region: str, **change) -> dict:
    """The proposal form as an officer fills it in, with ``change``."""
    today = local_today()
    typed = {
        "provider_id": provider_id,
        "categories": [category],
        "regions": [region],
        "unit_price": "32,50",
        "budget": "1500",
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
    }
    return {**typed, **change}


def test_proposing_a_contract_through_the_page_creates_it(web, talkoot: Talkoot, scope):
    category, region = scope
    city = a_partner()
    provider_id = talkoot.register_provider(category, region)
    officer = officer_of(web, city)

    page = officer.post("/officer/contracts", proposal(provider_id, category, region))

    assert page.status_code == 200, page.text
    assert page.url.path == "/officer/contracts"
    assert "The contract is proposed." in text_of(page.text)
    (contract,) = contracts_of(talkoot, city)
    assert (contract["provider_id"], contract["status"]) == (provider_id, "proposed")
    assert (contract["categories"], contract["regions"]) == ([category], [region])
    assert (contract["unit_price_cents"], contract["budget_cents"]) == (3250, 150_000)
    assert contract["valid_until"] == (local_today() + timedelta(days=365)).isoformat()
    # the page read the ledger as of the proposal: the new contract is on it
    shown = card(page.text, "data-contract-id", contract["contract_id"])
    assert "Sign for the partner" in shown
    assert "You proposed this contract: another officer of the partner signs it too." in shown

    # the proposer's signature alone does not sign for the partner
    signed = officer.post(f"/officer/contracts/{contract['contract_id']}/sign", {})
    shown = card(signed.text, "data-contract-id", contract["contract_id"])
    assert "You have signed: another officer of the partner signs next." in shown
    assert "Sign for the partner" not in shown
    (contract,) = contracts_of(talkoot, city)
    assert contract["status"] == "proposed" and not contract["partner_signed"]


def test_a_voucher_contract_priced_by_the_job_is_proposed_through_the_page(
    web, talkoot: Talkoot, scope
):
    category, region = scope
    city = a_partner()
    provider_id = talkoot.register_provider(category, region)
    typed = proposal(provider_id, category, region, pricing="job", unit_price="45", voucher="30")
    page = officer_of(web, city).post("/officer/contracts", typed)
    assert page.status_code == 200, page.text
    (contract,) = contracts_of(talkoot, city)
    assert (contract["pricing"], contract["unit_price_cents"], contract["voucher_cents"]) == (
        "job",
        4500,
        3000,
    )
    refused = officer_of(web, city).post(
        "/officer/contracts", proposal(provider_id, category, region, voucher="-5")
    )
    assert refused.status_code == 400 and 'id="f-voucher-error"' in refused.text, refused.text
    assert len(contracts_of(talkoot, city)) == 1


BAD_PROPOSALS = {
    "no service": (
        {"categories": []},
        "f-categories",
        "Valitse vähintään yksi palvelu.",
        "length >= 1",
    ),
    "a price that is no number": (
        {"unit_price": "kolme euroa"},
        "f-unit_price",
        "Anna tuntihinta euroina.",
        "Expected `int`",
    ),
    "valid until before valid from": (
        {
            "valid_from": (local_today() + timedelta(days=10)).isoformat(),
            "valid_until": (local_today() + timedelta(days=9)).isoformat(),
        },
        "f-valid_until",
        "Tarkista voimassaolon viimeinen päivä",
        "the contract must end on or after its start",
    ),
    "an unknown provider": (
        {"provider_id": "provider-nobody-registered"},
        "f-provider_id",
        "Anna rekisteröityneen palveluntuottajan tunnus",
        "no provider provider-nobody-registered is registered",
    ),
}


@pytest.mark.parametrize("lang", ["fi", "en"])
@pytest.mark.parametrize("case", list(BAD_PROPOSALS))
def test_a_refused_proposal_says_why_beside_the_field_keeps_what_was_typed_and_creates_nothing(
    web, talkoot: Talkoot, scope, case: str, lang: str
):
    category, region = scope
    city = a_partner()
    provider_id = talkoot.register_provider(category, region)
    change, field, finnish, english = BAD_PROPOSALS[case]
    typed = {**proposal(provider_id, category, region), **change}

    page = officer_of(web, city, lang).post("/officer/contracts", typed)

    assert page.status_code in (400, 422), page.text
    said = error_beside(page.text, field)
    assert (finnish if lang == "fi" else english) in said, said
    assert 'href="#' + field + '"' in page.text  # and at the top, leading to the field
    # what was typed is still there
    assert f'value="{typed["provider_id"]}"' in page.text
    assert f'value="{typed["unit_price"]}"' in page.text
    assert f'value="{typed["valid_until"]}"' in page.text
    assert f'id="regions-{region}" value="{region}" checked' in page.text
    if typed["categories"]:
        assert f'id="categories-{category}" value="{category}" checked' in page.text
    assert contracts_of(talkoot, city) == []


def test_a_price_the_page_cannot_read_as_euros_is_refused_not_an_error(web, talkoot, scope):
    category, region = scope
    city = a_partner()
    provider_id = talkoot.register_provider(category, region)
    officer = officer_of(web, city)
    for price in ("nan", "inf", "-5", "1e30"):
        page = officer.post(
            "/officer/contracts", proposal(provider_id, category, region, unit_price=price)
        )
        assert page.status_code == 400, (price, page.text)
        assert error_beside(page.text, "f-unit_price")
    assert contracts_of(talkoot, city) == []


def test_only_an_officer_who_may_sign_gets_to_sign_for_the_partner(web, talkoot: Talkoot, scope):
    category, region = scope
    city = a_partner()
    provider_id = talkoot.register_provider(category, region)
    contract_id = talkoot.contract(provider_id, category, region, partner_id=city, sign=False)["id"]
    sign = f"/officer/contracts/{contract_id}/sign"

    # an officer without the right to sign is not offered the button, and a forged post is
    # refused and signs nothing
    unsigned = officer_of(web, city, may_sign=False)
    shown = card(unsigned.get("/officer/contracts").text, "data-contract-id", contract_id)
    assert f'action="{sign}"' not in shown
    assert "Waiting for the signature of an officer who may sign." in text_of(shown)
    forged = unsigned.post(sign, {})
    assert forged.status_code == 403, forged.text
    assert "needs the right to sign" in text_of(forged.text)
    in_finnish = officer_of(web, city, "fi", may_sign=False).post(sign, {})
    assert in_finnish.status_code == 403
    assert "Allekirjoittaminen vaatii nimenkirjoitusoikeuden" in text_of(in_finnish.text)
    # an officer of another partner finds no such contract
    elsewhere = officer_of(web, a_partner()).post(sign, {})
    assert elsewhere.status_code == 404, elsewhere.text
    assert "not yours to see" in text_of(elsewhere.text)
    assert talkoot.ledger(contract_id)["signed_by_partner"] is None

    signer = officer_of(web, city)
    assert f'action="{sign}"' in card(
        signer.get("/officer/contracts").text, "data-contract-id", contract_id
    )
    signed = signer.post(sign, {})

    assert signed.status_code == 200, signed.text
    assert "You signed the contract." in text_of(signed.text)
    ledger = talkoot.ledger(contract_id)
    assert ledger["signed_by_partner"] == f"web-officer-of-{city}"
    shown = text_of(card(signed.text, "data-contract-id", contract_id))
    assert "waiting for the provider's signature" in shown
    assert "Sign for the partner" not in shown
    # signed already: a form sent again, a new command, is refused at the top of the page
    again = officer_of(web, city, "fi").post(sign, {})
    assert again.status_code == 409, again.text
    assert "Sopimus on jo allekirjoitettu kumppanin puolesta." in text_of(again.text)


# --- disputes ----------------------------------------------------------------------------


def disputed(talkoot: Talkoot, partner: str, scope: tuple[str, str]) -> tuple[str, str]:
    """A request under ``partner``'s contract whose 2 reported hours the resident disputes;
    with its provider."""
    provider_id, _ = talkoot.ready_provider(*scope, partner_id=partner)
    request_id = talkoot.completed_request(*scope, provider_id, hours=2.0)
    reason = {"reason": "Only half of the yard was raked"}
    talkoot.ok(talkoot.on_request(request_id, "dispute", reason, who=talkoot.resident()))
    talkoot.wait_for_status(request_id, "disputed")
    return request_id, provider_id


def test_an_officer_rules_on_a_dispute_of_the_partner_and_it_leaves_the_list(
    web, talkoot: Talkoot, scope
):
    city, town = a_partner(), a_partner()
    ours, _ = disputed(talkoot, city, scope)
    theirs, _ = disputed(talkoot, town, unused_scope())
    officer = officer_of(web, city)
    path = f"/officer/disputes/{ours}"

    page = officer.get("/officer/disputes")
    assert page.status_code == 200, page.text
    assert theirs not in page.text
    words = text_of(card(page.text, "data-request-id", ours))
    assert "Only half of the yard was raked" in words and "Reported: 2 hours" in words

    # no outcome: refused beside the choice, what was typed kept, nothing ruled
    refused = officer.post(path, {"note": "Half the yard", "hours": "1,5"})
    assert refused.status_code == 400, refused.text
    assert error_beside(refused.text, f"f-{ours}-outcome")
    assert 'value="Half the yard"' in refused.text and 'value="1,5"' in refused.text
    assert talkoot.board_entry(ours)["status"] == "disputed"
    in_finnish = officer_of(web, city, "fi").post(path, {"note": "Puolet pihasta"})
    assert "Valitse, miten erimielisyys ratkaistaan." in error_beside(
        in_finnish.text, f"f-{ours}-outcome"
    )

    # another partner's dispute cannot be ruled by a forged post
    forged = officer.post(f"/officer/disputes/{theirs}", {"outcome": "voided", "note": "x"})
    assert forged.status_code == 404, forged.text
    assert talkoot.board_entry(theirs)["status"] == "disputed"

    ruled = officer.post(path, {"outcome": "adjusted", "hours": "1,5", "note": "Half the yard"})

    assert ruled.status_code == 200, ruled.text
    assert "The dispute is ruled." in text_of(ruled.text)
    assert ours not in ruled.text  # the list is read as of the ruling
    assert talkoot.board_entry(ours)["status"] == "confirmed"
    contract = eventually(
        lambda: contracts_of(talkoot, city)[0],
        lambda c: c["charged_cents"] > 0,
        20,
        "the ruled hours to be charged",
    )
    assert contract["charged_cents"] == 4500  # 1.5 h at 30.00 €


# --- providers ---------------------------------------------------------------------------


def test_suspending_and_reinstating_a_provider_under_the_partners_contract(
    web, talkoot: Talkoot, scope
):
    city = a_partner()
    provider_id, _ = talkoot.ready_provider(*scope, partner_id=city)
    elsewhere, _ = talkoot.ready_provider(*unused_scope(), partner_id=a_partner())
    eventually(
        lambda: talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200),
        lambda record: city in record["partners"],
        20,
        "the providers service to know the contract",
    )
    officer = officer_of(web, city)
    base = f"/officer/providers/{provider_id}"

    page = officer.get("/officer/providers")
    assert page.status_code == 200, page.text
    assert elsewhere not in page.text
    assert f'action="{base}/suspension"' in card(page.text, "data-provider-id", provider_id)

    # without a reason: refused beside the field, nothing changes
    for lang, said in (
        ("en", "Expected `str` of length >= 1"),
        ("fi", "Kerro syy yhdellä lauseella."),
    ):
        refused = officer_of(web, city, lang).post(f"{base}/suspension", {"reason": ""})
        assert refused.status_code == 400, refused.text
        assert said in error_beside(refused.text, f"f-{provider_id}-reason")
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    assert record["status"] == "active"
    # another partner may not suspend it
    outsider = officer_of(web, a_partner()).post(f"{base}/suspension", {"reason": "Complaints"})
    assert outsider.status_code == 404, outsider.text

    suspended = officer.post(f"{base}/suspension", {"reason": "Complaints about the work"})

    assert suspended.status_code == 200, suspended.text
    assert "The provider is suspended." in text_of(suspended.text)
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    assert record["status"] == "suspended"
    assert record["suspension"] == {"partner_id": city, "reason": "Complaints about the work"}
    shown = card(suspended.text, "data-provider-id", provider_id)
    assert f'action="{base}/reinstatement"' in shown
    assert "Complaints about the work" in text_of(shown)
    # a suspension sent from a page shown before: the provider is suspended already
    late = officer_of(web, city, "fi").post(f"{base}/suspension", {"reason": "Valituksia"})
    assert late.status_code == 409, late.text
    assert "palveluntuottajan tila on muuttunut" in text_of(late.text)

    blank = officer.post(f"{base}/reinstatement", {"reason": "   "})
    assert blank.status_code == 422, blank.text
    assert "say why the provider is reinstated" in error_beside(
        blank.text, f"f-{provider_id}-reason"
    )
    assert talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)["suspension"]

    reinstated = officer.post(f"{base}/reinstatement", {"reason": "Settled"})
    assert reinstated.status_code == 200, reinstated.text
    assert "The provider is reinstated." in text_of(reinstated.text)
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    assert (record["status"], record["suspension"]) == ("active", None)

    assert officer.post(f"{base}/deletion", {"reason": "x"}).status_code == 404


# --- matching decisions ------------------------------------------------------------------


def test_the_matching_decisions_of_the_partners_jobs_and_no_other(web, talkoot: Talkoot, scope):
    city, town = a_partner(), a_partner()
    provider_id, _ = talkoot.ready_provider(*scope, partner_id=city)
    # the board names the partner of a request once it is assigned under its contract
    ours = talkoot.assigned_request(*scope, provider_id)
    other_scope = unused_scope()
    talkoot.ready_provider(*other_scope, partner_id=town)
    theirs = talkoot.submit(*other_scope)["id"]
    talkoot.wait_for_status(theirs, "offered")
    officer = officer_of(web, city)

    listed = officer.get("/officer/decisions")
    assert listed.status_code == 200, listed.text
    assert f'href="/officer/decisions/{ours}"' in listed.text
    assert theirs not in listed.text

    decision = officer.get(f"/officer/decisions/{ours}")
    assert decision.status_code == 200, decision.text
    words = text_of(decision.text)
    assert "Why the job went where it did" in words
    assert "Offered to Testiosuuskunta" in words and "the only eligible provider" in words
    assert "accepted" in words and "taken" in words  # the offer's status and the job's

    for path, status in [
        (f"/officer/decisions/{theirs}", 404),  # another partner's request
        (f"/officer/decisions/{uuid.uuid4()}", 404),  # nobody's
        ("/officer/decisions/not%20an%20id", 400),
    ]:
        page = officer.get(path)
        assert page.status_code == status, (path, page.text)
        if status == 404:
            assert "not yours to see" in text_of(page.text)


# --- who may not -------------------------------------------------------------------------

OFFICER_PAGES = (
    "/officer/contracts",
    "/officer/disputes",
    "/officer/providers",
    "/officer/decisions",
    f"/officer/decisions/{uuid.uuid4()}",
)


def test_a_resident_or_a_provider_member_gets_the_not_for_you_page(web):
    resident = web.signed_in("resident", "web-resident-not-officer")
    member = web.signed_in("provider", "web-member-not-officer", acts_for=str(uuid.uuid4()))
    for browser in (resident, member):
        for path in OFFICER_PAGES:
            page = browser.get(path)
            assert page.status_code == 403, path
            assert "This page is for the officers of a municipal partner." in text_of(page.text)
        posted = browser.post("/officer/contracts", {"provider_id": "x"})
        assert posted.status_code == 403
    in_finnish = web.signed_in("resident", "web-resident-not-officer", lang="fi")
    words = text_of(in_finnish.get("/officer/contracts").text)
    assert "Tämä sivu on kunnallisen kumppanin viranhaltijoille." in words


def test_a_visitor_signed_out_is_sent_to_sign_in(web):
    for path in OFFICER_PAGES[:4]:
        page = web.browser().get(path)
        assert page.url.path == "/signin", path
        assert page.url.params["next"] == path


def test_the_decision_page_says_in_each_language_why_the_job_went_where_it_did(
    web, talkoot: Talkoot, scope
):
    talkoot.ready_provider(*scope)  # under a contract of lahti-city
    request_id = talkoot.submit(*scope)["id"]
    talkoot.wait_for_status(request_id, "offered")
    path = f"/officer/decisions/{request_id}"

    finnish = web.signed_in("officer", "web-officer-of-lahti-city", "lahti-city", lang="fi")
    page = finnish.get(path)

    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert "Tarjottu palveluntuottajalle Testiosuuskunta, joka oli ainoa sopiva." in words
    assert "Sen etäisyyttä työstä ei tiedetä." in words
    assert 'class="why" lang="en"' not in page.text

    english = web.signed_in("officer", "web-officer-of-lahti-city", "lahti-city").get(path)
    assert "Offered to Testiosuuskunta, the only eligible provider." in text_of(english.text)
