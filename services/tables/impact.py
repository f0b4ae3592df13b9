"""The impact report: what the partnership model did in a period, as each of its stakeholders
sees it (the city, the providers, the community, the tables), city-wide or for a region or a
table.

Read from the read models (the tables', the request board, the arrangements, the offers, the
contract ledger and the provider directory) with asyncpg; the figures are worked out by the
pure functions below (``city``, ``providers``, ``community``, ``tables``), which the unit tests
exercise with rows of their own. Money is whole cents; a share of it is rounded half up
(``domain.money.divide_half_up``), once, at the end.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import asyncpg

from domain.calendar import local_moment
from domain.money import divide_half_up
from domain.partnership import table_of_partner, table_partner
from projections import arrangements, board, directory, ledger, offers
from projections import tables as tables_model

# The city's yearly budget for the tables (Lahti's: €180,000 a year for four tables), in the
# shape it is planned: personnel and meeting fees, each table's own budget, common expenses.
PERSONNEL_AND_FEES_CENTS = 8_300_000
COMMON_EXPENSES_CENTS = 1_700_000
ORIGINS = ("resident", "member", "city")
PURPOSES = ("marketing", "joint_events", "other")  # what a common expense was for
# How an offer that was answered or ran out ended; open and withdrawn ones are left out.
ANSWERED_OFFERS = ("accepted", "declined", "expired")
UNMATCHED = ("unmatched",)
# The read models the report reads.
READS = tuple(m.PROJECTION for m in (tables_model, board, arrangements, offers, ledger, directory))


@dataclass(frozen=True)
class Period:
    """Lahti's days ``since`` to ``until``, both included."""

    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def starts(self) -> datetime:
        return local_moment(self.since, time(0))

    @property
    def ends(self) -> datetime:
        """The first instant after the period."""
        return local_moment(self.until + timedelta(days=1), time(0))

    def holds(self, day: date | None) -> bool:
        return day is not None and self.since <= day <= self.until

    def holds_moment(self, moment: datetime | None) -> bool:
        return moment is not None and self.starts <= moment < self.ends


def year_of(day: date) -> Period:
    return Period(date(day.year, 1, 1), date(day.year, 12, 31))


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in per cent to one decimal, rounded half up; None of nothing."""
    if whole <= 0:
        return None
    return divide_half_up(1000 * part, whole) / 10


def year_fraction(period: Period, since: date | None = None) -> Fraction:
    """How many years the period makes (each of its days a 1/365 or 1/366 of its year),
    counting from ``since`` when that is later than the period's start."""
    first = max(period.since, since) if since else period.since
    total = Fraction(0)
    day = first
    while day <= period.until:
        year_end = date(day.year, 12, 31)
        last = min(year_end, period.until)
        in_year = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
        total += Fraction((last - day).days + 1, in_year)
        day = last + timedelta(days=1)
    return total


def prorated(yearly_cents: int | Fraction, years: Fraction) -> int:
    """``yearly_cents`` for ``years`` of a year, in whole cents rounded half up."""
    exact = Fraction(yearly_cents) * years
    return divide_half_up(exact.numerator, exact.denominator)


def cents_of_years(yearly: dict[int, int], period: Period, since: date | None = None) -> int:
    """A yearly amount that may differ from year to year (a table's budget), for the
    period's days in each year."""
    exact = Fraction(0)
    for year in range(period.since.year, period.until.year + 1):
        part = Period(max(period.since, date(year, 1, 1)), min(period.until, date(year, 12, 31)))
        exact += Fraction(yearly.get(year, 0)) * year_fraction(part, since)
    return divide_half_up(exact.numerator, exact.denominator)


def median(values: Sequence[float]) -> float | None:
    return None if not values else round(float(statistics.median(values)), 1)


def is_table_partner(partner_id: str | None) -> bool:
    return table_of_partner(partner_id or "") is not None


def signed(entry: dict, key: str) -> int:
    """A ledger entry's amount as spending: a charge counts, a reversal takes it back."""
    value = entry[key] or 0
    return -value if entry["outcome"] == "reversed" else value


