"""Who may act on a provider and its offers, over HTTP: another provider's member finds
nothing to change, the public sees only a provider's public part, suspension is for the
officers of a partner with an active contract, and each provider's inbox lists its own offers.
"""

from __future__ import annotations

import uuid

import pytest

from domain.calendar import local_today
from tests.client import Talkoot, eventually
from tests.integration.store import stored_events

PERSON = {"name": "Aino Virtanen", "phone": "040 123 4567", "email": "aino@example.fi"}
CONTACT = "Aino Virtanen, 040 765 4321"
MEMBER = "Matti Meikäläinen"
PRIVATE = (PERSON["phone"], PERSON["email"], "040 765 4321", MEMBER)
# What the village groups do and where: they have no contract, so no test's request is offered
# to them, and they need no (category, region) pair of their own.
CATEGORY, REGION = "yard-work", "lahti-laune"


def village_group(talkoot: Talkoot) -> str:
    """A village group with a contact person, a contact line and one member."""
    body = {
        "name": "Kylätalkoot",
        "kind": "village_group",
        "contact_person": PERSON,
        "contact": CONTACT,
        "categories": [CATEGORY],
        "regions": [REGION],
        "capacity": 2,
    }
    founder = talkoot.resident("founder-1")
    provider_id = talkoot.ok(talkoot.post("providers", "/providers", body, who=founder))["id"]
    joined = talkoot.post(
        "providers",
        f"/providers/{provider_id}/members",
        {"name": MEMBER, "role": "chair"},
        who=talkoot.member(provider_id),
    )
    talkoot.ok(joined)
    return provider_id


def read(talkoot: Talkoot, provider_id: str, who: str | None) -> dict:
    return talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}", who=who), 200)


def whole(talkoot: Talkoot, provider_id: str) -> dict:
    return read(talkoot, provider_id, talkoot.admin())


def send(talkoot: Talkoot, method: str, service: str, path: str, body, who: str | None):
    headers = {"Idempotency-Key": uuid.uuid4().hex, **talkoot.headers(who)}
    return talkoot.http.request(method, talkoot.url(service, path), json=body, headers=headers)


# --- a provider's own commands ------------------------------------------------------------


@pytest.mark.dates
def test_a_member_of_another_provider_finds_no_such_provider_and_changes_nothing(
    talkoot: Talkoot,
):
    provider_id = village_group(talkoot)
    own = talkoot.member(provider_id)
    base = f"/providers/{provider_id}"
    today = local_today().isoformat()
    pause = talkoot.ok(
        talkoot.post("providers", f"{base}/pauses", {"starts": today, "reason": "x"}, who=own)
    )
    (member,) = whole(talkoot, provider_id)["members"]
    stranger = talkoot.member(str(uuid.uuid4()))
    commands = [
        (
            "POST",
            f"{base}/capabilities",
            {"categories": [CATEGORY], "regions": [REGION], "capacity": 9},
        ),
        ("POST", f"{base}/members", {"name": "Intruder"}),
        ("DELETE", f"{base}/members/{member['member_id']}", None),
        ("POST", f"{base}/pauses", {"starts": today, "reason": "y"}),
        ("POST", f"{base}/pauses/{pause['id']}/end", None),
    ]
    talkoot.wait_until_quiet()
    before, stored = whole(talkoot, provider_id), stored_events(talkoot.stack, "providers")

    for method, path, body in commands:
        response = send(talkoot, method, "providers", path, body, stranger)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["detail"] == f"no provider with id {provider_id}"
        # a resident holds no provider role at all: the rule refuses them
        response = send(talkoot, method, "providers", path, body, talkoot.resident())
        assert response.status_code == 403, (path, response.text)

    assert whole(talkoot, provider_id) == before
    assert stored_events(talkoot.stack, "providers") == stored


def test_a_missing_provider_and_another_providers_answer_alike(talkoot: Talkoot):
    provider_id = village_group(talkoot)
    missing = str(uuid.uuid4())
    stranger = talkoot.member(missing)
    body = {"name": "Intruder"}
    theirs = send(talkoot, "POST", "providers", f"/providers/{provider_id}/members", body, stranger)
    none = send(talkoot, "POST", "providers", f"/providers/{missing}/members", body, stranger)
    assert (theirs.status_code, none.status_code) == (404, 404)
    assert theirs.json()["detail"].replace(provider_id, "X") == none.json()["detail"].replace(
        missing, "X"
    )


# --- what the public sees -----------------------------------------------------------------


