"""The impact report's figures, worked out from rows of the read models (services/tables/
impact.py), and its charts: well-formed SVG with a title and a description, and no script."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from services.tables import charts, impact
from services.tables.impact import Period, Plan, Scope

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def charge(partner="lahti-city", provider="p1", amount=6000, city=None, minutes=120, **more):
    return {
        "partner_id": partner,
        "provider_id": provider,
        "outcome": "charged",
        "amount_cents": amount,
        "city_cents": amount if city is None else city,
        "minutes": minutes,
        "category": "snow",
        "region": "keskusta",
        **more,
    }


def table_row(table_id="t1", founded_on=date(2025, 1, 1), **more):
    return {
        "table_id": table_id,
        "name": f"Table {table_id}",
        "regions": ["keskusta"],
        "coordinator": "c",
        "coordinator_share_percent": 25,
        "coordinator_yearly_cost_cents": 6_000_000,
        "yearly_budget_cents": 2_000_000,
        "founded_on": founded_on,
        **more,
    }


def test_a_year_of_the_city_s_plan_is_its_yearly_budget_of_180000_euros_for_four_tables():
    found = impact.tables(
        [table_row(f"t{n}") for n in range(4)], [], [], [], [], [], [], 4, YEAR, Plan()
    )
    planned = found["all"]["budget"]["planned"]
    assert planned == {
        "personnel_and_fees_cents": 8_300_000,
        "table_budget_cents": 8_000_000,
        "common_expenses_cents": 1_700_000,
        "total_cents": 18_000_000,
    }
    assert found["tables"][0]["budget"]["planned"]["table_budget_cents"] == 2_000_000


def test_personnel_is_the_coordinator_s_share_of_their_cost_prorated_to_the_days_half_up():
    # 60,000 € x 25 % = 15,000 € a year; 31 days of 365: 1,273.972… € -> 1,273.97 €
    january = Period(date(2026, 1, 1), date(2026, 1, 31))
    found = impact.tables([table_row()], [], [], [], [], [], [], 1, january, Plan())
    assert found["tables"][0]["budget"]["actual"]["personnel_cents"] == 127_397
    # founded mid-period: only the days since
    late = impact.tables(
        [table_row(founded_on=date(2026, 1, 17))], [], [], [], [], [], [], 1, january, Plan()
    )
    assert late["tables"][0]["budget"]["actual"]["personnel_cents"] == 61_644  # 15 days


def test_a_table_s_spending_is_its_fees_meetings_activities_rounds_and_programme_charges():
    meetings = [
        {"table_id": "t1", "attendees": 3, "cost_cents": 5000, "fees_cents": 36000},
        {"table_id": "t2", "attendees": 9, "cost_cents": 9, "fees_cents": 9},
    ]
    events = [{"table_id": "t1", "attendance": 40, "cost_cents": 12000}]
    funds = [
        {"table_id": "t1", "movement": "earmarked", "kind": "round", "ref": "r", "cents": 500000},
        {"table_id": "t1", "movement": "released", "kind": "round", "ref": "r", "cents": 100000},
        {"table_id": "t1", "movement": "earmarked", "kind": "programme", "ref": "p", "cents": 9},
    ]
    charges = [charge("table-t1", amount=4000), charge("lahti-city", amount=7000)]
    initiatives = [
        {"table_id": "t1", "raised_on": date(2026, 2, 1), "forwarded_on": date(2026, 3, 1)},
        {"table_id": "t1", "raised_on": date(2025, 2, 1), "forwarded_on": None},
    ]
    found = impact.tables(
        [table_row()], [], meetings, events, funds, initiatives, charges, 4, YEAR, Plan()
    )
    (t1,) = found["tables"]
    actual = t1["budget"]["actual"]
    assert actual["meeting_fees_cents"] == 36000
    assert actual["personnel_and_fees_cents"] == 1_500_000 + 36000
    assert (actual["meetings_cents"], actual["activities_cents"]) == (5000, 12000)
    assert (actual["rounds_cents"], actual["programmes_cents"]) == (400000, 4000)
    assert actual["table_budget_cents"] == 5000 + 12000 + 400000 + 4000
    assert (t1["initiatives"], t1["statements"], t1["meetings_held"]) == (1, 1, 1)
    # a quarter of the city's plan for each of its four tables
    assert t1["budget"]["planned"]["personnel_and_fees_cents"] == 2_075_000
    assert t1["budget"]["left_cents"] == (
        t1["budget"]["planned"]["total_cents"] - actual["total_cents"]
    )
    assert found["all"]["budget"]["actual"]["programmes_cents"] == 4000


def test_a_table_s_budget_set_for_a_year_replaces_its_yearly_figure():
    budgets = [{"table_id": "t1", "year": 2026, "budget_cents": 3_650_000}]
    first_ten_days = Period(date(2026, 1, 1), date(2026, 1, 10))
    found = impact.tables([table_row()], budgets, [], [], [], [], [], 1, first_ten_days, Plan())
    assert found["tables"][0]["budget"]["planned"]["table_budget_cents"] == 100_000


def test_the_city_s_spending_is_its_share_under_contracts_and_the_table_funds_apart():
    charges = [
        charge(amount=6000, city=5000),
        charge(amount=3000, category="yard"),
        charge("table-t1", amount=2000),
        {**charge(amount=3000, category="yard"), "outcome": "reversed"},
    ]
    found = impact.city(charges, [], [], [], [], [], YEAR)
    assert found["spending"] == {
        "contracts_cents": 5000,
        "table_funds_cents": 2000,
        "total_cents": 7000,
    }
    by = {c["category"]: c for c in found["categories"]}
    assert by["snow"] == {
        "category": "snow",
        "services": 2,
        "cents": 8000,
        "cost_per_service_cents": 4000,
    }
    assert by["yard"]["services"] == 0 and by["yard"]["cost_per_service_cents"] is None


def test_coverage_median_wait_and_unmatched_share():
    requests = [
        {"request_id": "a", "region": "keskusta", "status": "confirmed", "rating": 5},
        {"request_id": "b", "region": "keskusta", "status": "unmatched", "rating": None},
        {"request_id": "c", "region": "nastola", "status": "assigned", "rating": None},
    ]
    assigned = [
        {"request_id": "a", "submitted_at": AT, "assigned_at": AT + timedelta(minutes=10)},
        {"request_id": "c", "submitted_at": AT, "assigned_at": AT + timedelta(minutes=25)},
    ]
    providers = [{"regions": ["keskusta", "nastola"]}, {"regions": ["nastola"]}]
    contracts = [
        {
            "regions": ["nastola"],
            "status": "active",
            "valid_from": date(2026, 1, 1),
            "valid_until": date(2026, 6, 30),
        }
    ]
    found = impact.city([], requests, assigned, providers, contracts, ["keskusta", "nastola"], YEAR)
    assert found["coverage"] == [
        {
            "region": "keskusta",
            "requests": 2,
            "assigned": 1,
            "coverage_percent": 50.0,
            "providers": 1,
            "contracts": 0,
        },
        {
            "region": "nastola",
            "requests": 1,
            "assigned": 1,
            "coverage_percent": 100.0,
            "providers": 2,
            "contracts": 1,
        },
    ]
    assert found["median_minutes_to_assignment"] == 17.5
    assert (found["unmatched"], found["unmatched_percent"]) == (1, 33.3)


def test_providers_acceptance_completion_hours_and_revenue():
    offers = [
        {"provider_id": "p1", "status": "accepted"},
        {"provider_id": "p1", "status": "declined"},
        {"provider_id": "p1", "status": "expired"},
        {"provider_id": "p1", "status": "open"},
    ]
    jobs = [
        {
            "provider_id": "p1",
            "category": "snow",
            "assigned_at": AT,
            "completed_at": AT,
            "status": "charged",
        },
        {
            "provider_id": "p1",
            "category": "snow",
            "assigned_at": AT,
            "completed_at": None,
            "status": "assigned",
        },
    ]
    directory = [{"provider_id": "p1", "name": "Osuuskunta", "kind": "cooperative"}]
    found = impact.providers(directory, offers, jobs, [charge(minutes=90, amount=4500)], YEAR)
    (p1,) = found["providers"]
    assert p1 == {
        "provider_id": "p1",
        "name": "Osuuskunta",
        "kind": "cooperative",
        "offers": 3,
        "accepted": 1,
        "acceptance_percent": 33.3,
        "jobs": 2,
        "completed": 1,
        "completion_percent": 50.0,
        "hours": 1.5,
        "revenue_cents": 4500,
    }
    assert found["categories"][0]["category"] == "snow"


def test_community_participation_counts_voters_once_and_the_city_s_share_of_initiatives():
    ballots = [
        {"at": AT, "replaces": False},
        {"at": AT, "replaces": True},
        {"at": AT, "replaces": False},
        {"at": AT.replace(year=2025), "replaces": False},
    ]
    attendance = [
        {"table_id": "t1", "member_id": "m1"},
        {"table_id": "t1", "member_id": "m1"},
        {"table_id": "t1", "member_id": "m2"},
    ]
    initiatives = [
        {"origin": o, "raised_on": date(2026, 2, 1), "forwarded_on": None, "answered_on": None}
        for o in ("city", "resident", "resident", "member")
    ]
    requests = [{"rating": 4}, {"rating": 5}, {"rating": None}]
    found = impact.community(requests, [], attendance, [], ballots, initiatives, YEAR)
    assert found["participation"]["ballots"] == 3 and found["participation"]["voters"] == 2
    assert found["participation"]["meeting_people"] == 2
    assert found["initiatives"]["by_origin"] == {"resident": 2, "member": 1, "city": 1}
    assert found["initiatives"]["city_share_percent"] == 25.0
    assert found["ratings"]["average"] == 4.5


def test_a_period_across_new_year_prorates_each_year_by_its_own_days():
    # 2027 has 365 days, 2028 366: 1 day of each
    years = impact.year_fraction(Period(date(2027, 12, 31), date(2028, 1, 1)))
    assert years == impact.Fraction(1, 365) + impact.Fraction(1, 366)


def a_report(**change) -> dict:
    data = {
        "charges": [charge(), charge("table-t1", amount=1000)],
        "requests": [
            {
                "request_id": "a",
                "region": "keskusta",
                "status": "confirmed",
                "rating": 5,
                "category": "snow",
            }
        ],
        "assigned": [],
        "providers": [{"provider_id": "p1", "name": "A & <B>", "kind": "x", "regions": []}],
        "contracts": [],
        "offers": [],
        "tables": [table_row()],
        "founded": [{"count": 1}],
        "budgets": [],
        "meetings": [],
        "attendance": [],
        "events": [],
        "funds": [],
        "initiatives": [],
        "ballots": [],
        **change,
    }
    return impact.report(data, Scope(YEAR), ["keskusta"], Plan())


def test_every_figure_is_a_row_of_the_csv_with_its_section_and_scope():
    rows = list(impact.rows_of(a_report()))
    assert ("city", "spending_contracts_cents", "city", 6000) in rows
    assert ("city", "spending_table_funds_cents", "city", 1000) in rows
    assert ("tables", "budget_planned_total_cents", "table:t1", 2_000_000 + 10_000_000) in rows
    assert {section for section, *_ in rows} == {"city", "providers", "community", "tables"}


@pytest.mark.parametrize("name", sorted(charts.CHARTS))
@pytest.mark.parametrize("empty", [False, True])
def test_each_chart_is_well_formed_svg_with_a_title_and_no_script_or_outside_reference(name, empty):
    report = a_report(charges=[], providers=[], tables=[]) if empty else a_report()
    svg = charts.CHARTS[name](report)
    root = ET.fromstring(svg)  # well-formed, or this raises
    ns = {"s": charts.SVG_NS}
    assert root.tag == f"{{{charts.SVG_NS}}}svg"
    assert root.get("role") == "img"
    assert root.find("s:title", ns).text and root.find("s:desc", ns).text
    assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
    assert re.findall(r"https?://[^\"'\s<]+", svg) == [charts.SVG_NS]
    assert "href" not in svg and "on" not in {a[:2] for el in root.iter() for a in el.attrib}


def test_a_chart_escapes_what_the_read_models_hold():
    svg = charts.providers(a_report())
    assert "A &amp; &lt;B&gt;" in svg
    ET.fromstring(svg)


def test_a_reappointment_with_another_share_prorates_each_part_of_the_period():
    # 60,000 € a year: 25 % for January 1-10 (10 days), 50 % from January 11 to 31 (21 days)
    january = Period(date(2026, 1, 1), date(2026, 1, 31))
    shares = [
        {"table_id": "t1", "from_day": date(2025, 1, 1), "share_percent": 25},
        {"table_id": "t1", "from_day": date(2026, 1, 11), "share_percent": 50},
        {"table_id": "other", "from_day": date(2026, 1, 2), "share_percent": 100},
    ]
    found = impact.tables([table_row()], [], [], [], [], [], [], 1, january, Plan(), shares=shares)
    exact = impact.Fraction(6_000_000 * 25 * 10 + 6_000_000 * 50 * 21, 100 * 365)
    assert found["tables"][0]["budget"]["actual"]["personnel_cents"] == round(exact) == 213_699
    # a share from after the period does not count in it; one from before counts whole
    later = [*shares, {"table_id": "t1", "from_day": date(2026, 2, 1), "share_percent": 100}]
    again = impact.tables([table_row()], [], [], [], [], [], [], 1, january, Plan(), shares=later)
    assert again["tables"][0]["budget"]["actual"]["personnel_cents"] == 213_699


def test_personnel_counts_no_day_before_the_founding_whatever_the_shares_say():
    shares = [
        {"from_day": date(2026, 1, 1), "share_percent": 100},
        {"from_day": date(2026, 1, 20), "share_percent": 10},
    ]
    january = Period(date(2026, 1, 1), date(2026, 1, 31))
    # founded on the 25th: 7 days at 10 %
    assert impact.personnel_cents(3_650_000, shares, january, date(2026, 1, 25)) == 7_000
    # two appointments on days of their own, the second the period's last day
    shares.append({"from_day": date(2026, 1, 31), "share_percent": 50})
    assert impact.personnel_cents(3_650_000, shares, january, date(2026, 1, 25)) == 6_000 + 5_000


def test_the_common_expenses_spent_are_those_recorded_in_the_period_shared_by_the_tables():
    common = [
        {"amount_cents": 400_000, "on_day": date(2026, 3, 1), "purpose": "marketing"},
        {"amount_cents": 200_001, "on_day": date(2026, 6, 1), "purpose": "joint_events"},
        {"amount_cents": 999_999, "on_day": date(2025, 12, 31), "purpose": "other"},
    ]
    tables = [table_row("t1"), table_row("t2")]
    found = impact.tables(tables, [], [], [], [], [], [], 4, YEAR, Plan(), common=common)
    # two tables of the city's four: half of 600,001 cents, a quarter each, rounded half up
    assert found["all"]["budget"]["actual"]["common_expenses_cents"] == 300_001
    assert found["tables"][0]["budget"]["actual"]["common_expenses_cents"] == 150_000
    assert found["all"]["budget"]["planned"]["common_expenses_cents"] == 850_000
    assert found["all"]["common_expenses"] == {
        "marketing": 200_000,
        "joint_events": 100_001,
        "other": 0,
    }
    # nothing recorded: nothing spent, whatever was planned
    none = impact.tables(tables, [], [], [], [], [], [], 4, YEAR, Plan())
    assert none["all"]["budget"]["actual"]["common_expenses_cents"] == 0
    assert none["all"]["budget"]["planned"]["common_expenses_cents"] == 850_000


def test_the_csv_holds_the_common_expenses_by_purpose():
    common = [{"amount_cents": 1234, "on_day": date(2026, 5, 1), "purpose": "other"}]
    rows = list(impact.rows_of(a_report(common_expenses=common)))
    assert ("tables", "common_expenses_cents", "purpose:other", 1234) in rows
    assert ("tables", "budget_actual_common_expenses_cents", "city", 1234) in rows


def test_the_first_share_known_holds_from_the_founding():
    january = Period(date(2026, 1, 1), date(2026, 1, 31))
    only_later = [{"from_day": date(2026, 1, 21), "share_percent": 10}]
    # 36,500 € x 10 % a year = 10 € a day, for the 31 days since the founding
    assert impact.personnel_cents(3_650_000, only_later, january, date(2025, 6, 1)) == 31_000
