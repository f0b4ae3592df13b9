"""Freedom of choice on the running stack: under a service voucher contract the resident lists
the providers they may choose with their own share, chooses the one matching would rank
lower, and it is offered the job first; when it declines, matching's fair ranking gives the
job to the other, and the explanation says the chosen one declined."""

from __future__ import annotations

import uuid

import pytest

from contracts.events import ServiceRequestedV1
from tests.client import Talkoot, eventually
from tests.client import published as published_by

pytestmark = pytest.mark.slow


def test_the_resident_chooses_a_provider_who_declines_and_the_fair_ranking_decides(
    talkoot: Talkoot, scope
):
    category, region = scope
    terms = {"unit_price_cents": 6000, "pricing": "job", "voucher_cents": 4000}
    names = {}
    for name in ("Aalto Talkoot", "Böle Osuuskunta"):
        provider_id = talkoot.register_provider(category, region, name=name)
        talkoot.contract(provider_id, category, region, **terms)
        names[provider_id] = name
    providers = list(names)
    talkoot.wait_until_quiet()
    # equal in everything, the fair ranking goes by id: the first, then the other
    first, chosen = sorted(providers)
    resident_id = f"resident-choice-{uuid.uuid4().hex[:8]}"
    resident = talkoot.resident(resident_id)

    listed = talkoot.ok(
        talkoot.get("matching", "/choices", who=resident, category=category, region=region), 200
    )
    assert [c["provider_id"] for c in listed] == sorted(providers)
    for choice in listed:
        assert (choice["pricing"], choice["unit_price_cents"], choice["voucher_cents"]) == (
            "job",
            6000,
            4000,
        )
        assert (choice["price_cents"], choice["city_cents"], choice["resident_cents"]) == (
            6000,
            4000,
            2000,
        )
        assert choice["rating"] is None
    assert {c["provider_id"]: c["name"] for c in listed} == names
    # only a resident reads them
    member = talkoot.member(first)
    refused = talkoot.get("matching", "/choices", who=member, category=category, region=region)
    assert refused.status_code == 403

    body = talkoot.request_body(category, region) | {"chosen_provider_id": chosen}
    request_id = talkoot.ok(talkoot.post("requests", "/requests", body, who=resident))["id"]

    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == chosen
    offer = talkoot.ok(
        talkoot.get("matching", f"/offers/{offered['offer_id']}", who=talkoot.member(chosen)), 200
    )
    assert (offer["explanation"]["chosen"], offer["explanation"]["choice"]) == (True, "offered")
    assert "the resident chose this provider under their service voucher" in offer["why"]
    # the choice is on the request's event
    requested = eventually(
        lambda: [
            e
            for _, e in published_by(talkoot.stack, "requests")
            if isinstance(e, ServiceRequestedV1) and e.request_id == request_id
        ],
        bool,
        20,
        "the request's event",
    )
    assert requested[0].chosen_provider_id == chosen

    talkoot.ok(
        talkoot.post(
            "matching",
            f"/offers/{offered['offer_id']}/decline",
            {"reason": "No time this week"},
            who=talkoot.member(chosen),
        )
    )
    again = eventually(
        lambda: talkoot.board_entry(request_id),
        lambda entry: entry["status"] == "offered" and entry["provider_id"] == first,
        20,
        "the job to go to the other provider",
    )
    fallback = talkoot.ok(
        talkoot.get("matching", f"/offers/{again['offer_id']}", who=talkoot.member(first)), 200
    )
    facts = fallback["explanation"]
    assert (facts["chosen"], facts["choice"], facts["chosen_name"]) == (
        False,
        "declined",
        names[chosen],
    )
    assert f"{names[chosen]}, whom the resident chose, declined" in fallback["why"]
    talkoot.ok(talkoot.accept(again["offer_id"], first))
    assert talkoot.wait_for_status(request_id, "assigned")["provider_id"] == first


def test_the_request_form_shows_the_choices_with_the_residents_share_and_sends_the_choice(
    web, talkoot: Talkoot, scope
):
    from tests.web import text_of

    category, region = scope
    terms = {"unit_price_cents": 5000, "pricing": "job", "voucher_cents": 3500}
    provider_id = talkoot.register_provider(category, region, name="Choice Osuuskunta")
    talkoot.contract(provider_id, category, region, **terms)
    talkoot.wait_until_quiet()
    resident = web.signed_in("resident", f"web-chooser-{uuid.uuid4().hex[:6]}", lang="fi")
    typed = {
        "category": category,
        "region": region,
        "window_start": "",
        "window_end": "",
        "description": "Portaat",
    }
    start = talkoot.request_body(category, region)["window_start"][:16]
    end = talkoot.request_body(category, region)["window_end"][:16]
    typed |= {"window_start": start, "window_end": end}

    shown = resident.post("/ask", typed | {"see_choices": "1"})
    assert shown.status_code == 200, shown.text
    words = text_of(shown.text)
    assert "Choice Osuuskunta" in words and "omavastuusi 15,00" in words
    assert ">Portaat<" in shown.text  # nothing typed is lost

    sent = resident.post("/ask", typed | {"chosen_provider_id": provider_id})
    assert sent.status_code == 200 and "/my/requests/" in str(sent.url), sent.text
    request_id = str(sent.url).split("/my/requests/")[1].split("?")[0]
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == provider_id
