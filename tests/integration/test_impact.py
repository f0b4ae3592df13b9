"""The impact report on the running stack: requests matched, completed and confirmed under a
city contract and a table's programme contract, one nobody could take, a table's meeting,
event and initiatives, all through the services' APIs; then the report's figures for that
table's region as JSON, CSV and charts, what it refuses, and the tables' read model rebuilt
from the stream giving the same rows."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

import asyncpg
import pytest

from domain.calendar import local_today
from domain.money import divide_half_up
from projections import tables as tables_model
from projections.schema import ensure_read_models, read_schema
from tests.client import Talkoot, published
from tests.conftest import CATEGORIES, unused_scope
from tests.integration.tables import (
    command,
    coordinator,
    days_ago,
    found,
    hold,
    initiative,
    join,
    meeting,
    put,
    resident,
)

pytestmark = pytest.mark.slow

FEE = 12_000
YEARLY_COST, SHARE, LATER_SHARE = 3_650_000, 20, 40
ROUND_BUDGET, PARK, BENCHES = 300_000, 200_000, 50_000


@dataclass
class Scene:
    table_id: str
    region: str
    category: str
    programme_category: str
    provider: str
    programme_provider: str
    founded_on: date
    round_id: str


def region_of_its_own() -> list[tuple[str, str]]:
    """Every (category, region) pair of a region no other test has, so that the report of
    that region holds this module's requests and providers only."""
    pair = unused_scope()
    while pair[0] != CATEGORIES[0]:
        pair = unused_scope()
    pairs = [pair, *(unused_scope() for _ in CATEGORIES[1:])]
    assert len({region for _, region in pairs}) == 1
    return pairs


@pytest.fixture(scope="module")
def scene(talkoot: Talkoot) -> Scene:
    (category, region), (programme_category, _), (nobody, _), *_ = region_of_its_own()
    founded_on = local_today() - timedelta(days=90)
    table_id = found(
        talkoot,
        regions=[region],
        meeting_fee_cents=FEE,
        coordinator_yearly_cost_cents=YEARLY_COST,
        coordinator_share_percent=SHARE,
    )
    coord = coordinator(talkoot, table_id)

    # two jobs under the city's contract (2 h and 1 h at 30 €/h), one under the table's
    # programme (1 h at 40 €/h), one request nobody can take
    provider, _ = talkoot.ready_provider(category, region)
    programme_provider, _ = talkoot.ready_provider(
        programme_category, region, partner_id=f"table-{table_id}", unit_price_cents=4000
    )
    for cat, who, hours in (
        (category, provider, 2.0),
        (category, provider, 1.0),
        (programme_category, programme_provider, 1.0),
    ):
        request = talkoot.completed_request(cat, region, who, hours=hours)
        talkoot.ok(talkoot.on_request(request, "confirmation", {}, who=talkoot.resident()))
    stranded = talkoot.submit(nobody, region)["id"]
    talkoot.wait_for_status(stranded, "unmatched")

    # the table: two members at a meeting, an event, a resident's initiative forwarded and
    # answered, and one the city raised
    join(talkoot, table_id, "aino", on=days_ago(60))
    join(talkoot, table_id, "eero", on=days_ago(60))
    raised = initiative(talkoot, table_id, resident(talkoot, f"r-{table_id}", region))
    initiative(talkoot, table_id, talkoot.officer(), title="Kirjaston aukioloajat")
    held = meeting(talkoot, table_id, days_ago(0))
    talkoot.ok(
        hold(
            talkoot,
            table_id,
            held,
            attendees=["aino", "eero"],
            discussed=[raised],
            decisions=["Eteenpäin"],
            cost_cents=4_500,
        )
    )
    event = command(
        talkoot,
        f"/tables/{table_id}/events",
        {"kind": "speak_out", "title": "Puhu suusi puhtaaksi", "on": days_ago(0)},
        coord,
    )
    event_id = talkoot.ok(event)["id"]
    record = {"attendance": 40, "topics": ["Valaistus"], "cost_cents": 10_000}
    talkoot.ok(command(talkoot, f"/tables/{table_id}/events/{event_id}/record", record, coord))
    talkoot.ok(command(talkoot, f"/initiatives/{raised}/forward", {"statement": "Tuemme"}, coord))
    answer = {"answer": "accepted", "reasons": "Toteutetaan keväällä"}
    talkoot.ok(command(talkoot, f"/initiatives/{raised}/answer", answer, talkoot.officer()))
    # the coordinator reappointed today for a larger share of their time
    reappointed = put(
        talkoot,
        f"/tables/{table_id}/coordinator",
        {"coordinator": f"coordinator-of-{table_id}", "share_percent": LATER_SHARE},
        talkoot.admin(),
    )
    talkoot.ok(reappointed, 200)

    # a budgeting round: two residents vote, one of them twice (the later ballot replaces
    # the earlier), and the tally funds both proposals; what is left goes back
    round_id = finished_round(talkoot, table_id, region)
    talkoot.wait_until_quiet()
    return Scene(
        table_id,
        region,
        category,
        programme_category,
        provider,
        programme_provider,
        founded_on,
        round_id,
    )


