"""The partnership tables as the impact report reads them: each table and its budgets, members,
meetings (attendees and the fees they accrued), events, what was set aside from and given back
to its budget, fee payouts, initiatives from raising to the city's answer, the programmes they
funded, and the budgeting rounds with their proposals and ballots.

Public, so it keeps only what anybody may read. Ballots are secret: a ballot is kept as the
fact that one was cast (when, on paper or online, whether it replaced the same voter's earlier
one), never who cast it or what it chose (the events carry neither). No resident's id either:
not who supported an initiative, raised it or made a proposal.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from contracts.events import (
    BallotCastV1,
    CommonExpenseRecordedV1,
    InitiativeAnsweredV1,
    InitiativeClosedV1,
    InitiativeDiscussedV1,
    InitiativeForwardedV1,
    InitiativeImplementedV1,
    InitiativeRaisedV1,
    InitiativeSupportedV1,
    MeetingFeesPaidV1,
    MeetingHeldV1,
    MeetingPlannedV1,
    ProgrammeFundedV1,
    ProposalMadeV1,
    ProposalReviewedV1,
    ProposalSelectedV1,
    RoundAdvancedV1,
    RoundOpenedV1,
    RoundTalliedV1,
    TableBudgetSetV1,
    TableCoordinatorAppointedV1,
    TableEventHeldV1,
    TableEventPlannedV1,
    TableFoundedV1,
    TableFundsEarmarkedV1,
    TableFundsReleasedV1,
    TableMemberJoinedV1,
    TableMemberLeftV1,
)
from projections.schema import ReadModel, each_event

PROJECTION = "tables"
UPSTREAM = "tables"

# Every table of this read model, in the order they are created (and emptied for a rebuild).
TABLES = (
    "partnership_tables",
    "table_budgets",
    "table_members",
    "table_meetings",
    "table_attendance",
    "table_events",
    "table_funds",
    "table_payouts",
    "table_initiatives",
    "table_programmes",
    "table_rounds",
    "table_proposals",
    "table_ballots",
    "table_coordinator_shares",
)
# The city's tables of all tables together (no table_id): emptied for a rebuild too.
CITY_WIDE = ("table_common_expenses",)

DDL = """
CREATE TABLE IF NOT EXISTS {s}.partnership_tables (
    table_id text PRIMARY KEY,
    name text NOT NULL,
    regions text[] NOT NULL,
    coordinator text NOT NULL,
    coordinator_share_percent integer NOT NULL,
    coordinator_yearly_cost_cents bigint NOT NULL,
    yearly_budget_cents bigint NOT NULL,
    meeting_fee_cents bigint NOT NULL,
    meetings_per_year integer NOT NULL,
    support_threshold integer NOT NULL,
    answer_days integer NOT NULL,
    founded_on date NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.table_budgets (
    table_id text NOT NULL,
    year integer NOT NULL,
    budget_cents bigint NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (table_id, year)
);
CREATE TABLE IF NOT EXISTS {s}.table_members (
    table_id text NOT NULL,
    member_id text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    joined_on date NOT NULL,
    left_on date,
    position bigint NOT NULL,
    PRIMARY KEY (table_id, member_id)
);
CREATE TABLE IF NOT EXISTS {s}.table_meetings (
    meeting_id text PRIMARY KEY,
    table_id text NOT NULL,
    on_day date NOT NULL,
    agenda text NOT NULL DEFAULT '',
    held boolean NOT NULL DEFAULT false,
    attendees integer NOT NULL DEFAULT 0,
    decisions integer NOT NULL DEFAULT 0,
    discussed integer NOT NULL DEFAULT 0,
    cost_cents bigint NOT NULL DEFAULT 0,
    fee_cents bigint NOT NULL DEFAULT 0,
    fees_cents bigint NOT NULL DEFAULT 0,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS table_meetings_day ON {s}.table_meetings (table_id, on_day);
CREATE TABLE IF NOT EXISTS {s}.table_attendance (
    meeting_id text NOT NULL,
    member_id text NOT NULL,
    table_id text NOT NULL,
    on_day date NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);
CREATE TABLE IF NOT EXISTS {s}.table_events (
    event_id text PRIMARY KEY,
    table_id text NOT NULL,
    kind text NOT NULL,
    title text NOT NULL,
    on_day date NOT NULL,
    held boolean NOT NULL DEFAULT false,
    attendance integer NOT NULL DEFAULT 0,
    topics integer NOT NULL DEFAULT 0,
    cost_cents bigint NOT NULL DEFAULT 0,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.table_funds (
    position bigint PRIMARY KEY,
    table_id text NOT NULL,
    movement text NOT NULL,
    kind text NOT NULL,
    ref text NOT NULL,
    cents bigint NOT NULL,
    on_day date NOT NULL,
    note text NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.table_payouts (
    position bigint PRIMARY KEY,
    table_id text NOT NULL,
    period_from date,
    until date NOT NULL,
    total_cents bigint NOT NULL,
    lines integer NOT NULL,
    paid_by text NOT NULL,
    at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.table_initiatives (
    initiative_id text PRIMARY KEY,
    table_id text NOT NULL,
    title text NOT NULL,
    origin text NOT NULL,
    raised_on date NOT NULL,
    from_event text,
    status text NOT NULL,
    supports integer NOT NULL DEFAULT 0,
    discussed_on date,
    forwarded_on date,
    statement text,
    answered_on date,
    answer text,
    implemented_on date,
    closed_on date,
    programme_id text,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS table_initiatives_raised
    ON {s}.table_initiatives (table_id, raised_on);
CREATE TABLE IF NOT EXISTS {s}.table_programmes (
    programme_id text PRIMARY KEY,
    table_id text NOT NULL,
    initiative_id text NOT NULL,
    title text NOT NULL,
    provider_id text NOT NULL,
    categories text[] NOT NULL,
    regions text[] NOT NULL,
    unit_price_cents bigint NOT NULL,
    pricing text NOT NULL,
    budget_cents bigint NOT NULL,
    valid_from date NOT NULL,
    valid_until date NOT NULL,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.table_rounds (
    round_id text PRIMARY KEY,
    table_id text NOT NULL,
    title text NOT NULL,
    year integer NOT NULL,
    budget_cents bigint NOT NULL,
    rule text NOT NULL,
    phase text NOT NULL,
    opened_on date NOT NULL,
    ballots integer NOT NULL DEFAULT 0,
    funded text[] NOT NULL DEFAULT '{{}}',
    funded_cents bigint,
    left_cents bigint,
    tallied_at timestamptz,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.table_proposals (
    proposal_id text PRIMARY KEY,
    round_id text NOT NULL,
    table_id text NOT NULL,
    title text NOT NULL,
    cost_cents bigint NOT NULL,
    feasible boolean,
    selections integer NOT NULL DEFAULT 0,
    position bigint NOT NULL
);
-- A ballot cast: when, online or on paper, and whether it replaced the voter's earlier one.
CREATE TABLE IF NOT EXISTS {s}.table_ballots (
    position bigint PRIMARY KEY,
    round_id text NOT NULL,
    table_id text NOT NULL,
    channel text NOT NULL,
    replaces boolean NOT NULL,
    at timestamptz NOT NULL
);
-- The share of their time the table's coordinator gives it, from a day on: from the founding,
-- then from the Lahti day of each appointment (a later one on the same day replaces it).
CREATE TABLE IF NOT EXISTS {s}.table_coordinator_shares (
    table_id text NOT NULL,
    from_day date NOT NULL,
    share_percent integer NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (table_id, from_day)
);
-- The common expenses of all the tables together (marketing, joint events, other).
CREATE TABLE IF NOT EXISTS {s}.table_common_expenses (
    expense_id text PRIMARY KEY,
    year integer NOT NULL,
    amount_cents bigint NOT NULL,
    on_day date NOT NULL,
    purpose text NOT NULL,
    note text NOT NULL,
    recorded_by text NOT NULL,
    at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS table_common_expenses_day ON {s}.table_common_expenses (on_day);
"""


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, each_event(_apply))


async def _apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
    s, at = schema, event.occurred_at
    match event:
        case TableFoundedV1():
            await conn.execute(
                f"""INSERT INTO {s}.partnership_tables (table_id, name, regions, coordinator,
                    coordinator_share_percent, coordinator_yearly_cost_cents,
                    yearly_budget_cents, meeting_fee_cents, meetings_per_year,
                    support_threshold, answer_days, founded_on, updated_at, position)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                    ON CONFLICT (table_id) DO NOTHING""",
                event.table_id,
                event.name,
                event.regions,
                event.coordinator,
                event.coordinator_share_percent,
                event.coordinator_yearly_cost_cents,
                event.yearly_budget_cents,
                event.meeting_fee_cents,
                event.meetings_per_year,
                event.support_threshold,
                event.answer_days,
                event.founded_on,
                at,
                position,
            )
            await _share_from(
                conn, s, event.table_id, event.founded_on, event.coordinator_share_percent, position
            )
        case TableCoordinatorAppointedV1():
            await conn.execute(
                f"""UPDATE {s}.partnership_tables SET coordinator = $2,
                    coordinator_share_percent = $3, updated_at = $4, position = $5
                    WHERE table_id = $1""",
                event.table_id,
                event.coordinator,
                event.share_percent,
                at,
                position,
            )
            # from the day it was recorded, in Lahti
            day = await conn.fetchval(
                "SELECT ($1::timestamptz AT TIME ZONE 'Europe/Helsinki')::date", at
            )
            await _share_from(conn, s, event.table_id, day, event.share_percent, position)
        case TableBudgetSetV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_budgets (table_id, year, budget_cents, position)
                    VALUES ($1, $2, $3, $4) ON CONFLICT (table_id, year)
                    DO UPDATE SET budget_cents = $3, position = $4""",
                event.table_id,
                event.year,
                event.budget_cents,
                position,
            )
        case TableMemberJoinedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_members (table_id, member_id, name, kind, joined_on,
                    position) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (table_id, member_id)
                    DO UPDATE SET name = $3, kind = $4, joined_on = $5, left_on = NULL,
                    position = $6""",
                event.table_id,
                event.member_id,
                event.name,
                event.kind,
                event.on,
                position,
            )
        case TableMemberLeftV1():
            await conn.execute(
                f"""UPDATE {s}.table_members SET left_on = $3, position = $4
                    WHERE table_id = $1 AND member_id = $2""",
                event.table_id,
                event.member_id,
                event.on,
                position,
            )
        case MeetingPlannedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_meetings (meeting_id, table_id, on_day, agenda,
                    position) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (meeting_id) DO NOTHING""",
                event.meeting_id,
                event.table_id,
                event.on,
                event.agenda,
                position,
            )
        case MeetingHeldV1():
            await _meeting_held(conn, s, event, position)
        case MeetingFeesPaidV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_payouts (position, table_id, period_from, until,
                    total_cents, lines, paid_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (position) DO NOTHING""",
                position,
                event.table_id,
                event.period_from,
                event.until,
                event.total_cents,
                len(event.lines),
                event.paid_by,
                at,
            )
        case TableEventPlannedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_events (event_id, table_id, kind, title, on_day,
                    position) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING""",
                event.event_id,
                event.table_id,
                event.kind,
                event.title,
                event.on,
                position,
            )
        case TableEventHeldV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_events (event_id, table_id, kind, title, on_day, held,
                    attendance, topics, cost_cents, position)
                    VALUES ($1, $2, $3, '', $4, true, $5, $6, $7, $8)
                    ON CONFLICT (event_id) DO UPDATE SET on_day = $4, held = true,
                    attendance = $5, topics = $6, cost_cents = $7, position = $8""",
                event.event_id,
                event.table_id,
                event.kind,
                event.on,
                event.attendance,
                len(event.topics),
                event.cost_cents,
                position,
            )
        case TableFundsEarmarkedV1() | TableFundsReleasedV1():
            movement = "earmarked" if isinstance(event, TableFundsEarmarkedV1) else "released"
            await conn.execute(
                f"""INSERT INTO {s}.table_funds (position, table_id, movement, kind, ref, cents,
                    on_day, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (position) DO NOTHING""",
                position,
                event.table_id,
                movement,
                event.kind,
                event.ref,
                event.cents,
                event.on,
                event.note,
            )
        case InitiativeRaisedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_initiatives (initiative_id, table_id, title, origin,
                    raised_on, from_event, status, updated_at, position)
                    VALUES ($1, $2, $3, $4, $5, $6, 'raised', $7, $8)
                    ON CONFLICT (initiative_id) DO NOTHING""",
                event.initiative_id,
                event.table_id,
                event.title,
                event.origin,
                event.raised_on,
                event.from_event,
                at,
                position,
            )
        case InitiativeSupportedV1():
            # how many, never who
            await _initiative(conn, s, event, position, "supports = supports + 1")
        case InitiativeDiscussedV1():
            await _initiative(
                conn,
                s,
                event,
                position,
                "discussed_on = $4, status = 'discussed'",
                event.on,
            )
        case InitiativeForwardedV1():
            await _initiative(
                conn,
                s,
                event,
                position,
                "forwarded_on = $4, statement = $5, status = 'forwarded'",
                event.on,
                event.statement,
            )
        case InitiativeAnsweredV1():
            await _initiative(
                conn,
                s,
                event,
                position,
                "answered_on = $4, answer = $5, status = 'answered'",
                event.on,
                event.answer,
            )
        case InitiativeImplementedV1():
            await _initiative(
                conn, s, event, position, "implemented_on = $4, status = 'implemented'", event.on
            )
        case InitiativeClosedV1():
            await _initiative(
                conn, s, event, position, "closed_on = $4, status = 'closed'", event.on
            )
        case ProgrammeFundedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_programmes (programme_id, table_id, initiative_id,
                    title, provider_id, categories, regions, unit_price_cents, pricing,
                    budget_cents, valid_from, valid_until, position)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                    ON CONFLICT (programme_id) DO NOTHING""",
                event.programme_id,
                event.table_id,
                event.initiative_id,
                event.title,
                event.provider_id,
                event.categories,
                event.regions,
                event.unit_price_cents,
                event.pricing,
                event.budget_cents,
                event.valid_from,
                event.valid_until,
                position,
            )
            await _initiative(conn, s, event, position, "programme_id = $4", event.programme_id)
        case RoundOpenedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_rounds (round_id, table_id, title, year, budget_cents,
                    rule, phase, opened_on, position)
                    VALUES ($1, $2, $3, $4, $5, $6, 'proposals', $7, $8)
                    ON CONFLICT (round_id) DO NOTHING""",
                event.round_id,
                event.table_id,
                event.title,
                event.year,
                event.budget_cents,
                event.rule,
                event.opened_on,
                position,
            )
        case RoundAdvancedV1():
            await conn.execute(
                f"UPDATE {s}.table_rounds SET phase = $2, position = $3 WHERE round_id = $1",
                event.round_id,
                event.phase,
                position,
            )
        case ProposalMadeV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_proposals (proposal_id, round_id, table_id, title,
                    cost_cents, position) VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (proposal_id) DO NOTHING""",
                event.proposal_id,
                event.round_id,
                event.table_id,
                event.title,
                event.cost_cents,
                position,
            )
        case ProposalReviewedV1():
            await conn.execute(
                f"""UPDATE {s}.table_proposals SET feasible = $2, cost_cents = $3, position = $4
                    WHERE proposal_id = $1""",
                event.proposal_id,
                event.feasible,
                event.cost_cents,
                position,
            )
        case ProposalSelectedV1():
            await conn.execute(
                f"""UPDATE {s}.table_proposals SET selections = selections + 1, position = $2
                    WHERE proposal_id = $1""",
                event.proposal_id,
                position,
            )
        case BallotCastV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_ballots (position, round_id, table_id, channel,
                    replaces, at) VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (position) DO NOTHING""",
                position,
                event.round_id,
                event.table_id,
                event.channel,
                event.replaces,
                at,
            )
        case CommonExpenseRecordedV1():
            await conn.execute(
                f"""INSERT INTO {s}.table_common_expenses (expense_id, year, amount_cents,
                    on_day, purpose, note, recorded_by, at, position)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (expense_id) DO NOTHING""",
                event.expense_id,
                event.year,
                event.amount_cents,
                event.on,
                event.purpose,
                event.note,
                event.recorded_by,
                at,
                position,
            )
        case RoundTalliedV1():
            await conn.execute(
                f"""UPDATE {s}.table_rounds SET phase = 'tallied', ballots = $2, funded = $3,
                    funded_cents = $4, left_cents = $5, tallied_at = $6, position = $7
                    WHERE round_id = $1""",
                event.round_id,
                event.ballots,
                event.funded,
                event.funded_cents,
                event.left_cents,
                at,
                position,
            )


async def _share_from(
    conn: asyncpg.Connection, s: str, table_id: str, day: Any, share: int, position: int
) -> None:
    """The coordinator's share from ``day`` on; a redelivered older event changes nothing."""
    await conn.execute(
        f"""INSERT INTO {s}.table_coordinator_shares (table_id, from_day, share_percent,
            position) VALUES ($1, $2, $3, $4) ON CONFLICT (table_id, from_day)
            DO UPDATE SET share_percent = $3, position = $4
            WHERE {s}.table_coordinator_shares.position < $4""",
        table_id,
        day,
        share,
        position,
    )


async def _meeting_held(
    conn: asyncpg.Connection, s: str, event: MeetingHeldV1, position: int
) -> None:
    """The meeting as held (planned or not), and who attended it: each earned the fee."""
    attendees = sorted(set(event.attendees))
    await conn.execute(
        f"""INSERT INTO {s}.table_meetings (meeting_id, table_id, on_day, held, attendees,
            decisions, discussed, cost_cents, fee_cents, fees_cents, position)
            VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (meeting_id) DO UPDATE SET on_day = $3, held = true, attendees = $4,
            decisions = $5, discussed = $6, cost_cents = $7, fee_cents = $8, fees_cents = $9,
            position = $10""",
        event.meeting_id,
        event.table_id,
        event.on,
        len(attendees),
        len(event.decisions),
        len(event.discussed),
        event.cost_cents,
        event.fee_cents,
        len(attendees) * event.fee_cents,
        position,
    )
    await conn.executemany(
        f"""INSERT INTO {s}.table_attendance (meeting_id, member_id, table_id, on_day)
            VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        [(event.meeting_id, member, event.table_id, event.on) for member in attendees],
    )


async def _initiative(
    conn: asyncpg.Connection, s: str, event: Any, position: int, change: str, *values: Any
) -> None:
    """``change`` (a SET list whose values are $4 on) to the event's initiative."""
    await conn.execute(
        f"UPDATE {s}.table_initiatives SET {change}, updated_at = $2, position = $3 "
        "WHERE initiative_id = $1",
        event.initiative_id,
        event.occurred_at,
        position,
        *values,
    )


async def forget(conn: asyncpg.Connection, schema: str) -> None:
    """Empty the read model and its tracking row, for a rebuild by replay from the start."""
    async with conn.transaction():
        for table in TABLES + CITY_WIDE:
            await conn.execute(f"DELETE FROM {schema}.{table}")
        await conn.execute(
            f"DELETE FROM {schema}.tracking WHERE projection = $1 AND upstream = $2",
            PROJECTION,
            UPSTREAM,
        )
