"""A contract's life after it is signed, on the running stack: an amendment signed again by
both parties becomes the next version, in force from its first day, and the work of each day
is charged under the version in force that day (the charge names it); a suspended contract gets
no work until it is resumed; a terminated one none from its day; and the contract as it stood
at any moment, rebuilt from its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import LOCAL_TIME, local_today
from tests.client import Talkoot

pytestmark = pytest.mark.slow

PARTNER = "lahti-city"


def post(talkoot: Talkoot, contract_id: str, what: str, body: dict, who: str | None = None):
    return talkoot.post(
        "partnerships",
        f"/contracts/{contract_id}/{what}",
        body,
        who=who if who is not None else talkoot.second_officer(PARTNER),
    )


def sign_again(talkoot: Talkoot, contract_id: str, provider_id: str) -> dict:
    """Both parties sign the amendment: another officer than its proposer, and a member."""
    talkoot.ok(post(talkoot, contract_id, "signatures", {"party": "partner"}))
    member = talkoot.member(provider_id)
    return talkoot.ok(post(talkoot, contract_id, "signatures", {"party": "provider"}, member))


def charged_request(talkoot: Talkoot, scope, provider_id: str, days_ahead: int) -> str:
    """A request for work ``days_ahead`` days from now, done in an hour and confirmed."""
    category, region = scope
    day = local_today() + timedelta(days=days_ahead)
    start = datetime.combine(day, datetime.min.time(), LOCAL_TIME).replace(hour=9)
    body = talkoot.request_body(category, region) | {
        "window_start": start.astimezone(UTC).isoformat(),
        "window_end": (start + timedelta(hours=3)).astimezone(UTC).isoformat(),
    }
    resident = talkoot.resident()
    request_id = talkoot.ok(talkoot.post("requests", "/requests", body, who=resident))["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == provider_id
    talkoot.ok(talkoot.accept(offered["offer_id"], provider_id))
    talkoot.wait_for_status(request_id, "assigned")
    member = talkoot.member(provider_id)
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 1.0}, who=member))
    talkoot.wait_for_status(request_id, "completed")
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))
    return request_id


def entry_of(talkoot: Talkoot, contract_id: str, request_id: str) -> dict:
    from tests.client import eventually

    return eventually(
        lambda: next(
            (e for e in talkoot.ledger(contract_id)["entries"] if e["request_id"] == request_id),
            None,
        ),
        lambda found: found is not None,
        20,
        f"the charge of {request_id}",
    )


def test_an_amendment_is_the_next_version_and_each_days_work_is_charged_under_its_own(
    talkoot: Talkoot, scope
):
    provider_id, contract_id = talkoot.ready_provider(*scope, unit_price_cents=3000)
    before = datetime.now(UTC)
    from_day = local_today() + timedelta(days=3)
    proposed = talkoot.ok(
        post(
            talkoot,
            contract_id,
            "amendments",
            {
                "effective_from": from_day.isoformat(),
                "unit_price_cents": 4000,
                "budget_cents": 200_000,
                "reason": "The price index rose",
            },
            talkoot.officer(PARTNER),
        )
    )
    waiting = talkoot.ledger(contract_id, proposed["position"])
    assert waiting["version"] == 1 and waiting["amendment"]["version"] == 2
    assert waiting["unit_price_cents"] == 3000  # not before both have signed it
    again = post(
        talkoot,
        contract_id,
        "amendments",
        {"effective_from": from_day.isoformat(), "budget_cents": 300_000, "reason": "More"},
        talkoot.officer(PARTNER),
    )
    assert again.status_code == 409 and "amendment_waiting" in again.text, again.text

    signed = sign_again(talkoot, contract_id, provider_id)

    ledger = talkoot.ledger(contract_id, signed["position"])
    assert (ledger["version"], ledger["unit_price_cents"], ledger["budget_cents"]) == (
        2,
        4000,
        200_000,
    )
    assert ledger["amendment"] is None and ledger["remaining_cents"] == 200_000
    talkoot.wait_until_quiet()

    early = charged_request(talkoot, scope, provider_id, days_ahead=1)  # under version 1
    late = charged_request(talkoot, scope, provider_id, days_ahead=4)  # under version 2
    assert (
        entry_of(talkoot, contract_id, early)["amount_cents"],
        entry_of(talkoot, contract_id, early)["version"],
    ) == (3000, 1)
    assert (
        entry_of(talkoot, contract_id, late)["amount_cents"],
        entry_of(talkoot, contract_id, late)["version"],
    ) == (4000, 2)

    history = talkoot.ok(talkoot.get("partnerships", f"/contracts/{contract_id}/versions"), 200)
    assert [(v["version"], v["unit_price_cents"]) for v in history["versions"]] == [
        (1, 3000),
        (2, 4000),
    ]
    assert history["versions"][1]["effective_from"] == from_day.isoformat()
    then = talkoot.ok(
        talkoot.get("partnerships", f"/contracts/{contract_id}/versions", as_of=before.isoformat()),
        200,
    )
    assert [v["version"] for v in then["versions"]] == [1] and then["amendment"] is None
    assert then["charged_cents"] == 0


def test_an_amendment_that_breaks_a_rule_is_refused_and_changes_nothing(talkoot, scope):
    _, contract_id = talkoot.ready_provider(*scope)
    officer = talkoot.officer(PARTNER)
    before = talkoot.ledger(contract_id)
    for body, field in [
        ({"effective_from": local_today().isoformat(), "reason": "x"}, "changes"),
        ({"effective_from": "2020-01-01", "unit_price_cents": 4000, "reason": "x"}, "effective"),
        (
            {"effective_from": local_today().isoformat(), "unit_price_cents": 0, "reason": "x"},
            "unit_price_cents",
        ),
        (
            {"effective_from": local_today().isoformat(), "unit_price_cents": 4000, "reason": " "},
            "reason",
        ),
        (
            {"effective_from": local_today().isoformat(), "regions": ["atlantis"], "reason": "x"},
            "region",
        ),
        ({"effective_from": "tomorrow", "unit_price_cents": 4000, "reason": "x"}, "effective_from"),
    ]:
        refused = post(talkoot, contract_id, "amendments", body, officer)
        assert refused.status_code in (400, 422), (body, refused.text)
        assert field in refused.text, (body, refused.text)
    member = talkoot.member(talkoot.ledger(contract_id)["provider_id"])
    body = {"effective_from": local_today().isoformat(), "unit_price_cents": 4000, "reason": "x"}
    assert post(talkoot, contract_id, "amendments", body, member).status_code == 403
    other = talkoot.officer("another-city")
    assert post(talkoot, contract_id, "amendments", body, other).status_code == 404
    after = talkoot.ledger(contract_id)
    assert (after["version"], after["amendment"], after["position"]) == (
        before["version"],
        None,
        before["position"],
    )


def test_a_suspended_contract_gets_no_work_until_resumed_and_a_terminated_one_none(
    talkoot: Talkoot, scope
):
    provider_id, contract_id = talkoot.ready_provider(*scope)
    no_signing = talkoot.officer(PARTNER, may_sign=False)
    refused = post(talkoot, contract_id, "suspension", {"reason": "Insurance lapsed"}, no_signing)
    assert refused.status_code == 403, refused.text
    blank = post(talkoot, contract_id, "suspension", {"reason": ""})
    assert blank.status_code == 400 and "reason" in blank.text, blank.text

    suspended = talkoot.ok(post(talkoot, contract_id, "suspension", {"reason": "Insurance lapsed"}))
    ledger = talkoot.ledger(contract_id, suspended["position"])
    assert (ledger["status"], ledger["reason"]) == ("suspended", "Insurance lapsed")
    talkoot.wait_until_quiet()
    waiting = talkoot.submit(*scope)["id"]
    assert talkoot.wait_for_status(waiting, "unmatched")["status"] == "unmatched"
    assert post(talkoot, contract_id, "suspension", {"reason": "again"}).status_code == 409

    talkoot.ok(post(talkoot, contract_id, "resumption", {"reason": "Insurance in order"}))
    talkoot.wait_until_quiet()
    offered = talkoot.submit(*scope)["id"]
    assert talkoot.wait_for_status(offered, "offered")["provider_id"] == provider_id

    ended = talkoot.ok(
        post(talkoot, contract_id, "termination", {"reason": "The provider closes down"})
    )
    ledger = talkoot.ledger(contract_id, ended["position"])
    assert ledger["status"] == "terminated"
    assert ledger["terminated_on"] == local_today().isoformat()
    assert post(talkoot, contract_id, "resumption", {"reason": "back"}).status_code == 409
    talkoot.wait_until_quiet()
    later = talkoot.submit(*scope)["id"]
    assert talkoot.wait_for_status(later, "unmatched")["status"] == "unmatched"
