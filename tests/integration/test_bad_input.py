"""Bad input gets a 4xx whose body names the field or the rule, and nothing is stored; a caller
acting on what is not theirs gets the 404 of a missing one."""

from __future__ import annotations

import pytest

from tests.client import Talkoot
from tests.integration.messages import contract_body
from tests.integration.store import stored_events


def refused(talkoot: Talkoot, service: str, path: str, body, status: int, who: str) -> dict:
    """``who`` sends the command; it is refused with ``status`` and stores nothing."""
    before = stored_events(talkoot.stack, service)
    response = talkoot.post(service, path, body, who=who)
    assert response.status_code == status, response.text
    assert stored_events(talkoot.stack, service) == before, "a refused command stored events"
    return response.json()


@pytest.fixture
def assigned(talkoot: Talkoot, scope) -> tuple[str, str]:
    """A request assigned to a provider of this test's own: (provider_id, request_id)."""
    provider_id, _ = talkoot.ready_provider(*scope)
    return provider_id, talkoot.assigned_request(*scope, provider_id)


def mentions(error: dict, named: str) -> bool:
    """The error names ``named`` as its field or rule, or in the validation message."""
    messages = [
        item.get("message", "") for item in error.get("extra") or [] if isinstance(item, dict)
    ]
    return named in names(error) or any(f"`{named}`" in m for m in messages)


def names(error: dict) -> set[str]:
    """The fields or rules an error body names."""
    extra = error.get("extra")
    if isinstance(extra, dict):
        return {extra["rule"]}
    return {item.get("key") for item in extra or []}


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"category": 7}, 400, "category"),
        ({"category": None}, 400, "category"),
        ({"window_start": "tomorrow"}, 400, "window_start"),
        ({"window_start": "2026-12-01T08:00:00"}, 400, "window_start"),  # no time zone
        # the resident is the caller, never a field of the body
        ({"resident_id": "resident-2"}, 400, "resident_id"),
        ({"category": "chimney-sweeping"}, 422, "category"),
        ({"region": "helsinki"}, 422, "region"),
        ({"window_end": "2020-01-01T00:00:00Z"}, 422, "window"),
        ({"colour": "red"}, 400, "colour"),
        ({"lat": 91.0, "long": 25.6}, 400, "lat"),
        ({"lat": 60.98}, 422, "long"),  # the missing one is named
        ({"media_url": "ftp://example.fi/photo.jpg"}, 422, "media_url"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(talkoot: Talkoot, change, status, named):
    body = {**talkoot.request_body("yard-work", "hollola"), **change}
    error = refused(talkoot, "requests", "/requests", body, status, talkoot.resident())
    assert mentions(error, named), error


def test_a_request_with_a_field_missing_is_refused(talkoot: Talkoot):
    body = talkoot.request_body("yard-work", "hollola")
    del body["region"]
    error = refused(talkoot, "requests", "/requests", body, 400, talkoot.resident())
    assert "region" in error["detail"] + str(error["extra"])


def test_a_body_that_is_not_json_is_refused(talkoot: Talkoot):
    before = stored_events(talkoot.stack, "requests")
    response = talkoot.http.post(
        talkoot.url("requests", "/requests"),
        content=b"{not json",
        headers={"content-type": "application/json", **talkoot.headers(talkoot.resident())},
    )
    assert response.status_code == 400
    assert stored_events(talkoot.stack, "requests") == before


@pytest.mark.parametrize("hours", [-1, 0, 0.1, 25, "two"])
def test_completion_with_impossible_hours_is_refused(talkoot: Talkoot, assigned, hours):
    provider_id, request_id = assigned
    error = refused(
        talkoot,
        "requests",
        f"/requests/{request_id}/completion",
        {"hours": hours},
        400,
        talkoot.member(provider_id),
    )
    assert names(error) == {"hours"}


def test_only_a_member_of_the_assigned_provider_reports_completion(talkoot: Talkoot, assigned):
    _, request_id = assigned
    error = refused(
        talkoot,
        "requests",
        f"/requests/{request_id}/completion",
        {"hours": 1},
        404,
        talkoot.member("somebody-else"),
    )
    assert names(error) == {"not_found"}
    assert request_id in error["detail"]


def test_only_the_requesting_resident_confirms(talkoot: Talkoot, assigned):
    provider_id, request_id = assigned
    talkoot.ok(
        talkoot.on_request(request_id, "completion", {"hours": 1}, who=talkoot.member(provider_id))
    )
    path = f"/requests/{request_id}/confirmation"
    error = refused(talkoot, "requests", path, {}, 404, talkoot.resident("resident-2"))
    assert names(error) == {"not_found"}
    # exactly what a request that is not there answers
    missing = refused(
        talkoot,
        "requests",
        "/requests/8d1f0c52-0000-4000-8000-000000000001/confirmation",
        {},
        404,
        talkoot.resident("resident-2"),
    )
    assert error["detail"].replace(request_id, "ID") == missing["detail"].replace(
        "8d1f0c52-0000-4000-8000-000000000001", "ID"
    )


def test_confirming_before_completion_is_the_wrong_state(talkoot: Talkoot, assigned):
    _, request_id = assigned
    error = refused(
        talkoot,
        "requests",
        f"/requests/{request_id}/confirmation",
        {},
        409,
        talkoot.resident("resident-1"),
    )
    assert names(error) == {"wrong_state"}
    assert "assigned" in error["detail"]


def test_an_unknown_request_is_not_found(talkoot: Talkoot):
    error = refused(
        talkoot,
        "requests",
        "/requests/8d1f0c52-0000-4000-8000-000000000000/confirmation",
        {},
        404,
        talkoot.resident("resident-1"),
    )
    assert names(error) == {"not_found"}
    assert talkoot.get("requests", "/requests/not-a-uuid").status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"capacity": 0}, 400, "capacity"),
        ({"capacity": "many"}, 400, "capacity"),
        ({"kind": "company"}, 400, "kind"),
        ({"categories": []}, 400, "categories"),
        ({"regions": ["tampere"]}, 422, "region"),
        ({"name": ""}, 400, "name"),
    ],
)
def test_a_bad_provider_registration_is_refused(talkoot: Talkoot, change, status, named):
    body = {
        "name": "Laune Talkoot ry",
        "kind": "association",
        "categories": ["yard-work"],
        "regions": ["lahti-laune"],
        "capacity": 3,
        **change,
    }
    error = refused(talkoot, "providers", "/providers", body, status, talkoot.resident())
    assert mentions(error, named), error


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"unit_price_cents": -100}, 400, "unit_price_cents"),
        ({"budget_cents": 0}, 400, "budget_cents"),
        ({"unit_price_cents": 12.5}, 400, "unit_price_cents"),
        ({"valid_until": "2020-01-01"}, 422, "valid_until"),
        ({"categories": ["juggling"]}, 422, "category"),
        ({"valid_from": "soon"}, 400, "valid_from"),
    ],
)
def test_a_bad_contract_is_refused(talkoot: Talkoot, change, status, named):
    body = contract_body(**change)
    body.pop("partner_id", None)  # the officer's own partner
    error = refused(talkoot, "partnerships", "/contracts", body, status, talkoot.officer())
    assert mentions(error, named), error


