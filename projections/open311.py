"""The request board as an Open311 GeoReport client sees it: the queries behind GET requests,
with the name of the provider who took each request from the provider directory."""

from __future__ import annotations

from datetime import datetime

import asyncpg

# Board statuses after which nothing more happens to a request: Open311's "closed".
CLOSED_STATUSES = ("confirmed", "cancelled", "voided", "expired")

COLUMNS = """b.request_id, b.resident_id, b.category, b.region, b.description, b.status,
    b.reason, b.provider_id, b.contract_id, b.window_start, b.window_end, b.submitted_at,
    b.updated_at, b.address, b.lat, b.long, b.channel, b.media_url, d.name AS provider_name"""


def _select(schema: str) -> str:
    return f"""SELECT {COLUMNS} FROM {schema}.board b
               LEFT JOIN {schema}.directory d ON d.provider_id = b.provider_id"""


async def get_request(pool: asyncpg.Pool, schema: str, request_id: str) -> dict | None:
    row = await pool.fetchrow(f"{_select(schema)} WHERE b.request_id = $1", request_id)
    return dict(row) if row else None


async def requests_by_id(pool: asyncpg.Pool, schema: str, request_ids: list[str]) -> list[dict]:
    rows = await pool.fetch(
        f"""{_select(schema)} WHERE b.request_id = ANY($1::text[])
            ORDER BY b.submitted_at DESC, b.request_id""",
        request_ids,
    )
    return [dict(r) for r in rows]


async def find_requests(
    pool: asyncpg.Pool,
    schema: str,
    *,
    submitted_from: datetime,
    submitted_until: datetime,
    categories: list[str] | None = None,
    closed: bool | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Requests submitted in ``[submitted_from, submitted_until]``, newest first; ``closed``
    True keeps only the finished ones, False only the others, None both."""
    rows = await pool.fetch(
        f"""{_select(schema)}
            WHERE b.submitted_at >= $1 AND b.submitted_at <= $2
              AND ($3::text[] IS NULL OR b.category = ANY($3::text[]))
              AND ($4::boolean IS NULL OR (b.status = ANY($5::text[])) = $4)
            ORDER BY b.submitted_at DESC, b.request_id LIMIT $6""",
        submitted_from,
        submitted_until,
        categories,
        closed,
        list(CLOSED_STATUSES),
        limit,
    )
    return [dict(r) for r in rows]
