"""Who may do what to a partnership contract: an officer proposes for their own partner, each
party signs only for itself (for the partner, only with the right to sign), only a signer of its
partner charges it, and only its parties see it; to anyone else it is not there (404)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import psycopg
import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.conftest import unused_scope

# The contracts here are with providers registered in one (category, region) pair of this
# module's own, where nobody asks for anything: nothing is ever offered under them.
CATEGORY, REGION = unused_scope()


def some(kind: str) -> str:
    """An id of this test's own: a partner is a name to partnerships, and so is a provider a
    member's token names."""
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def registered(talkoot: Talkoot) -> str:
    """A provider of this test's own, registered: contracts are proposed to such only."""
    return talkoot.register_provider(CATEGORY, REGION)


def terms(provider_id: str, category: str = CATEGORY, region: str = REGION, **change) -> dict:
    today = local_today()
    return {
        "provider_id": provider_id,
        "categories": [category],
        "regions": [region],
        "unit_price_cents": 3000,
        "budget_cents": 100_000,
        "valid_from": (today - timedelta(days=30)).isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        **change,
    }


def propose(talkoot: Talkoot, provider_id: str, partner_id: str) -> dict:
    """A contract the partner's officer has proposed to the provider, unsigned."""
    body = terms(provider_id)
    return talkoot.ok(
        talkoot.post("partnerships", "/contracts", body, who=talkoot.officer(partner_id))
    )


def sign(talkoot: Talkoot, contract_id: str, party: str, who: str) -> httpx.Response:
    path = f"/contracts/{contract_id}/signatures"
    return talkoot.post("partnerships", path, {"party": party}, who=who)


def charge(talkoot: Talkoot, contract_id: str, request_id: str, who: str) -> httpx.Response:
    body = {"request_id": request_id, "hours": 1}
    return talkoot.post("partnerships", f"/contracts/{contract_id}/charges", body, who=who)


def read(talkoot: Talkoot, contract_id: str, who: str) -> httpx.Response:
    return talkoot.get("partnerships", f"/contracts/{contract_id}", who=who)


def events_of(talkoot: Talkoot, contract_id: str) -> int:
    """How many events the contract has in the partnerships store."""
    stack = talkoot.stack
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{stack.namespace}_partnerships"."partnerships_events" '
            "WHERE originator_id = %s",
            (uuid.UUID(contract_id),),
        ).fetchone()
    return row[0]


def missing(contract_id: str) -> str:
    return f"no partnership contract with id {contract_id}"


# --- proposing ---------------------------------------------------------------------------


def test_an_officer_proposes_for_their_own_partner_named_by_the_token(talkoot: Talkoot):
    partner_id, provider_id = some("partner"), registered(talkoot)

    proposed = propose(talkoot, provider_id, partner_id)

    ledger = talkoot.ledger(proposed["id"], proposed["position"])
    assert (ledger["partner_id"], ledger["provider_id"]) == (partner_id, provider_id)
    assert ledger["status"] == "proposed"


def test_a_contract_with_a_provider_nobody_registered_is_refused_naming_the_provider(
    talkoot: Talkoot,
):
    partner_id, nobody = some("partner"), some("provider")
    response = talkoot.post(
        "partnerships", "/contracts", terms(nobody), who=talkoot.officer(partner_id)
    )
    assert response.status_code == 422, response.text
    assert response.json()["extra"] == {"rule": "provider_id"}
    assert nobody in response.json()["detail"]
    listed = talkoot.get("partnerships", "/ledger", who=talkoot.officer(partner_id))
    assert talkoot.ok(listed, 200) == []


def test_a_contract_with_a_provider_registered_a_moment_ago_is_proposed(talkoot: Talkoot):
    # the directory may not have the provider yet: the proposal waits for it, a moment
    proposed = propose(talkoot, registered(talkoot), some("partner"))
    assert talkoot.ledger(proposed["id"], proposed["position"])["status"] == "proposed"


def test_a_contract_body_cannot_name_a_partner(talkoot: Talkoot):
    body = terms(some("provider"), partner_id="another-city")
    response = talkoot.post("partnerships", "/contracts", body, who=talkoot.officer())
    assert response.status_code == 400, response.text
    assert "partner_id" in response.text


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (lambda t: t.resident(), 403),
        (lambda t: t.member(some("provider")), 403),
        (lambda t: None, 401),
    ],
    ids=["resident", "provider member", "nobody"],
)
def test_only_an_officer_proposes(talkoot: Talkoot, who, status):
    body = terms(some("provider"))
    response = talkoot.post("partnerships", "/contracts", body, who=who(talkoot))
    assert response.status_code == status, response.text