# --- the city -----------------------------------------------------------------------------


def city(
    charges: list[dict],
    requests: list[dict],
    assigned: list[dict],
    providers: list[dict],
    contracts: list[dict],
    regions: Sequence[str],
    period: Period,
) -> dict:
    """What the city spent (its share of the charges under its contracts, and the table
    funds' spending under programmes), what a delivered service cost per category, how well
    each region is covered, how long a request waits to be assigned and the share nobody
    could take."""
    contracts_cents = sum(
        signed(c, "city_cents") for c in charges if not is_table_partner(c["partner_id"])
    )
    table_funds_cents = sum(
        signed(c, "city_cents") for c in charges if is_table_partner(c["partner_id"])
    )
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in charges:
        figures = by_category[c["category"] or "unknown"]
        figures[0] += -1 if c["outcome"] == "reversed" else 1
        figures[1] += signed(c, "amount_cents")
    categories = [
        {
            "category": category,
            "services": services,
            "cents": cents,
            "cost_per_service_cents": divide_half_up(cents, services) if services > 0 else None,
        }
        for category, (services, cents) in sorted(by_category.items())
    ]
    was_assigned = {a["request_id"] for a in assigned if a["assigned_at"] is not None}
    coverage = []
    for region in regions:
        asked = [r for r in requests if r["region"] == region]
        matched = sum(1 for r in asked if r["request_id"] in was_assigned)
        coverage.append(
            {
                "region": region,
                "requests": len(asked),
                "assigned": matched,
                "coverage_percent": percent(matched, len(asked)),
                "providers": sum(1 for p in providers if region in (p["regions"] or ())),
                "contracts": sum(
                    1
                    for c in contracts
                    if region in (c["regions"] or ())
                    and c["status"] == "active"
                    and c["valid_from"] <= period.until
                    and c["valid_until"] >= period.since
                ),
            }
        )
    waits = [
        (a["assigned_at"] - a["submitted_at"]).total_seconds() / 60
        for a in assigned
        if a["assigned_at"] is not None
        and a["submitted_at"] is not None
        and period.holds_moment(a["submitted_at"])
    ]
    unmatched = sum(1 for r in requests if r["status"] in UNMATCHED)
    return {
        "spending": {
            "contracts_cents": contracts_cents,
            "table_funds_cents": table_funds_cents,
            "total_cents": contracts_cents + table_funds_cents,
        },
        "categories": categories,
        "coverage": coverage,
        "median_minutes_to_assignment": median(waits),
        "requests": len(requests),
        "unmatched": unmatched,
        "unmatched_percent": percent(unmatched, len(requests)),
    }


# --- the providers ------------------------------------------------------------------------


def providers(
    directory_rows: list[dict],
    offer_rows: list[dict],
    assigned: list[dict],
    charges: list[dict],
    period: Period,
) -> dict:
    """Per provider and per category: jobs assigned in the period and how many were
    completed, the hours and the revenue charged, the offers answered and how many accepted."""
    names = {p["provider_id"]: p for p in directory_rows}
    per: dict[str, Counter] = defaultdict(Counter)
    cats: dict[str, Counter] = defaultdict(Counter)
    for offer in offer_rows:
        if offer["status"] in ANSWERED_OFFERS:
            per[offer["provider_id"]]["answered"] += 1
            per[offer["provider_id"]]["accepted"] += offer["status"] == "accepted"
    for job in assigned:
        if job["provider_id"] is None or not period.holds_moment(job["assigned_at"]):
            continue
        done = job["completed_at"] is not None and job["status"] not in ("cancelled", "voided")
        for figures in (per[job["provider_id"]], cats[job["category"] or "unknown"]):
            figures["jobs"] += 1
            figures["completed"] += done
    for charge in charges:
        for figures in (per[charge["provider_id"]], cats[charge["category"] or "unknown"]):
            figures["minutes"] += signed(charge, "minutes")
            figures["revenue_cents"] += signed(charge, "amount_cents")

    def figures_of(f: Counter) -> dict:
        return {
            "jobs": f["jobs"],
            "completed": f["completed"],
            "completion_percent": percent(f["completed"], f["jobs"]),
            "hours": round(f["minutes"] / 60, 2),
            "revenue_cents": f["revenue_cents"],
        }

    listed = [
        {
            "provider_id": provider_id,
            "name": names.get(provider_id, {}).get("name", ""),
            "kind": names.get(provider_id, {}).get("kind", ""),
            "offers": f["answered"],
            "accepted": f["accepted"],
            "acceptance_percent": percent(f["accepted"], f["answered"]),
            **figures_of(f),
        }
        for provider_id, f in sorted(per.items())
    ]
    return {
        "providers": listed,
        "categories": [{"category": c, **figures_of(f)} for c, f in sorted(cats.items())],
    }


