"""The request board: every service request, its status and who it is assigned to.

Read three ways: whole, by those a request concerns (``Scope``: its resident, the provider it
is offered or assigned to, its municipal partner, or an admin); and in public, as a city would
publish it: no resident, and where and what only for public matters (``public_matters``, the
categories of work on common ground), never a private household's details.

A resident's personal data is never kept here in clear: where the work is and what they wrote
arrive sealed for them (contracts/personal.py) and are kept so, one sealed column for each
event that carries some (``SEALED``); the service that shows a row opens them. The plain
columns of those fields stay empty (rows projected before personal data was sealed may still
hold what those events carried).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

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
from contracts.personal import Sealed
from projections.schema import Changed, Inserted, ReadModel, apply_rows

PROJECTION = "board"
UPSTREAM = "requests"
# The tables of this read model (`talkoot check` compares them with a replay).
TABLES = ("board",)

COLUMNS = (
    "request_id, resident_id, category, region, description, window_start, window_end, status, "
    "offer_id, provider_id, contract_id, minutes, reason, submitted_at, updated_at, position, "
    "address, lat, long, channel, series_id, partner_id, completed_at, rating, rating_comment, "
    "media_url, request_sealed, reason_sealed, rating_sealed"
)
# Each sealed column: the fields it holds (as the events name them) and the row's column
# each stands for once opened.
SEALED = {
    "request_sealed": {f: f for f in ("description", "address", "lat", "long", "media_url")},
    "reason_sealed": {"reason": "reason"},
    "rating_sealed": {"comment": "rating_comment"},
}
# What the public board shows of every request, and what only of a public matter's.
PUBLIC_COLUMNS = (
    "request_id, category, region, status, window_start, window_end, submitted_at, "
    "updated_at, position"
)
PUBLIC_MATTER_COLUMNS = ("address", "lat", "long", "description", "request_sealed")
_WORD = re.compile(r"[a-z_]+")


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, _apply_run)


async def _apply_run(conn: asyncpg.Connection, schema: str, run: list[tuple[int, Any]]) -> None:
    """Each event makes its request's row or changes it: a run of them applied as a set (a
    page of a replay in a few statements)."""
    effects = [effect for position, event in run if (effect := _effect(schema, event, position))]
    await apply_rows(conn, f"{schema}.board", "request_id", effects)


def _effect(schema: str, event: Any, position: int) -> Inserted | Changed | None:
    at = event.occurred_at
    if isinstance(event, ServiceRequestedV1):
        # Where and what only sealed: an event from before they were sealed carries them in
        # clear, and they are not kept from it.
        return Inserted(
            event.request_id,
            f"""INSERT INTO {schema}.board (request_id, resident_id, category, region,
                description, window_start, window_end, status, submitted_at, updated_at,
                position, address, lat, long, channel, series_id, media_url, request_sealed)
                VALUES ($1, $2, $3, $4, '', $5, $6, 'submitted', $7, $7, $8,
                        '', NULL, NULL, $9, $10, '', $11)
                ON CONFLICT (request_id) DO NOTHING""",
            (
                event.request_id,
                event.resident_id,
                event.category,
                event.region,
                event.window_start,
                event.window_end,
                at,
                position,
                event.channel,
                event.series_id,
                kept(event.sealed),
            ),
        )
    values = _changes(event, at)
    if values is None:
        return None
    if "reason" in values and "reason_sealed" not in values:
        values["reason_sealed"] = None  # the reason now is not the resident's
    return Changed(event.request_id, at, position, values)


def kept(sealed: Sealed | None) -> str | None:
    """A sealed value as its column keeps it (JSON), or NULL."""
    return None if sealed is None else msgspec.json.encode(sealed).decode()


def _changes(event: Any, at: Any) -> dict[str, Any] | None:
    """The columns an event about a request already on the board changes.

    ``reason`` is the why of where the request stands: matching's explanation of the offer
    while it is offered or assigned, why nobody could be found (unmatched), the resident's
    (cancelled, disputed: sealed, in ``reason_sealed``), the window passing (expired), the
    partner's note once a dispute is resolved; none while it waits for a provider or its
    completion is confirmed."""
    match event:
        case RequestOfferedV1():
            # While it is offered and assigned, the reason is matching's: why this provider.
            return dict(
                status="offered",
                offer_id=event.offer_id,
                provider_id=event.provider_id,
                reason=event.why or None,
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
            return dict(status="completed", minutes=event.minutes, completed_at=at, reason=None)
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
            return dict(status="cancelled", reason=None, reason_sealed=kept(event.sealed))
        case RequestExpiredV1():
            return dict(status="expired", reason=event.reason)
        case RequestDisputedV1():
            return dict(
                status="disputed",
                reason=None,
                reason_sealed=kept(event.sealed),
                partner_id=event.partner_id or None,
            )
        case DisputeResolvedV1():
            # upheld and adjusted are followed by the confirmation; voided ends here.
            if event.outcome == "voided":
                return dict(status="voided", reason=event.note)
            return dict(reason=event.note)
        case RequestRatedV1():
            return dict(rating=event.stars, rating_comment=None, rating_sealed=kept(event.sealed))
    return None


@dataclass(frozen=True)
class Scope:
    """Whose requests a reader sees: every one (an admin), or those of the resident, those
    offered or assigned to the provider and those of the municipal partner that are given."""

    everything: bool = False
    resident_id: str | None = None
    provider_id: str | None = None
    partner_id: str | None = None


async def get_request(pool: asyncpg.Pool, schema: str, request_id: str) -> dict | None:
    row = await pool.fetchrow(
        f"SELECT {COLUMNS} FROM {schema}.board WHERE request_id = $1", request_id
    )
    return dict(row) if row else None


def _seen_by(scope: Scope, first: int) -> tuple[str, list[str]]:
    """The condition (and its arguments, numbered from ``first``) of the requests ``scope``
    sees; only the parts it has, so that each can use its index."""
    if scope.everything:
        return "TRUE", []
    parts = [
        (column, value)
        for column, value in (
            ("resident_id", scope.resident_id),
            ("provider_id", scope.provider_id),
            ("partner_id", scope.partner_id),
        )
        if value is not None
    ]
    if not parts:
        return "FALSE", []
    condition = " OR ".join(f"{column} = ${first + i}" for i, (column, _) in enumerate(parts))
    return f"({condition})", [value for _, value in parts]


async def list_requests(
    pool: asyncpg.Pool,
    schema: str,
    scope: Scope,
    *,
    status: str | None = None,
    region: str | None = None,
    category: str | None = None,
    provider_id: str | None = None,
    series_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """The requests ``scope`` sees, newest first, with the filters given."""
    seen, seen_args = _seen_by(scope, 8)
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM {schema}.board
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR region = $2)
              AND ($3::text IS NULL OR category = $3)
              AND ($4::text IS NULL OR provider_id = $4)
              AND ($7::text IS NULL OR series_id = $7)
              AND {seen}
            ORDER BY submitted_at DESC, request_id LIMIT $5 OFFSET $6""",
        status,
        region,
        category,
        provider_id,
        limit,
        offset,
        series_id,
        *seen_args,
    )
    return [dict(r) for r in rows]


