"""A table's service programme on the running stack: the coordinator funds an initiative as a
programme, partnerships makes it a contract with the table (the table's decision its partner's
signature), the provider signs, a resident's request in the region is offered to the provider
and its confirmed work is charged against the programme's budget. The coordinator reads the
contract, its ledger and its settlements; an officer of another partner finds none. A
ProgrammeFundedV1 delivered again, or delivered with other terms under the same id, changes
nothing; one whose provider is not registered is recorded as ended, with the reason; one that
breaks the rules is passed over, and the consumer goes on."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from contracts.connection import connect
from contracts.events import ProgrammeFundedV1, TableFoundedV1, encode, event_type
from contracts.streams import EVENT_HEADER, MSG_ID_HEADER, POSITION_HEADER, subject
from domain.calendar import local_today
from tests.client import Talkoot, published
from tests.conftest import unused_scope
from tests.integration.store import stored_events
from tests.integration.tables import (
    command,
    coordinator,
    days_ago,
    found,
    hold,
    initiative,
    meeting,
)

pytestmark = pytest.mark.slow

PRICE = 3_500
BUDGET = 10_000


def fund(talkoot: Talkoot, table_id: str, terms: dict) -> str:
    """The coordinator funds a city's initiative, discussed at a meeting, as a programme."""
    coord = coordinator(talkoot, table_id)
    made = initiative(talkoot, table_id, coord, origin="city", on=days_ago(5))
    talkoot.ok(hold(talkoot, table_id, meeting(talkoot, table_id, days_ago(4)), discussed=[made]))
    path = f"/initiatives/{made}/programme"
    return talkoot.ok(command(talkoot, path, terms, coord))["id"]


def terms(provider_id: str, category: str, region: str, **change) -> dict:
    return {
        "provider_id": provider_id,
        "categories": [category],
        "regions": [region],
        "unit_price_cents": PRICE,
        "pricing": "hour",
        "budget_cents": BUDGET,
        "valid_from": days_ago(1),
        "valid_until": (local_today() + timedelta(days=60)).isoformat(),
        **change,
    }


def read(talkoot: Talkoot, path: str, who: str, **params) -> dict | list:
    return talkoot.ok(talkoot.get("partnerships", path, who=who, **params), 200)


def funded_event(talkoot: Talkoot, programme_id: str) -> tuple[int, ProgrammeFundedV1]:
    """The tables service's own ProgrammeFundedV1 of the programme, with its position: the
    first in the stream (the tests deliver copies of it later)."""
    found_ = [
        (position, event)
        for position, event in published(talkoot.stack, "tables")
        if isinstance(event, ProgrammeFundedV1) and event.programme_id == programme_id
    ]
    assert found_, f"no ProgrammeFundedV1 of {programme_id} in the stream"
    return found_[0]


def deliver(talkoot: Talkoot, position: int, event: ProgrammeFundedV1) -> None:
    """Publish ``event`` onto the stream ``tables`` at ``position``, as the tables service's
    relay does (its NATS identity), under a message id of its own so that the server's
    duplicate window lets it through and the consumer meets it."""
    stack = talkoot.stack

    async def send() -> None:
        nc = await connect(stack.nats_url, "tests-as-tables", **stack.nats_options("tables"))
        try:
            ack = await nc.jetstream().publish(
                subject("tables", event_type(event), stack.namespace),
                encode(event),
                headers={
                    MSG_ID_HEADER: f"tests:{uuid.uuid4()}",
                    POSITION_HEADER: str(position),
                    EVENT_HEADER: event_type(event),
                },
            )
            assert not ack.duplicate
        finally:
            await nc.close()

    asyncio.run(asyncio.wait_for(send(), 30))


def next_position(talkoot: Talkoot) -> int:
    """A position of the tables stream no ProgrammeFundedV1 holds: the tables service's own
    event of a table founded now (which partnerships passes over), so that an event
    delivered at it is the consumer's next and no later event of the service shares it."""
    founded = talkoot.post(
        "tables",
        "/tables",
        {
            "table_id": f"table-{uuid.uuid4().hex[:10]}",
            "name": "Varaus",
            "regions": ["nastola"],
            "coordinator": "coordinator-x",
        },
        who=talkoot.admin(),
    )
    position = talkoot.ok(founded)["position"]
    talkoot.wait_until_quiet()  # the relay has published it
    events = dict(published(talkoot.stack, "tables"))
    assert isinstance(events[position], TableFoundedV1)
    return position


