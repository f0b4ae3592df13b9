"""An initiative and a budgeting round as they stood at a moment (``?as_of=``), rebuilt from
their events: before they existed there is none, a moment without its time zone is refused,
and a round's ballots stay secret then too (a count; a resident's own ballot of then to them
alone)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.tables import (
    command,
    coordinator,
    found,
    hold,
    initiative,
    meeting,
    put,
    read,
    resident,
    why,
)

pytestmark = pytest.mark.slow


def moment() -> str:
    """Now, between two commands: what the first recorded is before it, the second after."""
    time.sleep(0.01)
    now = datetime.now(UTC)
    time.sleep(0.01)
    return now.isoformat()


def test_an_initiative_as_of_a_moment_is_as_it_stood_then(talkoot: Talkoot):
    table_id = found(talkoot)
    coord = coordinator(talkoot, table_id)
    raiser = resident(talkoot, "resident-asof-raiser")
    supporter = resident(talkoot, "resident-asof-supporter")
    before = moment()
    made = initiative(talkoot, table_id, raiser, title="Uimarannan laituri")
    raised = moment()
    talkoot.ok(command(talkoot, f"/initiatives/{made}/support", {}, supporter))
    supported = moment()
    talkoot.ok(
        hold(
            talkoot,
            table_id,
            meeting(talkoot, table_id, local_today().isoformat()),
            discussed=[made],
        )
    )
    talkoot.ok(command(talkoot, f"/initiatives/{made}/forward", {"statement": "Tuemme"}, coord))

    path = f"/initiatives/{made}"
    now = read(talkoot, path, who=None)
    assert (now["status"], now["supports"], now["statement"]) == ("forwarded", 1, "Tuemme")
    then = read(talkoot, path, who=None, as_of=raised)
    assert (then["status"], then["supports"], then["statement"]) == ("proposed", 0, "")
    assert then["forwarded_on"] is None and then["due_on"] is None and then["discussed_at"] == []
    # who raised it stays hidden from others, then as now; shown to the raiser
    assert then["raised_by"] == ""
    assert read(talkoot, path, who=raiser, as_of=raised)["raised_by"] == "resident-asof-raiser"
    assert read(talkoot, path, who=supporter, as_of=raised)["supported"] is False
    later = read(talkoot, path, who=supporter, as_of=supported)
    assert (later["supports"], later["supported"], later["status"]) == (1, True, "proposed")
    # a moment in the future is now
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert read(talkoot, path, who=None, as_of=future) == now

    assert talkoot.get("tables", path, who=None, as_of=before).status_code == 404
    naive = talkoot.get("tables", path, who=None, as_of="2026-01-01T12:00:00")
    assert why(naive) == (422, "as_of"), naive.text
    assert talkoot.get("tables", path, who=None, as_of="yesterday").status_code == 400


def test_a_round_as_of_a_moment_counts_its_ballots_and_shows_none_but_the_callers_own(
    talkoot: Talkoot,
):
    table_id = found(talkoot, yearly_budget_cents=1_000_000)
    coord = coordinator(talkoot, table_id)
    body = {
        "title": "Lähiraha",
        "year": local_today().year,
        "budget_cents": 300_000,
        "rule": "at_least",
        "minimum": 1,
    }
    before = moment()
    round_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/rounds", body, coord))["id"]
    opened = moment()
    aino = resident(talkoot, "resident-asof-aino")
    eero = resident(talkoot, "resident-asof-eero")
    proposals = f"/rounds/{round_id}/proposals"
    park = talkoot.ok(
        command(talkoot, proposals, {"title": "Puisto", "cost_cents": 200_000}, aino)
    )["id"]
    benches = talkoot.ok(
        command(talkoot, proposals, {"title": "Penkit", "cost_cents": 50_000}, eero)
    )["id"]
    for phase in ("reviewing",):
        talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": phase}, coord))
    for proposal in (park, benches):
        review = f"/rounds/{round_id}/proposals/{proposal}/review"
        talkoot.ok(command(talkoot, review, {"feasible": True}, coord))
    for phase in ("selecting", "publishing_costs", "balloting"):
        talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": phase}, coord))
    talkoot.ok(put(talkoot, f"/rounds/{round_id}/ballot", {"proposals": [park]}, aino), 200)
    one_cast = moment()
    talkoot.ok(put(talkoot, f"/rounds/{round_id}/ballot", {"proposals": [benches]}, eero), 200)
    talkoot.ok(
        put(talkoot, f"/rounds/{round_id}/ballot", {"proposals": [park, benches]}, aino), 200
    )
    both_cast = moment()
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/tally", {}, coord))

    path = f"/rounds/{round_id}"
    at_opening = read(talkoot, path, who=None, as_of=opened)
    assert (at_opening["phase"], at_opening["proposals"], at_opening["ballots"]) == (
        "accepting",
        [],
        0,
    )
    then = read(talkoot, path, who=None, as_of=one_cast)
    assert (then["phase"], then["ballots"], then["result"], then["my_ballot"]) == (
        "balloting",
        1,
        None,
        None,
    )
    assert sorted(then["ballot"]) == sorted([park, benches])
    # a resident sees their own ballot of then, never another's
    assert read(talkoot, path, who=aino, as_of=one_cast)["my_ballot"] == [park]
    assert read(talkoot, path, who=eero, as_of=one_cast)["my_ballot"] is None
    assert read(talkoot, path, who=aino, as_of=both_cast)["my_ballot"] == [park, benches]
    assert read(talkoot, path, who=eero, as_of=both_cast)["my_ballot"] == [benches]
    as_coordinator = read(talkoot, path, who=coord, as_of=both_cast)
    assert as_coordinator["my_ballot"] is None and as_coordinator["ballots"] == 2
    for who in (None, coord, talkoot.officer(), talkoot.admin()):
        answer = talkoot.get("tables", path, who=who, as_of=both_cast)
        assert "resident-asof" not in answer.text
        assert set(answer.json()) == set(read(talkoot, path, who=None))
    now = read(talkoot, path, who=None)
    assert now["phase"] == "finished" and now["result"]["ballots"] == 2

    assert talkoot.get("tables", path, who=None, as_of=before).status_code == 404
    naive = talkoot.get("tables", path, who=None, as_of="2026-01-01T12:00:00")
    assert why(naive) == (422, "as_of"), naive.text
