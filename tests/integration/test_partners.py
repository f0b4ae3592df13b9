"""The registry of municipal partners, on the running stack: an admin registers a partner and
its officers; once registered, who proposes and who signs a contract for it is the registry's
to say, a contract above the partner's amount needs two officers' signatures, the proposer
never signs alone, and the partner can be read as it stood at any moment."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.client import Talkoot

pytestmark = pytest.mark.slow


def new_code() -> str:
    return f"unit-{uuid.uuid4().hex[:10]}"


def register(talkoot: Talkoot, code: str, threshold: int | None = None, **officers: bool):
    """The partner ``code`` with ``officers`` (subject: may sign), registered by the admin."""
    body = {
        "partner_id": code,
        "name": f"Toimiala {code}",
        "second_signature_above_cents": threshold,
    }
    talkoot.ok(talkoot.post("partnerships", "/partners", body, who=talkoot.admin()))
    for subject, may_sign in officers.items():
        appointment = {"subject": subject, "may_sign": may_sign}
        path = f"/partners/{code}/officers"
        talkoot.ok(talkoot.post("partnerships", path, appointment, who=talkoot.admin()))


def officer(talkoot: Talkoot, subject: str, code: str) -> str:
    """An officer's token: it says they may sign; the registry decides whether they do."""
    return talkoot.token(subject, "officer", partner=code, may_sign=True)


def terms(provider_id: str, category: str, region: str, budget_cents: int = 100_000) -> dict:
    today = datetime.now(UTC).date()
    return {
        "provider_id": provider_id,
        "categories": [category],
        "regions": [region],
        "unit_price_cents": 3000,
        "budget_cents": budget_cents,
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=200)).isoformat(),
    }


def sign(talkoot: Talkoot, contract_id: str, who: str, party: str = "partner"):
    return talkoot.post(
        "partnerships", f"/contracts/{contract_id}/signatures", {"party": party}, who=who
    )


def test_an_admin_registers_a_partner_and_a_code_twice_or_a_bad_one_is_refused(talkoot):
    code = new_code()
    register(talkoot, code, 500_000, **{f"a-{code}": True})

    listed = talkoot.ok(talkoot.get("partnerships", "/partners"), 200)
    mine = next(p for p in listed if p["partner_id"] == code)
    assert mine["name"] == f"Toimiala {code}" and mine["second_signature_above_cents"] == 500_000
    assert mine["officers"] == [{"subject": f"a-{code}", "may_sign": True}]

    again = talkoot.post(
        "partnerships", "/partners", {"partner_id": code, "name": "X"}, who=talkoot.admin()
    )
    assert again.status_code == 409, again.text
    for body, field in [
        ({"partner_id": "Not A Code!", "name": "X"}, "partner_id"),
        ({"partner_id": new_code(), "name": ""}, "name"),
        ({"partner_id": new_code(), "name": "X", "second_signature_above_cents": 0}, "second"),
        ({"partner_id": new_code(), "name": "X\u0000"}, "name"),
    ]:
        refused = talkoot.post("partnerships", "/partners", body, who=talkoot.admin())
        assert refused.status_code in (400, 422) and field in refused.text, refused.text
    for who in (talkoot.officer(code), talkoot.resident(), None):
        body = {"partner_id": new_code(), "name": "X"}
        assert talkoot.post("partnerships", "/partners", body, who=who).status_code in (401, 403)
    codes = [p["partner_id"] for p in talkoot.ok(talkoot.get("partnerships", "/partners"), 200)]
    assert codes.count(code) == 1 and len(codes) == len(set(codes))


def test_the_officers_are_shown_to_the_partners_own_officers_and_an_admin_only(talkoot):
    code = new_code()
    register(talkoot, code, **{f"a-{code}": True})
    path = f"/partners/{code}"
    assert talkoot.ok(talkoot.get("partnerships", path, who=officer(talkoot, "x", code)), 200)[
        "officers"
    ] == [{"subject": f"a-{code}", "may_sign": True}]
    outsider = talkoot.get("partnerships", path, who=talkoot.officer("lahti-city")).json()
    assert outsider["officers"] is None and outsider["name"] == f"Toimiala {code}"
    assert talkoot.get("partnerships", "/partners/no-such-unit").status_code == 404


def test_once_registered_the_registry_says_who_proposes_and_who_signs(talkoot, scope):
    code = new_code()
    proposer, clerk, head = f"proposer-{code}", f"clerk-{code}", f"head-{code}"
    register(talkoot, code, **{proposer: True, clerk: False, head: True})
    provider_id = talkoot.register_provider(*scope)

    stranger = talkoot.post(
        "partnerships", "/contracts", terms(provider_id, *scope), who=officer(talkoot, "z", code)
    )
    assert stranger.status_code == 403 and "officer" in stranger.text, stranger.text

    proposed = talkoot.ok(
        talkoot.post(
            "partnerships",
            "/contracts",
            terms(provider_id, *scope),
            who=officer(talkoot, proposer, code),
        )
    )
    contract_id = proposed["id"]
    assert talkoot.ok(sign(talkoot, contract_id, talkoot.member(provider_id), "provider"))

    # the clerk's token says they may sign; the registry says they may not
    refused = sign(talkoot, contract_id, officer(talkoot, clerk, code))
    assert refused.status_code == 403 and "may_sign" in refused.text, refused.text
    alone = talkoot.ok(sign(talkoot, contract_id, officer(talkoot, proposer, code)))
    assert talkoot.ledger(contract_id, alone["position"])["status"] == "proposed"
    assert sign(talkoot, contract_id, officer(talkoot, proposer, code)).status_code == 409

    done = talkoot.ok(sign(talkoot, contract_id, officer(talkoot, head, code)))

    ledger = talkoot.ledger(contract_id, done["position"])
    assert ledger["status"] == "active" and ledger["partner_signed"]
    assert ledger["signed_by_partner"] == f"{proposer}, {head}"
    assert ledger["proposed_by"] == proposer and ledger["partner_signatures_needed"] == 1


