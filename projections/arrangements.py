"""The partners' audit trail: every arrangement (a request assigned under a contract: who
organised it with which partner, under which version of which contract, for how much) and
every integration event about a request, from every stream, in ``arrangement_timeline``.

It follows three streams (``UPSTREAMS``), each with its own tracking row, so an event of one
may be applied before an earlier event of another: a charge can come before the assignment it
is for. Each stream fills only its own columns of an arrangement, and the status is worked
out from the dates it has (``status_of``), never from the order events came in; its
``updated_at`` is the time of the latest event applied to it, whichever stream came last.

The resident is a keyed pseudonym (``pseudonym``: HMAC-SHA256 under
``TALKOOT_PSEUDONYM_SECRET``), never their id; no personal field of an event (``PERSONAL``,
sealed or not) is copied here, nor the sealed values themselves.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from contracts.events import (
    PERSONAL,
    CompletionReportedV1,
    ContractChargedV1,
    DisputeResolvedV1,
    OfferAcceptedV1,
    OfferDeclinedV1,
    RequestAssignedV1,
    RequestCancelledV1,
    RequestConfirmedV1,
    RequestDisputedV1,
    ServiceRequestedV1,
)
from projections.schema import ReadModel, each_event

PROJECTION = "arrangements"
UPSTREAMS = ("requests", "matching", "partnerships")
# The tables of this read model (`talkoot check` compares them with a replay).
TABLES = ("arrangements", "arrangement_timeline")

COLUMNS = (
    "request_id, resident, category, region, provider_id, contract_id, contract_version, "
    "partner_id, minutes, amount_cents, city_share_cents, resident_share_cents, submitted_at, "
    "assigned_at, completed_at, confirmed_at, charged_at, disputed_at, ruled_at, ruling, "
    "cancelled_at, status, updated_at, charged_minutes"
)
TIMELINE_COLUMNS = "request_id, step, event, at, actor, why, details, upstream, position"

# The step each event is, in the timeline; an event about a request not named here (a later
# version, a reversal) is named from its type: ``ChargeReversedV1`` is ``charge-reversed``.
STEPS = {
    "ServiceRequestedV1": "submitted",
    "SeriesOccurrenceScheduledV1": "scheduled",
    "RequestRescheduledV1": "rescheduled",
    "OfferMadeV1": "offered",
    "RequestOfferedV1": "offered",
    "OfferAcceptedV1": "accepted",
    "RequestAssignedV1": "assigned",
    "OfferDeclinedV1": "declined",
    "OfferExpiredV1": "lapsed",
    "OfferWithdrawnV1": "withdrawn",
    "NoProviderFoundV1": "unmatched",
    "RequestUnmatchedV1": "unmatched",
    "RequestCancelledV1": "cancelled",
    "RequestExpiredV1": "expired",
    "CompletionReportedV1": "completed",
    "RequestConfirmedV1": "confirmed",
    "RequestDisputedV1": "disputed",
    "DisputeResolvedV1": "ruled",
    "RequestRatedV1": "rated",
    "ContractChargedV1": "charged",
    "ChargeRefusedV1": "charge-refused",
}
# Events whose actor is the provider or the partner they name; one with a resident_id is the
# resident's (as a pseudonym); any other is its service's own doing.
ACTED_BY = {
    OfferAcceptedV1: ("provider", "provider_id"),
    OfferDeclinedV1: ("provider", "provider_id"),
    CompletionReportedV1: ("provider", "provider_id"),
    DisputeResolvedV1: ("partner", "partner_id"),
}
# Never in a timeline's details: who the resident is (the pseudonym stands for them), the
# sealed personal data, and the facts of a decision (``why`` words them).
LEFT_OUT = {"occurred_at", "request_id", "resident_id", "sealed", "explanation", "why"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def pseudonym(secret: str, resident_id: str) -> str:
    """The resident as an officer sees them: the same resident is always the same pseudonym,
    which without ``secret`` leads back to nobody (keyed HMAC-SHA256, its own purpose in the
    key's use so that it matches no other pseudonym made with the same secret)."""
    digest = hmac.new(secret.encode(), f"arrangement-resident:{resident_id}".encode(), "sha256")
    return "anon-" + digest.hexdigest()[:24]


def step_of(event_type: str) -> str:
    if event_type in STEPS:
        return STEPS[event_type]
    return _CAMEL.sub("-", re.sub(r"V\d+$", "", event_type)).lower()


def actor_of(event: Any, upstream: str, resident: str | None) -> str:
    """Who acted, in the words ``kind:id``: the resident (their pseudonym), the provider or
    the partner the event names as acting; else the service whose event it is."""
    if isinstance(event, RequestConfirmedV1) and event.how != "resident":
        return f"service:{upstream}"  # confirmed by time running out, or by a ruling
    if resident is not None:
        return f"resident:{resident}"
    if (acted := ACTED_BY.get(type(event))) is not None:
        return f"{acted[0]}:{getattr(event, acted[1])}"
    for field in ("by", "signed_by", "declared_by"):
        if value := getattr(event, field, None):
            return f"officer:{value}"
    return f"service:{upstream}"


def details_of(event: Any, resident: str | None) -> dict[str, Any]:
    """The event's facts fit for the audit: none of its personal fields, nor who the resident
    is (their pseudonym instead)."""
    personal = set(PERSONAL.get(type(event), ()))
    facts = {
        name: value
        for name, value in msgspec.to_builtins(event).items()
        if name not in LEFT_OUT and name not in personal and name != "type"
    }
    if resident is not None:
        facts["resident"] = resident
    return facts


def status_of(row: Mapping[str, Any]) -> str:
    """Where an arrangement stands, from what has happened to it (whatever order the streams
    told it in): voided, charged, confirmed, disputed, completed, cancelled, or assigned."""
    if row.get("ruling") == "voided":
        return "voided"
    if row.get("charged_at") is not None:
        return "charged"
    if row.get("confirmed_at") is not None:
        return "confirmed"
    if row.get("disputed_at") is not None:
        return "disputed"
    if row.get("completed_at") is not None:
        return "completed"
    if row.get("cancelled_at") is not None:
        return "cancelled"
    return "assigned"


def read_models(pool: asyncpg.Pool, schema: str, secret: str) -> list[ReadModel]:
    """One handler per stream followed, each with its own tracking row; ``secret`` keys the
    residents' pseudonyms."""

    def handler(upstream: str) -> Any:
        async def apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
            await _apply(conn, schema, event, position, upstream, secret)

        return apply

    models = []
    for upstream in UPSTREAMS:
        models.append(ReadModel(pool, schema, PROJECTION, upstream, each_event(handler(upstream))))
    return models


async def _apply(
    conn: asyncpg.Connection, schema: str, event: Any, position: int, upstream: str, secret: str
) -> None:
    request_id = getattr(event, "request_id", None)
    if not request_id:
        return
    resident_id = getattr(event, "resident_id", None)
    resident = pseudonym(secret, resident_id) if resident_id else None
    kind = type(event).__name__
    await conn.execute(
        f"""INSERT INTO {schema}.arrangement_timeline (upstream, position, request_id, step,
            event, at, actor, why, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
            ON CONFLICT (upstream, position) DO NOTHING""",
        upstream,
        position,
        request_id,
        step_of(kind),
        kind,
        event.occurred_at,
        actor_of(event, upstream, resident),
        getattr(event, "why", "") or None,
        msgspec.json.encode(details_of(event, resident)).decode(),
    )
    changes = await _changes(conn, schema, event)
    if changes is None:
        return
    if isinstance(event, (RequestAssignedV1, ContractChargedV1)):
        names = ["request_id", *changes]
        values = ", ".join(f"${n}" for n in range(1, len(names) + 1))
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in changes)
        await conn.execute(
            f"""INSERT INTO {schema}.arrangements ({", ".join(names)}, updated_at)
                VALUES ({values}, ${len(names) + 1})
                ON CONFLICT (request_id)
                DO UPDATE SET {updates},
                updated_at = greatest({schema}.arrangements.updated_at, EXCLUDED.updated_at)""",
            request_id,
            *changes.values(),
            event.occurred_at,
        )
    else:
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(changes, start=3))
        await conn.execute(
            f"""UPDATE {schema}.arrangements SET updated_at = greatest(updated_at, $2), {sets}
                WHERE request_id = $1""",
            request_id,
            event.occurred_at,
            *changes.values(),
        )
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM {schema}.arrangements WHERE request_id = $1", request_id
    )
    if row is not None and row["status"] != (status := status_of(row)):
        await conn.execute(
            f"UPDATE {schema}.arrangements SET status = $2 WHERE request_id = $1",
            request_id,
            status,
        )