def only_for_public_matters(columns: Sequence[str], table: str = "") -> str:
    """SELECT items showing ``columns`` of a public matter's request and NULL for any other's;
    ``$1`` is the list of public matters, ``table`` the board's alias in the query."""
    prefix = f"{table}." if table else ""
    return ", ".join(
        f"CASE WHEN {prefix}category = ANY($1::text[]) THEN {prefix}{column} END AS {column}"
        for column in columns
    )


def _public(schema: str) -> str:
    """The public board's SELECT; ``$1`` is the list of public matters."""
    shown = only_for_public_matters(PUBLIC_MATTER_COLUMNS)
    return f"SELECT {PUBLIC_COLUMNS}, {shown} FROM {schema}.board"


async def public_entry(
    pool: asyncpg.Pool, schema: str, public_matters: Sequence[str], request_id: str
) -> dict | None:
    row = await pool.fetchrow(
        f"{_public(schema)} WHERE request_id = $2", list(public_matters), request_id
    )
    return dict(row) if row else None


async def public_board(
    pool: asyncpg.Pool,
    schema: str,
    public_matters: Sequence[str],
    *,
    status: str | None = None,
    region: str | None = None,
    category: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Every request as the public sees it, newest first."""
    rows = await pool.fetch(
        f"""{_public(schema)}
            WHERE ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR region = $3)
              AND ($4::text IS NULL OR category = $4)
            ORDER BY submitted_at DESC, request_id LIMIT $5 OFFSET $6""",
        list(public_matters),
        status,
        region,
        category,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


def _one_of(statuses: Sequence[str]) -> str:
    """``status IN (...)`` written out, as the partial indexes of the sweeps are: a
    parameter would keep PostgreSQL from using them. The statuses are the domain's words."""
    if not statuses or not all(_WORD.fullmatch(status) for status in statuses):
        raise ValueError(f"not a list of statuses: {statuses!r}")
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


async def due_to_expire(
    pool: asyncpg.Pool, schema: str, now: Any, statuses: Sequence[str], limit: int = 500
) -> list[str]:
    """Requests in ``statuses`` (those that can expire) whose wished window ended before
    ``now``."""
    rows = await pool.fetch(
        f"""SELECT request_id FROM {schema}.board
            WHERE {_one_of(statuses)} AND window_end < $1
            ORDER BY window_end LIMIT $2""",
        now,
        limit,
    )
    return [r["request_id"] for r in rows]


async def due_to_confirm(
    pool: asyncpg.Pool,
    schema: str,
    completed_before: Any,
    statuses: Sequence[str],
    limit: int = 500,
) -> list[str]:
    """Requests in ``statuses`` (those that can be confirmed automatically) whose completion
    was reported before ``completed_before``."""
    rows = await pool.fetch(
        f"""SELECT request_id FROM {schema}.board
            WHERE {_one_of(statuses)} AND completed_at < $1
            ORDER BY completed_at LIMIT $2""",
        completed_before,
        limit,
    )
    return [r["request_id"] for r in rows]


async def requests_of(pool: asyncpg.Pool, schema: str, resident_id: str) -> list[str]:
    """Every request of one resident, oldest first (a resident's copy of their data)."""
    rows = await pool.fetch(
        f"""SELECT request_id FROM {schema}.board WHERE resident_id = $1
            ORDER BY submitted_at, request_id""",
        resident_id,
    )
    return [r["request_id"] for r in rows]
