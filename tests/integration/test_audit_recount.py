"""`talkoot audit recount ROUND_ID` on the running stack: it asks the tables service to tally a
finished round again from its stored ballots, prints the published and the recounted
allocation, exits 0 when they are the same and 1 when a stored ballot was made to say
something else (undone afterwards); and says plainly when it cannot run."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from domain.calendar import local_today
from services import cli
from tests.client import Talkoot
from tests.integration.tables import command, coordinator, found, put, resident

pytestmark = pytest.mark.slow


@dataclass
class Finished:
    round_id: str
    park: str
    benches: str


def open_round(talkoot: Talkoot, table_id: str) -> tuple[str, str, str]:
    """A round in balloting with two feasible proposals on its ballot."""
    coord = coordinator(talkoot, table_id)
    body = {
        "title": "Lähiraha",
        "year": local_today().year,
        "budget_cents": 300_000,
        "rule": "at_least",
        "minimum": 1,
    }
    round_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/rounds", body, coord))["id"]
    made = []
    for title, cost in (("Puisto", 200_000), ("Penkit", 50_000)):
        proposal = {"title": title, "cost_cents": cost}
        made.append(
            talkoot.ok(command(talkoot, f"/rounds/{round_id}/proposals", proposal, coord))["id"]
        )
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": "reviewing"}, coord))
    for proposal in made:
        review = f"/rounds/{round_id}/proposals/{proposal}/review"
        talkoot.ok(command(talkoot, review, {"feasible": True}, coord))
    for phase in ("selecting", "publishing_costs", "balloting"):
        talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": phase}, coord))
    return round_id, made[0], made[1]


@pytest.fixture(scope="module")
def finished(talkoot: Talkoot) -> Finished:
    table_id = found(talkoot, yearly_budget_cents=1_000_000)
    round_id, park, benches = open_round(talkoot, table_id)
    for name, choice in (("aino", [park]), ("eero", [park]), ("kaisa", [benches])):
        who = resident(talkoot, f"resident-recount-{name}")
        talkoot.ok(put(talkoot, f"/rounds/{round_id}/ballot", {"proposals": choice}, who), 200)
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/tally", {}, coordinator(talkoot, table_id)))
    return Finished(round_id, park, benches)


def recount(talkoot: Talkoot, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`talkoot audit recount ...` against the session's stack, as its environment names it."""
    out, errors = io.StringIO(), io.StringIO()
    stack = talkoot.stack
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALKOOT_JWT_SECRET", stack.secrets["jwt"])
        patch.setenv("TALKOOT_TABLES_PORT", str(stack.ports["tables"]))
        with redirect_stdout(out), redirect_stderr(errors):
            code = cli.main(["--data-dir", str(tmp_path), "audit", "recount", *args])
    return code, out.getvalue(), errors.getvalue()


def test_recount_prints_both_allocations_and_tells_a_ballot_altered_in_the_store(
    talkoot: Talkoot, finished: Finished, tmp_path: Path
):
    code, out, errors = recount(talkoot, tmp_path, finished.round_id)
    assert code == 0, out + errors
    published = out[out.index("Published:") : out.index("Recounted:")]
    recounted = out[out.index("Recounted:") :]
    for part in (published, recounted):
        assert "ballots 3" in part
        assert f"{finished.park}  2 votes  funded" in part
        assert f"{finished.benches}  1 votes  funded" in part
        assert "2500.00 €, left 500.00 €" in part
    assert "The published allocation is what the stored ballots give." in out

    # one stored ballot made to choose the benches instead of the park
    schema = f'"{talkoot.stack.namespace}_tables"."tables_events"'
    with psycopg.connect(talkoot.stack.database_url, autocommit=True) as conn:
        notification, state = conn.execute(
            f"SELECT notification_id, state FROM {schema} WHERE originator_id = %s "
            "AND topic LIKE %s ORDER BY notification_id LIMIT 1",
            (UUID(finished.round_id), "%BallotCast"),
        ).fetchone()
        state = bytes(state)
        assert finished.park.encode() in state
        altered = state.replace(finished.park.encode(), finished.benches.encode())
        conn.execute(
            f"UPDATE {schema} SET state = %s WHERE notification_id = %s", (altered, notification)
        )
        try:
            code, out, errors = recount(talkoot, tmp_path, finished.round_id)
        finally:
            conn.execute(
                f"UPDATE {schema} SET state = %s WHERE notification_id = %s", (state, notification)
            )
    assert code == 1, out + errors
    recounted = out[out.index("Recounted:") :]
    assert f"{finished.benches}  2 votes  funded" in recounted
    assert f"{finished.park}  1 votes  funded" in recounted
    assert "DIFFERS" in out
    assert recount(talkoot, tmp_path, finished.round_id)[0] == 0


def test_recount_says_plainly_when_it_cannot_run(talkoot: Talkoot, tmp_path: Path):
    nobody = "00000000-0000-4000-8000-000000000000"
    code, _, errors = recount(talkoot, tmp_path, nobody)
    assert code == 2 and f"no budgeting round {nobody}" in errors
    round_id, _, _ = open_round(talkoot, found(talkoot, yearly_budget_cents=1_000_000))
    code, out, errors = recount(talkoot, tmp_path, round_id)
    assert code == 2 and "not tallied" in out and "no result to compare" in errors
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TALKOOT_JWT_SECRET", raising=False)
        out, errors = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(errors):
            code = cli.main(["--data-dir", str(tmp_path / "empty"), "audit", "recount", round_id])
    assert code == 2 and "no secret to sign" in errors.getvalue()