def finished_round(talkoot: Talkoot, table_id: str, region: str) -> str:
    coord = coordinator(talkoot, table_id)
    body = {
        "title": "Lähiraha",
        "year": local_today().year,
        "budget_cents": ROUND_BUDGET,
        "rule": "at_least",
        "minimum": 1,
    }
    round_id = talkoot.ok(command(talkoot, f"/tables/{table_id}/rounds", body, coord))["id"]
    proposals = f"/rounds/{round_id}/proposals"
    park, benches = (
        talkoot.ok(command(talkoot, proposals, {"title": title, "cost_cents": cost}, coord))["id"]
        for title, cost in (("Puisto", PARK), ("Penkit", BENCHES))
    )
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": "reviewing"}, coord))
    for proposal in (park, benches):
        review = f"/rounds/{round_id}/proposals/{proposal}/review"
        talkoot.ok(command(talkoot, review, {"feasible": True}, coord))
    for phase in ("selecting", "publishing_costs", "balloting"):
        talkoot.ok(command(talkoot, f"/rounds/{round_id}/phase", {"phase": phase}, coord))
    first = resident(talkoot, f"voter-1-{table_id}", region)
    second = resident(talkoot, f"voter-2-{table_id}", region)
    ballot = f"/rounds/{round_id}/ballot"
    for who, choice in ((first, [park]), (second, [benches]), (first, [park, benches])):
        talkoot.ok(put(talkoot, ballot, {"proposals": choice}, who), 200)
    talkoot.ok(command(talkoot, f"/rounds/{round_id}/tally", {}, coord))
    return round_id


def impact(talkoot: Talkoot, path: str = "/impact", **params):
    return talkoot.get("tables", path, who=None, **params)


def since_founding(scene: Scene) -> dict:
    return {"from": scene.founded_on.isoformat(), "until": local_today().isoformat()}


def personnel(since: date, until: date, reappointed_on: date) -> int:
    """The coordinator's share of their yearly cost, day by day of its own year: the share
    of the founding until the reappointment, the later one from its day."""
    exact = Fraction(0)
    day = since
    while day <= until:
        in_year = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
        share = SHARE if day < reappointed_on else LATER_SHARE
        exact += Fraction(YEARLY_COST * share, 100 * in_year)
        day += timedelta(days=1)
    return divide_half_up(exact.numerator, exact.denominator)


