"""The providers service over HTTP: registration with a business id or a contact person,
members, pauses, capabilities, suspension by a municipal partner with an active contract, and
the directory's status and rating."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from contracts.events import (
    ProviderMemberJoinedV1,
    ProviderPausedV1,
    ProviderRegisteredV1,
    ProviderSuspendedV1,
)
from domain.calendar import local_today
from tests.client import Talkoot, eventually, published
from tests.integration.store import stored_events

PERSON = {"name": "Aino Virtanen", "phone": "040 123 4567"}


def body(category: str, region: str, **change) -> dict:
    return {
        "name": "Laune Talkoot ry",
        "kind": "association",
        "business_id": "0737546-2",
        "categories": [category],
        "regions": [region],
        "capacity": 3,
        **change,
    }


def names(error: dict) -> set[str]:
    """The rule a refusal names, or the fields a validation error names (by key, or quoted in
    its message when the field is missing)."""
    extra = error.get("extra")
    if isinstance(extra, dict):
        return {extra["rule"]}
    keys = {item.get("key") for item in extra or []}
    quoted = {m for item in extra or [] for m in re.findall(r"`([^`]+)`", item.get("message", ""))}
    return keys | quoted


def founder(talkoot: Talkoot) -> str:
    """A signed-in person who founds providers."""
    return talkoot.resident("founder-1")


def record(talkoot: Talkoot, provider_id: str) -> dict:
    """The whole record, as an admin reads it."""
    return talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)


def refused(
    talkoot: Talkoot,
    provider_id: str,
    method: str,
    path: str,
    status: int,
    json=None,
    *,
    who: str | None = None,
):
    """The command, sent by ``who`` (a member of the provider when not given), is refused
    with ``status`` and the provider's history does not change."""
    before = record(talkoot, provider_id)
    who = talkoot.member(provider_id) if who is None else who
    response = talkoot.http.request(
        method, talkoot.url("providers", path), json=json, headers=talkoot.headers(who)
    )
    assert response.status_code == status, response.text
    assert record(talkoot, provider_id) == before, "a refused command changed the provider"
    return response.json()


def directory_entry(talkoot: Talkoot, provider_id: str, position: int, **params) -> dict | None:
    params.setdefault("limit", 1000)  # all the session's providers
    listed = talkoot.ok(talkoot.get("providers", "/providers", position=position, **params), 200)
    found = [p for p in listed if p["provider_id"] == provider_id]
    return found[0] if found else None


# What the providers of these tests do and where. Without a contract nothing is offered to
# them, so they share one (category, region) pair; a test that makes a contract takes a pair of
# its own (``scope``), so that no other test's request is offered to its provider.
SHARED = ("yard-work", "lahti-laune")


def registered(talkoot: Talkoot, scope: tuple[str, str]) -> str:
    """A registered association, already in the directory."""
    receipt = talkoot.ok(
        talkoot.post("providers", "/providers", body(*scope), who=founder(talkoot))
    )
    assert directory_entry(talkoot, receipt["id"], receipt["position"]) is not None
    return receipt["id"]


@pytest.fixture
def provider(talkoot: Talkoot) -> str:
    """A registered association of this test's own, without a contract."""
    return registered(talkoot, SHARED)


# --- registration ------------------------------------------------------------------------


def test_a_registered_association_registers_with_its_business_id_and_location(
    talkoot: Talkoot,
):
    receipt = talkoot.ok(
        talkoot.post(
            "providers", "/providers", body(*SHARED, lat=60.98, long=25.66), who=founder(talkoot)
        )
    )
    shown = record(talkoot, receipt["id"])
    assert shown["business_id"] == "0737546-2"
    assert shown["contact_person"] is None
    assert (shown["lat"], shown["long"]) == (60.98, 25.66)
    assert shown["status"] == "active"
    assert shown["members"] == [] and shown["pauses"] == [] and shown["partners"] == []
    entry = directory_entry(talkoot, receipt["id"], receipt["position"], category=SHARED[0])
    assert entry["business_id"] == "0737546-2"
    assert (entry["status"], entry["members"], entry["rating_count"]) == ("active", 0, 0)
    assert entry["rating_average"] is None
    events = [e for _, e in published(talkoot.stack, "providers")]
    registered = [
        e for e in events if isinstance(e, ProviderRegisteredV1) and e.provider_id == receipt["id"]
    ]
    assert [(e.business_id, e.lat, e.long) for e in registered] == [("0737546-2", 60.98, 25.66)]