async def _changes(conn: asyncpg.Connection, schema: str, event: Any) -> dict[str, Any] | None:
    """The columns of the request's arrangement this event fills; None: it fills none."""
    at = event.occurred_at
    match event:
        case RequestAssignedV1():
            # What the submission said, from its timeline entry (the same stream: it is there).
            submitted = await conn.fetchrow(
                f"""SELECT at, details FROM {schema}.arrangement_timeline
                    WHERE request_id = $1 AND event = $2 ORDER BY position LIMIT 1""",
                event.request_id,
                ServiceRequestedV1.__name__,
            )
            facts = msgspec.json.decode(submitted["details"]) if submitted else {}
            return {
                "provider_id": event.provider_id,
                "contract_id": event.contract_id,
                "partner_id": event.partner_id or None,
                "assigned_at": at,
                "resident": facts.get("resident"),
                "category": facts.get("category"),
                "region": facts.get("region"),
                "submitted_at": submitted["at"] if submitted else None,
            }
        case CompletionReportedV1():
            return {"completed_at": at, "minutes": event.minutes}
        case RequestConfirmedV1():
            return {"confirmed_at": at, "minutes": event.minutes}
        case RequestDisputedV1():
            return {"disputed_at": at}
        case DisputeResolvedV1():
            return {"ruled_at": at, "ruling": event.outcome}
        case RequestCancelledV1():
            return {"cancelled_at": at}
        case ContractChargedV1():
            return {
                "contract_id": event.contract_id,
                "contract_version": event.version,
                "amount_cents": event.amount_cents,
                "charged_minutes": event.minutes,
                "charged_at": at,
            }
    return None


