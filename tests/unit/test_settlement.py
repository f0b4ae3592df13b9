"""Settlement statements: which charges a period holds (Lahti's day of the charge's time),
their sums per contract, per partner and in all, and the CSV a spreadsheet user checks."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.settlement import Entry, Period, euros, statement
from services.partnerships.settlements import CSV_COLUMNS, as_csv, as_json


def entry(contract: str, cents: int, at: datetime, partner: str = "lahti-city", **more) -> Entry:
    values = {"version": 1, "request_id": f"r-{contract}-{cents}", "minutes": 60}
    return Entry(partner, contract, at=at, amount_cents=cents, **{**values, **more})


JAN = datetime(2026, 1, 15, 10, tzinfo=UTC)


def test_a_charge_falls_on_lahtis_day_of_its_time_not_utcs():
    # 22:30 UTC on 31 January is 00:30 on 1 February in Lahti (UTC+2 in winter)
    late = entry("c-1", 1000, datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
    assert late.day == date(2026, 2, 1)
    assert statement([late], Period(date(2026, 1, 1), date(2026, 1, 31))).entries == []
    february = statement([late], Period(date(2026, 2, 1), date(2026, 2, 28)))
    assert february.entries == [late]
    assert Period(date(2026, 2, 1), None).starts == datetime(2026, 1, 31, 22, tzinfo=UTC)
    assert Period(None, date(2026, 1, 31)).ends == datetime(2026, 1, 31, 22, tzinfo=UTC)


def test_both_ends_of_a_period_are_included_and_either_may_be_open():
    first, last = (
        entry("c", 1, datetime(2026, 3, 1, 8, tzinfo=UTC)),
        entry("c", 2, datetime(2026, 3, 31, 8, tzinfo=UTC)),
    )
    assert statement([first, last], Period(date(2026, 3, 1), date(2026, 3, 31))).total.entries == 2
    assert statement([first, last], Period(date(2026, 3, 2), None)).entries == [last]
    assert statement([first, last], Period(None, date(2026, 3, 30))).entries == [first]


def test_a_period_that_ends_before_it_starts_is_refused_naming_from():
    with pytest.raises(InvalidValue) as refused:
        Period(date(2026, 2, 1), date(2026, 1, 31))
    assert refused.value.rule == "from"


def test_totals_per_contract_and_per_partner_are_the_sums_of_their_charges():
    made = statement(
        [
            entry("c-2", 1250, JAN, minutes=30),
            entry("c-1", 3000, JAN),
            entry("c-1", 4501, JAN, version=2, minutes=90),
            entry("c-9", 999, JAN, partner="hollola", minutes=15),
        ]
    )
    assert [(c.contract_id, c.entries, c.minutes, c.amount_cents) for c in made.contracts] == [
        ("c-9", 1, 15, 999),
        ("c-1", 2, 150, 7501),
        ("c-2", 1, 30, 1250),
    ]
    assert [(p.partner_id, p.contracts, p.entries, p.amount_cents) for p in made.partners] == [
        ("hollola", 1, 1, 999),
        ("lahti-city", 2, 3, 8751),
    ]
    assert (made.total.entries, made.total.minutes, made.total.amount_cents) == (4, 195, 9750)
    shown = as_json(made)
    assert shown.total.amount_eur == "97.50"
    assert [c.version for c in shown.charges if c.contract_id == "c-1"] == [1, 2]


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 10**7)), max_size=40))
def test_every_total_adds_up_to_the_cent(charges):
    made = statement(
        [entry(c, cents, JAN, request_id=f"r{i}") for i, (c, cents) in enumerate(charges)]
    )
    assert made.total.amount_cents == sum(cents for _, cents in charges)
    assert sum(c.amount_cents for c in made.contracts) == made.total.amount_cents
    assert sum(p.amount_cents for p in made.partners) == made.total.amount_cents


@pytest.mark.parametrize(
    ("cents", "shown"),
    [(0, "0.00"), (5, "0.05"), (1250, "12.50"), (-305, "-3.05"), (10**9, "10000000.00")],
)
def test_euros_are_exact_with_two_decimals(cents: int, shown: str):
    assert euros(cents) == shown


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_a_header_a_row_per_charge_and_totals_a_spreadsheet_can_check():
    made = statement(
        [
            entry("c-1", 3000, JAN, request_id="r-1"),
            entry("c-1", 1525, JAN, request_id="r-2", minutes=30, version=2),
            entry("c-2", 100, JAN, request_id="r-3", minutes=15),
            entry("c-8", 700, JAN, partner="hollola", request_id="r-4"),
        ]
    )
    text = as_csv(made)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = rows_of(text)
    assert [(r["row"], r["contract_id"] or r["partner_id"]) for r in rows] == [
        ("charge", "c-8"),
        ("contract", "c-8"),
        ("partner", "hollola"),
        ("charge", "c-1"),
        ("charge", "c-1"),
        ("contract", "c-1"),
        ("charge", "c-2"),
        ("contract", "c-2"),
        ("partner", "lahti-city"),
        ("total", ""),
    ]
    first = rows[3]
    assert (first["version"], first["request_id"], first["day"]) == ("1", "r-1", "2026-01-15")
    assert first["charged_at"] == "2026-01-15T12:00:00+02:00"  # Lahti's time
    assert (first["minutes"], first["amount_cents"], first["amount_eur"]) == ("60", "3000", "30.00")
    charges = [r for r in rows if r["row"] == "charge"]
    # what a spreadsheet's SUMIFS would find: each total row is the sum of its charge rows
    for r in rows:
        if r["row"] == "charge":
            continue
        mine = [
            c
            for c in charges
            if r["row"] == "total"
            or (r["row"] == "partner" and c["partner_id"] == r["partner_id"])
            or (r["row"] == "contract" and c["contract_id"] == r["contract_id"])
        ]
        assert int(r["charges"]) == len(mine)
        assert int(r["minutes"]) == sum(int(c["minutes"]) for c in mine)
        assert int(r["amount_cents"]) == sum(int(c["amount_cents"]) for c in mine)
        assert r["amount_eur"] == euros(int(r["amount_cents"]))
    assert rows[-1]["amount_cents"] == "5325" and rows[-1]["amount_eur"] == "53.25"


def test_an_empty_statement_is_a_header_and_a_total_of_nothing():
    rows = rows_of(as_csv(statement([], Period(date(2026, 1, 1), date(2026, 1, 31)))))
    assert [(r["row"], r["charges"], r["amount_cents"]) for r in rows] == [("total", "0", "0")]


def test_a_request_id_with_a_comma_or_quote_stays_one_field():
    made = statement([entry("c-1", 100, JAN, request_id='r,"1"')])
    assert rows_of(as_csv(made))[0]["request_id"] == 'r,"1"'
