"""The tables' common expenses: what the city spends for all its partnership tables together
(marketing, joint events, other), beside each table's own budget. One aggregate per year, so
that a year's expenses are read, and their total checked, without reading another year's.

The city plans a yearly figure for them (€17,000 in Lahti); what was spent is what is recorded
here, each expense with its amount, its day, what it was for and a note.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue
from domain.tables.table import TABLES, check_cents, text

NOTE_LENGTH = 2000


class Purpose(StrEnum):
    """What a common expense was for, in the shape of the city's budget for the tables."""

    MARKETING = "marketing"
    JOINT_EVENTS = "joint_events"
    OTHER = "other"


def expenses_key(year: int) -> UUID:
    """The aggregate id of a year's common expenses: one per year, found by the year."""
    return uuid5(TABLES, f"common-expenses:{year}")


class CommonExpenses(Aggregate):
    """The common expenses of the tables recorded for one year."""

    @staticmethod
    def create_id(year: int, **_: object) -> UUID:
        return expenses_key(year)

    @event("Opened")
    def __init__(self, year: int) -> None:
        self.year = year
        # each expense: {expense_id, amount_cents, on, purpose, note, recorded_by}
        self.expenses: list[dict] = []

    @classmethod
    def open(cls, year: int) -> CommonExpenses:
        if not 2000 <= year <= 2100:
            raise InvalidValue("common expenses are for a year between 2000 and 2100", rule="on")
        return cls(year=year)

    @property
    def total_cents(self) -> int:
        return sum(e["amount_cents"] for e in self.expenses)

    def by_purpose(self) -> dict[str, int]:
        totals = dict.fromkeys(Purpose, 0)
        for expense in self.expenses:
            totals[Purpose(expense["purpose"])] += expense["amount_cents"]
        return {str(p): cents for p, cents in totals.items()}

    def record(
        self,
        expense_id: str,
        amount_cents: int,
        on: date,
        purpose: str,
        note: str,
        recorded_by: str,
        today: date,
    ) -> None:
        """Record an expense of the year: a positive amount, on a day of the year that is not
        in the future, for one of the purposes."""
        check_cents(amount_cents, "amount_cents", positive=True)
        if on.year != self.year:
            raise InvalidValue(f"an expense of {self.year} is on a day of {self.year}", rule="on")
        if on > today:
            raise InvalidValue("an expense cannot be in the future", rule="on")
        if purpose not in set(Purpose):
            raise InvalidValue(
                f"a common expense is for one of {', '.join(Purpose)}; got {purpose!r}",
                rule="purpose",
            )
        if any(e["expense_id"] == expense_id for e in self.expenses):
            raise InvalidValue(f"the expense {expense_id} is recorded already", rule="expense_id")
        self._recorded(
            year=self.year,
            expense_id=expense_id,
            amount_cents=amount_cents,
            on=on,
            purpose=str(purpose),
            note=text(note, "the note", "note", NOTE_LENGTH, blank=True),
            recorded_by=recorded_by,
        )

    @event("Recorded")
    def _recorded(
        self,
        year: int,
        expense_id: str,
        amount_cents: int,
        on: date,
        purpose: str,
        note: str,
        recorded_by: str,
    ) -> None:
        self.expenses.append(
            {
                "expense_id": expense_id,
                "amount_cents": amount_cents,
                "on": on,
                "purpose": purpose,
                "note": note,
                "recorded_by": recorded_by,
            }
        )
