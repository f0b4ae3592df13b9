"""Settlement statements as the API gives them: JSON, or CSV for a spreadsheet.

The CSV has a header row, then for each partner, for each of its contracts, one row per charge
(``row`` = ``charge``) followed by the contract's total (``contract``), then the partner's
total (``partner``), and last the statement's (``total``). A total row's ``charges``,
``minutes`` and ``amount_cents`` are the sums of the charge rows above it, so that a
spreadsheet user can check each with a SUMIFS over the charge rows; ``amount_eur`` is the same
amount in euros with a decimal point (exact: cents are never rounded in a sum).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import msgspec

from domain.calendar import LOCAL_TIME
from domain.settlement import Entry, Statement, euros

TIME_RULE = (
    "a charge falls on the day in Lahti (Europe/Helsinki) of the moment it was charged; "
    "from and until are both included"
)


class StatementCharge(msgspec.Struct):
    partner_id: str
    provider_id: str
    contract_id: str
    version: int  # the contract's version the work was charged under
    request_id: str
    day: date  # Lahti's day of ``charged_at``
    charged_at: datetime
    minutes: int
    amount_cents: int
    amount_eur: str  # the same, in euros: "30.00"
    entry: str = "charged"


class StatementContract(msgspec.Struct):
    partner_id: str
    provider_id: str
    contract_id: str
    charges: int
    minutes: int
    amount_cents: int
    amount_eur: str


class StatementPartner(msgspec.Struct):
    partner_id: str
    contracts: int
    charges: int
    minutes: int
    amount_cents: int
    amount_eur: str


class StatementTotal(msgspec.Struct):
    charges: int
    minutes: int
    amount_cents: int
    amount_eur: str


class SettlementStatement(msgspec.Struct):
    """The charges of the period, per contract and per partner, and their sums in cents."""

    from_: date | None = msgspec.field(name="from")
    until: date | None
    partner_id: str | None
    contract_id: str | None
    time_rule: str
    charges: list[StatementCharge]
    contracts: list[StatementContract]
    partners: list[StatementPartner]
    total: StatementTotal


def entry_of(row: dict) -> Entry:
    return Entry(
        partner_id=row["partner_id"],
        provider_id=row["provider_id"],
        contract_id=row["contract_id"],
        version=row["version"],
        request_id=row["request_id"],
        at=row["at"],
        minutes=row["minutes"],
        amount_cents=row["amount_cents"],
        kind=row["outcome"],
    )


def as_json(
    made: Statement, partner_id: str | None = None, contract_id: str | None = None
) -> SettlementStatement:
    return SettlementStatement(
        from_=made.period.first,
        until=made.period.last,
        partner_id=partner_id,
        contract_id=contract_id,
        time_rule=TIME_RULE,
        charges=[
            StatementCharge(
                partner_id=e.partner_id,
                provider_id=e.provider_id,
                contract_id=e.contract_id,
                version=e.version,
                request_id=e.request_id,
                day=e.day,
                charged_at=e.at,
                minutes=e.minutes,
                amount_cents=e.signed_cents,
                amount_eur=euros(e.signed_cents),
                entry=e.kind,
            )
            for e in made.entries
        ],
        contracts=[
            StatementContract(
                partner_id=c.partner_id,
                provider_id=c.provider_id,
                contract_id=c.contract_id,
                charges=c.entries,
                minutes=c.minutes,
                amount_cents=c.amount_cents,
                amount_eur=euros(c.amount_cents),
            )
            for c in made.contracts
        ],
        partners=[
            StatementPartner(
                partner_id=p.partner_id,
                contracts=p.contracts,
                charges=p.entries,
                minutes=p.minutes,
                amount_cents=p.amount_cents,
                amount_eur=euros(p.amount_cents),
            )
            for p in made.partners
        ],
        total=StatementTotal(
            charges=made.total.entries,
            minutes=made.total.minutes,
            amount_cents=made.total.amount_cents,
            amount_eur=euros(made.total.amount_cents),
        ),
    )


CSV_COLUMNS = (
    "row",
    "partner_id",
    "provider_id",
    "contract_id",
    "version",
    "request_id",
    "day",
    "charged_at",
    "charges",
    "minutes",
    "amount_cents",
    "amount_eur",
)


def as_csv(made: Statement) -> str:
    """The statement as CSV (RFC 4180, comma-separated, CRLF line ends), in the order the
    module's docstring says."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def total(row: str, partner: str, provider: str, contract: str, of) -> None:
        blank = ["", "", "", ""]  # version, request, day, time: a total has none
        cents = of.amount_cents
        writer.writerow(
            [row, partner, provider, contract, *blank, of.entries, of.minutes, cents, euros(cents)]
        )

    partners = {p.partner_id: p for p in made.partners}
    by_contract: dict[str, list[Entry]] = {}
    for entry in made.entries:
        by_contract.setdefault(entry.contract_id, []).append(entry)
    for index, contract in enumerate(made.contracts):
        for e in by_contract[contract.contract_id]:
            writer.writerow(
                [
                    "charge",
                    e.partner_id,
                    e.provider_id,
                    e.contract_id,
                    e.version,
                    e.request_id,
                    e.day.isoformat(),
                    e.at.astimezone(LOCAL_TIME).isoformat(timespec="seconds"),
                    1,
                    e.signed_minutes,
                    e.signed_cents,
                    euros(e.signed_cents),
                ]
            )
        total("contract", contract.partner_id, contract.provider_id, contract.contract_id, contract)
        following = made.contracts[index + 1] if index + 1 < len(made.contracts) else None
        if following is None or following.partner_id != contract.partner_id:
            total("partner", contract.partner_id, "", "", partners[contract.partner_id])
    total("total", "", "", "", made.total)
    return out.getvalue()
