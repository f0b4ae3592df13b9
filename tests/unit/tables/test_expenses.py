"""The tables' common expenses of a year: each recorded with its amount, day, purpose and
note; refused when it breaks a rule, naming it."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidValue
from domain.tables.expenses import CommonExpenses, expenses_key

TODAY = date(2026, 12, 2)


def test_a_years_expenses_add_up_by_purpose():
    expenses = CommonExpenses.open(2026)
    assert expenses.id == expenses_key(2026) != expenses_key(2027)
    expenses.record("x1", 500_000, date(2026, 3, 1), "marketing", "Esitteet", "admin-1", TODAY)
    expenses.record("x2", 250_000, date(2026, 6, 1), "joint_events", "", "admin-1", TODAY)
    expenses.record("x3", 1_000, date(2026, 6, 2), "marketing", " Ilmoitus ", "admin-2", TODAY)
    assert expenses.total_cents == 751_000
    assert expenses.by_purpose() == {"marketing": 501_000, "joint_events": 250_000, "other": 0}
    assert expenses.expenses[2]["note"] == "Ilmoitus"
    assert expenses.expenses[2]["recorded_by"] == "admin-2"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": -5}, "amount_cents"),
        ({"on": date(2025, 12, 31)}, "on"),
        ({"on": date(2026, 12, 3)}, "on"),
        ({"purpose": "coffee"}, "purpose"),
        ({"note": "bell\x07"}, "note"),
        ({"expense_id": "x1"}, "expense_id"),
    ],
)
def test_an_expense_that_breaks_a_rule_is_refused_and_nothing_recorded(change, rule):
    expenses = CommonExpenses.open(2026)
    expenses.record("x1", 100, date(2026, 1, 1), "other", "", "admin-1", TODAY)
    expense = {
        "expense_id": "x2",
        "amount_cents": 100,
        "on": date(2026, 5, 1),
        "purpose": "other",
        "note": "",
        "recorded_by": "admin-1",
        "today": TODAY,
        **change,
    }
    with pytest.raises(InvalidValue) as refused:
        expenses.record(**expense)
    assert refused.value.rule == rule
    assert expenses.total_cents == 100 and len(expenses.expenses) == 1


def test_a_year_out_of_bounds_has_no_expenses():
    with pytest.raises(InvalidValue):
        CommonExpenses.open(1999)
