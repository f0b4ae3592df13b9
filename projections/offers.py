"""Providers' offers: every offer matching made, to whom, under which contract, and how it
ended (open, accepted, declined, expired or withdrawn). A provider's inbox reads it.

What the offer is for (category, region, the requested window) is the request's, read from
the request board beside it; until the board has the request those fields are null.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from contracts.events import (
    OfferAcceptedV1,
    OfferDeclinedV1,
    OfferExpiredV1,
    OfferMadeV1,
    OfferWithdrawnV1,
)
from projections.schema import Changed, Inserted, ReadModel, apply_rows

PROJECTION = "offers"
UPSTREAM = "matching"
# The tables of this read model (`talkoot check` compares them with a replay).
TABLES = ("offers",)

# How an offer ends, by the event that says so; a decline or a withdrawal gives its reason.
ENDINGS = {
    OfferAcceptedV1: "accepted",
    OfferDeclinedV1: "declined",
    OfferExpiredV1: "expired",
    OfferWithdrawnV1: "withdrawn",
}
STATUSES = ("open", *ENDINGS.values())


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, _apply_run)


async def _apply_run(conn: asyncpg.Connection, schema: str, run: list[tuple[int, Any]]) -> None:
    """Each event makes its offer's row or ends it: a run of them applied as a set."""
    effects = [effect for position, event in run if (effect := _effect(schema, event, position))]
    await apply_rows(conn, f"{schema}.offers", "offer_id", effects)


def _effect(schema: str, event: Any, position: int) -> Inserted | Changed | None:
    if isinstance(event, OfferMadeV1):
        return Inserted(
            event.offer_id,
            f"""INSERT INTO {schema}.offers (offer_id, request_id, provider_id, contract_id,
                  partner_id, status, answer, offered_at, expires_at, updated_at, position)
                VALUES ($1, $2, $3, $4, $5, 'open', '', $6, $7, $6, $8)
                ON CONFLICT (offer_id) DO NOTHING""",
            (
                event.offer_id,
                event.request_id,
                event.provider_id,
                event.contract_id,
                event.partner_id,
                event.occurred_at,
                event.expires_at,
                position,
            ),
        )
    if (status := ENDINGS.get(type(event))) is not None:
        values = {"status": status, "answer": getattr(event, "reason", "")}
        return Changed(event.offer_id, event.occurred_at, position, values)
    return None  # NoProviderFoundV1 names no offer.


async def inbox(
    pool: asyncpg.Pool,
    schema: str,
    provider_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """The offers made to ``provider_id``, newest first, optionally those with ``status``."""
    rows = await pool.fetch(
        f"""SELECT o.offer_id, o.request_id, o.provider_id, o.contract_id, o.partner_id,
                   o.status, o.answer, o.offered_at, o.expires_at, o.updated_at, o.position,
                   b.category, b.region, b.window_start, b.window_end
            FROM {schema}.offers o
            LEFT JOIN {schema}.board b ON b.request_id = o.request_id
            WHERE o.provider_id = $1 AND ($2::text IS NULL OR o.status = $2)
            ORDER BY o.offered_at DESC, o.offer_id
            LIMIT $3 OFFSET $4""",
        provider_id,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in rows]