def test_an_admin_cannot_propose_for_a_partner_it_is_not(talkoot: Talkoot):
    body = terms(some("provider"))
    response = talkoot.post("partnerships", "/contracts", body, who=talkoot.admin())
    assert response.status_code == 403, response.text


# --- signing -----------------------------------------------------------------------------


def test_an_officer_without_the_right_to_sign_gets_403_and_the_contract_stays_unsigned(
    talkoot: Talkoot,
):
    partner_id = some("partner")
    proposed = propose(talkoot, registered(talkoot), partner_id)

    response = sign(talkoot, proposed["id"], "partner", talkoot.officer(partner_id, False))

    assert response.status_code == 403, response.text
    assert "needs the right to sign" in response.json()["detail"]
    assert events_of(talkoot, proposed["id"]) == 1
    ledger = talkoot.ledger(proposed["id"], proposed["position"])
    assert (ledger["status"], ledger["signed_by_partner"]) == ("proposed", None)


def test_a_signature_names_the_person_who_signed_for_each_party(talkoot: Talkoot):
    partner_id, provider_id = some("partner"), registered(talkoot)
    proposed = propose(talkoot, provider_id, partner_id)

    # another officer than the proposer signs for the partner
    head = talkoot.second_officer(partner_id)
    talkoot.ok(sign(talkoot, proposed["id"], "partner", head))
    member = talkoot.member(provider_id, subject="member-aino")
    signed = talkoot.ok(sign(talkoot, proposed["id"], "provider", member))

    ledger = talkoot.ledger(proposed["id"], signed["position"])
    assert ledger["status"] == "active"
    assert ledger["signed_by_partner"] == f"second-officer-of-{partner_id}"
    assert ledger["signed_by_provider"] == "member-aino"


def test_an_officer_of_another_partner_finds_no_contract_to_sign_or_read(talkoot: Talkoot):
    proposed = propose(talkoot, registered(talkoot), some("partner"))
    outsider = talkoot.officer(some("partner"))

    for party in ("partner", "provider"):
        response = sign(talkoot, proposed["id"], party, outsider)
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == missing(proposed["id"])
    response = read(talkoot, proposed["id"], outsider)
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == missing(proposed["id"])
    assert events_of(talkoot, proposed["id"]) == 1


def test_someone_elses_contract_answers_as_one_that_is_not_there(talkoot: Talkoot):
    proposed = propose(talkoot, registered(talkoot), some("partner"))
    nowhere = str(uuid.uuid4())
    outsider = talkoot.officer(some("partner"))

    for contract_id in (proposed["id"], nowhere):
        response = sign(talkoot, contract_id, "partner", outsider)
        assert (response.status_code, response.json()["detail"]) == (404, missing(contract_id))


def test_a_provider_member_signs_only_as_its_own_provider(talkoot: Talkoot):
    partner_id, provider_id = some("partner"), registered(talkoot)
    proposed = propose(talkoot, provider_id, partner_id)

    other = sign(talkoot, proposed["id"], "provider", talkoot.member(some("provider")))
    assert other.status_code == 404, other.text
    as_partner = sign(talkoot, proposed["id"], "partner", talkoot.member(provider_id))
    assert as_partner.status_code == 403, as_partner.text
    assert events_of(talkoot, proposed["id"]) == 1

    signed = talkoot.ok(sign(talkoot, proposed["id"], "provider", talkoot.member(provider_id)))
    ledger = talkoot.ledger(proposed["id"], signed["position"])
    assert ledger["signed_by_provider"] == f"member-of-{provider_id}"
    assert (ledger["status"], ledger["signed_by_partner"]) == ("proposed", None)


def test_an_officer_of_the_partner_cannot_sign_for_the_provider(talkoot: Talkoot):
    partner_id = some("partner")
    proposed = propose(talkoot, registered(talkoot), partner_id)

    response = sign(talkoot, proposed["id"], "provider", talkoot.officer(partner_id))

    assert response.status_code == 403, response.text
    assert events_of(talkoot, proposed["id"]) == 1


def test_an_admin_sees_a_contract_but_cannot_sign_for_either_party(talkoot: Talkoot):
    proposed = propose(talkoot, registered(talkoot), some("partner"))

    for party in ("partner", "provider"):
        response = sign(talkoot, proposed["id"], party, talkoot.admin())
        assert response.status_code == 403, response.text
    assert events_of(talkoot, proposed["id"]) == 1


