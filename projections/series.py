"""Recurring requests and snowfall days as read models: every series with its status and the
occurrences it scheduled, and every declared snowfall day with its regions. The series sweep
reads from here which series may have something due.

A series' description and the resident's reason for ending it are kept only sealed for the
resident (``SEALED``), as they arrive; the service that shows them opens them."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from contracts.events import (
    SeriesEndedV1,
    SeriesOccurrenceScheduledV1,
    SeriesPausedV1,
    SeriesResumedV1,
    SeriesStartedV1,
    SnowfallDeclaredV1,
)
from projections.board import kept
from projections.schema import ReadModel, each_event, update_row

PROJECTION = "series"
UPSTREAM = "requests"
# The tables of this read model (`talkoot check` compares them with a replay).
TABLES = ("series", "series_occurrences", "snowfall_days")

COLUMNS = (
    "series_id, resident_id, category, region, rule, description, status, paused_until, "
    "ended_reason, occurrences, last_day, started_at, updated_at, position, "
    "description_sealed, ended_sealed"
)
# Each sealed column: the fields it holds (as the events name them) and the row's column
# each stands for once opened.
SEALED = {
    "description_sealed": {"description": "description"},
    "ended_sealed": {"reason": "ended_reason"},
}
SNOWFALL_COLUMNS = "day, day_id, regions, declared_by, declared_at, updated_at, position"

# The statuses a board entry has once a provider took the job.
TAKEN = ("assigned", "completed", "confirmed")


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, each_event(_apply))


async def _apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
    at = event.occurred_at
    match event:
        case SeriesStartedV1():
            await conn.execute(
                f"""INSERT INTO {schema}.series (series_id, resident_id, category, region, rule,
                    description, status, started_at, updated_at, position, description_sealed)
                    VALUES ($1, $2, $3, $4, $5, '', 'active', $6, $6, $7, $8)
                    ON CONFLICT (series_id) DO NOTHING""",
                event.series_id,
                event.resident_id,
                event.category,
                event.region,
                event.rule,
                at,
                position,
                kept(event.sealed),
            )
        case SeriesPausedV1():
            await _update(
                conn,
                schema,
                event.series_id,
                position,
                at,
                status="paused",
                paused_until=event.until,
            )
        case SeriesResumedV1():
            await _update(
                conn, schema, event.series_id, position, at, status="active", paused_until=None
            )
        case SeriesEndedV1():
            await _update(
                conn,
                schema,
                event.series_id,
                position,
                at,
                status="ended",
                ended_reason=None,
                ended_sealed=kept(event.sealed),
            )
        case SeriesOccurrenceScheduledV1():
            await conn.execute(
                f"""INSERT INTO {schema}.series_occurrences (series_id, day, request_id, position)
                    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
                event.series_id,
                event.day,
                event.request_id,
                position,
            )
            await conn.execute(
                f"""UPDATE {schema}.series SET occurrences = occurrences + 1,
                    last_day = GREATEST(last_day, $2), updated_at = $3, position = $4
                    WHERE series_id = $1""",
                event.series_id,
                event.day,
                at,
                position,
            )
        case SnowfallDeclaredV1():
            # An empty list of regions means every region, and stays so.
            await conn.execute(
                f"""INSERT INTO {schema}.snowfall_days ({SNOWFALL_COLUMNS})
                    VALUES ($1, $2, $3, $4, $5, $5, $6)
                    ON CONFLICT (day) DO UPDATE SET
                      regions = CASE
                        WHEN snowfall_days.regions = '{{}}' OR excluded.regions = '{{}}'
                        THEN '{{}}'::text[]
                        ELSE ARRAY(SELECT DISTINCT r FROM unnest(
                          snowfall_days.regions || excluded.regions) AS r ORDER BY r)
                      END,
                      declared_by = excluded.declared_by,
                      updated_at = excluded.updated_at,
                      position = excluded.position""",
                event.day,
                event.day_id,
                list(event.regions),
                event.declared_by,
                at,
                position,
            )