def test_a_village_group_registers_with_a_contact_person(talkoot: Talkoot):
    receipt = talkoot.ok(
        talkoot.post(
            "providers",
            "/providers",
            body(*SHARED, kind="village_group", business_id=None, contact_person=PERSON),
            who=founder(talkoot),
        )
    )
    shown = record(talkoot, receipt["id"])
    assert shown["business_id"] is None
    assert shown["contact_person"] == {**PERSON, "email": ""}


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"business_id": None}, 422, "business_id"),
        ({"business_id": "0737546-3"}, 422, "business_id"),
        ({"business_id": "737546-2"}, 422, "business_id"),
        ({"business_id": "0000030-0"}, 422, "business_id"),
        ({"kind": "village_group", "business_id": None}, 422, "contact_person"),
        (
            {"kind": "village_group", "business_id": None, "contact_person": {"name": "Aino"}},
            422,
            "contact_person",
        ),
        (
            {
                "kind": "unregistered_association",
                "business_id": None,
                "contact_person": {"name": "Aino", "email": "not-an-email"},
            },
            422,
            "contact_person",
        ),
        ({"kind": "village_group", "contact_person": PERSON}, 422, "business_id"),
        ({"contact_person": {"name": "A", "fax": "1"}}, 400, "contact_person"),
        ({"lat": 60.9}, 422, "long"),
        ({"lat": 100.0, "long": 25.0}, 400, "lat"),
        ({"regions": ["tampere"]}, 422, "region"),
    ],
)
def test_a_bad_registration_is_refused_and_stores_nothing(talkoot: Talkoot, change, status, named):
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "providers")
    response = talkoot.post(
        "providers", "/providers", body("yard-work", "lahti-laune", **change), who=founder(talkoot)
    )
    assert response.status_code == status, response.text
    assert named in names(response.json()), response.text
    assert stored_events(talkoot.stack, "providers") == before


# --- members, capabilities, pauses --------------------------------------------------------


def test_members_join_and_leave_and_travel_by_id_only(talkoot: Talkoot, provider: str):
    member = talkoot.member(provider)
    path = f"/providers/{provider}/members"
    joined = talkoot.ok(
        talkoot.post("providers", path, {"name": "Matti", "role": "chair"}, who=member)
    )
    talkoot.ok(talkoot.post("providers", path, {"name": "Liisa"}, who=member))
    members = record(talkoot, provider)["members"]
    assert [(m["name"], m["role"]) for m in members] == [("Matti", "chair"), ("Liisa", "")]
    assert members[0]["member_id"] == joined["id"]
    left = talkoot.http.delete(
        talkoot.url("providers", f"{path}/{joined['id']}"), headers=talkoot.headers(member)
    )
    assert left.status_code == 200, left.text
    assert [m["name"] for m in record(talkoot, provider)["members"]] == ["Liisa"]
    assert directory_entry(talkoot, provider, left.json()["position"])["members"] == 1
    wire = [
        e
        for _, e in published(talkoot.stack, "providers")
        if isinstance(e, ProviderMemberJoinedV1) and e.provider_id == provider
    ]
    assert wire[0].member_id == joined["id"]
    assert "Matti" not in repr(wire)


def test_bad_member_commands_change_nothing(talkoot: Talkoot, provider: str):
    path = f"/providers/{provider}/members"
    assert "name" in names(refused(talkoot, provider, "POST", path, 400, {"name": ""}))
    assert "role" in names(
        refused(talkoot, provider, "POST", path, 400, {"name": "A", "role": "x" * 201})
    )
    error = refused(talkoot, provider, "DELETE", f"{path}/{uuid.uuid4()}", 404)
    assert names(error) == {"not_found"}
    elsewhere = str(uuid.uuid4())
    missing = talkoot.post(
        "providers",
        f"/providers/{elsewhere}/members",
        {"name": "A"},
        who=talkoot.member(elsewhere),
    )
    assert missing.status_code == 404