def test_the_public_sees_no_contact_person_contact_or_member_names(talkoot: Talkoot):
    provider_id = village_group(talkoot)
    other = talkoot.member(str(uuid.uuid4()))
    for who in (None, talkoot.resident(), other):
        response = talkoot.get("providers", f"/providers/{provider_id}", who=who)
        assert response.status_code == 200, response.text
        shown = response.json()
        assert shown["whole"] is False
        assert (shown["name"], shown["kind"], shown["member_count"]) == (
            "Kylätalkoot",
            "village_group",
            1,
        )
        assert shown["contact_person"] is None and shown["contact"] is None
        assert shown["members"] is None and shown["pauses"] is None
        for private in (*PRIVATE, PERSON["name"]):
            assert private not in response.text

    listed = eventually(
        lambda: talkoot.get(
            "providers", "/providers", who=None, category=CATEGORY, kind="village_group", limit=1000
        ),
        lambda r: (
            r.status_code == 200
            and any(p["provider_id"] == provider_id and p["members"] == 1 for p in r.json())
        ),
        20,
        "the provider and its member in the directory",
    )
    for private in (*PRIVATE, PERSON["name"]):
        assert private not in listed.text


def test_a_member_an_officer_and_an_admin_see_the_whole_record(talkoot: Talkoot):
    provider_id = village_group(talkoot)
    for who in (talkoot.member(provider_id), talkoot.officer(), talkoot.admin()):
        shown = read(talkoot, provider_id, who)
        assert shown["whole"] is True
        assert shown["contact_person"] == PERSON
        assert shown["contact"] == CONTACT
        assert [(m["name"], m["role"]) for m in shown["members"]] == [(MEMBER, "chair")]
        assert shown["member_count"] == 1 and shown["pauses"] == []


# --- suspension ---------------------------------------------------------------------------


def test_suspension_is_for_an_officer_and_without_a_contract_the_provider_is_not_there(
    talkoot: Talkoot,
):
    provider_id = village_group(talkoot)
    path = f"/providers/{provider_id}/suspension"
    before = whole(talkoot, provider_id)
    body = {"reason": "complaints"}

    by_resident = send(talkoot, "POST", "providers", path, body, talkoot.resident())
    assert by_resident.status_code == 403, by_resident.text
    by_member = send(talkoot, "POST", "providers", path, body, talkoot.member(provider_id))
    assert by_member.status_code == 403, by_member.text
    nobody = send(talkoot, "POST", "providers", path, body, None)
    assert nobody.status_code == 401, nobody.text
    by_officer = send(talkoot, "POST", "providers", path, body, talkoot.officer("lahti-city"))
    assert by_officer.status_code == 404, by_officer.text
    assert by_officer.json()["detail"] == f"no provider with id {provider_id}"
    assert whole(talkoot, provider_id) == before


@pytest.mark.dates
def test_an_officer_of_a_partner_without_an_active_contract_gets_404_on_suspension(
    talkoot: Talkoot, scope
):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    partner = f"partner-{uuid.uuid4().hex[:6]}"
    talkoot.contract(provider_id, category, region, partner_id=partner)
    eventually(
        lambda: whole(talkoot, provider_id)["partners"],
        lambda partners: partners == [partner],
        20,
        "the activated contract to reach the providers service",
    )
    before = whole(talkoot, provider_id)
    for path in ("suspension", "reinstatement"):
        response = send(
            talkoot,
            "POST",
            "providers",
            f"/providers/{provider_id}/{path}",
            {"reason": "complaints"},
            talkoot.officer(f"{partner}-other"),
        )
        assert response.status_code == 404, response.text
        by_resident = send(
            talkoot,
            "POST",
            "providers",
            f"/providers/{provider_id}/{path}",
            {"reason": "complaints"},
            talkoot.resident(),
        )
        assert by_resident.status_code == 403, by_resident.text
    assert whole(talkoot, provider_id) == before
    # the partner's own officer may
    talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider_id}/suspension",
            {"reason": "complaints"},
            who=talkoot.officer(partner),
        )
    )
    assert whole(talkoot, provider_id)["status"] == "suspended"


# --- offers -------------------------------------------------------------------------------


def offered(talkoot: Talkoot, scope: tuple[str, str]) -> tuple[str, dict]:
    """A request offered to a provider of the test's own: its provider and its board entry."""
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.submit(*scope)["id"]
    entry = talkoot.wait_for_status(request_id, "offered")
    assert entry["provider_id"] == provider_id
    return provider_id, entry