@pytest.fixture(scope="module")
def programme(talkoot: Talkoot) -> dict:
    """A table of its own region, a registered provider, and a programme the table funded
    for them, which partnerships has made a contract by now."""
    category, region = unused_scope()
    table_id = found(talkoot, regions=[region], yearly_budget_cents=1_000_000)
    provider_id = talkoot.register_provider(category, region)
    programme_id = fund(talkoot, table_id, terms(provider_id, category, region))
    talkoot.wait_until_quiet()
    return {
        "table_id": table_id,
        "provider_id": provider_id,
        "programme_id": programme_id,
        "category": category,
        "region": region,
        "coordinator": coordinator(talkoot, table_id),
    }


def test_a_funded_programme_is_a_contract_with_the_table_waiting_for_the_provider(
    talkoot: Talkoot, programme: dict
):
    table_id = programme["table_id"]
    contract = read(talkoot, f"/contracts/{programme['programme_id']}", programme["coordinator"])
    assert (contract["partner_id"], contract["provider_id"]) == (
        f"table-{table_id}",
        programme["provider_id"],
    )
    assert (contract["categories"], contract["regions"]) == (
        [programme["category"]],
        [programme["region"]],
    )
    assert (contract["unit_price_cents"], contract["budget_cents"]) == (PRICE, BUDGET)
    assert contract["proposed_by"] == f"coordinator-of-{table_id}"
    signed = (contract["signed_by_partner"], contract["partner_signed"])
    assert signed == (f"table:{table_id}", True)
    assert (contract["status"], contract["signed_by_provider"]) == ("proposed", None)


def test_the_coordinator_reads_but_neither_signs_nor_amends_and_other_officers_find_nothing(
    talkoot: Talkoot, programme: dict
):
    contract_id = programme["programme_id"]
    coord = programme["coordinator"]
    signatures = f"/contracts/{contract_id}/signatures"
    before = stored_events(talkoot.stack, "partnerships")
    signed = talkoot.post("partnerships", signatures, {"party": "partner"}, who=coord)
    assert signed.status_code == 403, signed.text
    amended = talkoot.post(
        "partnerships",
        f"/contracts/{contract_id}/amendments",
        {"budget_cents": 20_000, "effective_from": days_ago(0), "reason": "Lisää"},
        who=coord,
    )
    assert amended.status_code == 403, amended.text
    other = talkoot.officer("lahti-city")
    assert talkoot.get("partnerships", f"/contracts/{contract_id}", who=other).status_code == 404
    versions = talkoot.get("partnerships", f"/contracts/{contract_id}/versions", who=other)
    assert versions.status_code == 404
    signed = talkoot.post("partnerships", signatures, {"party": "partner"}, who=other)
    assert signed.status_code == 404
    another_table = coordinator(talkoot, "table-someone-else")
    mine = talkoot.get("partnerships", f"/contracts/{contract_id}", who=another_table)
    assert mine.status_code == 404
    assert read(talkoot, "/ledger", another_table) == []
    assert stored_events(talkoot.stack, "partnerships") == before


def test_confirmed_work_under_the_signed_programme_is_charged_against_its_budget(
    talkoot: Talkoot, programme: dict
):
    contract_id, provider_id = programme["programme_id"], programme["provider_id"]
    coord, table_id = programme["coordinator"], programme["table_id"]
    signatures = f"/contracts/{contract_id}/signatures"
    member = talkoot.member(provider_id)
    talkoot.ok(talkoot.post("partnerships", signatures, {"party": "provider"}, who=member))
    talkoot.wait_until_quiet()
    assert read(talkoot, f"/contracts/{contract_id}", coord)["status"] == "active"

    request_id = talkoot.completed_request(
        programme["category"], programme["region"], provider_id, hours=2.0
    )
    assert talkoot.board_entry(request_id)["contract_id"] == contract_id
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=talkoot.resident()))
    talkoot.wait_until_quiet()

    ledger = read(talkoot, f"/contracts/{contract_id}", coord)
    assert (ledger["charged_cents"], ledger["remaining_cents"]) == (2 * PRICE, BUDGET - 2 * PRICE)
    assert [(e["request_id"], e["outcome"], e["amount_cents"]) for e in ledger["entries"]] == [
        (request_id, "charged", 2 * PRICE)
    ]
    listed = read(talkoot, "/ledger", coord)
    assert [c["contract_id"] for c in listed] == [contract_id]
    statement = read(talkoot, "/settlements", coord)
    assert [(c["contract_id"], c["request_id"]) for c in statement["charges"]] == [
        (contract_id, request_id)
    ]
    assert [p["partner_id"] for p in statement["partners"]] == [f"table-{table_id}"]
    other = talkoot.officer("lahti-city")
    answer = talkoot.get("partnerships", "/settlements", who=other, contract_id=contract_id)
    assert answer.status_code == 404
    versions = read(talkoot, f"/contracts/{contract_id}/versions", coord)
    assert [v["version"] for v in versions["versions"]] == [1]


