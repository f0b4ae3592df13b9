"""The read-model tables and the tracking table beside them, in one schema per installation."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

import asyncpg

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def read_schema(namespace: str) -> str:
    name = f"{namespace}_read".lower().replace("-", "_")
    if not _NAME.match(name):
        raise ValueError(f"namespace {namespace!r} makes no valid schema name")
    return name


DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.tracking (
    projection text NOT NULL,
    upstream text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (projection, upstream)
);
-- The dead letters replayed into a projection, each once: see ReadModel.replay.
CREATE TABLE IF NOT EXISTS {s}.replayed (
    projection text NOT NULL,
    upstream text NOT NULL,
    seq bigint NOT NULL,
    position bigint NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, upstream, seq)
);
CREATE TABLE IF NOT EXISTS {s}.board (
    request_id text PRIMARY KEY,
    resident_id text NOT NULL,
    category text NOT NULL,
    region text NOT NULL,
    description text NOT NULL,
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    status text NOT NULL,
    offer_id text,
    provider_id text,
    contract_id text,
    minutes integer,
    reason text,
    submitted_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS board_status ON {s}.board (status, submitted_at);
CREATE TABLE IF NOT EXISTS {s}.ledger (
    contract_id text PRIMARY KEY,
    partner_id text NOT NULL,
    provider_id text NOT NULL,
    categories text[] NOT NULL,
    regions text[] NOT NULL,
    unit_price_cents bigint NOT NULL,
    budget_cents bigint NOT NULL,
    charged_cents bigint NOT NULL DEFAULT 0,
    remaining_cents bigint NOT NULL,
    charges integer NOT NULL DEFAULT 0,
    refusals integer NOT NULL DEFAULT 0,
    status text NOT NULL,
    signed_by_partner text,
    signed_by_provider text,
    valid_from date NOT NULL,
    valid_until date NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.ledger_entries (
    position bigint PRIMARY KEY,
    contract_id text NOT NULL,
    request_id text NOT NULL,
    outcome text NOT NULL,
    minutes integer NOT NULL,
    amount_cents bigint NOT NULL,
    remaining_cents bigint NOT NULL,
    reason text,
    at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.directory (
    provider_id text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    categories text[] NOT NULL,
    regions text[] NOT NULL,
    capacity integer NOT NULL,
    registered_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_entries_contract ON {s}.ledger_entries (contract_id, position);
-- Added with the full request lifecycle; empty for requests projected before it.
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS address text NOT NULL DEFAULT '';
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS lat double precision;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS long double precision;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS channel text NOT NULL DEFAULT 'api';
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS series_id text;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS partner_id text;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS completed_at timestamptz;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS rating smallint;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS rating_comment text;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS media_url text NOT NULL DEFAULT '';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS proposed_by text NOT NULL DEFAULT '';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS partner_signatures_needed integer NOT NULL
    DEFAULT 1;
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS partner_signers text[] NOT NULL DEFAULT '{{}}';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS amendment jsonb;
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS reason text NOT NULL DEFAULT '';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS terminated_on date;
ALTER TABLE {s}.ledger_entries ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;
-- Added with prices per job, service vouchers, budget alerts and reversals: contracts
-- projected before are per hour without a voucher, and their charges the city's in whole.
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS pricing text NOT NULL DEFAULT 'hour';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS voucher_cents bigint;
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS alerts jsonb NOT NULL DEFAULT '[]';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS budget_version integer NOT NULL DEFAULT 1;
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS price_versions jsonb NOT NULL DEFAULT '[]';
ALTER TABLE {s}.ledger ADD COLUMN IF NOT EXISTS reversals integer NOT NULL DEFAULT 0;
ALTER TABLE {s}.ledger_entries ADD COLUMN IF NOT EXISTS city_cents bigint;
ALTER TABLE {s}.ledger_entries ADD COLUMN IF NOT EXISTS resident_cents bigint NOT NULL DEFAULT 0;
UPDATE {s}.board SET completed_at = updated_at WHERE status = 'completed' AND completed_at IS NULL;
CREATE INDEX IF NOT EXISTS board_submitted ON {s}.board (submitted_at DESC, request_id);
CREATE INDEX IF NOT EXISTS board_waiting ON {s}.board (window_end)
    WHERE status IN ('submitted', 'offered', 'unmatched');
CREATE INDEX IF NOT EXISTS board_completed ON {s}.board (completed_at) WHERE status = 'completed';
CREATE INDEX IF NOT EXISTS board_provider ON {s}.board (provider_id, status);
-- Each reader's own requests: a resident's, and a municipal partner's.
CREATE INDEX IF NOT EXISTS board_resident ON {s}.board (resident_id, submitted_at DESC);
CREATE INDEX IF NOT EXISTS board_partner ON {s}.board (partner_id, submitted_at DESC);
-- Added with provider members, pauses and suspension; defaults for providers projected before.
ALTER TABLE {s}.directory ADD COLUMN IF NOT EXISTS business_id text;
ALTER TABLE {s}.directory ADD COLUMN IF NOT EXISTS lat double precision;
ALTER TABLE {s}.directory ADD COLUMN IF NOT EXISTS long double precision;
ALTER TABLE {s}.directory ADD COLUMN IF NOT EXISTS members integer NOT NULL DEFAULT 0;
ALTER TABLE {s}.directory ADD COLUMN IF NOT EXISTS suspended boolean NOT NULL DEFAULT false;
ALTER TABLE {s}.directory ADD COLUMN IF NOT EXISTS pauses jsonb NOT NULL DEFAULT '[]';
-- Recurring requests (series), the occurrences they scheduled, and declared snowfall days.
CREATE TABLE IF NOT EXISTS {s}.series (
    series_id text PRIMARY KEY,
    resident_id text NOT NULL,
    category text NOT NULL,
    region text NOT NULL,
    rule text NOT NULL,
    description text NOT NULL,
    status text NOT NULL,
    paused_until date,
    ended_reason text,
    occurrences integer NOT NULL DEFAULT 0,
    last_day date,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS series_resident ON {s}.series (resident_id, status);
CREATE INDEX IF NOT EXISTS series_rule ON {s}.series (rule, status);
CREATE TABLE IF NOT EXISTS {s}.series_occurrences (
    series_id text NOT NULL,
    day date NOT NULL,
    request_id text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (series_id, day)
);
CREATE TABLE IF NOT EXISTS {s}.snowfall_days (
    day date PRIMARY KEY,
    day_id text NOT NULL,
    regions text[] NOT NULL,
    declared_by text NOT NULL,
    declared_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS board_series ON {s}.board (series_id, window_start);
-- Every offer matching made, for the providers' inboxes.
CREATE TABLE IF NOT EXISTS {s}.offers (
    offer_id text PRIMARY KEY,
    request_id text NOT NULL,
    provider_id text NOT NULL,
    contract_id text NOT NULL,
    partner_id text NOT NULL,
    status text NOT NULL,
    answer text NOT NULL,
    offered_at timestamptz NOT NULL,
    expires_at timestamptz,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS offers_provider ON {s}.offers (provider_id, offered_at DESC);
-- Residents' personal data, sealed for each resident (contracts/personal.py): where the work
-- is and what they wrote, never in clear.
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS request_sealed jsonb;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS reason_sealed jsonb;
ALTER TABLE {s}.board ADD COLUMN IF NOT EXISTS rating_sealed jsonb;
ALTER TABLE {s}.series ADD COLUMN IF NOT EXISTS description_sealed jsonb;
ALTER TABLE {s}.series ADD COLUMN IF NOT EXISTS ended_sealed jsonb;
-- The partners' audit trail (projections/arrangements.py): each request assigned under a
-- contract, the resident as a pseudonym; and every event about a request, from every stream.
-- city_share_cents and resident_share_cents are for the split of the amount, filled later.
CREATE TABLE IF NOT EXISTS {s}.arrangements (
    request_id text PRIMARY KEY,
    resident text,
    category text,
    region text,
    provider_id text,
    contract_id text,
    contract_version integer,
    partner_id text,
    minutes integer,
    charged_minutes integer,
    amount_cents bigint,
    city_share_cents bigint,
    resident_share_cents bigint,
    submitted_at timestamptz,
    assigned_at timestamptz,
    completed_at timestamptz,
    confirmed_at timestamptz,
    charged_at timestamptz,
    disputed_at timestamptz,
    ruled_at timestamptz,
    ruling text,
    cancelled_at timestamptz,
    status text NOT NULL DEFAULT 'assigned',
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS arrangements_partner ON {s}.arrangements (partner_id, assigned_at);
CREATE INDEX IF NOT EXISTS arrangements_assigned ON {s}.arrangements (assigned_at, request_id);
CREATE TABLE IF NOT EXISTS {s}.arrangement_timeline (
    upstream text NOT NULL,
    position bigint NOT NULL,
    request_id text NOT NULL,
    step text NOT NULL,
    event text NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    why text,
    details jsonb NOT NULL,
    PRIMARY KEY (upstream, position)
);
CREATE INDEX IF NOT EXISTS arrangement_timeline_request
    ON {s}.arrangement_timeline (request_id, at);
"""


