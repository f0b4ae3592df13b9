"""The whole lifecycle across the service processes, over HTTP: providers pause, get suspended
and reinstated; requests are declined into unmatched, rescheduled, cancelled, disputed, ruled on
and rated; a resident sets up recurring requests; a city system posts through Open311; a
partnership table has its year (meetings and fees, initiatives to the city's answer and a
programme, a budgeting round). Each step is taken by the person whose step it is, with their
own token. Then every message on the real streams decodes as its contract type, names who
acted, and every type a stream can carry has been published, except those that only the
passing of time produces."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from contracts.events import EVENTS_BY_SERVICE
from domain.calendar import local_today
from services.registry import STREAMS
from tests.client import Talkoot, eventually, published
from tests.integration import tables
from tests.support.places import point_in

pytestmark = [pytest.mark.slow, pytest.mark.dates]

PARTNER = "lahti-city"

# Published only when time passes: an offer or a request running out of time, a series'
# occurrence falling due, and a charge past the budget (tested in the integration tests).
TIMED = {"RequestExpiredV1", "OfferExpiredV1", "SeriesOccurrenceScheduledV1", "ChargeRefusedV1"}


def test_a_tour_of_the_whole_lifecycle(talkoot: Talkoot, scope):
    category, region = scope
    today = local_today()  # Lahti's day, the one the providers service counts
    officer = talkoot.officer(PARTNER)  # of the city, with the right to sign
    aino = talkoot.resident("resident-7")

    # Two providers with contracts; one of them pauses and is suspended by the city.
    first = talkoot.register_provider(
        category, region, name="Launeen Pihatalkoot osk", lat=60.98, long=25.66
    )
    first_contract = talkoot.contract(first, category, region, partner_id=PARTNER)["id"]
    second, second_contract = talkoot.ready_provider(category, region, partner_id=PARTNER)
    of_first, of_second = talkoot.member(first), talkoot.member(second)
    member = talkoot.ok(
        talkoot.post("providers", f"/providers/{first}/members", {"name": "Aino"}, who=of_first)
    )
    talkoot.ok(
        talkoot.http.delete(
            talkoot.url("providers", f"/providers/{first}/members/{member['id']}"),
            headers=talkoot.headers(of_first),
        ),
        200,
    )
    talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{first}/capabilities",
            {"categories": [category], "regions": [region], "capacity": 6},
            who=of_first,
        )
    )
    pause = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{second}/pauses",
            {"starts": today.isoformat(), "reason": "fully booked"},
            who=of_second,
        )
    )
    talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{second}/suspension",
            {"reason": "missed two jobs"},
            who=officer,
        )
    )
    talkoot.wait_until_quiet()

    # A request is offered to the only eligible provider, and the offer says why.
    lat, long = point_in(region)
    body = {**talkoot.request_body(category, region), "lat": lat, "long": long}
    request_id = talkoot.ok(talkoot.post("requests", "/requests", body, who=aino))["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == first
    offer = talkoot.ok(talkoot.get("matching", f"/offers/{offered['offer_id']}", who=of_first), 200)
    rules = {c["provider_id"]: c["rule"] for c in offer["candidates"]}
    assert rules[first] is None and rules[second] == "suspended"
    assert offer["chosen"]["distance_km"] is not None
    # said with the provider's name, for the resident and the partner who read it
    assert offer["why"].startswith(
        "Offered to Launeen Pihatalkoot osk, the only eligible provider ("
    )
    assert offer["chosen"]["name"] == "Launeen Pihatalkoot osk"
    # (other tests' providers share the category or the region, so the count is not fixed)
    assert "not eligible" in offer["why"]

    # Declined, and nobody else may take it: unmatched, with the reason.
    talkoot.ok(
        talkoot.post(
            "matching",
            f"/offers/{offered['offer_id']}/decline",
            {"reason": "no one free"},
            who=of_first,
        )
    )
    unmatched = talkoot.wait_for_status(request_id, "unmatched")
    assert "suspended" in unmatched["reason"]

    # The city reinstates the provider, it ends its pause; the resident moves the window and
    # matching tries again, with the provider who declined left out.
    talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{second}/reinstatement",
            {"reason": "talked it through"},
            who=officer,
        )
    )
    talkoot.ok(
        talkoot.post(
            "providers", f"/providers/{second}/pauses/{pause['id']}/end", {}, who=of_second
        )
    )
    talkoot.wait_until_quiet()
    later = talkoot.request_body(category, region)
    talkoot.ok(
        talkoot.on_request(
            request_id,
            "reschedule",
            {k: later[k] for k in ("window_start", "window_end")},
            who=aino,
        )
    )
    offered = eventually(
        lambda: talkoot.board_entry(request_id),
        lambda entry: entry["status"] == "offered" and entry["provider_id"] == second,
        20,
        "the rescheduled request to be offered to the reinstated provider",
    )
    talkoot.ok(talkoot.accept(offered["offer_id"], second))
    talkoot.wait_for_status(request_id, "assigned")
    job = talkoot.ok(talkoot.get("matching", f"/jobs/{request_id}", who=officer), 200)
    assert [o["status"] for o in job["offers"]] == ["declined", "accepted"]

    # Work reported, disputed, and the partner adjusts the hours: the contract is charged
    # the adjusted hours (2 h reported, 1.5 h ruled, at 30.00 € an hour).
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 2}, who=of_second))
    talkoot.ok(talkoot.on_request(request_id, "dispute", {"reason": "half"}, who=aino))
    talkoot.ok(
        talkoot.on_request(
            request_id,
            "resolution",
            {"outcome": "adjusted", "hours": 1.5, "note": "checked"},
            who=officer,
        )
    )
    confirmed = talkoot.wait_for_status(request_id, "confirmed")
    assert confirmed["minutes"] == 90
    rated = talkoot.ok(talkoot.on_request(request_id, "rating", {"stars": 5}, who=aino))
    assert talkoot.board_entry(request_id, rated["position"])["rating"] == 5
    # the resident sees their own request; the other provider's member does not
    mine = talkoot.get("requests", f"/requests/{request_id}", who=aino)
    assert talkoot.ok(mine, 200)["rating"] == 5
    assert talkoot.get("requests", f"/requests/{request_id}", who=of_first).status_code == 404
    ledger = eventually(
        lambda: talkoot.ledger(second_contract),
        lambda contract: contract["charges"] == 1,
        20,
        "the adjusted charge on the ledger",
    )
    assert ledger["charged_cents"] == 4500

    # Another request is cancelled while offered, one after assignment (with a reason, and the
    # provider stays named), and a disputed one is voided.
    def taken(resident_id: str) -> tuple[str, str]:
        taken_id = talkoot.submit(category, region, resident_id)["id"]
        offer = talkoot.wait_for_status(taken_id, "offered")
        talkoot.ok(talkoot.accept(offer["offer_id"], offer["provider_id"]))
        talkoot.wait_for_status(taken_id, "assigned")
        return taken_id, offer["provider_id"]

    waiting = talkoot.submit(category, region, "resident-8")["id"]
    talkoot.wait_for_status(waiting, "offered")
    talkoot.ok(
        talkoot.on_request(
            waiting, "cancellation", {"reason": ""}, who=talkoot.resident("resident-8")
        )
    )
    eero = talkoot.resident("resident-1")
    assigned, provider = taken("resident-1")
    talkoot.ok(talkoot.on_request(assigned, "cancellation", {"reason": "moved away"}, who=eero))
    assert talkoot.wait_for_status(assigned, "cancelled")["provider_id"] == provider
    voided, provider = taken("resident-1")
    talkoot.ok(talkoot.on_request(voided, "completion", {"hours": 1}, who=talkoot.member(provider)))
    # the officer charged the reported hour before the resident disputed it: voiding the
    # request reverses that charge, and its share goes back to the budget
    charged_under = talkoot.wait_for_status(voided, "completed")["contract_id"]
    charges = f"/contracts/{charged_under}/charges"
    talkoot.ok(
        talkoot.post("partnerships", charges, {"request_id": voided, "hours": 1}, who=officer)
    )
    talkoot.ok(talkoot.on_request(voided, "dispute", {"reason": "no"}, who=eero))
    talkoot.ok(
        talkoot.on_request(
            voided, "resolution", {"outcome": "voided", "note": "not done"}, who=officer
        )
    )
    talkoot.wait_for_status(voided, "voided")
    eventually(
        lambda: talkoot.ledger(charged_under),
        lambda contract: contract["reversals"] == 1,
        20,
        "the reversal on the ledger",
    )
    # the officer charges other work until 80 % of the budget is charged: a budget alert
    contract = talkoot.ledger(charged_under)
    to_go = contract["budget_cents"] * 8 // 10 - contract["charged_cents"]
    hours = -(-to_go * 4 // contract["unit_price_cents"]) / 4  # in quarter hours, rounded up
    while hours > 0:
        chunk = min(hours, 24.0)
        body = {"request_id": str(uuid.uuid4()), "hours": chunk}
        talkoot.ok(talkoot.post("partnerships", charges, body, who=officer))
        hours -= chunk
    eventually(
        lambda: talkoot.ledger(charged_under),
        lambda contract: contract["alert"] == 80,
        20,
        "the budget alert on the ledger",
    )

    # A resident's recurring requests, and a snowfall day the operators declare.
    ilona = talkoot.resident("resident-9")
    series = talkoot.ok(
        talkoot.post(
            "requests",
            "/series",
            {
                "category": category,
                "region": region,
                "rule": "weekly",
                "weekday": "monday",
                "start_time": "08:00",
            },
            who=ilona,
        )
    )["id"]
    for what, body in (("pause", {}), ("resume", {}), ("end", {"reason": "moved away"})):
        talkoot.ok(talkoot.post("requests", f"/series/{series}/{what}", body, who=ilona))
    talkoot.ok(
        talkoot.post(
            "requests",
            "/snowfall-days",
            {"day": (today + timedelta(days=2)).isoformat(), "regions": [region]},
            who=talkoot.admin(),
        )
    )

    # A city system posts through Open311: the same kind of request, offered the same way.
    posted = talkoot.http.post(
        talkoot.url("requests", "/open311/v2/requests.json"),
        data={
            "api_key": "talkoot-local",
            "service_code": category,
            "attribute[region]": region,
            "address_string": "Aleksanterinkatu 18, Lahti",
            "email": "maija@example.fi",
        },
    )
    assert posted.status_code == 201, posted.text
    [answer] = posted.json()
    via_open311 = talkoot.wait_for_status(answer["service_request_id"], "offered")
    assert via_open311["channel"] == "open311"
    assert via_open311["address"] == "Aleksanterinkatu 18, Lahti"

    # That resident asks to be forgotten: an admin erases their personal data, and their
    # request is still there, its address erased.
    erasure = {"reason": "erasure request 2026-7"}
    path = f"/residents/{answer['account_id']}/erasure"
    erased = talkoot.ok(talkoot.post("requests", path, erasure, who=talkoot.admin()))
    entry = talkoot.board_entry(answer["service_request_id"], erased["position"])
    assert (entry["address"], entry["channel"]) == ("[erased]", "open311")

    # The first provider's contract is amended (a dearer hour from next week), signed again by
    # both, then suspended, resumed and terminated, each with a reason.
    def on_contract(what: str, body: dict, who: str) -> dict:
        path = f"/contracts/{first_contract}/{what}"
        return talkoot.ok(talkoot.post("partnerships", path, body, who=who))

    head = talkoot.second_officer(PARTNER)
    amendment = {
        "effective_from": (today + timedelta(days=7)).isoformat(),
        "unit_price_cents": 3300,
        "reason": "the price index rose",
    }
    on_contract("amendments", amendment, officer)
    on_contract("signatures", {"party": "partner"}, head)
    signed = on_contract("signatures", {"party": "provider"}, of_first)
    assert talkoot.ledger(first_contract, signed["position"])["version"] == 2
    on_contract("suspension", {"reason": "the insurance lapsed"}, head)
    on_contract("resumption", {"reason": "the insurance is in order"}, head)
    ended = on_contract("termination", {"reason": "the cooperative closes down"}, head)
    assert talkoot.ledger(first_contract, ended["position"])["status"] == "terminated"

    # A partnership table of the region has its year: a coordinator reappointed and a budget
    # set by the admin, members joining and one leaving, a Speak out session, a resident's
    # initiative supported, discussed at a meeting whose attendee earns the fee (paid out),
    # forwarded, answered by the city, funded as a programme with the second provider and
    # implemented; the city's own one closed; a budgeting round from a proposal to its
    # tally; and a common expense of all the tables.
    tour_table(talkoot, category, region, officer, second, today)

    # Everything published decodes, no position twice, and every type has been seen; the
    # events name who acted, from their tokens.
    talkoot.wait_until_quiet()
    seen: set[str] = set()
    for stream in STREAMS:
        messages = published(talkoot.stack, stream)
        positions = [p for p, _ in messages]
        assert len(positions) == len(set(positions)), f"{stream} published a position twice"
        seen |= {type(event).__name__ for _, event in messages}
        if stream == "requests":
            (submitted,) = [
                event
                for _, event in messages
                if type(event).__name__ == "ServiceRequestedV1" and event.request_id == request_id
            ]
            assert submitted.resident_id == "resident-7"
    every = {kind.__name__ for union in EVENTS_BY_SERVICE.values() for kind in union.__args__}
    assert every - seen <= TIMED, sorted(every - seen - TIMED)


def tour_table(talkoot: Talkoot, category: str, region: str, officer: str, provider: str, today):
    admin = talkoot.admin()
    table_id = tables.found(talkoot, regions=[region])
    coord = tables.coordinator(talkoot, table_id)
    resident = tables.resident(talkoot, "resident-tour-table", region)

    def act(path: str, body: dict, who: str = coord) -> dict:
        return talkoot.ok(tables.command(talkoot, path, body, who))

    at = f"/tables/{table_id}"
    appointed = {"coordinator": f"coordinator-of-{table_id}", "share_percent": 30}
    talkoot.ok(tables.put(talkoot, f"{at}/coordinator", appointed, admin), 200)
    talkoot.ok(
        tables.put(talkoot, f"{at}/budgets/{today.year}", {"budget_cents": 25_000_00}, admin), 200
    )
    for member_id in ("tour-member-1", "tour-member-2"):
        tables.join(talkoot, table_id, member_id, tables.days_ago(30))
    act(f"{at}/members/tour-member-2/departure", {"reason": "moved to Hollola"})
    gathering = act(
        f"{at}/events", {"kind": "speak_out", "title": "Sano sanasi", "on": tables.days_ago(3)}
    )["id"]
    act(f"{at}/events/{gathering}/record", {"attendance": 14, "topics": ["Bus shelter"]})

    theirs = tables.initiative(talkoot, table_id, resident)
    act(f"/initiatives/{theirs}/support", {}, resident)
    citys = tables.initiative(talkoot, table_id, officer, title="Kirjaston aukioloajat")
    meeting = tables.meeting(talkoot, table_id, tables.days_ago(1))
    record = {
        "attendees": ["tour-member-1"],
        "decisions": ["Forward it"],
        "discussed": [theirs, citys],
    }
    talkoot.ok(tables.hold(talkoot, table_id, meeting, **record))
    act(f"{at}/payouts", {"until": today.isoformat()})
    act(f"/initiatives/{theirs}/forward", {"statement": "The table supports it."})
    act(f"/initiatives/{theirs}/answer", {"answer": "accepted", "reasons": "Next spring."}, officer)
    programme = {
        "provider_id": provider,
        "categories": [category],
        "regions": [region],
        "unit_price_cents": 3500,
        "pricing": "hour",
        "budget_cents": 1_000_00,
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=90)).isoformat(),
    }
    act(f"/initiatives/{theirs}/programme", programme)
    act(f"/initiatives/{theirs}/implemented", {"outcome": "The shelter is up."})
    act(f"/initiatives/{citys}/closure", {"reason": "The library decided it itself."})

    opening = {
        "title": "Lähiraha",
        "year": today.year,
        "budget_cents": 3_000_00,
        "rule": "at_least",
        "minimum": 1,
    }
    round_id = act(f"{at}/rounds", opening)["id"]
    proposal = act(
        f"/rounds/{round_id}/proposals", {"title": "Penkit", "cost_cents": 1_000_00}, resident
    )["id"]
    act(f"/rounds/{round_id}/phase", {"phase": "reviewing"})
    act(f"/rounds/{round_id}/proposals/{proposal}/review", {"feasible": True})
    act(f"/rounds/{round_id}/phase", {"phase": "selecting"})
    act(f"/rounds/{round_id}/proposals/{proposal}/selection", {}, resident)
    for phase in ("publishing_costs", "balloting"):
        act(f"/rounds/{round_id}/phase", {"phase": phase})
    talkoot.ok(
        tables.put(talkoot, f"/rounds/{round_id}/ballot", {"proposals": [proposal]}, resident), 200
    )
    act(f"/rounds/{round_id}/tally", {})
    act(
        "/common-expenses",
        {"amount_cents": 500_00, "purpose": "marketing", "note": "flyers"},
        admin,
    )