# --- the community ------------------------------------------------------------------------


def community(
    requests: list[dict],
    assigned: list[dict],
    attendance: list[dict],
    events: list[dict],
    ballots: list[dict],
    initiatives: list[dict],
    period: Period,
) -> dict:
    """What residents got and gave: requests fulfilled and their ratings; people taking part
    in the tables (meetings, events, votes); initiatives raised, forwarded and answered, and
    the share of them the city brought."""
    fulfilled = sum(
        1
        for a in assigned
        if period.holds_moment(a["confirmed_at"]) and a["status"] not in ("cancelled", "voided")
    )
    ratings = [r["rating"] for r in requests if r["rating"] is not None]
    raised = [i for i in initiatives if period.holds(i["raised_on"])]
    origins = Counter(i["origin"] for i in raised)
    in_period = [b for b in ballots if period.holds_moment(b["at"])]
    return {
        "requests_fulfilled": fulfilled,
        "ratings": {
            "count": len(ratings),
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "by_stars": {str(n): ratings.count(n) for n in range(1, 6)},
        },
        "participation": {
            "meeting_attendances": len(attendance),
            "meeting_people": len({(a["table_id"], a["member_id"]) for a in attendance}),
            "events_held": len(events),
            "event_attendance": sum(e["attendance"] for e in events),
            "ballots": len(in_period),
            "voters": sum(1 for b in in_period if not b["replaces"]),
        },
        "initiatives": {
            "raised": len(raised),
            "forwarded": sum(1 for i in initiatives if period.holds(i["forwarded_on"])),
            "answered": sum(1 for i in initiatives if period.holds(i["answered_on"])),
            "by_origin": {origin: origins.get(origin, 0) for origin in ORIGINS},
            "city_share_percent": percent(origins.get("city", 0), len(raised)),
        },
    }


# --- the tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The city's yearly budget for the tables besides each table's own budget."""

    personnel_and_fees_cents: int = PERSONNEL_AND_FEES_CENTS
    common_expenses_cents: int = COMMON_EXPENSES_CENTS


