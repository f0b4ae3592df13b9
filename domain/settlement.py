"""Settlement statements: the charges of a period, with their totals per contract and per
municipal partner, in integer cents.

A charge falls on Lahti's day of the moment it was charged (``at``, the charge's own time),
not of the day the work was done: a statement of a period is what was charged in it, so that
two statements of adjacent periods never hold the same charge and a statement, once its period
is over, never changes.

Every amount is summed as a signed amount (``Entry.signed_cents``): a charge adds, and an entry
that takes one back (a reversal) would subtract, so that such entries fit in with a sign of
their own in ``SIGNS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from domain.calendar import local_day, local_moment
from domain.errors import InvalidValue

# The sign each kind of ledger entry adds to a statement's sums.
SIGNS = {"charged": 1}


def euros(cents: int) -> str:
    """Cents as euros with two decimals and a point (``-12.05``): exact, never a float."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


@dataclass(frozen=True)
class Period:
    """From the first day to the last, both included, in Lahti; either end may be open."""

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise InvalidValue(
                f"from ({self.first}) is after until ({self.last}): a period ends on or after "
                "its first day",
                rule="from",
            )

    @property
    def starts(self) -> datetime | None:
        """The first moment of the period (None: open)."""
        return local_moment(self.first, time()) if self.first else None

    @property
    def ends(self) -> datetime | None:
        """The first moment after the period (None: open)."""
        return local_moment(self.last + timedelta(days=1), time()) if self.last else None

    def holds(self, moment: datetime) -> bool:
        day = local_day(moment)
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)


@dataclass(frozen=True)
class Entry:
    """One entry of a contract's ledger that counts in a settlement: a charge."""

    partner_id: str
    contract_id: str
    version: int  # the contract's version the work was charged under
    request_id: str
    at: datetime  # when it was charged: its day in Lahti is the statement's day
    minutes: int
    amount_cents: int
    kind: str = "charged"
    provider_id: str = ""

    @property
    def day(self) -> date:
        return local_day(self.at)

    @property
    def signed_cents(self) -> int:
        return SIGNS[self.kind] * self.amount_cents

    @property
    def signed_minutes(self) -> int:
        return SIGNS[self.kind] * self.minutes


@dataclass
class Total:
    """What a group of entries adds up to."""

    entries: int = 0
    minutes: int = 0
    amount_cents: int = 0

    def add(self, entry: Entry) -> None:
        self.entries += 1
        self.minutes += entry.signed_minutes
        self.amount_cents += entry.signed_cents


@dataclass
class ContractTotal(Total):
    partner_id: str = ""
    contract_id: str = ""
    provider_id: str = ""


@dataclass
class PartnerTotal(Total):
    partner_id: str = ""
    contracts: int = 0


@dataclass
class Statement:
    """The entries of a period, ordered by partner, contract and time, with their totals."""

    period: Period
    entries: list[Entry] = field(default_factory=list)
    contracts: list[ContractTotal] = field(default_factory=list)
    partners: list[PartnerTotal] = field(default_factory=list)
    total: Total = field(default_factory=Total)


def statement(entries: list[Entry], period: Period | None = None) -> Statement:
    """The statement of ``entries`` that fall in ``period`` (every one when not given)."""
    period = period or Period()
    kept = sorted(
        (e for e in entries if period.holds(e.at)),
        key=lambda e: (e.partner_id, e.contract_id, e.at, e.request_id),
    )
    contracts: dict[str, ContractTotal] = {}
    partners: dict[str, PartnerTotal] = {}
    total = Total()
    for entry in kept:
        contract = contracts.get(entry.contract_id)
        if contract is None:
            contract = contracts[entry.contract_id] = ContractTotal(
                partner_id=entry.partner_id,
                contract_id=entry.contract_id,
                provider_id=entry.provider_id,
            )
            partner = partners.setdefault(
                entry.partner_id, PartnerTotal(partner_id=entry.partner_id)
            )
            partner.contracts += 1
        contract.add(entry)
        partners[entry.partner_id].add(entry)
        total.add(entry)
    return Statement(period, kept, list(contracts.values()), list(partners.values()), total)
