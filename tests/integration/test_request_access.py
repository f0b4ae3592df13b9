"""Who may read and change a request, over HTTP on the running services: another person's
request answers as a missing one does (404) and nothing changes; the provider and the partner
who may act are those of the request; and the public board shows what a city would publish:
no resident, and where and what only of public matters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.client import Talkoot
from tests.integration import scopes
from tests.integration.store import stored_events
from tests.support.places import point_in

RESIDENT = "resident-1"  # who tests.client submits as
PARTNER = "lahti-city"  # whom tests.client contracts with

# Each command of a resident on a request, with a body it would take.
RESIDENTS_COMMANDS = [
    ("reschedule", "window"),
    ("cancellation", {"reason": "moving"}),
    ("confirmation", {}),
    ("dispute", {"reason": "not done"}),
    ("rating", {"stars": 5}),
]


def window(days: float = 2) -> dict:
    start = datetime.now(UTC) + timedelta(days=days)
    return {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
    }


def body_of(body) -> dict:
    return window() if body == "window" else body


def missing(response, request_id: str) -> None:
    """The answer is the one a request that does not exist gets."""
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"no service request with id {request_id}"


def what_is_stored(talkoot: Talkoot, request_id: str) -> tuple[int, dict]:
    talkoot.wait_until_quiet()
    return stored_events(talkoot.stack, "requests"), talkoot.board_entry(request_id)


@pytest.fixture
def quiet() -> tuple[str, str]:
    """A pair where no provider works, shared by the tests that need none."""
    return scopes.quiet()


# --- another person's request --------------------------------------------------------------


def test_another_residents_request_is_not_found_and_nothing_changes(talkoot: Talkoot, quiet):
    request_id = talkoot.submit(*quiet, resident_id=RESIDENT)["id"]
    talkoot.wait_for_status(request_id, "unmatched")  # nobody works here
    before = what_is_stored(talkoot, request_id)
    someone_else = talkoot.resident("resident-2")

    missing(talkoot.get("requests", f"/requests/{request_id}", who=someone_else), request_id)
    for what, body in RESIDENTS_COMMANDS:
        response = talkoot.on_request(request_id, what, body_of(body), who=someone_else)
        missing(response, request_id)
    listed = talkoot.ok(talkoot.get("requests", "/requests", who=someone_else, limit=1000), 200)
    assert request_id not in {entry["request_id"] for entry in listed}
    # Nor does a provider it was never offered to, or an officer of no partner of it, see it.
    for who in (talkoot.member("provider-of-nothing"), talkoot.officer("another-city")):
        missing(talkoot.get("requests", f"/requests/{request_id}", who=who), request_id)

    assert what_is_stored(talkoot, request_id) == before
    mine = talkoot.ok(talkoot.get("requests", "/requests", who=talkoot.resident(RESIDENT)), 200)
    assert request_id in {entry["request_id"] for entry in mine}
    entry = talkoot.ok(
        talkoot.get("requests", f"/requests/{request_id}", who=talkoot.resident(RESIDENT)), 200
    )
    assert entry["resident_id"] == RESIDENT


def test_an_admin_sees_a_request_but_does_not_act_as_its_resident(talkoot: Talkoot, quiet):
    request_id = talkoot.submit(*quiet, resident_id=RESIDENT)["id"]
    talkoot.wait_for_status(request_id, "unmatched")
    before = what_is_stored(talkoot, request_id)

    response = talkoot.on_request(request_id, "cancellation", {}, who=talkoot.admin())

    assert response.status_code == 403, response.text
    assert response.json()["extra"]["rule"] == "resident_id"
    assert what_is_stored(talkoot, request_id) == before
    submitted = talkoot.post(
        "requests", "/requests", talkoot.request_body(*quiet), who=talkoot.admin()
    )
    assert submitted.status_code == 403, submitted.text
    assert what_is_stored(talkoot, request_id) == before


def test_reading_a_request_needs_a_token_and_only_its_people_send_commands(talkoot: Talkoot, quiet):
    request_id = talkoot.submit(*quiet)["id"]
    assert talkoot.get("requests", f"/requests/{request_id}", who=None).status_code == 401
    assert talkoot.get("requests", "/requests", who=None).status_code == 401
    for what, body in RESIDENTS_COMMANDS:
        assert talkoot.on_request(request_id, what, body_of(body), who=None).status_code == 401
        # a provider member or an officer is not a resident
        for who in (talkoot.member("provider-1"), talkoot.officer()):
            refused = talkoot.on_request(request_id, what, body_of(body), who=who)
            assert refused.status_code == 403, (what, refused.text)
    resolution = {"outcome": "upheld", "note": "x"}
    refused = talkoot.on_request(request_id, "resolution", resolution, who=talkoot.resident())
    assert refused.status_code == 403
    refused = talkoot.on_request(request_id, "completion", {"hours": 1}, who=talkoot.resident())
    assert refused.status_code == 403


def test_a_member_of_another_provider_cannot_report_the_completion(talkoot: Talkoot, scope):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.assigned_request(*scope, provider_id)
    before = what_is_stored(talkoot, request_id)

    for other in ("another-provider", str(uuid.uuid4())):
        response = talkoot.on_request(
            request_id, "completion", {"hours": 2}, who=talkoot.member(other)
        )
        missing(response, request_id)
        missing(
            talkoot.get("requests", f"/requests/{request_id}", who=talkoot.member(other)),
            request_id,
        )

    assert what_is_stored(talkoot, request_id) == before
    # The provider's own member sees it among its jobs, and reports it done.
    member = talkoot.member(provider_id)
    jobs = talkoot.ok(talkoot.get("requests", "/requests", who=member, status="assigned"), 200)
    assert request_id in {job["request_id"] for job in jobs}
    done = talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 2}, who=member))
    assert talkoot.board_entry(request_id, done["position"])["status"] == "completed"


def test_an_officer_of_another_partner_cannot_resolve_the_dispute(talkoot: Talkoot, scope):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.completed_request(*scope, provider_id)
    talkoot.ok(
        talkoot.on_request(
            request_id, "dispute", {"reason": "Half done"}, who=talkoot.resident(RESIDENT)
        )
    )
    before = what_is_stored(talkoot, request_id)
    ruling = {"outcome": "upheld", "note": "Checked"}

    stranger = talkoot.officer("another-city")
    missing(talkoot.on_request(request_id, "resolution", ruling, who=stranger), request_id)
    missing(talkoot.get("requests", f"/requests/{request_id}", who=stranger), request_id)

    assert what_is_stored(talkoot, request_id) == before
    # The partner's officer sees the disputes it is to rule on, and rules.
    officer = talkoot.officer(PARTNER, may_sign=False)
    disputes = talkoot.ok(talkoot.get("requests", "/requests", who=officer, status="disputed"), 200)
    assert request_id in {entry["request_id"] for entry in disputes}
    ruled = talkoot.ok(talkoot.on_request(request_id, "resolution", ruling, who=officer))
    assert talkoot.board_entry(request_id, ruled["position"])["status"] == "confirmed"


# --- the public board ------------------------------------------------------------------------

WHERE_AND_WHAT = {
    "address": "Mukkulankatu 19, Lahti",
    "lat": None,  # a point in the request's region: where_and_what
    "long": None,
    "description": "A birch fell across the path behind number 19",
}
PUBLIC_FIELDS = {
    "request_id",
    "category",
    "region",
    "status",
    "window_start",
    "window_end",
    "submitted_at",
    "updated_at",
    "position",
    *WHERE_AND_WHAT,
}


def where_and_what(region: str) -> dict:
    lat, long = point_in(region)
    return {**WHERE_AND_WHAT, "lat": lat, "long": long}


def submitted_with_details(talkoot: Talkoot, category: str, region: str) -> dict:
    body = {**talkoot.request_body(category, region), **where_and_what(region)}
    return talkoot.ok(talkoot.post("requests", "/requests", body, who=talkoot.resident()))


def test_the_public_board_shows_where_and_what_only_of_public_matters(talkoot: Talkoot, quiet):
    (private, private_region), (public, public_region) = quiet, scopes.public_matter()
    household = submitted_with_details(talkoot, private, private_region)
    common = submitted_with_details(talkoot, public, public_region)

    for who in (None, talkoot.resident(), talkoot.admin()):  # the same for everybody
        shown = talkoot.ok(
            talkoot.get("requests", f"/board/{common['id']}", who=who, position=common["position"]),
            200,
        )
        hidden = talkoot.ok(talkoot.get("requests", f"/board/{household['id']}", who=who), 200)
        for entry in (shown, hidden):
            assert set(entry) == PUBLIC_FIELDS
            assert entry["status"] in ("submitted", "unmatched")
        assert {k: shown[k] for k in WHERE_AND_WHAT} == where_and_what(public_region)
        assert {k: hidden[k] for k in WHERE_AND_WHAT} == dict.fromkeys(WHERE_AND_WHAT)
        assert (hidden["category"], hidden["region"]) == (private, private_region)

    listed = talkoot.ok(
        talkoot.get("requests", "/board", who=None, category=private, region=private_region), 200
    )
    assert household["id"] in {entry["request_id"] for entry in listed}
    assert {(e["category"], e["address"], e["description"]) for e in listed} == {
        (private, None, None)
    }
    listed = talkoot.ok(
        talkoot.get("requests", "/board", who=None, category=public, region=public_region), 200
    )
    assert (common["id"], WHERE_AND_WHAT["address"]) in {
        (e["request_id"], e["address"]) for e in listed
    }
    response = talkoot.get("requests", f"/board/{uuid.uuid4()}", who=None)
    assert response.status_code == 404
