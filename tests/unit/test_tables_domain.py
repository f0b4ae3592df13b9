"""The partnership table's own records the service reads: its payouts, numbered and kept with
the moment they were paid; its initiatives and their origins; what its budget set aside, per
kind; and the agenda rule as a conflict of the meeting's state."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import WrongState
from domain.tables.table import PartnershipTable, Spending

TODAY = date(2026, 12, 1)


def a_table() -> PartnershipTable:
    table = PartnershipTable.found(
        table_id="lahti-east",
        name="Idän alueraati",
        regions=["nastola"],
        coordinator="coord-1",
        founded_on=date(2026, 1, 1),
    )
    table.join("aino", "Aino", "resident", date(2026, 2, 1), TODAY)
    table.join("eero", "Eero", "association", date(2026, 2, 1), TODAY)
    for meeting_id, on in (("m1", date(2026, 3, 1)), ("m2", date(2026, 5, 1))):
        table.plan_meeting(meeting_id, on, "")
        table.hold_meeting(meeting_id, ["aino", "eero"], [], [], 0, TODAY)
    return table


def replayed(table: PartnershipTable) -> PartnershipTable:
    copy = None
    for event in table.collect_events():
        copy = event.mutate(copy)
    return copy


def test_each_payout_is_kept_numbered_with_its_period_lines_and_moment():
    table = a_table()
    table.pay_fees(date(2026, 4, 1), TODAY, "coord-1")
    table.pay_fees(date(2026, 6, 1), TODAY, "coord-1")

    first, second = table.payouts
    assert (first["number"], first["period_from"], first["until"]) == (1, None, date(2026, 4, 1))
    assert (second["number"], second["period_from"]) == (2, date(2026, 4, 1))
    assert [line["member_id"] for line in first["lines"]] == ["aino", "eero"]
    assert first["total_cents"] == 2 * table.meeting_fee_cents
    assert first["at"].tzinfo is not None and first["at"] <= second["at"]
    assert replayed(table).payouts == table.payouts


def test_a_period_paid_already_is_refused_and_keeps_no_payout():
    table = a_table()
    table.pay_fees(date(2026, 4, 1), TODAY, "coord-1")
    with pytest.raises(WrongState):
        table.pay_fees(date(2026, 4, 1), TODAY, "coord-1")
    assert len(table.payouts) == 1


def test_the_table_keeps_its_initiatives_and_counts_the_citys_share():
    table = a_table()
    assert table.city_share_percent() == 0
    for n, origin in enumerate(["city", "resident", "member", "city", "resident", "resident"]):
        table.file_initiative(f"i-{n}", origin)
    with pytest.raises(WrongState):
        table.file_initiative("i-0", "city")

    assert list(table.initiatives) == [f"i-{n}" for n in range(6)]
    assert table.origins() == {"resident": 3, "member": 1, "city": 2}
    assert table.city_share_percent() == 33
    assert replayed(table).initiatives == table.initiatives


def test_what_was_set_aside_is_found_by_kind_and_a_release_counts_against_it():
    table = a_table()
    table.earmark(Spending.ROUND, "round-1", 500_000, date(2026, 6, 1), "round")
    table.earmark(Spending.PROGRAMME, "programme-1", 300_000, date(2026, 7, 1), "programme")
    table.release("round-1", 200_000, "not allocated")

    assert table.earmarked_for(Spending.ROUND) == ["round-1"]
    assert table.earmarked_for(Spending.PROGRAMME) == ["programme-1"]
    assert table.spent_on(2026, Spending.ROUND) == 300_000
    assert table.spent_on(2027, Spending.ROUND) == 0
    assert table.left_in(2026) == table.yearly_budget_cents - 600_000


def test_a_meeting_that_leaves_out_an_initiative_on_its_agenda_is_a_conflict():
    table = a_table()
    table.plan_meeting("m3", date(2026, 6, 1), "")
    with pytest.raises(WrongState) as refused:
        table.hold_meeting("m3", ["aino"], [], ["i-2"], 0, TODAY, due=["i-1", "i-2"])
    assert refused.value.rule == "agenda" and "i-1" in refused.value.message
    assert not table.meetings["m3"]["held"]
    table.hold_meeting("m3", ["aino"], [], ["i-1", "i-2"], 0, TODAY, due=["i-1", "i-2"])
    assert table.meetings["m3"]["discussed"] == ["i-1", "i-2"]


def test_a_voter_is_stored_as_a_pseudonym_of_their_own_for_each_round():
    from services.tables.application import voter_pseudonym

    secret = "s" * 40
    first = voter_pseudonym(secret, "round-1", "resident-aino")
    assert first == voter_pseudonym(secret, "round-1", "resident-aino")  # a ballot replaces
    assert first != voter_pseudonym(secret, "round-2", "resident-aino")
    assert first != voter_pseudonym("t" * 40, "round-1", "resident-aino")
    assert "aino" not in first and len(first) == 64


def test_the_apis_status_filter_names_every_status_of_an_initiative():
    from typing import get_args

    from domain.tables.initiative import InitiativeStatus
    from services.tables.api import Status

    assert set(get_args(Status)) == {s.value for s in InitiativeStatus}
