"""A service killed with SIGKILL in the middle of the flow and started again finishes the flow:
nothing acknowledged is lost, nothing is published or applied twice, nothing charged twice,
and every read model is as the event stores make it (`talkoot check`)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from contracts.events import (
    ContractChargedV1,
    InitiativeRaisedV1,
    OfferMadeV1,
    ProviderRegisteredV1,
    ServiceRequestedV1,
)
from tests.client import Talkoot, eventually, published, submit_many
from tests.integration.tables import coordinator, found, read

pytestmark = pytest.mark.slow


def kill_during(talkoot: Talkoot, service: str, work, after: float = 0.3):
    """Run ``work`` while ``service`` is SIGKILLed shortly after it starts; then restart it."""
    process = talkoot.stack.processes[service]
    result = {}

    def run() -> None:
        result["value"] = work()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(after)
    process.kill()
    thread.join()
    process.start()
    process.wait_healthy()
    return result["value"]


def assert_published_once(
    talkoot: Talkoot, service: str, kind: type, field: str, ids: list[str]
) -> None:
    """Each of ``ids`` is in exactly one ``kind`` event of ``service``'s stream."""
    counted = Counter(
        getattr(e, field) for _, e in published(talkoot.stack, service) if isinstance(e, kind)
    )
    assert all(counted[i] == 1 for i in ids), counted


def test_matching_killed_while_offering_offers_each_request_once(talkoot: Talkoot, scope):
    category, region = scope
    # every open offer holds its estimate of the budget: enough for all the requests
    talkoot.ready_provider(category, region, capacity=100, budget_cents=1_000_000)
    request_ids = kill_during(
        talkoot, "matching", lambda: submit_many(talkoot, category, region, 40)
    )
    assert len(request_ids) == 40  # matching was down, requests was not
    for request_id in request_ids:
        talkoot.wait_for_status(request_id, "offered")
    talkoot.wait_until_quiet()
    assert_published_once(talkoot, "matching", OfferMadeV1, "request_id", request_ids)
    talkoot.assert_read_models_right()


def test_requests_killed_while_submitting_loses_nothing_acknowledged(talkoot: Talkoot, scope):
    category, region = scope
    # every open offer holds its estimate of the budget: enough for all the requests
    talkoot.ready_provider(category, region, capacity=100, budget_cents=1_000_000)
    request_ids = kill_during(
        talkoot, "requests", lambda: submit_many(talkoot, category, region, 60), after=0.5
    )
    assert request_ids, "nothing was acknowledged before the kill"
    more = submit_many(talkoot, category, region, 5)  # and it works again after the restart
    assert len(more) == 5
    for request_id in request_ids + more:
        talkoot.wait_for_status(request_id, "offered")
    talkoot.wait_until_quiet()
    assert_published_once(talkoot, "requests", ServiceRequestedV1, "request_id", request_ids + more)
    talkoot.assert_read_models_right()


def test_partnerships_killed_while_charging_charges_each_request_once(talkoot: Talkoot, scope):
    category, region = scope
    provider = talkoot.ok(
        talkoot.post(
            "providers",
            "/providers",
            {
                "name": "Neljäs osuuskunta",
                "kind": "cooperative",
                "business_id": "0737546-2",
                "categories": [category],
                "regions": [region],
                "capacity": 50,
            },
            who=talkoot.token("founder-1", "resident"),
        )
    )["id"]
    contract_id = talkoot.contract(
        provider, category, region, unit_price_cents=2000, budget_cents=1_000_000
    )["id"]
    talkoot.wait_until_quiet()
    request_ids = [talkoot.assigned_request(category, region, provider) for _ in range(15)]
    member = talkoot.member(provider)
    for request_id in request_ids:
        talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 1.5}, who=member))

    def confirm_all() -> None:
        resident = talkoot.resident("resident-1")  # who made the requests
        for request_id in request_ids:
            talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))

    kill_during(talkoot, "partnerships", confirm_all, after=0.05)
    ledger = eventually(
        lambda: talkoot.ledger(contract_id),
        lambda row: row["charges"] >= len(request_ids),
        30,
        "every confirmed request charged",
    )
    talkoot.wait_until_quiet()
    ledger = talkoot.ledger(contract_id)
    assert ledger["charges"] == 15
    assert ledger["charged_cents"] == 15 * 3000
    assert_published_once(talkoot, "partnerships", ContractChargedV1, "request_id", request_ids)
    talkoot.assert_read_models_right()


def test_providers_killed_while_registering_loses_nothing_acknowledged(talkoot: Talkoot, scope):
    category, region = scope
    founder = talkoot.headers(talkoot.token("founder-restart", "resident"))
    body = {
        "name": "Kuudes osuuskunta",
        "kind": "cooperative",
        "business_id": "0737546-2",
        "categories": [category],
        "regions": [region],
        "capacity": 3,
    }

    def register_many(count: int) -> list[str]:
        acknowledged = []
        with httpx.Client(timeout=5, headers=founder) as http:
            for _ in range(count):
                try:
                    response = http.post(talkoot.url("providers", "/providers"), json=body)
                except httpx.HTTPError:
                    continue
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
        return acknowledged

    provider_ids = kill_during(talkoot, "providers", lambda: register_many(40), after=0.3)
    assert provider_ids, "nothing was acknowledged before the kill"
    more = register_many(3)  # and it works again after the restart
    assert len(more) == 3
    talkoot.wait_until_quiet()
    for provider_id in provider_ids + more:
        assert talkoot.get("providers", f"/providers/{provider_id}").status_code == 200
    assert_published_once(
        talkoot, "providers", ProviderRegisteredV1, "provider_id", provider_ids + more
    )
    talkoot.assert_read_models_right()


def test_tables_killed_while_initiatives_are_raised_loses_nothing_acknowledged(
    talkoot: Talkoot,
):
    table_id = found(talkoot)
    headers = talkoot.headers(coordinator(talkoot, table_id))
    path = talkoot.url("tables", f"/tables/{table_id}/initiatives")

    def raise_many(count: int, until_refused: bool = False) -> tuple[list[str], int]:
        """The initiatives acknowledged, and how many posts got no answer."""
        acknowledged, unanswered = [], 0
        with httpx.Client(timeout=5, headers=headers) as http:
            for n in range(count):
                body = {"title": f"Penkki puistoon {n}", "origin": "city"}
                try:
                    response = http.post(path, json=body)
                except httpx.HTTPError:
                    unanswered += 1
                    if until_refused:
                        break  # killed: the rest would wait for the restart
                    continue
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
        return acknowledged, unanswered

    raised, unanswered = kill_during(
        talkoot, "tables", lambda: raise_many(2000, until_refused=True), after=0.3
    )
    assert raised, "nothing was acknowledged before the kill"
    assert unanswered == 1, "the kill came after the posts"
    more, _ = raise_many(3)  # and it works again after the restart
    assert len(more) == 3
    talkoot.wait_until_quiet()
    for initiative_id in raised + more:
        assert read(talkoot, f"/initiatives/{initiative_id}")["table_id"] == table_id
    assert_published_once(talkoot, "tables", InitiativeRaisedV1, "initiative_id", raised + more)
    talkoot.assert_read_models_right()
