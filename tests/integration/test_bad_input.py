"""Bad input gets a 4xx whose body names the field or the rule, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.client import Talkoot
from tests.integration.messages import contract_body
from tests.integration.store import stored_events


def refused(talkoot: Talkoot, service: str, path: str, body, status: int) -> dict:
    before = stored_events(talkoot.stack, service)
    response = talkoot.post(service, path, body)
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
        ({"resident_id": ""}, 400, "resident_id"),
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
    error = refused(talkoot, "requests", "/requests", body, status=status)
    assert mentions(error, named), error


def test_a_request_with_a_field_missing_is_refused(talkoot: Talkoot):
    body = talkoot.request_body("yard-work", "hollola")
    del body["region"]
    error = refused(talkoot, "requests", "/requests", body, status=400)
    assert "region" in error["detail"] + str(error["extra"])


def test_a_body_that_is_not_json_is_refused(talkoot: Talkoot):
    before = stored_events(talkoot.stack, "requests")
    response = talkoot.http.post(
        talkoot.url("requests", "/requests"),
        content=b"{not json",
        headers={"content-type": "application/json"},
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
        {"provider_id": provider_id, "hours": hours},
        status=400,
    )
    assert names(error) == {"hours"}


def test_only_the_assigned_provider_reports_completion(talkoot: Talkoot, assigned):
    _, request_id = assigned
    error = refused(
        talkoot,
        "requests",
        f"/requests/{request_id}/completion",
        {"provider_id": "somebody-else", "hours": 1},
        status=403,
    )
    assert names(error) == {"provider_id"}


def test_only_the_requesting_resident_confirms(talkoot: Talkoot, assigned):
    provider_id, request_id = assigned
    talkoot.ok(
        talkoot.post(
            "requests",
            f"/requests/{request_id}/completion",
            {"provider_id": provider_id, "hours": 1},
        )
    )
    error = refused(
        talkoot,
        "requests",
        f"/requests/{request_id}/confirmation",
        {"resident_id": "resident-2"},
        status=403,
    )
    assert names(error) == {"resident_id"}


def test_confirming_before_completion_is_the_wrong_state(talkoot: Talkoot, assigned):
    _, request_id = assigned
    error = refused(
        talkoot,
        "requests",
        f"/requests/{request_id}/confirmation",
        {"resident_id": "resident-1"},
        status=409,
    )
    assert names(error) == {"wrong_state"}
    assert "assigned" in error["detail"]


def test_an_unknown_request_is_not_found(talkoot: Talkoot):
    error = refused(
        talkoot,
        "requests",
        "/requests/8d1f0c52-0000-4000-8000-000000000000/confirmation",
        {"resident_id": "resident-1"},
        status=404,
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
    error = refused(talkoot, "providers", "/providers", body, status=status)
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
    error = refused(talkoot, "partnerships", "/contracts", body, status=status)
    assert mentions(error, named), error


def test_signing_for_the_wrong_party_is_refused(talkoot: Talkoot, scope):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    contract_id = talkoot.contract(provider_id, category, region, sign=False)["id"]
    error = refused(
        talkoot,
        "partnerships",
        f"/contracts/{contract_id}/signatures",
        {"party": "provider", "signed_by": "lahti-city"},
        status=403,
    )
    assert names(error) == {"signed_by"}
    error = refused(
        talkoot,
        "partnerships",
        f"/contracts/{contract_id}/signatures",
        {"party": "mayor", "signed_by": "lahti-city"},
        status=400,
    )
    assert names(error) == {"party"}


def test_charging_an_unsigned_contract_is_refused(talkoot: Talkoot, scope):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    contract_id = talkoot.contract(provider_id, category, region, sign=False)["id"]
    error = refused(
        talkoot,
        "partnerships",
        f"/contracts/{contract_id}/charges",
        {"request_id": "r-1", "hours": 1},
        status=409,
    )
    assert names(error) == {"wrong_state"}


def test_accepting_somebody_elses_offer_is_refused(talkoot: Talkoot, scope):
    category, region = scope
    talkoot.ready_provider(category, region)
    request_id = talkoot.submit(category, region)["id"]
    offer_id = talkoot.wait_for_status(request_id, "offered")["offer_id"]
    error = refused(
        talkoot,
        "matching",
        f"/offers/{offer_id}/acceptance",
        {"provider_id": "another-provider"},
        status=403,
    )
    assert names(error) == {"provider_id"}