def tables(
    table_rows: list[dict],
    budgets: list[dict],
    meetings: list[dict],
    events: list[dict],
    funds: list[dict],
    initiatives: list[dict],
    charges: list[dict],
    founded: int,
    period: Period,
    plan: Plan,
    shares: Sequence[dict] = (),
    common: Sequence[dict] = (),
) -> dict:
    """Per table and over the tables in scope: events held and attendees, initiatives and
    statements, and the budget planned and spent, in the shape of the city's yearly budget.

    ``founded`` is how many tables the city has (in scope or not): the personnel and fees and
    the common expenses are planned city-wide, and each table's share of them is an equal
    one. A table's personnel cost is its coordinator's yearly cost times their share of time,
    for the period's days since it was founded, each part of the period at the share in force
    then (``shares``: from which day each share holds); its meeting fees those its meetings
    accrued. The common expenses spent are those recorded in the period (``common``), each
    table's an equal share of them, as planned."""
    years = year_fraction(period)
    spent_common = [c for c in common if period.holds(c["on_day"])]
    recorded = sum(c["amount_cents"] for c in spent_common)
    listed = []
    for t in table_rows:
        tid = t["table_id"]
        yearly = {
            y: t["yearly_budget_cents"] for y in range(period.since.year, period.until.year + 1)
        }
        yearly |= {b["year"]: b["budget_cents"] for b in budgets if b["table_id"] == tid}
        own_meetings = [m for m in meetings if m["table_id"] == tid]
        own_events = [e for e in events if e["table_id"] == tid]
        own_funds = [f for f in funds if f["table_id"] == tid]
        own_initiatives = [i for i in initiatives if i["table_id"] == tid]
        personnel = personnel_cents(
            t["coordinator_yearly_cost_cents"],
            [s for s in shares if s["table_id"] == tid]
            or [{"from_day": t["founded_on"], "share_percent": t["coordinator_share_percent"]}],
            period,
            t["founded_on"],
        )
        fees = sum(m["fees_cents"] for m in own_meetings)
        rounds = sum(
            f["cents"] if f["movement"] == "earmarked" else -f["cents"]
            for f in own_funds
            if f["kind"] == "round"
        )
        earmarked_programmes = sum(
            f["cents"] if f["movement"] == "earmarked" else -f["cents"]
            for f in own_funds
            if f["kind"] == "programme"
        )
        programmes = sum(
            signed(c, "city_cents") for c in charges if c["partner_id"] == table_partner(tid)
        )
        actual = {
            "personnel_cents": personnel,
            "meeting_fees_cents": fees,
            "personnel_and_fees_cents": personnel + fees,
            "meetings_cents": sum(m["cost_cents"] for m in own_meetings),
            "activities_cents": sum(e["cost_cents"] for e in own_events),
            "rounds_cents": rounds,
            "programmes_cents": programmes,
        }
        actual["table_budget_cents"] = sum(
            actual[k]
            for k in ("meetings_cents", "activities_cents", "rounds_cents", "programmes_cents")
        )
        listed.append(
            {
                "table_id": tid,
                "name": t["name"],
                "regions": list(t["regions"]),
                "meetings_held": len(own_meetings),
                "meeting_attendees": sum(m["attendees"] for m in own_meetings),
                "events_held": len(own_events),
                "event_attendance": sum(e["attendance"] for e in own_events),
                "initiatives": sum(1 for i in own_initiatives if period.holds(i["raised_on"])),
                "statements": sum(1 for i in own_initiatives if period.holds(i["forwarded_on"])),
                "programmes_earmarked_cents": earmarked_programmes,
                "budget": {
                    "planned": {
                        "personnel_and_fees_cents": 0,
                        "table_budget_cents": cents_of_years(yearly, period),
                        "common_expenses_cents": 0,
                    },
                    "actual": actual,
                },
            }
        )
    share = Fraction(1, founded) if founded else Fraction(0)
    for t in listed:
        planned = t["budget"]["planned"]
        planned["personnel_and_fees_cents"] = prorated(plan.personnel_and_fees_cents * share, years)
        planned["common_expenses_cents"] = prorated(plan.common_expenses_cents * share, years)
        t["budget"]["actual"]["common_expenses_cents"] = prorated(recorded * share, Fraction(1))
        finish(t["budget"])
    in_scope = Fraction(len(listed)) * share
    total_planned = {
        "personnel_and_fees_cents": prorated(plan.personnel_and_fees_cents * in_scope, years),
        "table_budget_cents": sum(t["budget"]["planned"]["table_budget_cents"] for t in listed),
        "common_expenses_cents": prorated(plan.common_expenses_cents * in_scope, years),
    }
    total_actual = (
        {
            key: sum(t["budget"]["actual"][key] for t in listed)
            for key in listed[0]["budget"]["actual"]
            if key != "total_cents"
        }
        if listed
        else {key: 0 for key in ACTUAL_KEYS}
    )
    total_actual["common_expenses_cents"] = prorated(recorded * in_scope, Fraction(1))
    overall = {"planned": total_planned, "actual": total_actual}
    finish(overall)
    summed = (
        "meetings_held",
        "meeting_attendees",
        "events_held",
        "event_attendance",
        "initiatives",
        "statements",
        "programmes_earmarked_cents",
    )
    by_purpose = {purpose: 0 for purpose in PURPOSES}
    for c in spent_common:
        by_purpose[c["purpose"]] = by_purpose.get(c["purpose"], 0) + c["amount_cents"]
    return {
        "tables": listed,
        "all": {
            "tables": len(listed),
            **{key: sum(t[key] for t in listed) for key in summed},
            "budget": overall,
            # the tables' share in scope of the common expenses recorded, by what they were for
            "common_expenses": {
                purpose: prorated(cents * in_scope, Fraction(1))
                for purpose, cents in by_purpose.items()
            },
        },
    }