def test_a_contract_above_the_partners_amount_needs_two_officers(talkoot, scope):
    code = new_code()
    first, second, proposer = f"first-{code}", f"second-{code}", f"proposer-{code}"
    register(talkoot, code, 50_000, **{first: True, second: True, proposer: True})
    provider_id = talkoot.register_provider(*scope)
    small = talkoot.ok(
        talkoot.post(
            "partnerships",
            "/contracts",
            terms(provider_id, *scope, budget_cents=50_000),
            who=officer(talkoot, proposer, code),
        )
    )
    big = talkoot.ok(
        talkoot.post(
            "partnerships",
            "/contracts",
            terms(provider_id, *scope, budget_cents=50_001),
            who=officer(talkoot, proposer, code),
        )
    )
    signed = {}
    for contract in (small, big):
        talkoot.ok(sign(talkoot, contract["id"], talkoot.member(provider_id), "provider"))
        signed[contract["id"]] = talkoot.ok(
            sign(talkoot, contract["id"], officer(talkoot, first, code))
        )

    assert talkoot.ledger(small["id"], signed[small["id"]]["position"])["status"] == "active"
    waiting = talkoot.ledger(big["id"], signed[big["id"]]["position"])
    assert (waiting["status"], waiting["partner_signatures_needed"]) == ("proposed", 2)
    assert not waiting["partner_signed"] and waiting["partner_signers"] == [first]
    done = talkoot.ok(sign(talkoot, big["id"], officer(talkoot, second, code)))
    assert talkoot.ledger(big["id"], done["position"])["status"] == "active"


def test_the_partner_as_it_stood_at_a_moment_names_the_officers_of_then(talkoot):
    code = new_code()
    before = datetime.now(UTC)
    time.sleep(0.05)
    register(talkoot, code, **{f"first-{code}": True})
    time.sleep(0.05)
    then = datetime.now(UTC)
    time.sleep(0.05)
    admin = talkoot.admin()
    relief = {"reason": "moved to another unit"}
    path = f"/partners/{code}/officers/first-{code}/relief"
    talkoot.ok(talkoot.post("partnerships", path, relief, who=admin))
    talkoot.ok(
        talkoot.post(
            "partnerships", f"/partners/{code}/officers", {"subject": f"next-{code}"}, who=admin
        )
    )

    now = talkoot.ok(talkoot.get("partnerships", f"/partners/{code}"), 200)
    past = talkoot.ok(talkoot.get("partnerships", f"/partners/{code}", as_of=then.isoformat()), 200)

    assert now["officers"] == [{"subject": f"next-{code}", "may_sign": False}]
    assert past["officers"] == [{"subject": f"first-{code}", "may_sign": True}]
    assert past["version"] < now["version"]
    missing = talkoot.get("partnerships", f"/partners/{code}", as_of=before.isoformat())
    assert missing.status_code == 404, missing.text
    for moment in ("2026-12-01T10:00:00", "yesterday"):
        odd = talkoot.get("partnerships", f"/partners/{code}", as_of=moment)
        assert odd.status_code in (400, 422) and "as_of" in odd.text, odd.text


def test_only_an_admin_changes_the_registry_and_a_missing_partner_or_officer_is_named(talkoot):
    code = new_code()
    register(talkoot, code, **{f"a-{code}": True})
    admin = talkoot.admin()
    for path, body in [
        (f"/partners/{code}/officers", {"subject": "someone"}),
        (f"/partners/{code}/officers/a-{code}/relief", {"reason": "gone"}),
        (f"/partners/{code}/rule", {"second_signature_above_cents": 10}),
    ]:
        for who in (officer(talkoot, f"a-{code}", code), talkoot.resident()):
            assert talkoot.post("partnerships", path, body, who=who).status_code == 403
    gone = talkoot.post(
        "partnerships", f"/partners/{code}/officers/nobody/relief", {"reason": "x"}, who=admin
    )
    assert gone.status_code == 409, gone.text
    blank = talkoot.post(
        "partnerships", f"/partners/{code}/officers/a-{code}/relief", {"reason": " "}, who=admin
    )
    assert blank.status_code == 400 and "reason" in blank.text, blank.text
    nowhere = talkoot.post(
        "partnerships", "/partners/no-such-unit/officers", {"subject": "x"}, who=admin
    )
    assert nowhere.status_code == 404, nowhere.text
    rule = talkoot.ok(
        talkoot.post(
            "partnerships",
            f"/partners/{code}/rule",
            {"second_signature_above_cents": 10},
            who=admin,
        )
    )
    assert rule["id"] == code
    assert (
        talkoot.get("partnerships", f"/partners/{code}").json()["second_signature_above_cents"]
        == 10
    )
