"""The request board as an Open311 GeoReport client sees it: the queries behind GET requests,
with the name of the provider who took each request from the provider directory.

Open311 is public: no resident, and none of a resident's personal data (the address, point,
description and photo of a request, and a resident's reasons), not even of a public matter:
what Open311 hands out is copied into other systems, where an erasure cannot reach it. Why a
request stands where it does (the reasons that are not the resident's: nobody could be found,
the window passed, the partner's ruling) only for public matters (``public_matters``, the
categories of work on common ground).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from projections.board import only_for_public_matters

# Every request's; then what only a public matter's shows ($1 is the list of public matters).
COLUMNS = """b.request_id, b.category, b.region, b.status, b.contract_id, b.window_start,
    b.window_end, b.submitted_at, b.updated_at, d.name AS provider_name"""
PUBLIC_MATTER_COLUMNS = ("reason",)


def _select(schema: str) -> str:
    shown = only_for_public_matters(PUBLIC_MATTER_COLUMNS, "b")
    return f"""SELECT {COLUMNS}, {shown} FROM {schema}.board b
               LEFT JOIN {schema}.directory d ON d.provider_id = b.provider_id"""


async def get_request(
    pool: asyncpg.Pool, schema: str, public_matters: Sequence[str], request_id: str
) -> dict | None:
    row = await pool.fetchrow(
        f"{_select(schema)} WHERE b.request_id = $2", list(public_matters), request_id
    )
    return dict(row) if row else None


async def requests_by_id(
    pool: asyncpg.Pool, schema: str, public_matters: Sequence[str], request_ids: list[str]
) -> list[dict]:
    rows = await pool.fetch(
        f"""{_select(schema)} WHERE b.request_id = ANY($2::text[])
            ORDER BY b.submitted_at DESC, b.request_id""",
        list(public_matters),
        request_ids,
    )
    return [dict(r) for r in rows]


async def find_requests(
    pool: asyncpg.Pool,
    schema: str,
    public_matters: Sequence[str],
    *,
    submitted_from: datetime,
    submitted_until: datetime,
    closed_statuses: Sequence[str],
    categories: list[str] | None = None,
    closed: bool | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Requests submitted in ``[submitted_from, submitted_until]``, newest first; ``closed``
    True keeps only those in ``closed_statuses`` (the work is over), False only the others,
    None both."""
    rows = await pool.fetch(
        f"""{_select(schema)}
            WHERE b.submitted_at >= $2 AND b.submitted_at <= $3
              AND ($4::text[] IS NULL OR b.category = ANY($4::text[]))
              AND ($5::boolean IS NULL OR (b.status = ANY($6::text[])) = $5)
            ORDER BY b.submitted_at DESC, b.request_id LIMIT $7""",
        list(public_matters),
        submitted_from,
        submitted_until,
        categories,
        closed,
        list(closed_statuses),
        limit,
    )
    return [dict(r) for r in rows]
