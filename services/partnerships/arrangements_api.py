"""The partners' audit: who organised which local service with which partner, under which
version of which contract, for how much, and every step of it from every service's stream.

Read from the ``arrangements`` read model; the resident is a pseudonym there, never their id.
An officer reads their own partner's arrangements, an admin every one."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from domain.calendar import local_moment
from domain.errors import InvalidValue
from projections import arrangements
from services.platform.http import (
    Limit,
    Offset,
    PathId,
    QueryCode,
    QueryId,
    Reads,
    check_query_day,
)
from services.platform.identity import OFFICER, Caller, check_sees
from services.platform.openapi import CsvOperation, errors


class Arrangement(msgspec.Struct):
    """One request assigned under a contract. ``hours`` are the reported (then confirmed)
    ones; ``amount_cents`` what was charged, under ``contract_version``. The city's and the
    resident's shares are null until the amount is split."""

    request_id: str
    resident: str | None  # a pseudonym: the same resident is always the same one
    category: str | None
    region: str | None
    provider_id: str | None
    contract_id: str | None
    contract_version: int | None
    partner_id: str | None
    hours: float | None
    amount_cents: int | None
    city_share_cents: int | None
    resident_share_cents: int | None
    submitted_at: datetime | None
    assigned_at: datetime | None
    completed_at: datetime | None
    confirmed_at: datetime | None
    charged_at: datetime | None
    status: str  # assigned, completed, disputed, confirmed, charged, cancelled or voided
    disputed: bool
    disputed_at: datetime | None
    ruled_at: datetime | None
    ruling: str | None  # upheld, adjusted or voided
    voided: bool
    charged_hours: float | None = None


class Source(msgspec.Struct):
    stream: str  # the service whose stream told it
    position: int  # its position in that stream


class TimelineEntry(msgspec.Struct):
    step: str  # submitted, offered, accepted, assigned, completed, confirmed, charged, ...
    event: str  # the integration event, with its version
    at: datetime
    actor: str  # resident:<pseudonym>, provider:<id>, partner:<id>, or service:<stream>
    why: str | None  # why matching offered it (an offer), in matching's words
    details: dict[str, Any]
    source: Source


class ArrangementTrail(msgspec.Struct):
    arrangement: Arrangement
    timeline: list[TimelineEntry]


FIELDS = [f.encode_name for f in msgspec.structs.fields(Arrangement)]


def hours(minutes: int | None) -> float | None:
    return None if minutes is None else minutes / 60


def as_arrangement(row: dict) -> Arrangement:
    return msgspec.convert(
        {
            **row,
            "hours": hours(row["minutes"]),
            "charged_hours": hours(row["charged_minutes"]),
            "disputed": row["disputed_at"] is not None,
            "voided": row["ruling"] == "voided",
        },
        Arrangement,
        from_attributes=False,
        strict=False,
    )


def whose(caller: Caller) -> str | None:
    """The partner whose arrangements the caller reads; None: every partner's (an admin)."""
    return None if caller.is_admin else caller.acting_partner


def period(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Lahti's days ``since`` to ``until``, both included, as [first instant, next day's)."""
    check_query_day("from", since)  # within the years the edge takes: 0001-01-01 is not
    check_query_day("until", until)
    if since is not None and until is not None and until < since:
        raise InvalidValue(f"until ({until}) is before from ({since})", rule="until")
    start = local_moment(since, time(0)) if since else None
    end = local_moment(until + timedelta(days=1), time(0)) if until else None
    return start, end


def conceal_others(entries: list[dict], caller: Caller) -> list[dict]:
    """Offers made under another partner's contract, as an officer reads them: that an offer
    was made and how it ended, not to whom or why (an admin reads everything)."""
    if caller.is_admin:
        return entries
    others = {
        e["details"].get("offer_id")
        for e in entries
        if e["details"].get("partner_id") not in (None, "", caller.partner_id)
    }
    others.discard(None)
    shown = []
    for entry in entries:
        if entry["details"].get("offer_id") in others:
            kept = {k: entry["details"][k] for k in ("offer_id",) if k in entry["details"]}
            entry = {**entry, "why": None, "details": kept, "actor": f"service:{entry['upstream']}"}
        shown.append(entry)
    return shown


def as_timeline(entries: list[dict]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            step=e["step"],
            event=e["event"],
            at=e["at"],
            actor=e["actor"],
            why=e["why"],
            details=e["details"],
            source=Source(stream=e["upstream"], position=e["position"]),
        )
        for e in entries
    ]


def wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def as_csv(rows: list[Arrangement]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        values = msgspec.to_builtins(row)
        writer.writerow({k: "" if v is None else v for k, v in values.items()})
    return out.getvalue()


class ArrangementsController(Controller):
    path = "/audit/arrangements"
    tags = ["audit"]
    guards = [OFFICER]

    @get(
        "/",
        summary="The arrangements: who organised what with whom, for how much",
        operation_class=CsvOperation,
        responses=errors(422),
    )
    async def list_arrangements(
        self,
        request: Request,
        reads: Reads,
        caller: Caller,
        partner_id: QueryId = None,
        provider_id: QueryId = None,
        category: QueryCode = None,
        region: QueryCode = None,
        since: Annotated[
            date | None, Parameter(query="from", description="assigned on this day or later")
        ] = None,
        until: Annotated[
            date | None, Parameter(description="assigned on this day or earlier")
        ] = None,
        format: Annotated[
            Literal["json", "csv"] | None,
            Parameter(description="csv for a spreadsheet (or Accept: text/csv)"),
        ] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Response[list[Arrangement]]:
        """Every request assigned under a contract, the first assigned first: the resident
        (a pseudonym), category, region, provider, contract and its version, partner, hours,
        amount, the dates of each step and where it stands. ``from`` and ``until`` are
        Lahti's days of the assignment, both included. As JSON, or CSV with ``format=csv``
        or ``Accept: text/csv``.

        An officer reads their own partner's arrangements (``partner_id`` of another reads
        none); an admin every partner's. Anyone else: 403."""
        start, end = period(since, until)
        filters = arrangements.Filters(
            partner=whose(caller),
            partner_id=partner_id,
            provider_id=provider_id,
            category=category,
            region=region,
            assigned_from=start,
            assigned_before=end,
        )
        rows = await arrangements.list_arrangements(
            reads.pool, reads.schema, filters, limit=limit, offset=offset
        )
        found = [as_arrangement(r) for r in rows]
        if wants_csv(request, format):
            return Response(
                as_csv(found),
                media_type="text/csv",
                headers={"Content-Disposition": 'attachment; filename="arrangements.csv"'},
            )
        return Response(found)

    @get("/{request_id:str}", summary="One arrangement and its whole timeline")
    async def get_arrangement(
        self, request_id: PathId, reads: Reads, caller: Caller
    ) -> ArrangementTrail:
        """The arrangement, and every event about its request from every service, in the
        order they happened, each with its time, who acted and where it was read from (the
        stream and its position). Offers made under another partner's contracts show that
        they were made and how they ended, not to whom or why.

        An officer of the arrangement's partner, or an admin; to another partner's officer
        it does not exist (404). Anyone else: 403."""
        row = await arrangements.get_arrangement(reads.pool, reads.schema, request_id)
        check_sees(
            row is not None and caller.is_officer_of(row["partner_id"]), "arrangement", request_id
        )
        entries = await arrangements.timeline(reads.pool, reads.schema, request_id)
        return ArrangementTrail(
            arrangement=as_arrangement(row), timeline=as_timeline(conceal_others(entries, caller))
        )