def test_the_report_of_a_table_gives_the_figures_of_what_happened_in_its_region(
    talkoot: Talkoot, scene: Scene
):
    answer = impact(talkoot, table=scene.table_id, **since_founding(scene))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    city = report["city"]
    assert city["spending"] == {
        "contracts_cents": 9_000,
        "table_funds_cents": 4_000,
        "total_cents": 13_000,
    }
    by_category = {c["category"]: c for c in city["categories"]}
    assert by_category[scene.category]["services"] == 2
    assert by_category[scene.category]["cost_per_service_cents"] == 4_500
    assert by_category[scene.programme_category]["cost_per_service_cents"] == 4_000
    (coverage,) = city["coverage"]
    assert (coverage["region"], coverage["requests"], coverage["assigned"]) == (scene.region, 4, 3)
    assert coverage["coverage_percent"] == 75.0 and coverage["providers"] == 2
    assert (city["unmatched"], city["unmatched_percent"]) == (1, 25.0)
    assert city["median_minutes_to_assignment"] is not None
    assert city["median_minutes_to_assignment"] >= 0

    providers = {p["provider_id"]: p for p in report["providers"]["providers"]}
    mine = providers[scene.provider]
    assert (mine["jobs"], mine["completed"], mine["hours"], mine["revenue_cents"]) == (
        2,
        2,
        3.0,
        9_000,
    )
    assert (mine["offers"], mine["acceptance_percent"], mine["completion_percent"]) == (
        2,
        100.0,
        100.0,
    )
    assert providers[scene.programme_provider]["revenue_cents"] == 4_000
    assert set(providers) == {scene.provider, scene.programme_provider}

    community = report["community"]
    assert community["requests_fulfilled"] == 3
    assert community["participation"]["meeting_attendances"] == 2
    assert community["participation"]["event_attendance"] == 40
    assert community["initiatives"]["by_origin"] == {"resident": 1, "member": 0, "city": 1}
    assert community["initiatives"]["city_share_percent"] == 50.0
    assert (community["initiatives"]["forwarded"], community["initiatives"]["answered"]) == (1, 1)

    (table,) = report["tables"]["tables"]
    assert table["table_id"] == scene.table_id
    assert (table["meetings_held"], table["meeting_attendees"]) == (1, 2)
    assert (table["events_held"], table["event_attendance"]) == (1, 40)
    assert (table["initiatives"], table["statements"]) == (2, 1)
    actual = table["budget"]["actual"]
    assert actual["meeting_fees_cents"] == 2 * FEE
    today = local_today()
    assert actual["personnel_cents"] == personnel(scene.founded_on, today, today)
    assert actual["personnel_cents"] != personnel(scene.founded_on, today, today + timedelta(1))
    assert (actual["meetings_cents"], actual["activities_cents"]) == (4_500, 10_000)
    assert actual["programmes_cents"] == 4_000
    # the round set aside its budget and gave back what its tally did not fund
    assert actual["rounds_cents"] == PARK + BENCHES
    assert actual["table_budget_cents"] == 4_500 + 10_000 + 4_000 + PARK + BENCHES
    assert report["tables"]["all"]["budget"]["actual"]["programmes_cents"] == 4_000
    assert report["tables"]["all"]["budget"]["actual"]["rounds_cents"] == PARK + BENCHES


def test_the_community_counts_the_rounds_ballots_and_voters_and_the_tables_their_money(
    talkoot: Talkoot, scene: Scene
):
    report = impact(talkoot, table=scene.table_id, **since_founding(scene)).json()
    participation = report["community"]["participation"]
    # three ballots cast, by two residents: the third replaced the first one's earlier ballot
    assert (participation["ballots"], participation["voters"]) == (3, 2)
    assert (participation["meeting_people"], participation["events_held"]) == (2, 1)
    (table,) = report["tables"]["tables"]
    budget = table["budget"]
    assert budget["actual"]["rounds_cents"] == PARK + BENCHES
    round_ = talkoot.get("tables", f"/rounds/{scene.round_id}", who=None).json()
    assert (round_["result"]["funded_cents"], round_["result"]["left_cents"]) == (
        PARK + BENCHES,
        ROUND_BUDGET - PARK - BENCHES,
    )
    assert sorted(round_["result"]["votes"].values()) == [1, 2]
    # the round's money within the table's own budget, and what is left of the plan
    assert budget["actual"]["table_budget_cents"] == sum(
        budget["actual"][k]
        for k in ("meetings_cents", "activities_cents", "rounds_cents", "programmes_cents")
    )
    assert (
        budget["left_cents"] == budget["planned"]["total_cents"] - budget["actual"]["total_cents"]
    )
    # a period before the round: none of its ballots
    before = impact(
        talkoot,
        table=scene.table_id,
        **{"from": scene.founded_on.isoformat(), "until": scene.founded_on.isoformat()},
    ).json()
    assert before["community"]["participation"]["ballots"] == 0
    assert before["tables"]["tables"][0]["budget"]["actual"]["rounds_cents"] == 0
    # the participation chart draws the voters
    params = {"table": scene.table_id, **since_founding(scene)}
    chart = impact(talkoot, "/impact/charts/participation.svg", **params).text
    assert "<title>Voters, people: 2</title>" in chart


def test_a_whole_year_city_wide_plans_the_city_s_yearly_budget_for_the_tables(
    talkoot: Talkoot, scene: Scene
):
    year = local_today().year
    report = impact(talkoot, **{"from": f"{year}-01-01", "until": f"{year}-12-31"}).json()
    planned = report["tables"]["all"]["budget"]["planned"]
    assert planned["personnel_and_fees_cents"] == 8_300_000
    assert planned["common_expenses_cents"] == 1_700_000
    assert scene.table_id in {t["table_id"] for t in report["tables"]["tables"]}
    # the default period is this year
    assert impact(talkoot).json()["period"] == {
        "from": f"{year}-01-01",
        "until": f"{year}-12-31",
        "days": (date(year + 1, 1, 1) - date(year, 1, 1)).days,
    }


