"""Money in integer cents, and the price of work time."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidValue


@dataclass(frozen=True, order=True)
class Money:
    """An amount in euro cents. Never a float."""

    cents: int

    def __post_init__(self) -> None:
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise InvalidValue(f"money must be whole cents, got {self.cents!r}")

    def __add__(self, other: Money) -> Money:
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        return Money(self.cents - other.cents)

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        euros, cents = divmod(abs(self.cents), 100)
        return f"{sign}{euros}.{cents:02d} €"


def price_of_work(unit_price: Money, minutes: int) -> Money:
    """``minutes`` of work at ``unit_price`` an hour, rounded half up to the cent."""
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise InvalidValue(f"worked time must be whole minutes, got {minutes!r}")
    if minutes <= 0:
        raise InvalidValue(f"worked time must be positive, got {minutes} minutes")
    if unit_price.cents < 0:
        raise InvalidValue("a unit price cannot be negative")
    return Money((unit_price.cents * minutes * 2 + 60) // 120)
