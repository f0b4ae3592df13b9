"""Money in integer cents and the price of work time."""

from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from domain.errors import InvalidValue
from domain.money import Money, price_of_work

# --- Money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "shown"),
    [(0, "0.00 €"), (5, "0.05 €"), (150, "1.50 €"), (123456, "1234.56 €"), (-5, "-0.05 €")],
)
def test_money_prints_as_euros_and_cents(cents, shown):
    assert str(Money(cents)) == shown


def test_money_adds_and_subtracts_in_cents():
    assert Money(250) + Money(75) == Money(325)
    assert Money(250) - Money(300) == Money(-50)


def test_money_orders_by_amount():
    assert Money(99) < Money(100)
    assert Money(100) > Money(-100)
    assert max(Money(1), Money(30), Money(7)) == Money(30)


@pytest.mark.parametrize("not_cents", [1.0, 1.5, Decimal("1"), "100", True, None])
def test_money_refuses_anything_but_whole_int_cents(not_cents):
    with pytest.raises(InvalidValue) as refused:
        Money(not_cents)
    assert refused.value.rule == "invalid_value"


def test_money_is_immutable():
    money = Money(100)
    with pytest.raises(FrozenInstanceError):
        money.cents = 200


# --- price_of_work -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_cents", "minutes", "expected_cents"),
    [
        (6000, 60, 6000),  # one hour
        (6000, 90, 9000),  # an hour and a half
        (4250, 15, 1063),  # 1062.5 rounds up
        (1999, 45, 1499),  # 1499.25 rounds down
        (1999, 15, 500),  # 499.75 rounds up
        (1001, 10, 167),  # 166.83 rounds up
        (3333, 20, 1111),  # exact
    ],
)
def test_price_is_unit_price_times_hours_rounded_to_the_cent(unit_cents, minutes, expected_cents):
    assert price_of_work(Money(unit_cents), minutes) == Money(expected_cents)


@pytest.mark.parametrize(
    ("unit_cents", "minutes", "expected_cents"),
    [
        (101, 30, 51),  # 50.5: half up gives 51, banker's rounding would give 50
        (1, 30, 1),  # 0.5 -> 1
        (3, 10, 1),  # 0.5 -> 1
        (1, 29, 0),  # 0.483 -> 0
        (105, 30, 53),  # 52.5 -> 53, banker's would give 52
    ],
)
def test_price_rounds_half_cents_up(unit_cents, minutes, expected_cents):
    assert price_of_work(Money(unit_cents), minutes).cents == expected_cents


def test_price_at_zero_unit_price_is_zero():
    assert price_of_work(Money(0), 60) == Money(0)


@pytest.mark.parametrize("minutes", [0, -1, -60])
def test_price_refuses_non_positive_minutes(minutes):
    with pytest.raises(InvalidValue, match="worked time must be positive"):
        price_of_work(Money(6000), minutes)


@pytest.mark.parametrize("minutes", [1.5, 60.0])
def test_price_refuses_fractional_or_float_minutes(minutes):
    with pytest.raises(InvalidValue):
        price_of_work(Money(6000), minutes)


def test_price_refuses_bool_minutes():
    with pytest.raises(InvalidValue):
        price_of_work(Money(6000), True)


def test_price_refuses_negative_unit_price():
    with pytest.raises(InvalidValue, match="unit price cannot be negative"):
        price_of_work(Money(-1), 60)
