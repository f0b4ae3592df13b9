"""A participatory budgeting round on the running stack, from proposals to the tally: residents
of the table's regions propose, select and vote (anyone else is refused), ballots change and
paper ballots count the same, nothing published names a voter, the tally funds the most voted
proposals that fit and gives the rest back to the table, and a recount from the stored events
gives the published result."""

from __future__ import annotations

import psycopg
import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.store import stored_events
from tests.integration.tables import (
    command,
    coordinator,
    found,
    put,
    read,
    resident,
    why,
)

pytestmark = pytest.mark.slow


def phase(talkoot: Talkoot, round_id: str, to: str, coord: str) -> None:
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": to}, coord))


def ballot(talkoot: Talkoot, round_id: str, proposals: list[str], who: str):
    return put(talkoot, f"/rounds/{round_id}/ballot", {"proposals": proposals}, who)


def test_a_round_from_proposals_to_a_tally_that_a_recount_reproduces(talkoot: Talkoot):
    table_id = found(talkoot, yearly_budget_cents=1_000_000)
    coord = coordinator(talkoot, table_id)
    year = local_today().year
    opening = {"title": "Nastolan lähiraha", "year": year, "budget_cents": 500_000}
    for change, status, rule in [
        ({"rule": "lottery"}, 422, "rule"),
        ({"rule": "share"}, 422, "threshold_percent"),
        ({"rule": "between", "minimum": 2, "maximum": 1}, 422, "maximum"),
        ({"rule": "at_least", "minimum": 1, "budget_cents": 1_000_001}, 409, "budget_cents"),
    ]:
        refused = command(talkoot, f"/tables/{table_id}/rounds", {**opening, **change}, coord)
        assert why(refused) == (status, rule), (change, refused.text)
    body = {**opening, "rule": "between", "minimum": 1, "maximum": 2, "selection_threshold": 1}
    round_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/rounds", body, coord))["id"]
    assert read(talkoot, f"/tables/{table_id}")["budget"]["rounds_cents"] == 500_000

    aino, eero, kaisa = (
        resident(talkoot, f"resident-round-{n}") for n in ("aino", "eero", "kaisa")
    )
    elsewhere = resident(talkoot, "resident-round-far", "heinola")
    proposals = f"/rounds/{round_id}/proposals"
    made = {}
    for who, title, cost in [
        (aino, "Leikkipuisto", 300_000),
        (eero, "Penkit", 100_000),
        (coord, "Kirjastoauto", 250_000),
        (kaisa, "Lentokenttä", 400_000),
    ]:
        made[title] = talkoot.ok(
            command(talkoot, proposals, {"title": title, "cost_cents": cost}, who)
        )["id"]
    far = command(talkoot, proposals, {"title": "Silta", "cost_cents": 1000}, elsewhere)
    assert why(far) == (403, "region"), far.text
    costly = command(talkoot, proposals, {"title": "Halli", "cost_cents": 500_001}, aino)
    assert why(costly) == (422, "cost_cents"), costly.text

    skipping = command(talkoot, f"/rounds/{round_id}/phase", {"phase": "balloting"}, coord)
    assert why(skipping) == (409, "phase"), skipping.text
    phase(talkoot, round_id, "reviewing", coord)
    review = f"/rounds/{round_id}/proposals/{{}}/review"
    unreasoned = command(talkoot, review.format(made["Lentokenttä"]), {"feasible": False}, coord)
    assert why(unreasoned) == (422, "reason"), unreasoned.text
    talkoot.ok(
        command(
            talkoot,
            review.format(made["Lentokenttä"]),
            {"feasible": False, "reason": "Ei kaupungin maata"},
            coord,
        )
    )
    for title in ("Leikkipuisto", "Penkit", "Kirjastoauto"):
        cost = {"cost_cents": 200_000} if title == "Kirjastoauto" else {}
        talkoot.ok(command(talkoot, review.format(made[title]), {"feasible": True, **cost}, coord))
    phase(talkoot, round_id, "selecting", coord)
    selection = f"/rounds/{round_id}/proposals/{{}}/selection"
    for title in ("Leikkipuisto", "Penkit", "Kirjastoauto"):
        talkoot.ok(command(talkoot, selection.format(made[title]), {}, aino))
    unfeasible = command(talkoot, selection.format(made["Lentokenttä"]), {}, eero)
    assert why(unfeasible) == (409, "feasible"), unfeasible.text
    far = command(talkoot, selection.format(made["Penkit"]), {}, elsewhere)
    assert why(far) == (403, "region"), far.text
    phase(talkoot, round_id, "publishing_costs", coord)
    phase(talkoot, round_id, "balloting", coord)
    shown = read(talkoot, f"/rounds/{round_id}", who=None)
    assert sorted(shown["ballot"]) == sorted(
        [made["Leikkipuisto"], made["Penkit"], made["Kirjastoauto"]]
    )

    park, benches, library = made["Leikkipuisto"], made["Penkit"], made["Kirjastoauto"]
    before = stored_events(talkoot.stack, "tables")
    for proposals_picked, who, status, rule in [
        ([park, benches, library], aino, 422, "proposals"),  # over the budget
        ([], aino, 422, "minimum"),
        ([made["Lentokenttä"]], aino, 422, "proposals"),
        ([park, park], aino, 422, "proposals"),
        ([park], elsewhere, 403, "region"),
    ]:
        refused = ballot(talkoot, round_id, proposals_picked, who)
        assert why(refused) == (status, rule), (proposals_picked, refused.text)
    assert stored_events(talkoot.stack, "tables") == before

    talkoot.ok(ballot(talkoot, round_id, [park], aino), 200)
    talkoot.ok(ballot(talkoot, round_id, [park, benches], aino), 200)  # changed
    talkoot.ok(ballot(talkoot, round_id, [library, benches], eero), 200)
    same = ballot(talkoot, round_id, [library, benches], eero)
    assert why(same) == (409, "ballot"), same.text
    paper = f"/rounds/{round_id}/paper-ballots"
    talkoot.ok(
        command(talkoot, paper, {"voter": "resident-round-kaisa", "proposals": [library]}, coord)
    )
    talkoot.ok(
        command(talkoot, paper, {"voter": "resident-round-ville", "proposals": [park]}, coord)
    )
    # the paper ballot of Ville at the booth, then his online one replacing it
    ville = resident(talkoot, "resident-round-ville")
    talkoot.ok(ballot(talkoot, round_id, [library], ville), 200)

    mine = read(talkoot, f"/rounds/{round_id}/ballot", who=aino)
    assert (mine["proposals"], mine["spent_cents"], mine["check"]) == (
        [park, benches],
        400_000,
        "ok",
    )
    assert read(talkoot, f"/rounds/{round_id}", who=aino)["my_ballot"] == [park, benches]
    assert read(talkoot, f"/rounds/{round_id}", who=None)["my_ballot"] is None
    assert read(talkoot, f"/rounds/{round_id}", who=kaisa)["my_ballot"] == [library]
    assert read(talkoot, f"/rounds/{round_id}")["ballots"] == 4
    with psycopg.connect(talkoot.stack.database_url) as conn:
        schema = f"{talkoot.stack.namespace}_tables"
        stored = conn.execute(
            f'SELECT convert_from(state, \'UTF8\') FROM "{schema}"."tables_events" '
            "WHERE topic LIKE %s",
            ("%BallotCast",),
        ).fetchall()
    assert stored and not any("resident-round" in row[0] for row in stored)

    premature = talkoot.get("tables", f"/rounds/{round_id}/recount", who=talkoot.officer())
    assert premature.status_code == 200 and premature.json()["published"] is None
    assert command(talkoot, f"/rounds/{round_id}/tally", {}, aino).status_code == 403
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/tally", {}, coord))
    result = read(talkoot, f"/rounds/{round_id}")["result"]
    # votes: library 3 (eero, kaisa, ville), park 1 + benches 2; library (200k) and benches
    # (100k) fit in 500k; the park (300k) does not fit in the 200k left
    assert result["votes"] == {park: 1, benches: 2, library: 3}
    assert (result["funded"], result["not_fitting"]) == ([library, benches], [park])
    assert (result["funded_cents"], result["left_cents"], result["ballots"]) == (
        300_000,
        200_000,
        4,
    )
    budget = read(talkoot, f"/tables/{table_id}")["budget"]
    assert (budget["rounds_cents"], budget["left_cents"]) == (300_000, 700_000)

    recount = read(talkoot, f"/rounds/{round_id}/recount", who=talkoot.officer())
    assert recount["matches"] is True and recount["recounted"] == recount["published"] == result
    assert talkoot.get("tables", f"/rounds/{round_id}/recount", who=aino).status_code == 403
    closed = ballot(talkoot, round_id, [park], aino)
    assert why(closed) == (409, "phase"), closed.text
    listed = read(talkoot, f"/tables/{table_id}/rounds")
    assert [(r["round_id"], r["phase"]) for r in listed] == [(round_id, "finished")]


def test_another_tables_coordinator_cannot_run_the_round(talkoot: Talkoot):
    table_id = found(talkoot)
    coord = coordinator(talkoot, table_id)
    body = {
        "title": "Kierros",
        "year": local_today().year,
        "budget_cents": 1000,
        "rule": "at_least",
        "minimum": 1,
    }
    round_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/rounds", body, coord))["id"]
    other = coordinator(talkoot, found(talkoot))
    assert command(talkoot, f"/tables/{table_id}/rounds", body, other).status_code == 404
    for path, sent in [
        (f"/rounds/{round_id}/phase", {"phase": "reviewing"}),
        (f"/rounds/{round_id}/proposals", {"title": "X", "cost_cents": 10}),
        (f"/rounds/{round_id}/paper-ballots", {"voter": "r-1", "proposals": []}),
        (f"/rounds/{round_id}/tally", {}),
    ]:
        assert command(talkoot, path, sent, other).status_code == 404, path
    assert command(talkoot, f"/rounds/{round_id}/tally", {}, None).status_code == 401
    assert read(talkoot, f"/rounds/{round_id}")["phase"] == "accepting"