def test_a_resident_is_no_party_to_a_contract(talkoot: Talkoot):
    proposed = propose(talkoot, registered(talkoot), some("partner"))

    response = sign(talkoot, proposed["id"], "partner", talkoot.resident())

    assert response.status_code == 403, response.text
    assert read(talkoot, proposed["id"], talkoot.resident()).status_code == 404


# --- reading -----------------------------------------------------------------------------


def test_a_contract_is_read_by_an_officer_of_its_partner_and_a_member_of_its_provider(
    talkoot: Talkoot,
):
    partner_id, provider_id = some("partner"), registered(talkoot)
    proposed = propose(talkoot, provider_id, partner_id)
    talkoot.ledger(proposed["id"], proposed["position"])

    for who in (
        talkoot.officer(partner_id),
        talkoot.officer(partner_id, may_sign=False),
        talkoot.member(provider_id),
        talkoot.admin(),
    ):
        assert talkoot.ok(read(talkoot, proposed["id"], who), 200)["contract_id"] == proposed["id"]
    assert read(talkoot, proposed["id"], talkoot.member(some("provider"))).status_code == 404
    assert read(talkoot, proposed["id"], None).status_code == 401


# --- charging ----------------------------------------------------------------------------


def test_charges_by_anyone_but_a_signer_of_its_partner_change_nothing(talkoot: Talkoot):
    partner_id, provider_id = some("partner"), registered(talkoot)
    contract = talkoot.contract(
        provider_id, CATEGORY, REGION, partner_id=partner_id, budget_cents=10_000
    )
    before = talkoot.ledger(contract["id"], contract["position"])
    stored = events_of(talkoot, contract["id"])

    for who, status in [
        (talkoot.resident(), 403),
        (talkoot.member(provider_id), 403),
        (talkoot.officer(partner_id, may_sign=False), 403),
        (talkoot.officer(some("partner")), 404),
        (None, 401),
    ]:
        response = charge(talkoot, contract["id"], "r-refused", who)
        assert response.status_code == status, response.text
    assert events_of(talkoot, contract["id"]) == stored
    assert talkoot.ledger(contract["id"]) == before

    # The projection applies events in order: had any refused charge been stored, it would
    # be on the ledger before the signer's.
    charged = talkoot.ok(charge(talkoot, contract["id"], "r-1", talkoot.officer(partner_id)))
    after = talkoot.ledger(contract["id"], charged["position"])
    assert [(e["request_id"], e["outcome"]) for e in after["entries"]] == [("r-1", "charged")]
    assert (after["charges"], after["refusals"], after["charged_cents"]) == (1, 0, 3000)


def test_an_officer_of_another_partner_finds_no_contract_to_charge(talkoot: Talkoot):
    contract = talkoot.contract(registered(talkoot), CATEGORY, REGION, partner_id=some("partner"))

    response = charge(talkoot, contract["id"], "r-1", talkoot.officer(some("partner")))

    assert response.status_code == 404, response.text
    assert response.json()["detail"] == missing(contract["id"])


# --- the ledger list ---------------------------------------------------------------------


def test_the_ledger_lists_to_each_caller_the_contracts_they_are_a_party_to(talkoot: Talkoot):
    city, town = some("partner"), some("partner")
    shared, only_town = registered(talkoot), registered(talkoot)
    a = propose(talkoot, shared, city)
    b = propose(talkoot, shared, town)
    c = propose(talkoot, only_town, town)
    position = max(a["position"], b["position"], c["position"])

    def listed(who: str, **params) -> set[str]:
        response = talkoot.get("partnerships", "/ledger", who=who, position=position, **params)
        return {row["contract_id"] for row in talkoot.ok(response, 200)}

    assert listed(talkoot.officer(city)) == {a["id"]}
    assert listed(talkoot.officer(town, may_sign=False)) == {b["id"], c["id"]}
    assert listed(talkoot.member(shared)) == {a["id"], b["id"]}
    assert listed(talkoot.member(only_town)) == {c["id"]}
    # a filter narrows what the caller sees, never widens it
    assert listed(talkoot.officer(city), partner_id=town) == set()
    assert listed(talkoot.member(shared), partner_id=town) == {b["id"]}
    assert listed(talkoot.admin(), provider_id=shared) == {a["id"], b["id"]}
    assert listed(talkoot.resident()) == set()
