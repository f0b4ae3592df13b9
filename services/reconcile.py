"""``talkoot audit reconcile``: the charges of a period recomputed straight from the
partnerships event store, compared per contract (and per charge) with what the settlement
statements say, as the service serves them or as the ledger read model holds them.

The stored ``Charged`` events are read through the partnerships Application's own mapper, so
that a store whose events are encrypted or compressed (eventsourcing's CIPHER_* and
COMPRESSOR_* settings, in this environment as in the service's) reads as the service reads it.
A charge falls on Lahti's day of the moment it was charged, as in the statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.partnership import PartnershipContract
from domain.settlement import Entry, Period, euros, statement

Key = tuple[str, str]  # (contract, request)


def stored_charges(
    database_url: str,
    namespace: str,
    progress: Callable[[int], None] | None = None,
    every: int = 1000,
) -> list[Entry]:
    """Every charge stored in the partnerships event store, decoded as the service does."""
    from eventsourcing.utils import get_topic

    from services.partnerships.application import PartnershipsApplication
    from services.platform.settings import Settings

    settings = Settings(database_url=database_url, nats_url="", namespace=namespace)
    application = PartnershipsApplication(settings, env={"CREATE_TABLE": "n"})
    proposed, charged = (
        get_topic(PartnershipContract.Proposed),
        get_topic(PartnershipContract.Charged),
    )
    parties: dict[str, tuple[str, str]] = {}
    found: list[Entry] = []
    start, read, told = 1, 0, 0
    try:
        while True:
            page = application.recorder.select_notifications(start, 500, topics=[proposed, charged])
            if not page:
                break
            for notification in page:
                event = application.mapper.to_domain_event(notification)
                contract = str(event.originator_id)
                if notification.topic == proposed:
                    parties[contract] = (event.partner_id, event.provider_id)
                    continue
                partner, provider = parties.get(contract, ("", ""))
                found.append(
                    Entry(
                        partner_id=partner,
                        provider_id=provider,
                        contract_id=contract,
                        version=getattr(event, "version", 1),
                        request_id=event.request_id,
                        at=event.timestamp,
                        minutes=event.minutes,
                        amount_cents=event.amount_cents,
                    )
                )
            read += len(page)
            start = page[-1].id + 1
            if progress and read - told >= every:
                progress(read)
                told = read
    finally:
        application.close()
    return found


def ledger_charges(database_url: str, namespace: str, period: Period, partner: str | None):
    """The charges of the period as the ledger read model holds them (the statements' source)."""
    import asyncpg

    from contracts import database
    from projections import ledger
    from projections.schema import read_schema
    from services.partnerships.settlements import entry_of

    async def read() -> list[Entry]:
        conn = await asyncpg.connect(database.asyncpg_dsn(database_url), timeout=5)
        try:
            rows = await ledger.settled_entries(
                conn,
                read_schema(namespace),
                ledger.Seen(everything=True),
                partner_id=partner,
                starts=period.starts,
                ends=period.ends,
            )
        finally:
            await conn.close()
        return [entry_of(r) for r in rows]

    return asyncio.run(read())


@dataclass
class Side:
    """One side's charges of one contract."""

    charges: dict[str, int] = field(default_factory=dict)  # request -> signed cents

    @property
    def total(self) -> int:
        return sum(self.charges.values())


@dataclass
class Line:
    contract_id: str
    partner_id: str
    stored: Side
    stated: Side

    @property
    def difference(self) -> int:
        """What the statement says minus what the store holds, in cents."""
        return self.stated.total - self.stored.total

    @property
    def differing(self) -> list[tuple[str, int | None, int | None]]:
        """(request, stored cents, stated cents) of every charge that is not the same."""
        requests = sorted(set(self.stored.charges) | set(self.stated.charges))
        return [
            (r, self.stored.charges.get(r), self.stated.charges.get(r))
            for r in requests
            if self.stored.charges.get(r) != self.stated.charges.get(r)
        ]

    @property
    def ok(self) -> bool:
        return not self.differing


def compare(stored: list[Entry], stated: list[Entry], period: Period, partner: str | None):
    """Per contract of either side, in order: its charges in the store and in the statement.
    ``stored`` is narrowed to the period and the partner here; ``stated`` is taken as given."""
    kept = statement([e for e in stored if partner is None or e.partner_id == partner], period)
    lines: dict[str, Line] = {}

    def line(entry: Entry) -> Line:
        if entry.contract_id not in lines:
            lines[entry.contract_id] = Line(entry.contract_id, entry.partner_id, Side(), Side())
        return lines[entry.contract_id]

    for entry in kept.entries:
        line(entry).stored.charges[entry.request_id] = entry.signed_cents
    for entry in stated:
        side = line(entry).stated.charges
        side[entry.request_id] = side.get(entry.request_id, 0) + entry.signed_cents
    return sorted(lines.values(), key=lambda li: (li.partner_id, li.contract_id))


def amount(cents: int | None) -> str:
    return "none" if cents is None else f"{euros(cents)} €"


def report(lines: list[Line], say: Callable[[str], None]) -> int:
    """Print a line per contract (and one per charge that differs); the contracts that differ."""
    width = max((len(li.contract_id) for li in lines), default=8)
    wide = max((len(li.partner_id) for li in lines), default=7)
    say(f"  {'contract':<{width}}  {'partner':<{wide}}  {'charges':>7} {'total':>14}")
    wrong = 0
    for li in lines:
        head = (
            f"  {li.contract_id:<{width}}  {li.partner_id:<{wide}}  {len(li.stored.charges):>7} "
            f"{amount(li.stored.total):>14}"
        )
        if li.ok:
            say(f"{head}  OK")
            continue
        wrong += 1
        sign = "+" if li.difference > 0 else ""
        say(
            f"{head}  DIFFERS by {sign}{euros(li.difference)} € (statement: "
            f"{len(li.stated.charges)} charges, {amount(li.stated.total)})"
        )
        for request, held, said in li.differing:
            say(f"      request {request}: stored {amount(held)}, statement {amount(said)}")
    return wrong
