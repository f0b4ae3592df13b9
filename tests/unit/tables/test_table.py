"""A partnership table's rules: its members over time, meetings whose attending members earn
the fee, the payout per period, events and their topics, and the budget with what is set
aside from it."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidValue, WrongState
from domain.tables.table import PartnershipTable, Spending, payout

TODAY = date(2026, 12, 2)
FOUNDED = date(2026, 1, 1)


def a_table(**terms) -> PartnershipTable:
    return PartnershipTable.found(
        table_id=terms.pop("table_id", "lahti-east"),
        name=terms.pop("name", "Itäinen kumppanuuspöytä"),
        regions=terms.pop("regions", ["nastola", "lahti-kivimaa"]),
        coordinator=terms.pop("coordinator", "coord-east"),
        founded_on=terms.pop("founded_on", FOUNDED),
        **terms,
    )


def with_members(*ids: str) -> PartnershipTable:
    table = a_table()
    for member_id in ids:
        table.join(member_id, f"Member {member_id}", "resident", date(2026, 1, 10), TODAY)
    return table


def test_a_new_table_has_lahtis_figures_unless_told_otherwise():
    table = a_table()
    assert table.coordinator_share_percent == 25
    assert table.yearly_budget_cents == 20_000_00
    assert table.meeting_fee_cents == 120_00
    assert table.meetings_per_year == 6
    assert table.regions == ["lahti-kivimaa", "nastola"]
    assert a_table(meeting_fee_cents=90_00).meeting_fee_cents == 90_00


@pytest.mark.parametrize(
    ("terms", "rule"),
    [
        ({"table_id": "Lahti East"}, "table_id"),
        ({"regions": []}, "regions"),
        ({"name": "  "}, "name"),
        ({"name": "Pöytä\x00"}, "name"),
        ({"coordinator_share_percent": 0}, "coordinator_share_percent"),
        ({"coordinator_share_percent": 101}, "coordinator_share_percent"),
        ({"meetings_per_year": 0}, "meetings_per_year"),
        ({"support_threshold": 0}, "support_threshold"),
        ({"answer_days": 0}, "answer_days"),
        ({"yearly_budget_cents": -1}, "yearly_budget_cents"),
    ],
)
def test_a_table_is_refused_naming_the_term_that_breaks_a_rule(terms, rule):
    with pytest.raises(InvalidValue) as refused:
        a_table(**terms)
    assert refused.value.rule == rule


def test_members_join_and_leave_over_time_and_may_come_back():
    table = with_members("aino")
    table.leave("aino", date(2026, 5, 1), TODAY, "moved away")
    assert table.is_member_on("aino", date(2026, 4, 30))
    assert not table.is_member_on("aino", date(2026, 5, 1))
    with pytest.raises(InvalidValue):
        table.join("aino", "Aino", "resident", date(2026, 4, 1), TODAY)  # before she left
    table.join("aino", "Aino", "association", date(2026, 9, 1), TODAY)
    assert table.is_member_on("aino", date(2026, 9, 1))
    assert table.members["aino"]["kind"] == "association"


def test_joining_twice_in_the_future_or_before_the_founding_is_refused():
    table = with_members("aino")
    with pytest.raises(WrongState):
        table.join("aino", "Aino", "resident", date(2026, 2, 1), TODAY)
    with pytest.raises(InvalidValue, match="future"):
        table.join("eero", "Eero", "business", date(2026, 12, 3), TODAY)
    with pytest.raises(InvalidValue, match="founded"):
        table.join("eero", "Eero", "business", date(2025, 12, 31), TODAY)
    with pytest.raises(InvalidValue) as refused:
        table.join("eero", "Eero", "party", date(2026, 2, 1), TODAY)
    assert refused.value.rule == "kind"


def test_every_attending_member_earns_the_fee_and_the_meeting_cost_is_spent():
    table = with_members("aino", "eero", "liisa")
    table.plan_meeting("m1", date(2026, 2, 10), "Winter paths")
    table.hold_meeting("m1", ["aino", "eero"], ["Ask for sand bins"], [], 80_00, TODAY)
    assert [f["member_id"] for f in table.fees] == ["aino", "eero"]
    assert all(f["cents"] == 120_00 for f in table.fees)
    assert table.spent_in(2026) == 80_00
    assert table.left_in(2026) == 20_000_00 - 80_00


def test_a_meeting_is_held_once_by_members_of_its_day_and_not_ahead_of_its_day():
    table = with_members("aino")
    table.plan_meeting("m1", date(2026, 2, 10), "")
    with pytest.raises(InvalidValue) as refused:
        table.hold_meeting("m1", ["aino", "stranger"], [], [], 0, TODAY)
    assert refused.value.rule == "attendees"
    with pytest.raises(InvalidValue):
        table.hold_meeting("m1", ["aino", "aino"], [], [], 0, TODAY)
    table.hold_meeting("m1", ["aino"], [], [], 0, TODAY)
    with pytest.raises(WrongState):
        table.hold_meeting("m1", ["aino"], [], [], 0, TODAY)
    table.plan_meeting("m2", date(2026, 12, 20), "")
    with pytest.raises(InvalidValue, match="future"):
        table.hold_meeting("m2", ["aino"], [], [], 0, TODAY)


def test_a_meeting_takes_up_every_initiative_residents_put_on_its_agenda():
    table = with_members("aino")
    table.plan_meeting("m1", date(2026, 3, 1), "")
    with pytest.raises(WrongState) as refused:
        table.hold_meeting("m1", ["aino"], [], ["other"], 0, TODAY, due=["benches"])
    assert refused.value.rule == "agenda"
    assert not table.meetings["m1"]["held"] and not table.fees
    table.hold_meeting("m1", ["aino"], [], ["benches"], 0, TODAY, due=["benches"])
    assert table.meetings["m1"]["discussed"] == ["benches"]


def test_the_payout_pays_what_was_accrued_in_the_period_once():
    table = with_members("aino", "eero")
    for number, day in enumerate([date(2026, 2, 1), date(2026, 5, 1), date(2026, 9, 1)]):
        table.plan_meeting(f"m{number}", day, "")
        table.hold_meeting(f"m{number}", ["aino", "eero"][: number + 1], [], [], 0, TODAY)
    first = table.pay_fees(date(2026, 6, 30), TODAY, "coord-east")
    assert first == [
        {"member_id": "aino", "name": "Member aino", "meetings": 2, "cents": 240_00},
        {"member_id": "eero", "name": "Member eero", "meetings": 1, "cents": 120_00},
    ]
    with pytest.raises(WrongState):
        table.pay_fees(date(2026, 6, 30), TODAY, "coord-east")
    second = table.pay_fees(date(2026, 11, 30), TODAY, "coord-east")
    assert sum(line["cents"] for line in second) == 240_00
    with pytest.raises(WrongState, match="no fees"):
        table.pay_fees(date(2026, 12, 1), TODAY, "coord-east")


def test_the_payout_list_names_each_member_once_with_their_meetings():
    fees = [
        {"member_id": "b", "cents": 100},
        {"member_id": "a", "cents": 100},
        {"member_id": "b", "cents": 100},
    ]
    lines = payout(fees, {"a": {"name": "Aino"}})
    assert lines == [
        {"member_id": "a", "name": "Aino", "meetings": 1, "cents": 100},
        {"member_id": "b", "name": "b", "meetings": 2, "cents": 200},
    ]


def test_an_event_records_attendance_and_topics_that_initiatives_can_come_from():
    table = a_table()
    table.plan_gathering("e1", "speak_out", "Sano sanasi: Nastola", date(2026, 4, 2))
    with pytest.raises(InvalidValue, match="no event"):
        table.topic("e1", 0)
    table.hold_gathering("e1", 41, ["Bus stop shelter", "Ice rink"], 150_00, TODAY)
    assert table.topic("e1", 1) == "Ice rink"
    with pytest.raises(InvalidValue) as refused:
        table.topic("e1", 2)
    assert refused.value.rule == "topic"
    assert table.spendings[-1]["kind"] == Spending.ACTIVITIES
    with pytest.raises(WrongState):
        table.hold_gathering("e1", 41, [], 0, TODAY)
    table.plan_gathering("e2", "event", "Kylätapahtuma", date(2026, 5, 2))
    with pytest.raises(InvalidValue) as refused:
        table.hold_gathering("e2", -1, [], 0, TODAY)
    assert refused.value.rule == "attendance"
    with pytest.raises(InvalidValue):
        table.plan_gathering("e3", "party", "x", date(2026, 4, 2))


def test_funds_are_set_aside_only_from_what_is_left_and_come_back_when_released():
    table = a_table()
    table.earmark(Spending.ROUND, "round-1", 15_000_00, date(2026, 3, 1), "PB 2026")
    with pytest.raises(WrongState) as refused:
        table.earmark(Spending.PROGRAMME, "p-1", 6_000_00, date(2026, 3, 1), "snow")
    assert refused.value.rule == "budget_cents"
    table.release("round-1", 4_000_00, "not allocated")
    assert table.left_in(2026) == 9_000_00
    table.earmark(Spending.PROGRAMME, "p-1", 6_000_00, date(2026, 3, 1), "snow")
    assert table.left_in(2026) == 3_000_00
    assert table.left_in(2027) == 20_000_00  # each year has its own budget


def test_a_budget_is_not_set_below_what_the_year_has_spent():
    table = a_table()
    table.earmark(Spending.ROUND, "round-1", 15_000_00, date(2026, 3, 1), "PB 2026")
    with pytest.raises(WrongState):
        table.set_budget(2026, 10_000_00)
    table.set_budget(2026, 25_000_00)
    assert table.left_in(2026) == 10_000_00
