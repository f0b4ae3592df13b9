"""The contract ledger: per partnership contract its budget, what is charged (the city's
shares), what remains, its price terms (per hour or per job, the service voucher) version by
version, its budget alerts, and every charge (with the city's and the resident's shares),
refusal and reversal."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import msgspec

from contracts.events import (
    ChargeRefusedV1,
    ContractActivatedV1,
    ContractAmendedV1,
    ContractAmendmentProposedV1,
    ContractAmendmentSignedV1,
    ContractBudgetAlertV1,
    ContractChargedV1,
    ContractChargeReversedV1,
    ContractProposedV1,
    ContractResumedV1,
    ContractSignedV1,
    ContractSuspendedV1,
    ContractTerminatedV1,
)
from projections.schema import ReadModel, each_event

PROJECTION = "ledger"
UPSTREAM = "partnerships"
# The tables of this read model (`talkoot check` compares them with a replay).
TABLES = ("ledger", "ledger_entries")

COLUMNS = (
    "contract_id, partner_id, provider_id, categories, regions, unit_price_cents, budget_cents, "
    "charged_cents, remaining_cents, charges, refusals, status, signed_by_partner, "
    "signed_by_provider, valid_from, valid_until, updated_at, position, proposed_by, "
    "partner_signatures_needed, partner_signers, version, amendment, reason, terminated_on, "
    "pricing, voucher_cents, alerts, budget_version, price_versions, reversals"
)


def price_version(event: Any, version: int, effective_from: Any) -> dict:
    """A version's price terms as the ledger keeps them, for whoever estimates a job's cost
    (the requests service, for the resident)."""
    return {
        "version": version,
        "effective_from": effective_from.isoformat(),
        "pricing": event.pricing,
        "unit_price_cents": event.unit_price_cents,
        "voucher_cents": event.voucher_cents,
    }


def read_model(pool: asyncpg.Pool, schema: str) -> ReadModel:
    """The consumer's handler: runs, dead letters set aside, and their replay."""
    return ReadModel(pool, schema, PROJECTION, UPSTREAM, each_event(_apply))