def test_capabilities_change_and_the_directory_follows(talkoot: Talkoot, provider: str):
    category, region = SHARED
    changed = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider}/capabilities",
            {"categories": [category, "event-help"], "regions": [region], "capacity": 9},
            who=talkoot.member(provider),
        )
    )
    entry = directory_entry(talkoot, provider, changed["position"], category="event-help")
    assert entry["capacity"] == 9
    assert sorted(entry["categories"]) == sorted({category, "event-help"})


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"capacity": 0}, 400, "capacity"),
        ({"categories": []}, 400, "categories"),
        ({"categories": ["juggling"]}, 422, "category"),
        ({"regions": ["tampere"]}, 422, "region"),
        ({"colour": "red"}, 400, "colour"),
    ],
)
def test_bad_capabilities_change_nothing(talkoot: Talkoot, provider: str, change, status, named):
    category, region = SHARED
    data = {"categories": [category], "regions": [region], "capacity": 4, **change}
    error = refused(talkoot, provider, "POST", f"/providers/{provider}/capabilities", status, data)
    assert named in names(error) or any(named in str(i) for i in error.get("extra") or [])


@pytest.mark.dates
def test_a_pause_pauses_the_provider_until_it_is_ended(talkoot: Talkoot, provider: str):
    today = local_today()
    paused = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider}/pauses",
            {"starts": today.isoformat(), "reason": "full capacity"},
            who=talkoot.member(provider),
        )
    )
    shown = record(talkoot, provider)
    assert (shown["status"], shown["status_reason"]) == ("paused", "full capacity")
    assert shown["pauses"][0]["state"] == "current" and shown["pauses"][0]["ends"] is None
    entry = directory_entry(talkoot, provider, paused["position"], status="paused")
    assert entry is not None and entry["status"] == "paused"
    assert directory_entry(talkoot, provider, paused["position"], status="active") is None

    ended = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider}/pauses/{paused['id']}/end",
            None,
            who=talkoot.member(provider),
        )
    )
    assert record(talkoot, provider)["status"] == "active"
    assert directory_entry(talkoot, provider, ended["position"])["status"] == "active"
    wire = [
        e
        for _, e in published(talkoot.stack, "providers")
        if isinstance(e, ProviderPausedV1) and e.provider_id == provider
    ]
    assert [(e.pause_id, e.starts, e.ends) for e in wire] == [(paused["id"], today, None)]


@pytest.mark.dates
def test_bad_pauses_change_nothing(talkoot: Talkoot, provider: str):
    today = local_today()
    path = f"/providers/{provider}/pauses"
    upcoming = talkoot.ok(
        talkoot.post(
            "providers",
            path,
            {
                "starts": (today + timedelta(days=10)).isoformat(),
                "ends": (today + timedelta(days=20)).isoformat(),
                "reason": "summer",
            },
            who=talkoot.member(provider),
        )
    )

    def pause(starts, ends=None, reason="holiday"):
        data = {"starts": starts.isoformat(), "reason": reason}
        if ends is not None:
            data["ends"] = ends.isoformat()
        return data

    cases = [
        (pause(today - timedelta(days=1)), 422, "starts"),
        (pause(today + timedelta(days=3), today + timedelta(days=2)), 422, "ends"),
        (pause(today + timedelta(days=15)), 409, "overlapping_pause"),
        (pause(today, today + timedelta(days=10)), 409, "overlapping_pause"),
        (pause(today, reason=""), 400, "reason"),
        ({"starts": "tomorrow", "reason": "x"}, 400, "starts"),
        ({"reason": "x"}, 400, "starts"),
    ]
    for data, status, named in cases:
        error = refused(talkoot, provider, "POST", path, status, data)
        assert named in names(error), (data, error)

    end = f"{path}/{upcoming['id']}/end"
    assert names(refused(talkoot, provider, "POST", f"{path}/{uuid.uuid4()}/end", 404)) == {
        "not_found"
    }
    talkoot.ok(talkoot.post("providers", end, None, who=talkoot.member(provider)))
    assert names(refused(talkoot, provider, "POST", end, 409)) == {"wrong_state"}


# --- suspension by a municipal partner ----------------------------------------------------


def decision(reason: str = "repeated no-shows") -> dict:
    return {"reason": reason}


