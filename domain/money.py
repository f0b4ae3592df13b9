"""Money in integer cents, the price of work (per hour or per job), and who pays a charge:
the city and the resident. Every division of money rounds half up to the cent."""

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
    return Money(divide_half_up(unit_price.cents * minutes, 60))


def divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` in whole cents, rounded half up: the one rounding rule of
    every division of money (``price_of_work`` and every share are computed with it)."""
    if denominator <= 0:
        raise InvalidValue("money is divided by a positive number")
    return (numerator * 2 + denominator) // (denominator * 2)


PRICINGS = ("hour", "job")  # a contract's price is per hour of work, or fixed per job


def price_for(pricing: str, unit_price: Money, minutes: int) -> Money:
    """What a job of ``minutes`` costs at ``unit_price``: per hour (rounded half up to the
    cent), or the unit price once per job whatever the hours."""
    if pricing == "job":
        if unit_price.cents < 0:
            raise InvalidValue("a unit price cannot be negative")
        return unit_price
    return price_of_work(unit_price, minutes)


@dataclass(frozen=True)
class Shares:
    """Who pays a charge: the city (at most the service voucher) and the resident (their own
    share, omavastuu: the rest)."""

    city: Money
    resident: Money


def shares_of(amount: Money, voucher_cents: int | None) -> Shares:
    """The city pays ``amount`` whole without a voucher, else at most ``voucher_cents``; the
    resident pays the rest. Whole cents in, whole cents out: no division, nothing rounded."""
    city = amount.cents if voucher_cents is None else min(amount.cents, voucher_cents)
    return Shares(Money(city), Money(amount.cents - city))