async def _apply(conn: asyncpg.Connection, schema: str, event: Any, position: int) -> None:
    at = event.occurred_at
    match event:
        case ContractProposedV1():
            await conn.execute(
                f"""INSERT INTO {schema}.ledger (contract_id, partner_id, provider_id, categories,
                    regions, unit_price_cents, budget_cents, remaining_cents, status, valid_from,
                    valid_until, updated_at, position, proposed_by, partner_signatures_needed,
                    pricing, voucher_cents)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 'proposed', $8, $9, $10, $11, $12,
                    $13, $14, $15)
                    ON CONFLICT (contract_id) DO NOTHING""",
                event.contract_id,
                event.partner_id,
                event.provider_id,
                event.categories,
                event.regions,
                event.unit_price_cents,
                event.budget_cents,
                event.valid_from,
                event.valid_until,
                at,
                position,
                event.proposed_by,
                event.partner_signatures_needed,
                event.pricing,
                event.voucher_cents,
            )
        case ContractSignedV1() if event.party == "partner":
            # each of the partner's officers who signed, in order (one or two)
            await conn.execute(
                f"""UPDATE {schema}.ledger SET partner_signers = partner_signers || $2::text,
                    signed_by_partner = array_to_string(partner_signers || $2::text, ', '),
                    updated_at = $3, position = $4 WHERE contract_id = $1""",
                event.contract_id,
                event.signed_by,
                at,
                position,
            )
        case ContractSignedV1():
            await conn.execute(
                f"UPDATE {schema}.ledger SET signed_by_provider = $2, updated_at = $3, "
                "position = $4 WHERE contract_id = $1",
                event.contract_id,
                event.signed_by,
                at,
                position,
            )
        case ContractActivatedV1():
            first = price_version(event, 1, event.valid_from)
            await _update(
                conn,
                schema,
                event,
                position,
                "status = 'active', pricing = $4, voucher_cents = $5, price_versions = $6::jsonb",
                event.pricing,
                event.voucher_cents,
                json([first]),
            )
        case ContractAmendmentProposedV1():
            pending = {
                **msgspec.to_builtins(event),
                "partner_signers": [],
                "provider_signer": "",
            }
            pending.pop("occurred_at", None)
            await _update(conn, schema, event, position, "amendment = $4::jsonb", json(pending))
        case ContractAmendmentSignedV1():
            who = "partner_signers" if event.party == "partner" else "provider_signer"
            change = (
                "amendment = jsonb_set(amendment, '{partner_signers}', "
                "(amendment->'partner_signers') || to_jsonb($4::text))"
                if who == "partner_signers"
                else "amendment = jsonb_set(amendment, '{provider_signer}', to_jsonb($4::text))"
            )
            await _update(conn, schema, event, position, change, event.signed_by)
        case ContractAmendedV1():
            await conn.execute(
                f"""UPDATE {schema}.ledger SET version = $2, categories = $3, regions = $4,
                    unit_price_cents = $5, budget_cents = $6, valid_from = $7, valid_until = $8,
                    remaining_cents = $9, amendment = NULL, updated_at = $10, position = $11,
                    pricing = $12, voucher_cents = $13,
                    budget_version = CASE WHEN budget_cents = $6 THEN budget_version ELSE $2 END,
                    price_versions = price_versions || $14::jsonb
                    WHERE contract_id = $1""",
                event.contract_id,
                event.version,
                event.categories,
                event.regions,
                event.unit_price_cents,
                event.budget_cents,
                event.valid_from,
                event.valid_until,
                event.remaining_cents,
                at,
                position,
                event.pricing,
                event.voucher_cents,
                json([price_version(event, event.version, event.effective_from)]),
            )
        case ContractSuspendedV1() | ContractResumedV1():
            status = "suspended" if isinstance(event, ContractSuspendedV1) else "active"
            await _update(
                conn, schema, event, position, "status = $4, reason = $5", status, event.reason
            )
        case ContractTerminatedV1():
            await _update(
                conn,
                schema,
                event,
                position,
                "status = 'terminated', reason = $4, terminated_on = $5, amendment = NULL",
                event.reason,
                event.on,
            )
        case ContractChargedV1():
            await conn.execute(
                f"""UPDATE {schema}.ledger SET charged_cents = $2, remaining_cents = $3,
                    charges = charges + 1, updated_at = $4, position = $5
                    WHERE contract_id = $1""",
                event.contract_id,
                event.charged_cents,
                event.remaining_cents,
                at,
                position,
            )
            await _entry(
                conn,
                schema,
                event,
                position,
                "charged",
                event.remaining_cents,
                None,
                event.version,
                (event.city, event.resident_cents),
            )
        case ContractChargeReversedV1():
            await conn.execute(
                f"""UPDATE {schema}.ledger SET charged_cents = $2, remaining_cents = $3,
                    reversals = reversals + 1, updated_at = $4, position = $5
                    WHERE contract_id = $1""",
                event.contract_id,
                event.charged_cents,
                event.remaining_cents,
                at,
                position,
            )
            await _entry(
                conn,
                schema,
                event,
                position,
                "reversed",
                event.remaining_cents,
                event.reason,
                shares=(event.city_cents, event.resident_cents),
            )
        case ContractBudgetAlertV1():
            alert = {
                "threshold": event.threshold,
                "charged_cents": event.charged_cents,
                "budget_cents": event.budget_cents,
                "version": event.version,
                "at": at.isoformat(),
            }
            await _update(
                conn, schema, event, position, "alerts = alerts || $4::jsonb", json([alert])
            )
        case ChargeRefusedV1():
            await conn.execute(
                f"""UPDATE {schema}.ledger SET refusals = refusals + 1, updated_at = $2,
                    position = $3 WHERE contract_id = $1""",
                event.contract_id,
                at,
                position,
            )
            await _entry(
                conn, schema, event, position, "refused", event.remaining_cents, event.reason
            )


def json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _update(
    conn: asyncpg.Connection, schema: str, event: Any, position: int, change: str, *values: Any
) -> None:
    """``change`` (a SET list whose values are $4 on) to the event's contract."""
    await conn.execute(
        f"UPDATE {schema}.ledger SET {change}, updated_at = $2, position = $3 "
        "WHERE contract_id = $1",
        event.contract_id,
        event.occurred_at,
        position,
        *values,
    )


async def _entry(
    conn: asyncpg.Connection,
    schema: str,
    event: Any,
    position: int,
    outcome: str,
    remaining_cents: int,
    reason: str | None,
    version: int = 1,
    shares: tuple[int | None, int] = (None, 0),
) -> None:
    """A charge, refusal or reversal; ``shares``: the city's and the resident's, of a charge
    (None for a refusal: nobody paid)."""
    await conn.execute(
        f"""INSERT INTO {schema}.ledger_entries (position, contract_id, request_id, outcome,
            minutes, amount_cents, remaining_cents, reason, at, version, city_cents,
            resident_cents)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (position) DO NOTHING""",
        position,
        event.contract_id,
        event.request_id,
        outcome,
        event.minutes,
        event.amount_cents,
        remaining_cents,
        reason,
        event.occurred_at,
        version,
        *shares,
    )