def personnel_cents(
    yearly_cost_cents: int, shares: Sequence[dict], period: Period, founded_on: date
) -> int:
    """The coordinator's cost to the table in the period: their yearly cost times the share
    of their time in force on each day (``shares``: ``from_day`` and ``share_percent``, the
    founding's and each appointment's), for the period's days since the table was founded,
    each day 1/365 or 1/366 of its year; rounded half up once, at the end."""
    ordered = sorted(shares, key=lambda s: s["from_day"])
    exact = Fraction(0)
    for n, part in enumerate(ordered):
        # the first share known holds from the founding (a read model kept from before the
        # shares were may know only a later one)
        since = max(founded_on if n == 0 else part["from_day"], founded_on, period.since)
        until = period.until
        if n + 1 < len(ordered):
            until = min(until, ordered[n + 1]["from_day"] - timedelta(days=1))
        if since > until:
            continue
        yearly = Fraction(yearly_cost_cents * part["share_percent"], 100)
        exact += yearly * year_fraction(Period(since, until))
    return divide_half_up(exact.numerator, exact.denominator)


ACTUAL_KEYS = (
    "personnel_cents",
    "meeting_fees_cents",
    "personnel_and_fees_cents",
    "meetings_cents",
    "activities_cents",
    "rounds_cents",
    "programmes_cents",
    "table_budget_cents",
    "common_expenses_cents",
)


def finish(budget: dict) -> None:
    """Each side's total, and what is left of the plan (negative: spent past it)."""
    planned, actual = budget["planned"], budget["actual"]
    parts = ("personnel_and_fees_cents", "table_budget_cents", "common_expenses_cents")
    planned["total_cents"] = sum(planned[k] for k in parts)
    actual["total_cents"] = sum(actual[k] for k in parts)
    budget["left_cents"] = planned["total_cents"] - actual["total_cents"]


# --- the whole report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where the report looks: a period, and a region or a table (or the whole city)."""

    period: Period
    region: str | None = None
    table: str | None = None


def report(data: dict[str, list[dict]], scope: Scope, regions: Sequence[str], plan: Plan) -> dict:
    """The four sections from the rows ``fetch`` read."""
    period = scope.period
    return {
        "period": {
            "from": period.since.isoformat(),
            "until": period.until.isoformat(),
            "days": period.days,
        },
        "region": scope.region,
        "table": scope.table,
        "city": city(
            data["charges"],
            data["requests"],
            data["assigned"],
            data["providers"],
            data["contracts"],
            regions,
            period,
        ),
        "providers": providers(
            data["providers"], data["offers"], data["assigned"], data["charges"], period
        ),
        "community": community(
            data["requests"],
            data["assigned"],
            data["attendance"],
            data["events"],
            data["ballots"],
            data["initiatives"],
            period,
        ),
        "tables": tables(
            data["tables"],
            data["budgets"],
            data["meetings"],
            data["events"],
            data["funds"],
            data["initiatives"],
            data["charges"],
            data["founded"][0]["count"],
            period,
            plan,
            shares=data.get("shares", ()),
            common=data.get("common_expenses", ()),
        ),
    }


# --- reading the read models --------------------------------------------------------------


