"""The tables' common expenses on the running stack: an admin records them (marketing, joint
events, other), anybody reads a year's, what breaks a rule is refused naming it and stores
nothing, nobody but an admin records one, and the impact report's spent common expenses are
the recorded ones while its plan stays the city's yearly figure."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.store import stored_events
from tests.integration.tables import coordinator, found, read, resident, why

pytestmark = pytest.mark.slow

LAST_YEAR = local_today().year - 1


def record(talkoot: Talkoot, body: dict, who: str | None = None):
    return talkoot.post("tables", "/common-expenses", body, who=who or talkoot.admin())


def expenses_of(talkoot: Talkoot, year: int) -> dict:
    return read(talkoot, "/common-expenses", year=year)


def test_an_admin_records_common_expenses_and_the_report_spends_them(talkoot: Talkoot):
    # a table founded before last year, so that last year has a table to share them
    found(talkoot, founded_on=(date(LAST_YEAR, 1, 1) - timedelta(days=1)).isoformat())
    first = talkoot.ok(
        record(
            talkoot,
            {
                "amount_cents": 450_000,
                "on": f"{LAST_YEAR}-03-15",
                "purpose": "marketing",
                "note": "Alueraatien esitteet",
            },
        )
    )
    second = talkoot.ok(
        record(
            talkoot,
            {"amount_cents": 120_050, "on": f"{LAST_YEAR}-09-01", "purpose": "joint_events"},
        )
    )
    assert first["id"] != second["id"] and second["position"] > first["position"]

    year = expenses_of(talkoot, LAST_YEAR)
    assert year["total_cents"] == 570_050
    assert year["by_purpose"] == {"marketing": 450_000, "joint_events": 120_050, "other": 0}
    assert [(e["expense_id"], e["on"], e["note"]) for e in year["expenses"]] == [
        (first["id"], f"{LAST_YEAR}-03-15", "Alueraatien esitteet"),
        (second["id"], f"{LAST_YEAR}-09-01", ""),
    ]
    assert {e["recorded_by"] for e in year["expenses"]} == {"admin-1"}
    assert expenses_of(talkoot, LAST_YEAR - 1)["expenses"] == []

    period = {"from": f"{LAST_YEAR}-01-01", "until": f"{LAST_YEAR}-12-31"}

    # the receipt's position: the report waits until the read model has it, and holds it
    answer = talkoot.get("tables", "/impact", who=None, position=second["position"], **period)
    report = answer.json()["tables"]["all"]
    assert report["budget"]["actual"]["common_expenses_cents"] == 570_050
    assert report["budget"]["planned"]["common_expenses_cents"] == 1_700_000
    assert report["common_expenses"] == {
        "marketing": 450_000,
        "joint_events": 120_050,
        "other": 0,
    }
    # a period holding only the first
    march = talkoot.get(
        "tables",
        "/impact",
        who=None,
        **{"from": f"{LAST_YEAR}-03-01", "until": f"{LAST_YEAR}-03-31"},
    ).json()
    assert march["tables"]["all"]["budget"]["actual"]["common_expenses_cents"] == 450_000


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"on": (local_today() + timedelta(days=1)).isoformat()}, (422, "on")),
        ({"purpose": "coffee"}, (400, "purpose")),
        ({"amount_cents": 0}, (400, "amount_cents")),
        ({"amount_cents": -100}, (400, "amount_cents")),
        ({"note": "kello\x07"}, (400, "note")),
        ({"on": "2026-02-30"}, (400, "on")),
        ({"table_id": "mine"}, (400, "data")),  # a field it does not know
    ],
)
def test_an_expense_that_breaks_a_rule_is_refused_naming_it_and_stores_nothing(
    talkoot: Talkoot, change: dict, expected: tuple[int, str]
):
    before = stored_events(talkoot.stack, "tables")
    answer = record(talkoot, {"amount_cents": 100, "purpose": "other", **change})
    assert why(answer) == expected, answer.text
    assert stored_events(talkoot.stack, "tables") == before


def test_only_an_admin_records_a_common_expense(talkoot: Talkoot):
    table_id = found(talkoot)
    body = {"amount_cents": 100, "purpose": "other", "on": f"{LAST_YEAR}-12-31"}
    before = stored_events(talkoot.stack, "tables")
    for who, status in (
        (coordinator(talkoot, table_id), 403),
        (talkoot.officer(), 403),
        (resident(talkoot, "resident-kulut"), 403),
        ("not-a-token", 401),
    ):
        assert record(talkoot, body, who=who).status_code == status
    assert talkoot.post("tables", "/common-expenses", body, who=None).status_code == 401
    assert stored_events(talkoot.stack, "tables") == before


def test_a_year_out_of_bounds_is_a_400_naming_it(talkoot: Talkoot):
    for year in ("1999", "2101", "last"):
        answer = talkoot.get("tables", "/common-expenses", who=None, year=year)
        assert why(answer) == (400, "year"), answer.text


def test_the_report_reads_its_own_write_as_json_csv_and_chart(talkoot: Talkoot):
    day = f"{LAST_YEAR}-06-30"
    receipt = talkoot.ok(
        record(talkoot, {"amount_cents": 7_777, "on": day, "purpose": "other", "note": "Kahvit"})
    )
    period = {"from": day, "until": day, "position": receipt["position"]}
    report = talkoot.get("tables", "/impact", who=None, **period).json()
    assert report["tables"]["all"]["common_expenses"]["other"] == 7_777
    csv_text = talkoot.get("tables", "/impact.csv", who=None, **period).text
    assert "tables,common_expenses_cents,purpose:other,7777" in csv_text
    chart = talkoot.get("tables", "/impact/charts/budget.svg", who=None, **period)
    assert chart.status_code == 200 and "77.77" in chart.text


def test_a_position_no_event_is_stored_at_or_a_bad_one_is_a_400(talkoot: Talkoot):
    for path in ("/impact", "/impact.csv", "/impact/charts/budget.svg"):
        for bad in (10**15, -1, 2**63, "last"):
            answer = talkoot.get("tables", path, who=None, position=bad)
            assert why(answer) == (400, "position"), answer.text