async def get_contract(pool: asyncpg.Pool, schema: str, contract_id: str) -> dict | None:
    row = await pool.fetchrow(
        f"SELECT {COLUMNS} FROM {schema}.ledger WHERE contract_id = $1", contract_id
    )
    if row is None:
        return None
    entries = await pool.fetch(
        f"""SELECT position, request_id, outcome, minutes, amount_cents, remaining_cents, reason,
            at, version, city_cents, resident_cents FROM {schema}.ledger_entries
            WHERE contract_id = $1 ORDER BY position""",
        contract_id,
    )
    return {**dict(row), "entries": [dict(e) for e in entries]}


async def price_terms(pool: asyncpg.Pool, schema: str, contract_id: str, day: date) -> dict | None:
    """The price terms of the contract's version in force on ``day`` (pricing, unit price,
    voucher, version): the latest that began on or before it, else the first; for a
    contract projected before the versions' terms were kept, its current terms."""
    row = await pool.fetchrow(
        f"""SELECT pricing, unit_price_cents, voucher_cents, version, price_versions
            FROM {schema}.ledger WHERE contract_id = $1""",
        contract_id,
    )
    if row is None:
        return None
    versions = row["price_versions"]
    if isinstance(versions, str):
        versions = msgspec.json.decode(versions)
    chosen = versions[0] if versions else None
    for version in versions:
        if version["effective_from"] <= day.isoformat():
            chosen = version
    if chosen is None:
        return {key: row[key] for key in ("pricing", "unit_price_cents", "voucher_cents")} | {
            "version": row["version"]
        }
    return {key: chosen[key] for key in ("pricing", "unit_price_cents", "voucher_cents", "version")}


class Seen(msgspec.Struct, frozen=True):
    """Whose contracts a reader of the ledger sees: every one, or those of one municipal
    partner and those of one provider (either may be None)."""

    everything: bool = False
    partner_id: str | None = None
    provider_id: str | None = None


async def list_contracts(
    pool: asyncpg.Pool,
    schema: str,
    seen: Seen,
    *,
    partner_id: str | None = None,
    provider_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """The contracts ``seen`` lets the reader see, narrowed by ``partner_id`` and
    ``provider_id`` when given."""
    rows = await pool.fetch(
        f"""SELECT {COLUMNS} FROM {schema}.ledger
            WHERE ($1 OR partner_id = $2 OR provider_id = $3) IS TRUE
              AND ($4::text IS NULL OR partner_id = $4) AND ($5::text IS NULL OR provider_id = $5)
            ORDER BY contract_id LIMIT $6 OFFSET $7""",
        seen.everything,
        seen.partner_id,
        seen.provider_id,
        partner_id,
        provider_id,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


# The ledger entries a settlement statement counts (domain/settlement.py SIGNS says how).
SETTLED = ("charged",)


async def settled_entries(
    pool: asyncpg.Pool,
    schema: str,
    seen: Seen,
    *,
    partner_id: str | None = None,
    contract_id: str | None = None,
    starts: Any = None,
    ends: Any = None,
) -> list[dict]:
    """The charges of the contracts ``seen`` lets the reader see, charged at or after
    ``starts`` and before ``ends`` (either may be None: open), narrowed by ``partner_id`` and
    ``contract_id`` when given; each with its contract's partner and provider."""
    rows = await pool.fetch(
        f"""SELECT l.partner_id, l.provider_id, e.contract_id, e.version, e.request_id, e.at,
                   e.minutes, e.amount_cents, e.outcome
            FROM {schema}.ledger_entries e JOIN {schema}.ledger l USING (contract_id)
            WHERE e.outcome = ANY($1::text[])
              AND ($2 OR l.partner_id = $3 OR l.provider_id = $4) IS TRUE
              AND ($5::text IS NULL OR l.partner_id = $5)
              AND ($6::text IS NULL OR e.contract_id = $6)
              AND ($7::timestamptz IS NULL OR e.at >= $7)
              AND ($8::timestamptz IS NULL OR e.at < $8)
            ORDER BY l.partner_id, e.contract_id, e.at, e.position""",
        list(SETTLED),
        seen.everything,
        seen.partner_id,
        seen.provider_id,
        partner_id,
        contract_id,
        starts,
        ends,
    )
    return [dict(r) for r in rows]
