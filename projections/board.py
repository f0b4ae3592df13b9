"""The request board: every service request, its status and who it is assigned to."""

from __future__ import annotations

from typing import Any

import asyncpg

from contracts.events import (
    CompletionReportedV1,
    DisputeResolvedV1,
    RequestAssignedV1,
    RequestCancelledV1,
    RequestConfirmedV1,
    RequestDisputedV1,
    RequestExpiredV1,
    RequestOfferedV1,
    RequestRatedV1,
    RequestRescheduledV1,
    RequestUnmatchedV1,
    ServiceRequestedV1,
)
from projections.schema import ReadModel, update_row

PROJECTION = "board"
UPSTREAM = "requests"

COLUMNS = (
    "request_id, resident_id, category, region, description, window_start, window_end, status, "
    "offer_id, provider_id, contract_id, minutes, reason, submitted_at, updated_at, position, "
    "address, lat, long, channel, series_id, partner_id, completed_at, rating, rating_comment, "
    "media_url"
)


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, _apply)


async def _apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
    at = event.occurred_at
    match event:
        case ServiceRequestedV1():
            await conn.execute(
                f"""INSERT INTO {schema}.board (request_id, resident_id, category, region,
                    description, window_start, window_end, status, submitted_at, updated_at,
                    position, address, lat, long, channel, series_id, media_url)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $8, $9,
                            $10, $11, $12, $13, $14, $15)
                    ON CONFLICT (request_id) DO NOTHING""",
                event.request_id,
                event.resident_id,
                event.category,
                event.region,
                event.description,
                event.window_start,
                event.window_end,
                at,
                position,
                event.address,
                event.lat,
                event.long,
                event.channel,
                event.series_id,
                event.media_url,
            )
        case _:
            if (values := _changes(event, at)) is not None:
                await _update(conn, schema, event.request_id, position, at, **values)


def _changes(event: Any, at: Any) -> dict[str, Any] | None:
    """The columns an event about a request already on the board changes."""
    match event:
        case RequestOfferedV1():
            return dict(
                status="offered",
                offer_id=event.offer_id,
                provider_id=event.provider_id,
                reason=None,
            )
        case RequestAssignedV1():
            return dict(
                status="assigned",
                offer_id=event.offer_id,
                provider_id=event.provider_id,
                contract_id=event.contract_id,
                partner_id=event.partner_id or None,
            )
        case RequestUnmatchedV1():
            return dict(status="unmatched", offer_id=None, provider_id=None, reason=event.reason)
        case CompletionReportedV1():
            return dict(status="completed", minutes=event.minutes, completed_at=at)
        case RequestConfirmedV1():
            return dict(status="confirmed", minutes=event.minutes)
        case RequestRescheduledV1():
            return dict(
                status="submitted",
                window_start=event.window_start,
                window_end=event.window_end,
                offer_id=None,
                provider_id=None,
                reason=None,
            )
        case RequestCancelledV1():
            # The provider it was offered or assigned to stays named: that is who was told.
            return dict(status="cancelled", reason=event.reason)
        case RequestExpiredV1():
            return dict(status="expired", reason=event.reason)
        case RequestDisputedV1():
            return dict(status="disputed", reason=event.reason, partner_id=event.partner_id or None)
        case DisputeResolvedV1():
            # upheld and adjusted are followed by the confirmation; voided ends here.
            if event.outcome == "voided":
                return dict(status="voided", reason=event.note)
            return dict(reason=event.note)
        case RequestRatedV1():
            return dict(rating=event.stars, rating_comment=event.comment)
    return None


async def _update(
    conn: asyncpg.Connection, schema: str, request_id: str, position: int, at: Any, **values: Any
) -> None:
    await update_row(conn, f"{schema}.board", ("request_id", request_id), position, at, **values)


async def get_request(pool: asyncpg.Pool, schema: str, request_id: str) -> dict | None:
    row = await pool.fetchrow(
        f"SELECT {COLUMNS} FROM {schema}.board WHERE request_id = $1", request_id
    )
    return dict(row) if row else None


async def list_requests(
    pool: asyncpg.Pool,
    schema: str,
    *,
    status: str | None = None,
    region: str | None = None,
    category: str | None = None,
    provider_id: str | None = None,
    series_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM {schema}.board
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR region = $2)
              AND ($3::text IS NULL OR category = $3)
              AND ($4::text IS NULL OR provider_id = $4)
              AND ($7::text IS NULL OR series_id = $7)
            ORDER BY submitted_at DESC, request_id LIMIT $5 OFFSET $6""",
        status,
        region,
        category,
        provider_id,
        limit,
        offset,
        series_id,
    )
    return [dict(r) for r in rows]


async def due_to_expire(pool: asyncpg.Pool, schema: str, now: Any, limit: int = 500) -> list[str]:
    """Requests no provider has taken whose wished window ended before ``now``."""
    rows = await pool.fetch(
        f"""SELECT request_id FROM {schema}.board
            WHERE status IN ('submitted', 'offered', 'unmatched') AND window_end < $1
            ORDER BY window_end LIMIT $2""",
        now,
        limit,
    )
    return [r["request_id"] for r in rows]


async def due_to_confirm(
    pool: asyncpg.Pool, schema: str, completed_before: Any, limit: int = 500
) -> list[str]:
    """Completed requests whose completion was reported before ``completed_before``."""
    rows = await pool.fetch(
        f"""SELECT request_id FROM {schema}.board
            WHERE status = 'completed' AND completed_at < $1
            ORDER BY completed_at LIMIT $2""",
        completed_before,
        limit,
    )
    return [r["request_id"] for r in rows]