def test_the_csv_holds_each_figure_of_the_json_a_row(talkoot: Talkoot, scene: Scene):
    params = {"table": scene.table_id, **since_founding(scene)}
    answer = impact(talkoot, "/impact.csv", **params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == ["section", "figure", "scope", "value"]
    values = {(r["section"], r["figure"], r["scope"]): r["value"] for r in rows}
    assert values["city", "spending_table_funds_cents", "city"] == "4000"
    assert values["city", "coverage_percent", f"region:{scene.region}"] == "75.0"
    assert values["providers", "revenue_cents", f"provider:{scene.provider}"] == "9000"
    assert values["tables", "budget_actual_meeting_fees_cents", f"table:{scene.table_id}"] == str(
        2 * FEE
    )


@pytest.mark.parametrize(
    "name",
    [
        "spending",
        "cost-per-service",
        "coverage",
        "providers",
        "rates",
        "participation",
        "initiatives",
        "budget",
    ],
)
def test_each_chart_is_an_svg_image_with_a_title_and_no_script(
    talkoot: Talkoot, scene: Scene, name: str
):
    answer = impact(talkoot, f"/impact/charts/{name}.svg", table=scene.table_id)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(answer.text)
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.find("s:title", ns).text and root.find("s:desc", ns).text
    assert "<script" not in answer.text and "href" not in answer.text
    assert f"table {scene.table_id}" in root.find("s:desc", ns).text


def test_the_spending_chart_shows_the_amounts(talkoot: Talkoot, scene: Scene):
    svg = impact(
        talkoot, "/impact/charts/spending.svg", table=scene.table_id, **since_founding(scene)
    ).text
    assert "90.00 €" in svg and "40.00 €" in svg


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"until": "tomorrow"}, "until"),
        ({"from": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"from": "1900-01-01"}, "from"),
        ({"region": "atlantis"}, "region"),
        ({"region": "keskusta\x00"}, "region"),
        ({"table": "no-such-table"}, "table"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(talkoot: Talkoot, params: dict, field: str):
    for path in ("/impact", "/impact.csv", "/impact/charts/budget.svg"):
        answer = impact(talkoot, path, **params)
        assert answer.status_code == 400, (path, answer.text)
        assert [e["key"] for e in answer.json()["extra"]] == [field]


def test_an_unknown_chart_is_not_found(talkoot: Talkoot):
    assert impact(talkoot, "/impact/charts/pie.svg").status_code == 404
    assert impact(talkoot, "/impact/charts/..%2Fetc.svg").status_code in (400, 404)


def test_the_tables_read_model_rebuilt_from_the_stream_holds_the_same_rows(
    talkoot: Talkoot, scene: Scene
):
    events = published(talkoot.stack, "tables")

    async def rows_in(pool: asyncpg.Pool, schema: str) -> dict[str, list[dict]]:
        found_rows = {}
        for table in tables_model.TABLES:
            found_rows[table] = [
                dict(r)
                for r in await pool.fetch(
                    f"SELECT * FROM {schema}.{table} WHERE table_id = $1 ORDER BY 1, 2",
                    scene.table_id,
                )
            ]
        return found_rows

    async def rebuild() -> tuple[dict, dict]:
        pool = await asyncpg.create_pool(talkoot.stack.database_url, min_size=1, max_size=2)
        namespace = f"rebuild{uuid.uuid4().hex[:8]}"
        fresh = read_schema(namespace)
        try:
            await ensure_read_models(pool, namespace)
            model = tables_model.read_model(pool, fresh)
            await model(events)
            await model(events[: len(events) // 2])  # a redelivery changes nothing
            live = await rows_in(pool, read_schema(talkoot.stack.namespace))
            rebuilt = await rows_in(pool, fresh)
            return live, rebuilt
        finally:
            await pool.execute(f"DROP SCHEMA IF EXISTS {fresh} CASCADE")
            await pool.close()

    live, rebuilt = asyncio.run(rebuild())
    assert live["table_meetings"] and live["table_initiatives"] and live["table_attendance"]
    assert rebuilt == live
