"""The partnership tables on the running stack: an admin founds a table (bad codes, unknown
regions and a code taken refused), its coordinator keeps its members (no joining in the future,
before the founding or with control characters), anyone reads it, as it is or as it stood, and
a forged or absent token, another table's coordinator or a resident of another region gets
nothing of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.store import stored_events
from tests.integration.tables import (
    OTHER_REGION,
    command,
    coordinator,
    days_ago,
    found,
    initiative,
    join,
    new_code,
    put,
    read,
    resident,
    why,
)
from tests.integration.tokens import broken_tokens

pytestmark = pytest.mark.slow


def test_an_admin_founds_a_table_with_the_lahti_figures_and_anyone_reads_it(talkoot: Talkoot):
    table_id = found(talkoot)

    table = read(talkoot, f"/tables/{table_id}")
    assert table["regions"] == ["nastola"]
    assert (table["yearly_budget_cents"], table["meeting_fee_cents"]) == (2_000_000, 12_000)
    assert (table["coordinator_share_percent"], table["meetings_per_year"]) == (25, 6)
    assert (table["support_threshold"], table["answer_days"]) == (50, 60)
    assert table["budget"] == {
        "year": local_today().year,
        "budget_cents": 2_000_000,
        "meetings_cents": 0,
        "activities_cents": 0,
        "rounds_cents": 0,
        "programmes_cents": 0,
        "left_cents": 2_000_000,
    }
    listed = read(talkoot, "/tables")
    mine = next(t for t in listed if t["table_id"] == table_id)
    assert (mine["members"], mine["initiatives"], mine["city_share_percent"]) == (0, 0, 0)
    assert mine["left_cents"] == 2_000_000


def test_a_bad_code_an_unknown_region_or_a_code_taken_founds_nothing(talkoot: Talkoot):
    admin = talkoot.admin()
    taken = found(talkoot)
    before = stored_events(talkoot.stack, "tables")
    for body, status, field in [
        ({"table_id": "Not A Code!", "regions": ["nastola"]}, 400, "table_id"),
        ({"table_id": "ab", "regions": ["nastola"]}, 422, "table_id"),
        ({"table_id": new_code(), "regions": ["atlantis"]}, 422, "region"),
        ({"table_id": new_code(), "regions": []}, 400, "regions"),
        ({"table_id": taken, "regions": ["nastola"]}, 409, "table_id"),
        ({"table_id": new_code(), "regions": ["nastola"], "name": "X\u0007"}, 400, "name"),
        (
            {"table_id": new_code(), "regions": ["nastola"], "founded_on": days_ago(-3)},
            422,
            "founded_on",
        ),
    ]:
        full = {"name": "Alueraati", "coordinator": "coord-x", **body}
        refused = command(talkoot, "/tables", full, admin)
        assert why(refused) == (status, field), (body, refused.text)
    assert stored_events(talkoot.stack, "tables") == before
    assert read(talkoot, f"/tables/{taken}")["regions"] == ["nastola"]


def test_the_coordinator_keeps_the_members_and_refused_dates_change_nothing(talkoot: Talkoot):
    table_id = found(talkoot)
    coord = coordinator(talkoot, table_id)
    members = f"/tables/{table_id}/members"
    join(talkoot, table_id, "aino", on=days_ago(30))
    join(talkoot, table_id, "yhdistys-1", on=days_ago(20))

    before = read(talkoot, f"/tables/{table_id}")
    for body, status, rule in [
        ({"member_id": "eero", "name": "Eero", "on": days_ago(-1)}, 422, "on"),
        ({"member_id": "eero", "name": "Eero", "on": days_ago(91)}, 422, "on"),
        ({"member_id": "eero", "name": "Ee\u0000ro"}, 400, "name"),
        ({"member_id": "eero", "name": "Eero", "kind": "party"}, 400, "kind"),
        ({"member_id": "aino", "name": "Aino"}, 409, "member"),
    ]:
        refused = command(talkoot, members, body, coord)
        assert why(refused) == (status, rule), (body, refused.text)
    departure = f"{members}/aino/departure"
    for body, rule in [({"on": days_ago(-2)}, "on"), ({"on": days_ago(31)}, "on")]:
        refused = command(talkoot, departure, body, coord)
        assert why(refused) == (422, rule), refused.text
    assert read(talkoot, f"/tables/{table_id}") == before

    talkoot.ok(command(talkoot, departure, {"on": days_ago(5), "reason": "Muutti"}, coord))
    again = command(talkoot, departure, {}, coord)
    assert again.status_code == 409, again.text
    table = read(talkoot, f"/tables/{table_id}")
    assert [m["member_id"] for m in table["current_members"]] == ["yhdistys-1"]
    assert table["members"] == 1
    history = read(talkoot, members, who=coord)
    assert [(m["member_id"], m["left_on"], m["reason"]) for m in history] == [
        ("aino", days_ago(5), "Muutti"),
        ("yhdistys-1", None, ""),
    ]


def test_a_table_as_it_stood_is_rebuilt_from_its_events(talkoot: Talkoot):
    table_id = found(talkoot)
    before_member = datetime.now(UTC)
    join(talkoot, table_id, "aino")
    talkoot.ok(
        put(
            talkoot,
            f"/tables/{table_id}/coordinator",
            {"coordinator": "new-coord", "share_percent": 40},
            talkoot.admin(),
        ),
        200,
    )
    year = local_today().year
    talkoot.ok(
        put(
            talkoot,
            f"/tables/{table_id}/budgets/{year}",
            {"budget_cents": 3_000_000},
            talkoot.admin(),
        ),
        200,
    )

    now = read(talkoot, f"/tables/{table_id}")
    assert (now["coordinator"], now["coordinator_share_percent"]) == ("new-coord", 40)
    assert now["budget"]["budget_cents"] == 3_000_000 and now["members"] == 1
    then = read(talkoot, f"/tables/{table_id}", as_of=before_member.isoformat())
    assert then["members"] == 0 and then["coordinator_share_percent"] == 25
    assert then["budget"]["budget_cents"] == 2_000_000
    assert then["version"] < now["version"]
    early = talkoot.get(
        "tables", f"/tables/{table_id}", as_of=(before_member - timedelta(days=1)).isoformat()
    )
    assert early.status_code == 404, early.text
    naive = talkoot.get("tables", f"/tables/{table_id}", as_of="2026-01-01T12:00:00")
    assert naive.status_code == 422 and "as_of" in naive.text


def test_another_tables_coordinator_gets_a_404_and_a_resident_or_nobody_a_refusal(
    talkoot: Talkoot,
):
    table_id = found(talkoot)
    other = coordinator(talkoot, found(talkoot))
    join(talkoot, table_id, "aino", on=days_ago(10))
    elsewhere = resident(talkoot, "resident-heinola", OTHER_REGION)
    path = f"/tables/{table_id}/members"
    before = stored_events(talkoot.stack, "tables")

    body = {"member_id": "eero", "name": "Eero"}
    assert command(talkoot, path, body, other).status_code == 404
    assert talkoot.get("tables", path, who=other).status_code == 404
    assert talkoot.get("tables", f"/tables/{table_id}/fees", who=other).status_code == 404
    assert command(talkoot, path, body, elsewhere).status_code == 403
    assert command(talkoot, path, body, None).status_code == 401
    for name, token in broken_tokens(talkoot).items():
        refused = command(talkoot, path, body, token)
        assert refused.status_code == 401, (name, refused.text)
        assert "WWW-Authenticate" in refused.headers
    raised = command(talkoot, f"/tables/{table_id}/initiatives", {"title": "Penkki"}, elsewhere)
    assert raised.status_code == 403, raised.text
    assert raised.json()["extra"]["rule"] == "region"
    assert stored_events(talkoot.stack, "tables") == before
    assert read(talkoot, f"/tables/{table_id}")["members"] == 1


def test_who_raised_an_initiative_shows_by_origin_and_the_citys_share_counts(talkoot: Talkoot):
    table_id = found(talkoot)
    join(talkoot, table_id, "aino", on=days_ago(10))
    coord = coordinator(talkoot, table_id)
    mine = initiative(talkoot, table_id, resident(talkoot, "resident-nastola-1"))
    initiative(talkoot, table_id, talkoot.officer())
    initiative(talkoot, table_id, coord, origin="member", raised_by="aino")
    initiative(talkoot, table_id, coord, origin="city")

    table = read(talkoot, f"/tables/{table_id}")
    assert table["origins"] == {"resident": 1, "member": 1, "city": 2}
    assert table["city_share_percent"] == 50
    hidden = read(talkoot, f"/initiatives/{mine}", who=None)
    assert hidden["raised_by"] == "" and hidden["origin"] == "resident"
    own = read(talkoot, f"/initiatives/{mine}", who=resident(talkoot, "resident-nastola-1"))
    assert own["raised_by"] == "resident-nastola-1"
    assert read(talkoot, f"/initiatives/{mine}", who=coord)["raised_by"] == "resident-nastola-1"

    for body, status, rule in [
        ({"origin": "member", "raised_by": "nobody-here"}, 422, "raised_by"),
        ({"origin": "council"}, 400, "origin"),
        ({"origin": "city", "on": days_ago(-1)}, 422, "on"),
        ({"origin": "city", "on": days_ago(91)}, 422, "on"),
        ({"origin": "city", "from_event": "no-such-event"}, 422, "from_event"),
        ({"origin": "city", "title": "Rivi\nkatki"}, 400, "title"),
    ]:
        refused = command(talkoot, f"/tables/{table_id}/initiatives", {"title": "X", **body}, coord)
        assert why(refused) == (status, rule), (body, refused.text)
    forged = command(
        talkoot,
        f"/tables/{table_id}/initiatives",
        {"title": "X", "origin": "city"},
        resident(talkoot, "resident-nastola-2"),
    )
    assert forged.status_code == 403 and forged.json()["extra"]["rule"] == "origin"
    assert len(read(talkoot, f"/tables/{table_id}/initiatives")) == 4