async def fetch(
    pool: asyncpg.Pool, schema: str, scope: Scope, regions: Sequence[str] | None
) -> dict[str, list[dict]]:
    """The rows of the report's scope: ``regions`` None for the whole city."""
    s, p = schema, scope.period
    starts, ends = p.starts, p.ends
    b, e, le = (
        f"{s}.{board.PROJECTION}",
        f"{s}.{ledger.PROJECTION}_entries",
        f"{s}.{ledger.PROJECTION}",
    )
    a, o, d = (
        f"{s}.{arrangements.PROJECTION}",
        f"{s}.{offers.PROJECTION}",
        f"{s}.{directory.PROJECTION}",
    )
    in_regions = "($3::text[] IS NULL OR {col} = ANY($3::text[]))"

    async def rows(sql: str, *args: Any) -> list[dict]:
        return [dict(r) for r in await pool.fetch(sql, *args)]

    table_rows = await rows(
        f"""SELECT * FROM {s}.partnership_tables
            WHERE founded_on <= $1 AND ($2::text IS NULL OR table_id = $2)
              AND ($3::text[] IS NULL OR regions && $3::text[]) ORDER BY table_id""",
        p.until,
        scope.table,
        None if scope.table else regions,
    )
    ids = [t["table_id"] for t in table_rows]
    return {
        "charges": await rows(
            f"""SELECT l.partner_id, l.provider_id, x.outcome, x.amount_cents, x.minutes,
                       COALESCE(x.city_cents, x.amount_cents) AS city_cents, r.category, r.region
                FROM {e} x JOIN {le} l USING (contract_id)
                LEFT JOIN {b} r ON r.request_id = x.request_id
                WHERE x.outcome IN ('charged', 'reversed') AND x.at >= $1 AND x.at < $2
                  AND {in_regions.format(col="r.region")}""",
            starts,
            ends,
            regions,
        ),
        "requests": await rows(
            f"""SELECT request_id, category, region, status, rating, submitted_at FROM {b}
                WHERE submitted_at >= $1 AND submitted_at < $2
                  AND {in_regions.format(col="region")}""",
            starts,
            ends,
            regions,
        ),
        "assigned": await rows(
            f"""SELECT request_id, provider_id, category, region, status, submitted_at,
                       assigned_at, completed_at, confirmed_at FROM {a}
                WHERE ((assigned_at >= $1 AND assigned_at < $2)
                    OR (confirmed_at >= $1 AND confirmed_at < $2)
                    OR (submitted_at >= $1 AND submitted_at < $2))
                  AND {in_regions.format(col="region")}""",
            starts,
            ends,
            regions,
        ),
        "offers": await rows(
            f"""SELECT x.provider_id, x.status, r.category FROM {o} x
                LEFT JOIN {b} r USING (request_id)
                WHERE x.offered_at >= $1 AND x.offered_at < $2
                  AND {in_regions.format(col="r.region")}""",
            starts,
            ends,
            regions,
        ),
        "providers": await rows(
            f"SELECT provider_id, name, kind, regions FROM {d} ORDER BY provider_id"
        ),
        "contracts": await rows(
            f"""SELECT contract_id, partner_id, regions, status, valid_from, valid_until
                FROM {le}"""
        ),
        "tables": table_rows,
        "founded": await rows(
            f"SELECT count(*) AS count FROM {s}.partnership_tables WHERE founded_on <= $1", p.until
        ),
        "budgets": await rows(
            f"SELECT table_id, year, budget_cents FROM {s}.table_budgets WHERE table_id = ANY($1)",
            ids,
        ),
        "meetings": await rows(
            f"""SELECT table_id, meeting_id, on_day, attendees, cost_cents, fees_cents
                FROM {s}.table_meetings
                WHERE held AND table_id = ANY($1) AND on_day BETWEEN $2 AND $3""",
            ids,
            p.since,
            p.until,
        ),
        "attendance": await rows(
            f"""SELECT table_id, meeting_id, member_id FROM {s}.table_attendance
                WHERE table_id = ANY($1) AND on_day BETWEEN $2 AND $3""",
            ids,
            p.since,
            p.until,
        ),
        "events": await rows(
            f"""SELECT table_id, event_id, kind, attendance, cost_cents FROM {s}.table_events
                WHERE held AND table_id = ANY($1) AND on_day BETWEEN $2 AND $3""",
            ids,
            p.since,
            p.until,
        ),
        "funds": await rows(
            f"""SELECT table_id, movement, kind, ref, cents FROM {s}.table_funds
                WHERE table_id = ANY($1) AND on_day BETWEEN $2 AND $3""",
            ids,
            p.since,
            p.until,
        ),
        "initiatives": await rows(
            f"""SELECT table_id, initiative_id, origin, raised_on, forwarded_on, answered_on
                FROM {s}.table_initiatives WHERE table_id = ANY($1)""",
            ids,
        ),
        "shares": await rows(
            f"""SELECT table_id, from_day, share_percent FROM {s}.table_coordinator_shares
                WHERE table_id = ANY($1) ORDER BY table_id, from_day""",
            ids,
        ),
        "common_expenses": await rows(
            f"""SELECT expense_id, amount_cents, on_day, purpose FROM {s}.table_common_expenses
                WHERE on_day BETWEEN $1 AND $2""",
            p.since,
            p.until,
        ),
        "ballots": await rows(
            f"""SELECT table_id, round_id, channel, replaces, at FROM {s}.table_ballots
                WHERE table_id = ANY($1) AND at >= $2 AND at < $3""",
            ids,
            starts,
            ends,
        ),
    }