def test_signing_without_the_right_to_sign_or_for_another_provider_is_refused(
    talkoot: Talkoot, scope
):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    contract_id = talkoot.contract(provider_id, category, region, sign=False)["id"]
    signatures = f"/contracts/{contract_id}/signatures"
    unsigned = talkoot.officer("lahti-city", may_sign=False)
    error = refused(talkoot, "partnerships", signatures, {"party": "partner"}, 403, unsigned)
    assert "right to sign" in error["detail"]
    another = talkoot.member("another-provider")
    error = refused(talkoot, "partnerships", signatures, {"party": "provider"}, 404, another)
    assert names(error) == {"not_found"}
    error = refused(talkoot, "partnerships", signatures, {"party": "mayor"}, 400, talkoot.officer())
    assert names(error) == {"party"}
    # who signs is the caller, never a field of the body
    error = refused(
        talkoot,
        "partnerships",
        signatures,
        {"party": "partner", "signed_by": "lahti-city"},
        400,
        talkoot.officer(),
    )
    assert mentions(error, "signed_by"), error


def test_charging_an_unsigned_contract_is_refused(talkoot: Talkoot, scope):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    contract_id = talkoot.contract(provider_id, category, region, sign=False)["id"]
    error = refused(
        talkoot,
        "partnerships",
        f"/contracts/{contract_id}/charges",
        {"request_id": "r-1", "hours": 1},
        409,
        talkoot.officer(),
    )
    assert names(error) == {"wrong_state"}


def test_accepting_somebody_elses_offer_is_not_found(talkoot: Talkoot, scope):
    category, region = scope
    talkoot.ready_provider(category, region)
    request_id = talkoot.submit(category, region)["id"]
    offer_id = talkoot.wait_for_status(request_id, "offered")["offer_id"]
    error = refused(
        talkoot,
        "matching",
        f"/offers/{offer_id}/acceptance",
        {},
        404,
        talkoot.member("another-provider"),
    )
    assert names(error) == {"not_found"}