@pytest.mark.dates
def test_only_a_partner_with_an_active_contract_suspends_and_reinstates(talkoot: Talkoot, scope):
    category, region = scope
    provider = registered(talkoot, scope)
    partner = f"lahti-city-{uuid.uuid4().hex[:6]}"
    officer = talkoot.officer(partner)
    suspension = f"/providers/{provider}/suspension"
    reinstatement = f"/providers/{provider}/reinstatement"

    def refused_to(who: str, path: str, status: int, data: dict) -> dict:
        return refused(talkoot, provider, "POST", path, status, data, who=who)

    # No contract yet: for this partner's officers the provider is not there.
    assert names(refused_to(officer, suspension, 404, decision())) == {"not_found"}

    # A proposed contract that is not signed by both is not active.
    talkoot.contract(provider, category, region, partner_id=partner, sign=False)
    talkoot.wait_until_quiet()
    assert names(refused_to(officer, suspension, 404, decision())) == {"not_found"}

    # Once both have signed, providers learns it from partnerships and the partner may act.
    talkoot.contract(provider, category, region, partner_id=partner)
    eventually(
        lambda: record(talkoot, provider)["partners"],
        lambda partners: partners == [partner],
        20,
        "the activated contract to reach the providers service",
    )
    other = talkoot.officer(f"{partner}-other")
    assert names(refused_to(other, suspension, 404, decision())) == {"not_found"}
    assert "reason" in names(refused_to(officer, suspension, 400, {}))
    assert "partner_id" in names(
        refused_to(officer, suspension, 400, {"partner_id": partner, "reason": "x"})
    )
    assert names(refused_to(officer, reinstatement, 409, decision())) == {"wrong_state"}

    suspended = talkoot.ok(talkoot.post("providers", suspension, decision(), who=officer))
    shown = record(talkoot, provider)
    assert (shown["status"], shown["status_reason"]) == ("suspended", "repeated no-shows")
    assert shown["suspension"] == {"partner_id": partner, "reason": "repeated no-shows"}
    entry = directory_entry(talkoot, provider, suspended["position"], status="suspended")
    assert entry is not None and entry["status"] == "suspended"
    assert names(refused_to(officer, suspension, 409, decision())) == {"wrong_state"}
    wire = [
        e
        for _, e in published(talkoot.stack, "providers")
        if isinstance(e, ProviderSuspendedV1) and e.provider_id == provider
    ]
    assert [(e.partner_id, e.reason) for e in wire] == [(partner, "repeated no-shows")]

    reinstated = talkoot.ok(
        talkoot.post("providers", reinstatement, decision("talked it through"), who=officer)
    )
    assert record(talkoot, provider)["status"] == "active"
    assert directory_entry(talkoot, provider, reinstated["position"])["status"] == "active"


def test_unknown_providers_answer_404(talkoot: Talkoot):
    missing = str(uuid.uuid4())
    for path, data, who in [
        (f"/providers/{missing}/suspension", decision(), talkoot.officer()),
        (
            f"/providers/{missing}/capabilities",
            {"categories": ["yard-work"], "regions": ["lahti-laune"], "capacity": 1},
            talkoot.member(missing),
        ),
        (
            f"/providers/{missing}/pauses",
            {"starts": local_today().isoformat(), "reason": "x"},
            talkoot.member(missing),
        ),
    ]:
        response = talkoot.post("providers", path, data, who=who)
        assert response.status_code == 404, response.text
    assert talkoot.get("providers", f"/providers/{missing}").status_code == 404
    assert talkoot.get("providers", "/providers", status="asleep").status_code == 400


# --- the directory's rating ---------------------------------------------------------------


def test_the_directory_shows_the_average_rating_of_the_providers_rated_work(
    talkoot: Talkoot, scope
):
    category, region = scope
    provider = registered(talkoot, scope)
    schema = f"{talkoot.stack.namespace}_read"
    ratings = [5, 4, 4, None]  # the last request is not rated yet
    now = datetime.now(UTC)  # the suite's clock, not the database server's
    rows = [str(uuid.uuid4()) for _ in ratings]
    with psycopg.connect(talkoot.stack.database_url, autocommit=True) as conn:
        for request_id, stars in zip(rows, ratings, strict=True):
            conn.execute(
                f"""INSERT INTO {schema}.board (request_id, resident_id, category, region,
                      description, window_start, window_end, status, provider_id, rating,
                      submitted_at, updated_at, position)
                    VALUES (%s, 'resident-1', %s, %s, '', %s, %s, 'confirmed', %s, %s,
                      %s, %s, 0)""",
                (request_id, category, region, now, now, provider, stars, now, now),
            )
        try:
            entry = directory_entry(talkoot, provider, 0, category=category)
            assert (entry["rating_average"], entry["rating_count"]) == (4.33, 3)
        finally:
            # rows no event gave: the board as its events make it again (`talkoot check`)
            conn.execute(f"DELETE FROM {schema}.board WHERE request_id = ANY(%s)", (rows,))