def test_a_programme_delivered_again_changes_nothing(talkoot: Talkoot, programme: dict):
    contract_id = programme["programme_id"]
    position, original = funded_event(talkoot, contract_id)
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "partnerships")
    ledger = read(talkoot, f"/contracts/{contract_id}", programme["coordinator"])

    deliver(talkoot, position, original)  # the same message once more
    other_terms = msgspec.structs.replace(
        original, budget_cents=1, provider_id="someone-else", occurred_at=datetime.now(UTC)
    )
    deliver(talkoot, next_position(talkoot), original)  # the same fact at a later position
    deliver(talkoot, next_position(talkoot), other_terms)  # other terms under the same id
    talkoot.wait_until_quiet()

    assert stored_events(talkoot.stack, "partnerships") == before
    again = read(talkoot, f"/contracts/{contract_id}", programme["coordinator"])
    assert {k: v for k, v in again.items() if k != "updated_at"} == {
        k: v for k, v in ledger.items() if k != "updated_at"
    }


def test_a_programme_of_an_unregistered_provider_is_recorded_as_ended_with_the_reason(
    talkoot: Talkoot,
):
    category, region = unused_scope()
    table_id = found(talkoot, regions=[region], yearly_budget_cents=1_000_000)
    programme_id = fund(talkoot, table_id, terms("no-such-provider", category, region))
    talkoot.wait_until_quiet()
    coord = coordinator(talkoot, table_id)
    contract = read(talkoot, f"/contracts/{programme_id}", coord)
    assert contract["status"] == "terminated"
    assert "no provider no-such-provider is registered" in contract["reason"]
    member = talkoot.member("no-such-provider")
    signatures = f"/contracts/{programme_id}/signatures"
    signed = talkoot.post("partnerships", signatures, {"party": "provider"}, who=member)
    assert signed.status_code == 409, signed.text


@pytest.mark.parametrize(
    "change",
    [
        {"programme_id": "not-a-uuid"},
        {"categories": ["astrology"]},
        {"regions": []},
        {"unit_price_cents": 0},
        {"table_id": "   "},
        {"valid_until": datetime(2020, 1, 1).date()},
    ],
)
def test_a_programme_that_breaks_the_rules_is_passed_over_and_the_consumer_goes_on(
    talkoot: Talkoot, programme: dict, change: dict
):
    _, original = funded_event(talkoot, programme["programme_id"])
    broken = msgspec.structs.replace(original, **{"programme_id": str(uuid.uuid4()), **change})
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "partnerships")
    at = next_position(talkoot)
    deliver(talkoot, at, broken)
    talkoot.wait_until_quiet()
    assert stored_events(talkoot.stack, "partnerships") == before
    health = talkoot.ok(talkoot.get("partnerships", "/health"), 200)
    [consumer] = [c for c in health["consumers"] if c["upstream"] == "tables"]
    assert (consumer["running"], consumer["failure"], consumer["dead_letters"]) == (True, None, 0)
    assert consumer["position"] >= at
    if change.get("programme_id") != "not-a-uuid":
        missing = talkoot.get("partnerships", f"/contracts/{broken.programme_id}")
        assert missing.status_code == 404


def test_the_tables_own_events_after_a_message_of_another_are_all_published_in_order(
    talkoot: Talkoot, programme: dict
):
    """A message another put in the stream takes the place the relay expected for its next
    one: that one is refused, and none after it may be stored before it is (one commit of
    several events, the meeting held, is the relay's next batch)."""
    table_id = programme["table_id"]
    coord = coordinator(talkoot, table_id)
    made = initiative(talkoot, table_id, coord, origin="city", on=days_ago(3))
    planned = meeting(talkoot, table_id, days_ago(2))
    _, original = funded_event(talkoot, programme["programme_id"])
    deliver(talkoot, next_position(talkoot), original)
    talkoot.ok(hold(talkoot, table_id, planned, discussed=[made]))
    talkoot.wait_until_quiet()
    kinds = [type(event).__name__ for _, event in published(talkoot.stack, "tables")[-3:]]
    # after the other's message, both events of the meeting: the first one was not left out
    assert kinds == ["ProgrammeFundedV1", "MeetingHeldV1", "InitiativeDiscussedV1"], kinds
    talkoot.assert_read_models_right()  # and every event of it is in the read model
