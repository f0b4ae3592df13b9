"""A table's meetings and events on the running stack: a held meeting accrues the fee to each
member who attended, the coordinator pays the period once (and exports the payout list as CSV),
and an initiative residents have supported up to the threshold is taken up at the next
meeting, or the meeting's record is refused and nothing is stored."""

from __future__ import annotations

import csv
import io

import pytest

from tests.client import Talkoot
from tests.integration.store import stored_events
from tests.integration.tables import (
    command,
    coordinator,
    days_ago,
    found,
    hold,
    initiative,
    join,
    meeting,
    read,
    resident,
    why,
)

pytestmark = pytest.mark.slow


def test_a_held_meeting_accrues_fees_that_are_paid_once_and_exported(talkoot: Talkoot):
    table_id = found(talkoot, meeting_fee_cents=12_050)
    coord = coordinator(talkoot, table_id)
    join(talkoot, table_id, "aino", on=days_ago(60))
    join(talkoot, table_id, "eero", on=days_ago(60))
    join(talkoot, table_id, "kaisa", on=days_ago(5))  # after the first meeting
    first = meeting(talkoot, table_id, days_ago(30))
    second = meeting(talkoot, table_id, days_ago(3))

    stranger = hold(talkoot, table_id, first, attendees=["aino", "kaisa"])
    assert why(stranger) == (422, "attendees"), stranger.text
    twice = hold(talkoot, table_id, first, attendees=["aino", "aino"])
    assert why(twice) == (422, "attendees"), twice.text
    held = hold(
        talkoot,
        table_id,
        first,
        attendees=["aino", "eero"],
        decisions=["Valaistus etusijalle"],
        cost_cents=4_500,
    )
    talkoot.ok(held)
    again = hold(talkoot, table_id, first, attendees=["aino"])
    assert why(again) == (409, "meeting"), again.text
    talkoot.ok(hold(talkoot, table_id, second, attendees=["aino", "kaisa"]))

    fees = read(talkoot, f"/tables/{table_id}/fees", who=coord, until=days_ago(10))
    assert [(f["member_id"], f["meetings"], f["cents"]) for f in fees["lines"]] == [
        ("aino", 1, 12_050),
        ("eero", 1, 12_050),
    ]
    assert fees["total_cents"] == 24_100
    table = read(talkoot, f"/tables/{table_id}")
    assert table["budget"]["meetings_cents"] == 4_500
    assert [m["attendees"] for m in table["meetings"]] == [2, 2]  # the public sees counts
    seen = read(talkoot, f"/tables/{table_id}", who=coord)
    assert seen["meetings"][0]["attendees"] == ["aino", "eero"]

    paid = talkoot.ok(
        command(talkoot, f"/tables/{table_id}/payouts", {"until": days_ago(10)}, coord)
    )
    assert paid["id"] == "1"
    before = stored_events(talkoot.stack, "tables")
    for until, status in [(days_ago(10), 409), (days_ago(20), 409), (days_ago(-1), 422)]:
        refused = command(talkoot, f"/tables/{table_id}/payouts", {"until": until}, coord)
        assert why(refused) == (status, "until"), refused.text
    assert stored_events(talkoot.stack, "tables") == before
    talkoot.ok(command(talkoot, f"/tables/{table_id}/payouts", {"until": days_ago(0)}, coord))

    payouts = read(talkoot, f"/tables/{table_id}/payouts", who=coord)
    assert [(p["number"], p["period_from"], p["until"], p["total_cents"]) for p in payouts] == [
        (1, None, days_ago(10), 24_100),
        (2, days_ago(10), days_ago(0), 24_100),
    ]
    assert payouts[0]["paid_by"] == f"coordinator-of-{table_id}"
    exported = talkoot.get("tables", f"/tables/{table_id}/payouts/1.csv", who=coord)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows == [
        ["member_id", "name", "meetings", "amount_eur"],
        ["aino", "Jäsen aino", "1", "120.50"],
        ["eero", "Jäsen eero", "1", "120.50"],
    ]
    second_list = talkoot.get("tables", f"/tables/{table_id}/payouts/2.csv", who=coord).text
    assert "kaisa" in second_list and "eero" not in second_list
    for missing in ("3.csv", "0.csv", "1.json", "x.csv"):
        assert (
            talkoot.get("tables", f"/tables/{table_id}/payouts/{missing}", who=coord).status_code
            == 404
        )
    assert read(talkoot, f"/tables/{table_id}/fees", who=coord)["lines"] == []


