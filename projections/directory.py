"""The provider directory: every registered community provider, what it does and where, how
many members it has, its status (active, paused or suspended) and the residents' ratings of its
work. It is public, so it holds only what anybody may read: no contact person or contact (a
person's phone or e-mail), no member's name, no reason of a pause or a suspension.

A pause is kept with its dates, so that the status follows the calendar without an event: it
is worked out for the day the query names. Ratings are read from the request board, which keeps
each rated request with its provider.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from typing import Any

import asyncpg

from contracts.events import (
    ProviderCapabilitiesChangedV1,
    ProviderMemberJoinedV1,
    ProviderMemberLeftV1,
    ProviderPausedV1,
    ProviderPauseEndedV1,
    ProviderRegisteredV1,
    ProviderReinstatedV1,
    ProviderSuspendedV1,
)
from projections.schema import ReadModel, each_event

PROJECTION = "directory"
UPSTREAM = "providers"
# The tables of this read model (`talkoot check` compares them with a replay).
TABLES = ("directory",)

COLUMNS = (
    "provider_id, name, kind, categories, regions, capacity, registered_at, position, "
    "business_id, lat, long, members"
)

STATUSES = ("active", "paused", "suspended")


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, each_event(_apply))


async def _apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
    table = f"{schema}.directory"
    match event:
        case ProviderRegisteredV1():
            await conn.execute(
                f"""INSERT INTO {table} ({COLUMNS})
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)
                    ON CONFLICT (provider_id) DO NOTHING""",
                event.provider_id,
                event.name,
                event.kind,
                event.categories,
                event.regions,
                event.capacity,
                event.occurred_at,
                position,
                event.business_id,
                event.lat,
                event.long,
            )
        case ProviderCapabilitiesChangedV1():
            await conn.execute(
                f"""UPDATE {table} SET categories = $2, regions = $3, capacity = $4,
                    position = $5 WHERE provider_id = $1""",
                event.provider_id,
                event.categories,
                event.regions,
                event.capacity,
                position,
            )
        case ProviderMemberJoinedV1() | ProviderMemberLeftV1():
            change = 1 if isinstance(event, ProviderMemberJoinedV1) else -1
            await conn.execute(
                f"""UPDATE {table} SET members = greatest(members + $2, 0), position = $3
                    WHERE provider_id = $1""",
                event.provider_id,
                change,
                position,
            )
        case ProviderPausedV1():
            pause = {
                "pause_id": event.pause_id,
                "starts": event.starts.isoformat(),
                "ends": event.ends.isoformat() if event.ends else None,
            }
            await conn.execute(
                f"""UPDATE {table} SET pauses = pauses || jsonb_build_array($2::jsonb),
                    position = $3 WHERE provider_id = $1""",
                event.provider_id,
                json.dumps(pause),
                position,
            )
        case ProviderPauseEndedV1():
            await conn.execute(
                f"""UPDATE {table} SET position = $3, pauses = coalesce(
                      (SELECT jsonb_agg(p) FROM jsonb_array_elements(pauses) p
                       WHERE p->>'pause_id' <> $2), '[]'::jsonb)
                    WHERE provider_id = $1""",
                event.provider_id,
                event.pause_id,
                position,
            )
        case ProviderSuspendedV1() | ProviderReinstatedV1():
            await conn.execute(
                f"UPDATE {table} SET suspended = $2, position = $3 WHERE provider_id = $1",
                event.provider_id,
                isinstance(event, ProviderSuspendedV1),
                position,
            )


async def list_providers(
    pool: asyncpg.Pool,
    schema: str,
    *,
    today: date,
    category: str | None = None,
    region: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Providers by name; ``status`` is as of ``today`` (the municipality's calendar day)."""
    rows = await pool.fetch(
        f"""SELECT * FROM (
              SELECT {", ".join(f"d.{c.strip()}" for c in COLUMNS.split(","))},
                CASE WHEN d.suspended THEN 'suspended'
                     WHEN EXISTS (
                       SELECT 1 FROM jsonb_array_elements(d.pauses) p
                       WHERE (p->>'starts')::date <= $6
                         AND (p->>'ends' IS NULL OR (p->>'ends')::date >= $6))
                     THEN 'paused'
                     ELSE 'active' END AS status,
                r.rating_average, r.rating_count
              FROM {schema}.directory d
              CROSS JOIN LATERAL (
                SELECT round(avg(b.rating), 2)::float8 AS rating_average,
                       count(b.rating) AS rating_count
                FROM {schema}.board b
                WHERE b.provider_id = d.provider_id AND b.rating IS NOT NULL) r
              WHERE ($1::text IS NULL OR $1 = ANY(d.categories))
                AND ($2::text IS NULL OR $2 = ANY(d.regions))
                AND ($3::text IS NULL OR d.kind = $3)
            ) listed
            WHERE ($7::text IS NULL OR listed.status = $7)
            ORDER BY name, provider_id LIMIT $4 OFFSET $5""",
        category,
        region,
        kind,
        limit,
        offset,
        today,
        status,
    )
    return [dict(r) for r in rows]


async def wait_for_provider(
    pool: asyncpg.Pool, schema: str, provider_id: str, timeout: float
) -> bool:
    """Whether ``provider_id`` is registered: in the directory now, or within ``timeout``
    seconds (one registered a moment ago may not have reached it yet)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if await pool.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {schema}.directory WHERE provider_id = $1)",
            provider_id,
        ):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.2)