# --- reading -----------------------------------------------------------------------------


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """Which arrangements a reader asks for: ``partner`` is whose the reader may see (None:
    every partner's, an admin's); the rest narrow them. The period is of the assignment:
    ``assigned_from`` included, ``assigned_before`` not."""

    partner: str | None = None
    partner_id: str | None = None
    provider_id: str | None = None
    category: str | None = None
    region: str | None = None
    assigned_from: datetime | None = None
    assigned_before: datetime | None = None


async def list_arrangements(
    pool: asyncpg.Pool, schema: str, filters: Filters, *, limit: int = 100, offset: int = 0
) -> list[dict]:
    """The arrangements ``filters`` give, the first assigned first. Only those assigned: a
    charge whose assignment the projection has not seen yet waits for it."""
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM {schema}.arrangements
            WHERE assigned_at IS NOT NULL
              AND ($1::text IS NULL OR partner_id = $1)
              AND ($2::text IS NULL OR partner_id = $2)
              AND ($3::text IS NULL OR provider_id = $3)
              AND ($4::text IS NULL OR category = $4)
              AND ($5::text IS NULL OR region = $5)
              AND ($6::timestamptz IS NULL OR assigned_at >= $6)
              AND ($7::timestamptz IS NULL OR assigned_at < $7)
            ORDER BY assigned_at, request_id LIMIT $8 OFFSET $9""",
        filters.partner,
        filters.partner_id,
        filters.provider_id,
        filters.category,
        filters.region,
        filters.assigned_from,
        filters.assigned_before,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def get_arrangement(pool: asyncpg.Pool, schema: str, request_id: str) -> dict | None:
    row = await pool.fetchrow(
        f"""SELECT {COLUMNS} FROM {schema}.arrangements
            WHERE request_id = $1 AND assigned_at IS NOT NULL""",
        request_id,
    )
    return dict(row) if row else None


async def timeline(pool: asyncpg.Pool, schema: str, request_id: str) -> list[dict]:
    """Every event about the request, in the order they happened (by the time each records;
    within one stream, by its position)."""
    rows = await pool.fetch(
        f"""SELECT {TIMELINE_COLUMNS} FROM {schema}.arrangement_timeline
            WHERE request_id = $1 ORDER BY at, upstream, position""",
        request_id,
    )
    return [{**dict(r), "details": msgspec.json.decode(r["details"])} for r in rows]