def test_only_the_offers_provider_answers_it_and_only_the_contracts_partner_reads_the_record(
    talkoot: Talkoot, scope
):
    provider_id, entry = offered(talkoot, scope)
    offer_id, request_id = entry["offer_id"], entry["request_id"]
    offer = f"/offers/{offer_id}"
    stranger = talkoot.member(str(uuid.uuid4()))
    talkoot.wait_until_quiet()
    before = talkoot.ok(talkoot.get("matching", offer), 200)
    job = talkoot.ok(talkoot.get("matching", f"/jobs/{request_id}"), 200)
    stored = stored_events(talkoot.stack, "matching")

    for path, body in ((f"{offer}/acceptance", {}), (f"{offer}/decline", {"reason": "no"})):
        response = send(talkoot, "POST", "matching", path, body, stranger)
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"no offer with id {offer_id}"
        assert send(talkoot, "POST", "matching", path, body, talkoot.resident()).status_code == 403
        # the acting provider is the token's, never the body's
        response = send(talkoot, "POST", "matching", path, {"provider_id": provider_id}, stranger)
        assert response.status_code == 400, response.text

    for who in (stranger, talkoot.resident(), talkoot.officer("elsewhere")):
        assert talkoot.get("matching", offer, who=who).status_code == 404

    talkoot.wait_until_quiet()
    assert talkoot.ok(talkoot.get("matching", offer), 200) == before
    assert talkoot.ok(talkoot.get("matching", f"/jobs/{request_id}"), 200) == job
    assert stored_events(talkoot.stack, "matching") == stored
    assert talkoot.board_entry(request_id)["status"] == "offered"

    # Its own member and the contract's partner read it; the member answers it.
    assert talkoot.ok(talkoot.get("matching", offer, who=talkoot.member(provider_id)), 200)
    assert talkoot.ok(talkoot.get("matching", offer, who=talkoot.officer()), 200)
    # Matching's record of the request is the contract's partner's (and an admin's).
    record = f"/jobs/{request_id}"
    assert talkoot.ok(talkoot.get("matching", record, who=talkoot.officer()), 200) == job
    assert talkoot.get("matching", record, who=talkoot.officer("elsewhere")).status_code == 404
    for who in (talkoot.member(provider_id), talkoot.resident()):
        assert talkoot.get("matching", record, who=who).status_code == 403
    missing = talkoot.get("matching", f"/jobs/{uuid.uuid4()}", who=talkoot.officer())
    assert missing.status_code == 404
    talkoot.ok(talkoot.accept(offer_id, provider_id))
    talkoot.wait_for_status(request_id, "assigned")


def test_each_providers_inbox_lists_its_own_offers(talkoot: Talkoot, scope):
    category, region = scope
    first, second = sorted(talkoot.ready_provider(category, region)[0] for _ in range(2))
    requests = [talkoot.submit(category, region)["id"] for _ in range(2)]
    entries = [talkoot.wait_for_status(r, "offered") for r in requests]
    offer_of = {e["provider_id"]: e["offer_id"] for e in entries}
    assert set(offer_of) == {first, second}  # one each: the second went to the idle one
    talkoot.wait_until_quiet()

    def inbox(who: str, **params) -> list[dict]:
        return talkoot.ok(talkoot.get("matching", "/offers", who=who, **params), 200)

    for provider_id in (first, second):
        listed = inbox(talkoot.member(provider_id), status="open")
        assert [o["offer_id"] for o in listed] == [offer_of[provider_id]]
        assert {o["provider_id"] for o in listed} == {provider_id}
        assert (listed[0]["category"], listed[0]["region"]) == (category, region)
        assert listed[0]["partner_id"] == "lahti-city"

    # The first declines: its inbox keeps the offer as declined, the job goes to the second.
    declined = talkoot.ok(
        talkoot.post(
            "matching",
            f"/offers/{offer_of[first]}/decline",
            {"reason": "no one free"},
            who=talkoot.member(first),
        )
    )
    mine = talkoot.ok(
        talkoot.get(
            "matching", "/offers", who=talkoot.member(first), position=declined["position"]
        ),
        200,
    )
    assert [(o["offer_id"], o["status"], o["answer"]) for o in mine] == [
        (offer_of[first], "declined", "no one free")
    ]
    assert inbox(talkoot.member(first), status="open") == []
    theirs = eventually(
        lambda: inbox(talkoot.member(second)),
        lambda listed: len(listed) == 2,
        20,
        "the declined job to be offered to the second provider",
    )
    assert {o["provider_id"] for o in theirs} == {second}
    assert theirs[0]["offered_at"] >= theirs[1]["offered_at"]  # newest first
    assert [o["offer_id"] for o in inbox(talkoot.member(second), limit=1, offset=1)] == [
        theirs[1]["offer_id"]
    ]

    # Another provider's inbox is not there for a member; an admin names the provider.
    named = talkoot.get("matching", "/offers", who=talkoot.member(first), provider_id=second)
    assert named.status_code == 404, named.text
    assert inbox(talkoot.member(first), provider_id=first) == mine
    unnamed = talkoot.get("matching", "/offers", who=talkoot.admin())
    assert unnamed.status_code == 400, unnamed.text
    assert [e["key"] for e in unnamed.json()["extra"]] == ["provider_id"]
    assert inbox(talkoot.admin(), provider_id=second) == theirs
    for who in (talkoot.resident(), talkoot.officer()):
        assert talkoot.get("matching", "/offers", who=who).status_code == 403
    assert talkoot.get("matching", "/offers", who=None).status_code == 401
    assert talkoot.get("matching", "/offers", who=talkoot.admin(), status="lost").status_code == 400