def tables_ddl() -> str:
    # the partnership tables' read model keeps its DDL beside its handlers
    from projections.tables import DDL as TABLES_DDL

    return TABLES_DDL


# The digest of the DDL last run on a schema (one row): see ensure_read_models.
APPLIED = "ddl_applied"
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{s\}\.(\w+)")


async def ensure_read_models(pool: asyncpg.Pool, namespace: str) -> None:
    """Create the tables if missing and bring them to this version's shape. Every process
    calls this as it starts; the DDL's ``ALTER TABLE``s lock each table exclusively to the end
    of the transaction, which would hold up every query and the projector meanwhile (and can
    deadlock with a query of two tables), so it runs only when needed: when a table is
    missing or the DDL is not the one last run (its digest is kept in ``ddl_applied``).
    Serialised by an advisory lock."""
    schema = read_schema(namespace)
    ddl = (DDL.format(s=schema), tables_ddl().format(s=schema))
    digest = hashlib.sha256("".join(ddl).encode()).hexdigest()
    tables = [f"{schema}.{t}" for t in (*_TABLE.findall(DDL + tables_ddl()), APPLIED)]
    async with pool.acquire() as conn:
        if await _applied(conn, schema, tables, digest):
            return
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", schema)
            if await _applied(conn, schema, tables, digest):  # by another process meanwhile
                return
            for statements in ddl:
                await conn.execute(statements)
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {schema}.{APPLIED} (
                      one boolean PRIMARY KEY DEFAULT true CHECK (one), digest text NOT NULL)"""
            )
            await conn.execute(
                f"""INSERT INTO {schema}.{APPLIED} (digest) VALUES ($1)
                    ON CONFLICT (one) DO UPDATE SET digest = $1""",
                digest,
            )


async def _applied(conn: asyncpg.Connection, schema: str, tables: list[str], digest: str) -> bool:
    """Whether every table is there and the DDL last run is the one of ``digest``."""
    missing = await conn.fetchval(
        "SELECT count(*) FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL", tables
    )
    return not missing and await conn.fetchval(f"SELECT digest FROM {schema}.{APPLIED}") == digest


async def position_of(
    conn: asyncpg.Connection | asyncpg.Pool, schema: str, projection: str, upstream: str
) -> int:
    value = await conn.fetchval(
        f"SELECT position FROM {schema}.tracking WHERE projection = $1 AND upstream = $2",
        projection,
        upstream,
    )
    return value or 0


class Deferring:
    """The connection a read model's handler applies its events on: each ``execute`` is held
    back and sent as late as it can be, consecutive ones of the same statement together
    (asyncpg's ``executemany``, one round trip for them all). Anything else (a read, or an
    ``executemany`` of the handler's own) sends what is held first, so every statement runs
    in the order it was made, in the same transaction, and sees what came before it; the run
    sends the rest (``flush``) before it moves its tracking row. An error in a held statement
    is raised when it is sent, within the same run, which then fails as a whole.

    A replay of a read model's history is mostly consecutive events of one kind (the requests
    submitted, then offered): sent together, they cost a fraction of the round trips."""

    __slots__ = ("_args", "_conn", "_query")

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._query: str | None = None
        self._args: list[tuple] = []

    async def execute(self, query: str, *args: Any) -> None:
        if self._query == query and args:
            self._args.append(args)
            return
        await self.flush()
        if not args:  # a statement without arguments runs as ever (several in one string)
            await self._conn.execute(query)
            return
        self._query, self._args = query, [args]

    async def flush(self) -> None:
        """Send what is held."""
        if self._query is None:
            return
        query, args = self._query, self._args
        self._query, self._args = None, []
        if len(args) == 1:
            await self._conn.execute(query, *args[0])
        else:
            await self._conn.executemany(query, args)

    async def executemany(self, query: str, args: Any) -> None:
        await self.flush()
        await self._conn.executemany(query, args)

    async def fetch(self, query: str, *args: Any) -> list:
        await self.flush()
        return await self._conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self._conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self._conn.fetchval(query, *args)


Apply = Callable[[Any, str, Any, int], Awaitable[None]]  # (conn, schema, event, position)
ApplyRun = Callable[[Any, str, list[tuple[int, Any]]], Awaitable[None]]  # (conn, schema, run)


def each_event(apply: Apply) -> ApplyRun:
    """A run applied one event after another with ``apply``."""

    async def apply_run(conn: Any, schema: str, run: list[tuple[int, Any]]) -> None:
        for position, event in run:
            await apply(conn, schema, event, position)

    return apply_run


async def apply_in_order(
    pool: asyncpg.Pool,
    schema: str,
    projection: str,
    upstream: str,
    run: list[tuple[int, Any]],
    apply_run: ApplyRun,
) -> None:
    """Apply a run of upstream events to a projection's tables and move its tracking to the
    last, in one transaction. Events at or below the tracked position (redeliveries) are
    skipped: they changed the tables already."""
    async with pool.acquire() as conn, conn.transaction():
        # One statement makes the row if there is none, locks it and reads its position.
        applied = await conn.fetchval(
            f"""INSERT INTO {schema}.tracking AS t (projection, upstream, position)
                VALUES ($1, $2, 0) ON CONFLICT (projection, upstream)
                DO UPDATE SET position = t.position RETURNING t.position""",
            projection,
            upstream,
        )
        todo = [(position, event) for position, event in run if position > applied]
        if not todo:
            return
        deferring = Deferring(conn)
        await apply_run(deferring, schema, todo)
        await deferring.flush()
        await conn.execute(
            f"""UPDATE {schema}.tracking SET position = $3
                WHERE projection = $1 AND upstream = $2""",
            projection,
            upstream,
            todo[-1][0],
        )


class Inserted(NamedTuple):
    """An event's row made: ``statement`` (an INSERT ... ON CONFLICT DO NOTHING) with
    ``args``; a row already there is left as it is."""

    key: Any
    statement: str
    args: tuple


class Changed(NamedTuple):
    """An event's ``values`` set on its row, if the row is there, stamped with the event's
    time (``updated_at``) and position."""

    key: Any
    at: Any
    position: int
    values: dict[str, Any]


async def apply_rows(
    conn: Any, table: str, key_column: str, effects: Sequence[Inserted | Changed]
) -> None:
    """Apply a run's effects on the rows of ``table`` (each event's on the row its key names,
    in the run's order) as a set: a row's consecutive changes are merged into one (the later
    value of a column wins, the last event's time and position stamp it), and what is left
    goes in rounds, each row's first statement in the first, its second in the second, with
    the statements of a round that are alike one after another (so that ``Deferring``, the
    connection a run is applied on, sends them together). The rows end as if each event had
    been applied in turn, as long as every effect touches its own row alone and every value is
    a constant (so changes to one row commute with those to another, and two changes to one
    row make the one merged)."""
    steps: dict[Any, list[Inserted | Changed]] = {}
    for effect in effects:
        row = steps.setdefault(effect.key, [])
        if isinstance(effect, Changed) and row and isinstance(row[-1], Changed):
            row[-1] = Changed(
                effect.key, effect.at, effect.position, row[-1].values | effect.values
            )
        else:
            row.append(effect)
    for step in range(max(map(len, steps.values()), default=0)):
        alike: dict[str, list[tuple]] = {}
        for row in steps.values():
            if step < len(row):
                statement, args = _sent(table, key_column, row[step])
                alike.setdefault(statement, []).append(args)
        for statement, args in alike.items():  # one after another: Deferring sends them as one
            for one in args:
                await conn.execute(statement, *one)


def _sent(table: str, key_column: str, effect: Inserted | Changed) -> tuple[str, tuple]:
    if isinstance(effect, Inserted):
        return effect.statement, effect.args
    columns = sorted(effect.values)
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns, start=4))
    statement = (
        f"UPDATE {table} SET updated_at = $2, position = $3, {assignments} WHERE {key_column} = $1"
    )
    return statement, (effect.key, effect.at, effect.position, *(effect.values[c] for c in columns))


class ReadModel:
    """A projection as its consumer sees it: apply a run, move past a position without its
    event (a dead letter), and apply a dead letter once when an operator replays it."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        projection: str,
        upstream: str,
        apply_run: ApplyRun,
    ) -> None:
        """``apply_run`` applies a run of events (``each_event`` makes one of a function that
        applies one)."""
        self.pool, self.schema = pool, schema
        self.projection, self.upstream = projection, upstream
        self.apply_run = apply_run

    async def __call__(self, run: list[tuple[int, Any]]) -> None:
        await apply_in_order(
            self.pool, self.schema, self.projection, self.upstream, run, self.apply_run
        )

    async def skip(self, position: int) -> None:
        """Move the tracking row to ``position`` (unless it is past it), tables untouched."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                f"""INSERT INTO {self.schema}.tracking AS t (projection, upstream, position)
                    VALUES ($1, $2, $3) ON CONFLICT (projection, upstream)
                    DO UPDATE SET position = $3 WHERE t.position < $3""",
                self.projection,
                self.upstream,
                position,
            )

    async def replay(self, position: int, event: Any, seq: int) -> bool:
        """Apply dead letter ``seq`` in one transaction with the row that says it was replayed;
        False (and nothing changed) if that row is there already. The tracking row stays: the
        consumer moved past this position when it set the event aside. The event applies to
        the tables as they are now, after the events that came after it."""
        async with self.pool.acquire() as conn, conn.transaction():
            marked = await conn.fetchval(
                f"""INSERT INTO {self.schema}.replayed (projection, upstream, seq, position)
                    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING seq""",
                self.projection,
                self.upstream,
                seq,
                position,
            )
            if marked is None:
                return False
            deferring = Deferring(conn)
            await self.apply_run(deferring, self.schema, [(position, event)])
            await deferring.flush()
        return True


async def wait_for(
    pool: asyncpg.Pool,
    schema: str,
    projection: str,
    upstream: str,
    position: int,
    timeout: float,
) -> bool:
    """Wait until the projection has applied ``position`` of ``upstream``; False on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if await position_of(pool, schema, projection, upstream) >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.2)


async def update_row(
    conn: asyncpg.Connection,
    table: str,
    key: tuple[str, str],
    position: int,
    at: Any,
    **values: Any,
) -> None:
    """Set ``values`` on the row of ``table`` whose ``key`` column has the key's value, and
    stamp it with the event's time and position."""
    column, value = key
    statement, args = _sent(table, column, Changed(value, at, position, values))
    await conn.execute(statement, *args)
