"""The main flow across the service processes, over HTTP, as a partner, a provider and a
resident would drive it: contract, registration, request, offer, acceptance, completion,
confirmation, charge, and both projections showing the result."""

from __future__ import annotations

import pytest

from services.registry import STREAMS
from tests.client import Talkoot, eventually, published

pytestmark = pytest.mark.slow


@pytest.mark.dates
def test_a_request_goes_from_submission_to_a_charged_contract(talkoot: Talkoot, scope):
    category, region = scope

    # 2. (first, here) A person founds a provider; the directory lists it.
    registered = talkoot.ok(
        talkoot.post(
            "providers",
            "/providers",
            {
                "name": "Ahtialan kyläyhdistys",
                "kind": "village_group",
                "contact_person": {"name": "Aino Virtanen", "phone": "040 123 4567"},
                "categories": [category],
                "regions": [region],
                "capacity": 2,
            },
            who=talkoot.token("founder-1", "resident"),
        )
    )
    provider_id = registered["id"]
    member = talkoot.member(provider_id)
    officer = talkoot.officer("lahti-city")
    listed = talkoot.ok(
        talkoot.get(
            "providers",
            "/providers",
            category=category,
            region=region,
            position=registered["position"],
        ),
        200,
    )
    assert [(p["provider_id"], p["name"], p["kind"]) for p in listed] == [
        (provider_id, "Ahtialan kyläyhdistys", "village_group")
    ]

    # 1. A municipal partner's officer proposes a contract; it is active only when a person
    # has signed for each party.
    proposed = talkoot.contract(provider_id, category, region, unit_price_cents=3500, sign=False)
    contract_id = proposed["id"]
    ledger = talkoot.ledger(contract_id, proposed["position"])
    assert (ledger["status"], ledger["partner_id"]) == ("proposed", "lahti-city")
    signatures = f"/contracts/{contract_id}/signatures"
    first = talkoot.ok(talkoot.post("partnerships", signatures, {"party": "provider"}, who=member))
    assert talkoot.ledger(contract_id, first["position"])["status"] == "proposed"
    # the proposer alone does not sign for the partner: another officer does
    alone = talkoot.ok(talkoot.post("partnerships", signatures, {"party": "partner"}, who=officer))
    assert talkoot.ledger(contract_id, alone["position"])["status"] == "proposed"
    head = talkoot.second_officer("lahti-city")
    second = talkoot.ok(talkoot.post("partnerships", signatures, {"party": "partner"}, who=head))
    ledger = talkoot.ledger(contract_id, second["position"])
    assert ledger["status"] == "active"
    assert ledger["budget_cents"] == ledger["remaining_cents"] == 100_000
    assert (ledger["signed_by_partner"], ledger["signed_by_provider"]) == (
        "officer-of-lahti-city, second-officer-of-lahti-city",
        f"member-of-{provider_id}",
    )
    talkoot.wait_until_quiet()

    # 3. A resident submits a request; the board shows it at once when asked with the position.
    submitted = talkoot.submit(category, region, resident_id="resident-42")
    request_id = submitted["id"]
    entry = talkoot.board_entry(request_id, submitted["position"])
    assert entry["resident_id"] == "resident-42"
    assert entry["status"] in ("submitted", "offered")

    # 4. Matching offers it to the eligible provider.
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == provider_id
    offer = talkoot.ok(talkoot.get("matching", f"/offers/{offered['offer_id']}", who=member), 200)
    assert (offer["status"], offer["contract_id"]) == ("open", contract_id)

    # 5. The provider accepts; the request is assigned under the contract.
    talkoot.ok(talkoot.accept(offered["offer_id"], provider_id))
    assigned = talkoot.wait_for_status(request_id, "assigned")
    assert (assigned["provider_id"], assigned["contract_id"]) == (provider_id, contract_id)

    # 6. Completion with hours, then the resident confirms.
    done = talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 2.25}, who=member))
    assert talkoot.board_entry(request_id, done["position"])["status"] == "completed"
    resident = talkoot.resident("resident-42")
    confirmed = talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))
    entry = talkoot.board_entry(request_id, confirmed["position"])
    assert (entry["status"], entry["minutes"]) == ("confirmed", 135)

    # 7. Partnerships charges the contract: 2.25 h x 35.00 € = 78.75 €.
    ledger = eventually(
        lambda: talkoot.ledger(contract_id),
        lambda row: row["charges"] == 1,
        20,
        "the contract to be charged",
    )
    assert ledger["charged_cents"] == 7875
    assert ledger["remaining_cents"] == 100_000 - 7875
    assert [(e["request_id"], e["outcome"], e["amount_cents"]) for e in ledger["entries"]] == [
        (request_id, "charged", 7875)
    ]

    # 8. The ledger list (the provider's own, and the partner's narrowed to the provider) and
    # the board list show the same.
    listed = talkoot.ok(talkoot.get("partnerships", "/ledger", who=member), 200)
    assert [(row["contract_id"], row["charged_cents"]) for row in listed] == [(contract_id, 7875)]
    listed = talkoot.ok(
        talkoot.get("partnerships", "/ledger", who=officer, provider_id=provider_id), 200
    )
    assert [row["charged_cents"] for row in listed] == [7875]
    board = talkoot.ok(talkoot.get("requests", "/requests", region=region, category=category), 200)
    assert [(row["request_id"], row["status"]) for row in board] == [(request_id, "confirmed")]