async def table_regions(pool: asyncpg.Pool, schema: str, table_id: str) -> list[str] | None:
    """The regions of a table, or None when there is no such table."""
    found = await pool.fetchval(
        f"SELECT regions FROM {schema}.partnership_tables WHERE table_id = $1", table_id
    )
    return None if found is None else list(found)


# The report's figures as rows (section, figure, scope, value): the CSV, one figure a row.
def rows_of(report_: dict) -> Iterable[tuple[str, str, str, Any]]:
    city_ = report_["city"]
    for key, value in city_["spending"].items():
        yield "city", f"spending_{key}", "city", value
    for c in city_["categories"]:
        for key in ("services", "cents", "cost_per_service_cents"):
            yield "city", key, f"category:{c['category']}", c[key]
    for c in city_["coverage"]:
        for key in ("requests", "assigned", "coverage_percent", "providers", "contracts"):
            yield "city", key, f"region:{c['region']}", c[key]
    for key in ("median_minutes_to_assignment", "requests", "unmatched", "unmatched_percent"):
        yield "city", key, "city", city_[key]
    for p in report_["providers"]["providers"]:
        for key, value in p.items():
            if key not in ("provider_id", "name", "kind"):
                yield "providers", key, f"provider:{p['provider_id']}", value
    for c in report_["providers"]["categories"]:
        for key, value in c.items():
            if key != "category":
                yield "providers", key, f"category:{c['category']}", value
    com = report_["community"]
    yield "community", "requests_fulfilled", "city", com["requests_fulfilled"]
    yield "community", "ratings_count", "city", com["ratings"]["count"]
    yield "community", "ratings_average", "city", com["ratings"]["average"]
    for key, value in com["participation"].items():
        yield "community", key, "city", value
    for key in ("raised", "forwarded", "answered", "city_share_percent"):
        yield "community", f"initiatives_{key}", "city", com["initiatives"][key]
    for origin, value in com["initiatives"]["by_origin"].items():
        yield "community", "initiatives_raised", f"origin:{origin}", value
    for t in [*report_["tables"]["tables"], {**report_["tables"]["all"], "table_id": None}]:
        where = f"table:{t['table_id']}" if t["table_id"] else "city"
        for key in (
            "meetings_held",
            "meeting_attendees",
            "events_held",
            "event_attendance",
            "initiatives",
            "statements",
        ):
            yield "tables", key, where, t[key]
        for side in ("planned", "actual"):
            for key, value in t["budget"][side].items():
                yield "tables", f"budget_{side}_{key}", where, value
        yield "tables", "budget_left_cents", where, t["budget"]["left_cents"]
    for purpose, value in report_["tables"]["all"]["common_expenses"].items():
        yield "tables", "common_expenses_cents", f"purpose:{purpose}", value
