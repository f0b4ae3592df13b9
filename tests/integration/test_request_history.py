"""A request's history over HTTP on the running services: what happened to it and why, oldest
first, read from the event store (current at once), the offer's explanation as matching gave
it; read by those who may read the request, never naming its resident; 404 to anybody else,
exactly as a request that is not there, and 401 to nobody signed in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest

from tests.client import Talkoot, eventually
from tests.conftest import unused_scope

RESIDENT = "resident-1"  # who tests.client submits as
PARTNER = "lahti-city"  # whom tests.client contracts with
LIFE = [
    "submitted",
    "offered",
    "offered",
    "assigned",
    "completion-reported",
    "confirmed",
    "rated",
]


@dataclass
class Flow:
    request_id: str
    decliner: str  # the provider first offered the job, who declined it
    taker: str  # the provider it then went to, who did it
    contract_id: str  # the taker's
    offers: list[dict]  # matching's record of each offer, in order
    board: dict[str, dict]  # the board's entry once offered, once assigned, once completed
    at_once: list[dict]  # the history read right after the rating, without waiting


def history(talkoot: Talkoot, request_id: str, who: str | None):
    return talkoot.get("requests", f"/requests/{request_id}/history", who=who)


def read(talkoot: Talkoot, request_id: str, who: str) -> list[dict]:
    return talkoot.ok(history(talkoot, request_id, who), 200)


def missing(response, request_id: str) -> None:
    """The answer is the one a request that does not exist gets."""
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"no service request with id {request_id}"


@pytest.fixture(scope="module")
def flow(talkoot: Talkoot) -> Flow:
    """One request's whole life: offered to one provider, who declines; offered to the next,
    who takes it and reports 1.5 hours; the resident confirms and rates it."""
    category, region = unused_scope()
    contracts = dict(talkoot.ready_provider(category, region) for _ in range(2))
    resident = talkoot.resident(RESIDENT)
    request_id = talkoot.submit(category, region, RESIDENT)["id"]
    first = talkoot.wait_for_status(request_id, "offered")
    decliner = first["provider_id"]
    declined = talkoot.post(
        "matching",
        f"/offers/{first['offer_id']}/decline",
        {"reason": "nobody free that day"},
        who=talkoot.member(decliner),
    )
    talkoot.ok(declined)
    offered = eventually(
        lambda: talkoot.board_entry(request_id),
        lambda entry: entry["status"] == "offered" and entry["provider_id"] != decliner,
        20,
        "the second offer",
    )
    taker = offered["provider_id"]
    offers = [
        talkoot.ok(talkoot.get("matching", f"/offers/{offer_id}"), 200)
        for offer_id in (first["offer_id"], offered["offer_id"])
    ]
    talkoot.ok(talkoot.accept(offered["offer_id"], taker))
    assigned = talkoot.wait_for_status(request_id, "assigned")
    report = talkoot.on_request(request_id, "completion", {"hours": 1.5}, who=talkoot.member(taker))
    completed = talkoot.board_entry(request_id, talkoot.ok(report)["position"])
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))
    rating = {"stars": 4, "comment": "Quick and tidy"}
    talkoot.ok(talkoot.on_request(request_id, "rating", rating, who=resident))
    at_once = read(talkoot, request_id, resident)
    return Flow(
        request_id=request_id,
        decliner=decliner,
        taker=taker,
        contract_id=contracts[taker],
        offers=offers,
        board={"offered": offered, "assigned": assigned, "completed": completed},
        at_once=at_once,
    )


def test_the_resident_reads_the_whole_life_in_order_with_the_offers_why(
    talkoot: Talkoot, flow: Flow
):
    entries = read(talkoot, flow.request_id, talkoot.resident(RESIDENT))

    assert entries == flow.at_once  # read at once after the last command: nothing was missing
    assert [e["what"] for e in entries] == LIFE
    assert [e["version"] for e in entries] == list(range(1, len(LIFE) + 1))
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times)
    submitted, *offered, assigned, reported, confirmed, rated = entries
    assert set(submitted) == {"at", "what", "version", "window_start", "window_end"}
    assert [(e["offer_id"], e["provider_id"]) for e in offered] == [
        (o["id"], o["provider_id"]) for o in flow.offers
    ]
    assert [o["provider_id"] for o in flow.offers] == [flow.decliner, flow.taker]
    # The explanation matching gave when it made each offer, word for word.
    assert [e["why"] for e in offered] == [o["why"] for o in flow.offers]
    assert offered[0]["why"].startswith("Offered to Testiosuuskunta, the first of 2 eligible")
    # the decliner is no longer eligible (nor are other tests' providers in this category)
    assert offered[1]["why"].startswith("Offered to Testiosuuskunta, the only eligible provider")
    assert "not eligible" in offered[1]["why"]
    # and its facts, passed on as matching made them, for the pages to word
    assert [e["explanation"] for e in offered] == [o["explanation"] for o in flow.offers]
    assert offered[0]["explanation"]["eligible"] == 2
    assert "declined" not in offered[0]["explanation"]["excluded"]
    assert offered[1]["explanation"]["eligible"] == 1
    assert offered[1]["explanation"]["excluded"]["declined"] == 1
    assert offered[1]["explanation"]["provider_name"] == "Testiosuuskunta"
    assert (assigned["provider_id"], assigned["contract_id"]) == (flow.taker, flow.contract_id)
    assert reported["hours"] == 1.5
    assert (confirmed["hours"], confirmed["how"]) == (1.5, "resident")
    assert (rated["stars"], rated["comment"]) == (4, "Quick and tidy")


def test_the_board_gives_the_offers_why_as_its_reason_while_offered_and_assigned(flow: Flow):
    why = flow.offers[1]["why"]

    assert flow.board["offered"]["reason"] == why
    assert flow.board["assigned"]["reason"] == why
    assert flow.board["completed"]["reason"] is None


@pytest.mark.parametrize("who", ["taker", "officer", "admin"])
def test_the_provider_and_the_officer_read_it_without_the_resident(
    talkoot: Talkoot, flow: Flow, who: str
):
    token = {
        "taker": talkoot.member(flow.taker),
        "officer": talkoot.officer(PARTNER, may_sign=False),
        "admin": talkoot.admin(),
    }[who]

    response = history(talkoot, flow.request_id, token)
    entries = talkoot.ok(response, 200)

    assert [e["what"] for e in entries] == LIFE
    assert RESIDENT not in response.text
    assert not any("resident_id" in e for e in entries)
    declined, taken = (e for e in entries if e["what"] == "offered")
    assert taken["why"] == flow.offers[1]["why"]
    assert taken["explanation"] == flow.offers[1]["explanation"]
    if who == "admin":
        assert declined["why"] == flow.offers[0]["why"]
        assert declined["explanation"] == flow.offers[0]["explanation"]
    else:  # who another provider was offered the job first, and why, is not theirs to read
        assert set(declined) == {"at", "what", "version"}


def test_someone_elses_history_is_not_found(talkoot: Talkoot, flow: Flow):
    for who in (
        talkoot.resident("resident-2"),
        talkoot.member(flow.decliner),  # offered it once: now it is another provider's job
        talkoot.member("provider-of-nothing"),
        talkoot.officer("another-city"),
    ):
        missing(history(talkoot, flow.request_id, who), flow.request_id)
    for request_id in (str(uuid.uuid4()), "not-a-request"):
        missing(history(talkoot, request_id, talkoot.admin()), request_id)


def test_nobody_signed_in_is_asked_to_sign_in(talkoot: Talkoot, flow: Flow):
    assert history(talkoot, flow.request_id, None).status_code == 401