def test_every_published_event_decodes_as_its_contract(talkoot: Talkoot, scope):
    """Whatever the services have published so far in this session decodes as the integration
    event type of its stream, and its position header is unique within the stream."""
    category, region = scope
    provider_id, _ = talkoot.ready_provider(category, region)
    talkoot.assigned_request(category, region, provider_id)
    talkoot.wait_until_quiet()

    seen = {stream: published(talkoot.stack, stream) for stream in STREAMS}
    for service, messages in seen.items():
        assert messages, f"{service} published nothing"
        positions = [p for p, _ in messages]
        assert len(positions) == len(set(positions)), f"{service} published a position twice"
        for _, event in messages:
            assert type(event).__name__.endswith("V1")
            assert event.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("service", "paths"),
    [
        (
            "requests",
            {
                "/requests",
                "/requests/{request_id}",
                "/requests/{request_id}/completion",
                "/requests/{request_id}/confirmation",
                "/requests/{request_id}/reschedule",
                "/requests/{request_id}/cancellation",
                "/requests/{request_id}/dispute",
                "/requests/{request_id}/resolution",
                "/requests/{request_id}/rating",
                "/series",
                "/series/{series_id}",
                "/series/{series_id}/pause",
                "/series/{series_id}/resume",
                "/series/{series_id}/end",
                "/snowfall-days",
                "/open311/v2/services.xml",
                "/open311/v2/services.json",
                "/open311/v2/requests.xml",
                "/open311/v2/requests.json",
                "/health",
            },
        ),
        (
            "providers",
            {
                "/providers",
                "/providers/{provider_id}",
                "/providers/{provider_id}/capabilities",
                "/providers/{provider_id}/members",
                "/providers/{provider_id}/members/{member_id}",
                "/providers/{provider_id}/pauses",
                "/providers/{provider_id}/pauses/{pause_id}/end",
                "/providers/{provider_id}/suspension",
                "/providers/{provider_id}/reinstatement",
                "/health",
            },
        ),
        (
            "matching",
            {
                "/offers/{offer_id}",
                "/offers/{offer_id}/acceptance",
                "/offers/{offer_id}/decline",
                "/jobs/{request_id}",
                "/budgets",
                "/health",
            },
        ),
        (
            "partnerships",
            {
                "/contracts",
                "/contracts/{contract_id}",
                "/ledger",
                "/contracts/{contract_id}/signatures",
                "/contracts/{contract_id}/charges",
                "/health",
            },
        ),
    ],
)
def test_each_service_describes_its_api_in_openapi(talkoot: Talkoot, service, paths):
    document = talkoot.ok(talkoot.get(service, "/schema/openapi.json"), 200)
    assert document["openapi"].startswith("3.")
    assert paths <= set(document["paths"]), sorted(document["paths"])
