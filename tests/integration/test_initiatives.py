"""An initiative's life on the running stack: discussed at a meeting, forwarded to the city
with the table's statement, answered (a rejection with its reasons), overdue when the city
does not answer in time, implemented or closed, and funded as a service programme from the
table's budget."""

from __future__ import annotations

import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.store import stored_events
from tests.integration.tables import (
    command,
    coordinator,
    days_ago,
    found,
    hold,
    initiative,
    meeting,
    read,
    why,
)

pytestmark = pytest.mark.slow


def discussed(talkoot: Talkoot, table_id: str, raised_on: str, held_on: str) -> str:
    """A city's initiative raised on ``raised_on`` and discussed at a meeting on ``held_on``."""
    coord = coordinator(talkoot, table_id)
    made = initiative(talkoot, table_id, coord, origin="city", on=raised_on)
    talkoot.ok(hold(talkoot, table_id, meeting(talkoot, table_id, held_on), discussed=[made]))
    return made


def test_a_forwarded_initiative_is_answered_and_a_rejection_gives_its_reasons(talkoot: Talkoot):
    table_id = found(talkoot)
    coord = coordinator(talkoot, table_id)
    officer = talkoot.officer()
    fresh = initiative(talkoot, table_id, coord, origin="city")
    early = command(talkoot, f"/initiatives/{fresh}/forward", {"statement": "Kannatamme"}, coord)
    assert why(early) == (409, "status"), early.text

    made = discussed(talkoot, table_id, days_ago(20), days_ago(15))
    forward = f"/initiatives/{made}/forward"
    for body, status, rule in [
        ({"statement": "   "}, 400, "statement"),
        ({"statement": "Kannatamme", "on": days_ago(21)}, 422, "on"),
        ({"statement": "Kannatamme", "on": days_ago(-1)}, 422, "on"),
    ]:
        assert why(command(talkoot, forward, body, coord)) == (status, rule), body
    other = coordinator(talkoot, found(talkoot))
    assert command(talkoot, forward, {"statement": "X"}, other).status_code == 404
    assert command(talkoot, forward, {"statement": "X"}, officer).status_code == 403
    talkoot.ok(command(talkoot, forward, {"statement": "Kannatamme", "on": days_ago(10)}, coord))
    shown = read(talkoot, f"/initiatives/{made}")
    assert (shown["status"], shown["statement"], shown["forwarded_on"]) == (
        "forwarded",
        "Kannatamme",
        days_ago(10),
    )
    assert shown["due_on"] == days_ago(-50) and shown["overdue"] is False

    answer = f"/initiatives/{made}/answer"
    before = stored_events(talkoot.stack, "tables")
    for body, status, rule in [
        ({"answer": "rejected"}, 422, "reasons"),
        ({"answer": "rejected", "reasons": "  "}, 422, "reasons"),
        ({"answer": "maybe", "reasons": "x"}, 400, "answer"),
        ({"answer": "accepted", "on": days_ago(11)}, 422, "on"),
    ]:
        assert why(command(talkoot, answer, body, officer)) == (status, rule), body
    assert command(talkoot, answer, {"answer": "accepted"}, coord).status_code == 403
    assert stored_events(talkoot.stack, "tables") == before

    talkoot.ok(
        command(talkoot, answer, {"answer": "in_progress", "reasons": "Selvitetään"}, officer)
    )
    done = {"answer": "rejected", "reasons": "Ei rahoitusta tänä vuonna"}
    talkoot.ok(command(talkoot, answer, done, officer))
    again = command(talkoot, answer, {"answer": "accepted"}, officer)
    assert why(again) == (409, "status"), again.text
    shown = read(talkoot, f"/initiatives/{made}")
    assert [(a["answer"], a["by"]) for a in shown["answers"]] == [
        ("in_progress", "officer-of-lahti-city"),
        ("rejected", "officer-of-lahti-city"),
    ]
    assert shown["answers"][1]["reasons"] == "Ei rahoitusta tänä vuonna"
    implemented = command(talkoot, f"/initiatives/{made}/implemented", {"outcome": "X"}, coord)
    assert why(implemented) == (409, "status"), implemented.text
    talkoot.ok(command(talkoot, f"/initiatives/{made}/closure", {"reason": "Hylätty"}, coord))
    assert read(talkoot, f"/initiatives/{made}")["status"] == "closed"
    listed = read(talkoot, f"/tables/{table_id}/initiatives", status="closed")
    assert [i["initiative_id"] for i in listed] == [made]


def test_an_initiative_the_city_does_not_answer_in_time_is_overdue(talkoot: Talkoot):
    table_id = found(talkoot, answer_days=1)
    coord = coordinator(talkoot, table_id)
    late = discussed(talkoot, table_id, days_ago(10), days_ago(9))
    on_time = discussed(talkoot, table_id, days_ago(10), days_ago(9))
    for made, on in ((late, days_ago(2)), (on_time, days_ago(1))):
        body = {"statement": "Kiireellinen", "on": on}
        talkoot.ok(command(talkoot, f"/initiatives/{made}/forward", body, coord))

    shown = read(talkoot, f"/initiatives/{late}")
    assert (shown["due_on"], shown["overdue"]) == (days_ago(1), True)
    assert read(talkoot, f"/initiatives/{on_time}")["overdue"] is False  # due today
    answer = {"answer": "accepted", "reasons": "Toteutetaan keväällä"}
    talkoot.ok(command(talkoot, f"/initiatives/{late}/answer", answer, talkoot.officer()))
    assert read(talkoot, f"/initiatives/{late}")["overdue"] is False
    outcome = {"outcome": "Valaistus asennettu"}
    talkoot.ok(command(talkoot, f"/initiatives/{late}/implemented", outcome, talkoot.officer()))
    shown = read(talkoot, f"/initiatives/{late}")
    assert (shown["status"], shown["outcome"]) == ("implemented", "Valaistus asennettu")


def test_a_programme_sets_its_budget_aside_from_the_tables_year(talkoot: Talkoot):
    table_id = found(talkoot, yearly_budget_cents=1_000_000)
    coord = coordinator(talkoot, table_id)
    made = discussed(talkoot, table_id, days_ago(5), days_ago(4))
    year = local_today().year
    terms = {
        "provider_id": "provider-1",
        "categories": ["snow-clearing"],
        "regions": ["nastola"],
        "unit_price_cents": 3_500,
        "budget_cents": 600_000,
        "valid_from": local_today().isoformat(),
        "valid_until": f"{year}-12-31",
    }
    path = f"/initiatives/{made}/programme"
    before = stored_events(talkoot.stack, "tables")
    for change, status, rule in [
        ({"regions": ["heinola"]}, 403, "regions"),
        ({"categories": ["astrology"]}, 422, "category"),
        ({"budget_cents": 1_000_001}, 409, "budget_cents"),
        ({"valid_until": days_ago(1)}, 422, "valid_until"),
    ]:
        assert why(command(talkoot, path, {**terms, **change}, coord)) == (status, rule), change
    assert stored_events(talkoot.stack, "tables") == before

    programme = talkoot.ok(command(talkoot, path, terms, coord))["id"]
    shown = read(talkoot, f"/initiatives/{made}")
    assert shown["programme"]["programme_id"] == programme
    assert shown["programme"]["budget_cents"] == 600_000
    budget = read(talkoot, f"/tables/{table_id}")["budget"]
    assert (budget["programmes_cents"], budget["left_cents"]) == (600_000, 400_000)
    twice = command(talkoot, path, {**terms, "budget_cents": 100}, coord)
    assert why(twice) == (409, "programme"), twice.text