def test_an_initiative_on_the_agenda_is_discussed_at_the_next_meeting_or_nothing_is_stored(
    talkoot: Talkoot,
):
    table_id = found(talkoot, support_threshold=2)
    coord = coordinator(talkoot, table_id)
    join(talkoot, table_id, "aino", on=days_ago(60))
    supported = initiative(talkoot, table_id, resident(talkoot, "resident-agenda-1"))
    quiet = initiative(talkoot, table_id, resident(talkoot, "resident-agenda-2"))
    for name in ("resident-agenda-1", "resident-agenda-3"):
        talkoot.ok(
            command(talkoot, f"/initiatives/{supported}/support", {}, resident(talkoot, name))
        )
    twice = command(
        talkoot, f"/initiatives/{supported}/support", {}, resident(talkoot, "resident-agenda-3")
    )
    assert why(twice) == (409, "supported"), twice.text
    elsewhere = talkoot.token("resident-far", "resident", region="heinola")
    refused = command(talkoot, f"/initiatives/{quiet}/support", {}, elsewhere)
    assert why(refused) == (403, "region"), refused.text

    meeting_id = meeting(talkoot, table_id, days_ago(0))
    table = read(talkoot, f"/tables/{table_id}")
    assert table["agenda"] == [supported]
    assert table["next_meeting"]["meeting_id"] == meeting_id
    before = stored_events(talkoot.stack, "tables")
    skipped = hold(talkoot, table_id, meeting_id, attendees=["aino"], discussed=[quiet])
    assert why(skipped) == (409, "agenda"), skipped.text
    foreign = hold(talkoot, table_id, meeting_id, attendees=["aino"], discussed=["not-ours"])
    assert why(foreign) == (422, "discussed"), foreign.text
    assert stored_events(talkoot.stack, "tables") == before
    assert read(talkoot, f"/initiatives/{quiet}")["status"] == "proposed"
    assert read(talkoot, f"/tables/{table_id}/fees", who=coord)["lines"] == []

    # yesterday's meeting came before the initiative was raised: it was not on its agenda
    earlier = meeting(talkoot, table_id, days_ago(1))
    talkoot.ok(hold(talkoot, table_id, earlier, attendees=["aino"]))
    assert read(talkoot, f"/initiatives/{supported}")["status"] == "proposed"
    talkoot.ok(
        hold(talkoot, table_id, meeting_id, attendees=["aino"], discussed=[supported, quiet])
    )
    for initiative_id in (supported, quiet):
        taken = read(talkoot, f"/initiatives/{initiative_id}")
        assert (taken["status"], taken["discussed_at"]) == ("discussed", [meeting_id])
    assert read(talkoot, f"/tables/{table_id}")["agenda"] == []
    late = command(
        talkoot, f"/initiatives/{supported}/support", {}, resident(talkoot, "resident-agenda-4")
    )
    assert why(late) == (409, "status"), late.text
    future = meeting(talkoot, table_id, days_ago(-7))
    assert read(talkoot, f"/tables/{table_id}")["next_meeting"]["meeting_id"] == future
    early = hold(talkoot, table_id, future, attendees=[])
    assert why(early) == (422, "meeting"), early.text


def test_a_speak_out_sessions_topic_becomes_an_initiative(talkoot: Talkoot):
    table_id = found(talkoot)
    coord = coordinator(talkoot, table_id)
    planned = {"kind": "speak_out", "title": "Sano sanasi", "on": days_ago(2)}
    event_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/events", planned, coord))["id"]
    unheld = command(
        talkoot,
        f"/tables/{table_id}/initiatives",
        {"title": "Uimaranta", "origin": "resident", "from_event": event_id, "topic": 0},
        coord,
    )
    assert why(unheld) == (422, "from_event"), unheld.text
    record = {"attendance": 40, "topics": ["Uimaranta", "Bussivuorot"], "cost_cents": 20_000}
    path = f"/tables/{table_id}/events/{event_id}/record"
    talkoot.ok(command(talkoot, path, record, coord))
    bad = {"attendance": -1}
    assert why(command(talkoot, path, bad, coord))[0] == 400

    made = initiative(talkoot, table_id, coord, origin="resident", from_event=event_id, topic=1)
    shown = read(talkoot, f"/initiatives/{made}")
    assert (shown["from_event"], shown["topic"], shown["origin"]) == (
        event_id,
        "Bussivuorot",
        "resident",
    )
    missing = command(
        talkoot,
        f"/tables/{table_id}/initiatives",
        {"title": "X", "origin": "city", "from_event": event_id, "topic": 5},
        coord,
    )
    assert why(missing) == (422, "topic"), missing.text
    table = read(talkoot, f"/tables/{table_id}")
    assert table["budget"]["activities_cents"] == 20_000
    assert table["events"][0]["topics"] == ["Uimaranta", "Bussivuorot"]