async def _update(
    conn: asyncpg.Connection, schema: str, series_id: str, position: int, at: Any, **values: Any
) -> None:
    await update_row(conn, f"{schema}.series", ("series_id", series_id), position, at, **values)


# --- queries -------------------------------------------------------------------------------


async def list_series(
    pool: asyncpg.Pool,
    schema: str,
    *,
    resident_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM {schema}.series
            WHERE ($1::text IS NULL OR resident_id = $1) AND ($2::text IS NULL OR status = $2)
            ORDER BY started_at DESC, series_id LIMIT $3 OFFSET $4""",
        resident_id,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def list_snowfall_days(
    pool: asyncpg.Pool, schema: str, *, since: date | None = None, limit: int = 100
) -> list[dict]:
    rows = await pool.fetch(
        f"""SELECT {SNOWFALL_COLUMNS} FROM {schema}.snowfall_days
            WHERE ($1::date IS NULL OR day >= $1) ORDER BY day DESC LIMIT $2""",
        since,
        limit,
    )
    return [dict(r) for r in rows]


def _last_provider(schema: str) -> str:
    """The provider who took the latest occurrence of series ``s`` (by its window), if any:
    the one its next occurrence is offered to first."""
    taken = ", ".join(f"'{status}'" for status in TAKEN)
    return f"""(SELECT b.provider_id FROM {schema}.board b
                WHERE b.series_id = s.series_id AND b.status IN ({taken})
                  AND b.provider_id IS NOT NULL
                ORDER BY b.window_start DESC LIMIT 1)"""


async def recurring_candidates(
    pool: asyncpg.Pool, schema: str, today: date, until: date
) -> list[tuple[str, str | None]]:
    """Weekly and monthly series that may have something to do, with the provider of their
    latest occurrence: active ones not already scheduled so far ahead that their next day (a
    week, or at least 28 days, after the last one) lies beyond ``until``, and paused ones
    whose pause day is before ``today``. The series itself decides what is due."""
    rows = await pool.fetch(
        f"""SELECT s.series_id, {_last_provider(schema)} AS preferred FROM {schema}.series s
            WHERE s.rule IN ('weekly', 'monthly')
              AND ((s.status = 'active'
                    AND (s.last_day IS NULL
                         OR s.last_day + CASE s.rule WHEN 'weekly' THEN 7 ELSE 28 END <= $2))
                   OR (s.status = 'paused' AND s.paused_until < $1))
            ORDER BY s.series_id""",
        today,
        until,
    )
    return [(r["series_id"], r["preferred"]) for r in rows]


async def snowfall_candidates(
    pool: asyncpg.Pool, schema: str, first: date, last: date
) -> list[tuple[str, date, str | None]]:
    """(series, day, provider of its latest occurrence) where a snowfall day from ``first``
    (today) to ``last`` is declared in the region of a snowfall series that is active, or
    paused with a pause day before ``first``, and has no occurrence on that day yet."""
    rows = await pool.fetch(
        f"""SELECT s.series_id, d.day, {_last_provider(schema)} AS preferred
            FROM {schema}.series s
            JOIN {schema}.snowfall_days d
              ON d.regions = '{{}}' OR s.region = ANY(d.regions)
            WHERE s.rule = 'snowfall' AND d.day BETWEEN $1 AND $2
              AND (s.status = 'active' OR (s.status = 'paused' AND s.paused_until < $1))
              AND NOT EXISTS (SELECT 1 FROM {schema}.series_occurrences o
                              WHERE o.series_id = s.series_id AND o.day = d.day)
            ORDER BY d.day, s.series_id""",
        first,
        last,
    )
    return [(r["series_id"], r["day"], r["preferred"]) for r in rows]


async def series_of(pool: asyncpg.Pool, schema: str, resident_id: str) -> list[str]:
    """Every series of one resident, oldest first."""
    rows = await pool.fetch(
        f"""SELECT series_id FROM {schema}.series WHERE resident_id = $1
            ORDER BY started_at, series_id""",
        resident_id,
    )
    return [r["series_id"] for r in rows]
