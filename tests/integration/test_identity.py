"""Callers the services cannot verify: no token, a malformed one, an expired one, one signed
with another key or made for another issuer or audience. Each is answered 401 in the services'
error shape, with ``WWW-Authenticate: Bearer``, and nothing it sends is stored."""

from __future__ import annotations

import httpx
import pytest

from tests.client import Talkoot
from tests.integration.store import stored_events
from tests.integration.tokens import broken_tokens

SERVICES = ("requests", "providers", "matching", "partnerships")

# The Authorization headers a caller may send instead of a token we can verify.
MALFORMED = {"no header": None, "bare": "Bearer", "basic": "Basic x", "no jwt": "Bearer a.b.c"}
BROKEN = ["expired", "other key", "wrong audience", "wrong issuer"]


def authorization(talkoot: Talkoot, case: str) -> str | None:
    if case in MALFORMED:
        return MALFORMED[case]
    return f"Bearer {broken_tokens(talkoot)[case]}"


def commands(talkoot: Talkoot) -> list[tuple[str, str, dict]]:
    """One command of each service that stores events when a caller may send it."""
    return [
        ("requests", "/requests", talkoot.request_body("yard-work", "lahti-laune")),
        (
            "providers",
            "/providers",
            {
                "name": "Väärennys ry",
                "kind": "association",
                "business_id": "0737546-2",
                "categories": ["yard-work"],
                "regions": ["lahti-laune"],
                "capacity": 1,
            },
        ),
        ("matching", "/offers/offer-1/acceptance", {}),
        (
            "partnerships",
            "/contracts",
            {
                "provider_id": "provider-x",
                "categories": ["yard-work"],
                "regions": ["lahti-laune"],
                "unit_price_cents": 3000,
                "budget_cents": 10000,
                "valid_from": "2026-01-01",
                "valid_until": "2030-12-31",
            },
        ),
    ]


# Reads that need a signed-in caller (the providers' reads are public).
READS = [
    ("requests", "/requests"),
    ("requests", "/requests/request-1"),
    ("requests", "/series"),
    ("matching", "/offers/offer-1"),
    ("matching", "/jobs/request-1"),
    ("partnerships", "/ledger"),
]


def check_refused(response: httpx.Response, header: str | None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()
    assert error["status_code"] == 401
    assert error["detail"]
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.split()[0] == "Bearer", challenge
    # RFC 6750: a refused bearer token is named as such; a request without one is only told
    # how to authenticate
    sent_token = header is not None and header.startswith("Bearer ") and header != "Bearer "
    assert ('error="invalid_token"' in challenge) is sent_token


def every_store(talkoot: Talkoot) -> dict[str, int]:
    return {service: stored_events(talkoot.stack, service) for service in SERVICES}


CASES = [*MALFORMED, *BROKEN]


@pytest.mark.parametrize("case", CASES)
def test_a_command_without_a_token_we_can_verify_is_refused_401_and_stores_nothing(
    talkoot: Talkoot, case: str
):
    header = authorization(talkoot, case)
    talkoot.wait_until_quiet()
    before = every_store(talkoot)
    for service, path, body in commands(talkoot):
        headers = {"Idempotency-Key": f"forged-{case}-{service}"}
        if header is not None:
            headers["Authorization"] = header
        response = talkoot.http.post(talkoot.url(service, path), json=body, headers=headers)
        check_refused(response, header)
    assert every_store(talkoot) == before, "a command with a broken token stored events"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("service", "path"), READS)
def test_a_read_without_a_token_we_can_verify_is_refused_401(
    talkoot: Talkoot, case: str, service: str, path: str
):
    header = authorization(talkoot, case)
    headers = {"Authorization": header} if header is not None else {}
    check_refused(talkoot.http.get(talkoot.url(service, path), headers=headers), header)


@pytest.mark.parametrize("service", SERVICES)
def test_the_stacks_own_token_is_verified_where_a_broken_one_is_refused(
    talkoot: Talkoot, service: str
):
    # the refusals here are about those tokens, not about every token
    headers = talkoot.headers(talkoot.token("ops-1", "admin"))
    assert talkoot.http.get(talkoot.url(service, "/health"), headers=headers).status_code == 200


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("path", ["/health", "/schema/openapi.json"])
def test_public_routes_answer_without_a_token(talkoot: Talkoot, service: str, path: str):
    response = talkoot.http.get(talkoot.url(service, path))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case", BROKEN)
def test_a_public_route_sent_a_broken_token_refuses_it_rather_than_ignoring_it(
    talkoot: Talkoot, case: str
):
    header = authorization(talkoot, case)
    response = talkoot.http.get(
        talkoot.url("requests", "/health"), headers={"Authorization": header}
    )
    check_refused(response, header)
