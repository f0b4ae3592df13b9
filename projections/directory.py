"""The provider directory: every registered community provider, what it does and where."""

from __future__ import annotations

from typing import Any

import asyncpg

from contracts.events import IntegrationEvent, ProviderRegisteredV1
from projections.schema import apply_in_order

PROJECTION = "directory"
UPSTREAM = "providers"

COLUMNS = "provider_id, name, kind, categories, regions, capacity, registered_at, position"


async def apply(pool: asyncpg.Pool, schema: str, run: list[tuple[int, IntegrationEvent]]) -> None:
    await apply_in_order(pool, schema, PROJECTION, UPSTREAM, run, _apply)


async def _apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
    if isinstance(event, ProviderRegisteredV1):
        await conn.execute(
            f"""INSERT INTO {schema}.directory ({COLUMNS})
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (provider_id) DO NOTHING""",
            event.provider_id,
            event.name,
            event.kind,
            event.categories,
            event.regions,
            event.capacity,
            event.occurred_at,
            position,
        )


async def list_providers(
    pool: asyncpg.Pool,
    schema: str,
    *,
    category: str | None = None,
    region: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM {schema}.directory
            WHERE ($1::text IS NULL OR $1 = ANY(categories))
              AND ($2::text IS NULL OR $2 = ANY(regions))
              AND ($3::text IS NULL OR kind = $3)
            ORDER BY name, provider_id LIMIT $4 OFFSET $5""",
        category,
        region,
        kind,
        limit,
        offset,
    )
    return [dict(r) for r in rows]
