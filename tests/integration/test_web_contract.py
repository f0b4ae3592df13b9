"""The officer's page of one contract, on the running stack: its versions side by side, an
amendment proposed and signed again, suspending, resuming and terminating it with a reason,
the contract as it stood at a moment; and the audit page with each log's latest checkpoint."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from domain.calendar import LOCAL_TIME, local_today
from services.registry import SERVICES
from tests.client import Talkoot, eventually
from tests.web import text_of

pytestmark = pytest.mark.slow

PARTNER = "lahti-city"


def officer(web, who: str, lang: str = "en"):
    return web.signed_in("officer", f"web-{who}-of-{PARTNER}", acts_for=PARTNER, lang=lang)


def test_an_amendment_through_the_page_is_signed_again_and_shown_beside_the_first_version(
    web, talkoot: Talkoot, scope
):
    provider_id, contract_id = talkoot.ready_provider(*scope, unit_price_cents=3000)
    time.sleep(1)  # the moment below is to the second: after the contract's signing
    before = datetime.now(LOCAL_TIME).replace(microsecond=0)
    page_of = f"/officer/contracts/{contract_id}"
    aino, eero = officer(web, "aino"), officer(web, "eero")

    first = aino.get(page_of)
    assert first.status_code == 200, first.text
    assert "Version 1, from" in text_of(first.text)

    missing = aino.post(f"{page_of}/amend", {"unit_price": "35,00", "reason": "Index"})
    assert missing.status_code == 400, missing.text
    assert 'id="f-effective_from-error"' in missing.text and 'value="35,00"' in missing.text

    day = local_today() + timedelta(days=5)
    proposed = aino.post(
        f"{page_of}/amend",
        {"effective_from": day.isoformat(), "unit_price": "35,00", "reason": "The price index"},
    )
    assert proposed.status_code == 200, proposed.text
    words = text_of(proposed.text)
    assert "The amendment is proposed" in words and "Amendment 2, waiting for signatures" in words
    # aino may sign, but the proposer is never the partner's only signer: eero signs

    signed = eero.post(f"/officer/contracts/{contract_id}/sign", {})
    assert signed.status_code == 200, signed.text
    talkoot.ok(
        talkoot.post(
            "partnerships",
            f"/contracts/{contract_id}/signatures",
            {"party": "provider"},
            who=talkoot.member(provider_id),
        )
    )
    both = talkoot.ok(talkoot.get("partnerships", f"/contracts/{contract_id}/versions"), 200)
    assert [v["unit_price_cents"] for v in both["versions"]] == [3000, 3500]

    shown = text_of(aino.get(page_of).text)
    assert "Version 2, from" in shown and "(changed)" in shown
    then = aino.get(page_of, as_of=before.strftime("%Y-%m-%dT%H:%M:%S"))
    assert "Version 2" not in text_of(then.text) and "rebuilt from its events" in text_of(then.text)


def test_suspending_resuming_and_terminating_through_the_page_each_with_a_reason(
    web, talkoot: Talkoot, scope
):
    _, contract_id = talkoot.ready_provider(*scope)
    page_of = f"/officer/contracts/{contract_id}"
    aino = officer(web, "aino", lang="fi")

    blank = aino.post(f"{page_of}/suspend", {"reason": ""})
    assert blank.status_code == 400 and 'id="f-suspend-reason-error"' in blank.text

    suspended = aino.post(f"{page_of}/suspend", {"reason": "Vakuutus päättyi"})
    assert "Sopimus on keskeytetty" in text_of(suspended.text)
    versions = talkoot.get("partnerships", f"/contracts/{contract_id}/versions").json()
    assert (versions["status"], versions["reason"]) == ("suspended", "Vakuutus päättyi")
    aino.post(f"{page_of}/resume", {"reason": "Vakuutus kunnossa"})
    ended = aino.post(f"{page_of}/terminate", {"reason": "Toiminta loppuu"})
    assert "Sopimus on päätetty" in text_of(ended.text)
    ledger = eventually(
        lambda: talkoot.ledger(contract_id),
        lambda seen: seen["status"] == "terminated",
        20,
        "the ledger to show the termination",
    )
    assert ledger["reason"] == "Toiminta loppuu"
    assert aino.post(f"{page_of}/retire", {"reason": "x"}).status_code == 404


def test_the_audit_page_shows_each_logs_latest_checkpoint_and_whether_it_holds(web, talkoot):
    for service in SERVICES:
        made = talkoot.post(service.name, "/audit/checkpoints", {}, who=talkoot.admin())
        assert made.status_code in (200, 201), made.text
    page = officer(web, "aino").get("/officer/audit")
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert words.count("holds with the key the service publishes") == len(SERVICES)
    # each log's signed note, its signature line
    assert page.text.count("\u2014 talkoot.") == len(SERVICES)
    resident = web.signed_in("resident", "web-resident-audit").get("/officer/audit")
    assert resident.status_code == 403
