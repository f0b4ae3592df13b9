"""Races end with exactly one winner; the loser gets 409 and nothing of it is stored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import httpx

from tests.client import Talkoot, eventually


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls in threads released together, and return their responses."""
    barrier = threading.Barrier(len(calls))
    responses: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        responses[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_two_accepts_of_one_offer_have_one_winner(talkoot: Talkoot, scope):
    category, region = scope
    provider_id, contract_id = talkoot.ready_provider(category, region)
    for _ in range(5):
        request_id = talkoot.submit(category, region)["id"]
        offer_id = talkoot.wait_for_status(request_id, "offered")["offer_id"]
        member = talkoot.headers(talkoot.member(provider_id))
        with httpx.Client(headers=member) as a, httpx.Client(headers=member) as b:
            url = talkoot.url("matching", f"/offers/{offer_id}/acceptance")
            responses = at_once(partial(a.post, url, json={}), partial(b.post, url, json={}))
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409).json()
        assert loser["extra"]["rule"] in ("concurrent_change", "wrong_state")
        assigned = talkoot.wait_for_status(request_id, "assigned")
        assert assigned["contract_id"] == contract_id
        # finish the job so the provider's capacity is free again
        member = talkoot.member(provider_id)
        talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 1}, who=member))


def test_two_charges_racing_for_the_last_of_a_budget_have_one_winner(talkoot: Talkoot, scope):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    for round_ in range(3):
        # 60.00 € left, and two charges of 2 h at 30.00 €/h: only one of them fits.
        contract = talkoot.contract(
            provider_id, category, region, unit_price_cents=3000, budget_cents=6000
        )
        url = talkoot.url("partnerships", f"/contracts/{contract['id']}/charges")
        officer = talkoot.headers(talkoot.officer())  # of the contract's partner, a signer
        with httpx.Client(headers=officer) as a, httpx.Client(headers=officer) as b:
            responses = at_once(
                partial(a.post, url, json={"request_id": f"r-{round_}-a", "hours": 2}),
                partial(b.post, url, json={"request_id": f"r-{round_}-b", "hours": 2}),
            )
        codes = sorted(r.status_code for r in responses)
        assert codes == [201, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409).json()
        assert loser["extra"]["rule"] in ("concurrent_change", "budget_exceeded")
        ledger = eventually(
            lambda contract=contract: talkoot.ledger(contract["id"]),
            lambda row: row["charges"] == 1,
            20,
            "the winning charge on the ledger",
        )
        assert (ledger["charged_cents"], ledger["remaining_cents"]) == (6000, 0)


def test_a_charge_past_the_budget_is_refused_and_the_refusal_kept(talkoot: Talkoot, scope):
    category, region = scope
    provider_id = talkoot.register_provider(category, region)
    contract = talkoot.contract(
        provider_id, category, region, unit_price_cents=3000, budget_cents=5000
    )
    url = f"/contracts/{contract['id']}/charges"
    officer = talkoot.officer()
    talkoot.ok(talkoot.post("partnerships", url, {"request_id": "r-1", "hours": 1}, who=officer))
    response = talkoot.post("partnerships", url, {"request_id": "r-2", "hours": 1}, who=officer)
    assert response.status_code == 409
    assert response.json()["extra"]["rule"] == "budget_exceeded"
    ledger = eventually(
        lambda: talkoot.ledger(contract["id"]),
        lambda row: row["refusals"] == 1,
        20,
        "the refusal on the ledger",
    )
    assert (ledger["charged_cents"], ledger["remaining_cents"]) == (3000, 2000)
    assert [(e["request_id"], e["outcome"]) for e in ledger["entries"]] == [
        ("r-1", "charged"),
        ("r-2", "refused"),
    ]
