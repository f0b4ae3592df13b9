"""An initiative's life, from the topic it was raised as to the city's answer and what came of
it: its origin is always kept, residents' support puts it on the agenda, a forwarded one the
city leaves unanswered becomes overdue, and one the table funds becomes a service programme."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.tables.initiative import Initiative, InitiativeStatus

TODAY = date(2026, 12, 2)


def an_initiative(origin: str = "resident") -> Initiative:
    return Initiative.raise_(
        table_id="lahti-east",
        title="Benches along the Salpausselkä path",
        description="Older residents need somewhere to rest.",
        origin=origin,
        raised_by="resident-aino",
        raised_on=date(2026, 3, 1),
    )


def forwarded(on: date = date(2026, 4, 1)) -> Initiative:
    initiative = an_initiative()
    initiative.discuss("m1", date(2026, 3, 10))
    initiative.forward("The table supports this.", "coord-east", on, TODAY)
    return initiative


def test_the_origin_is_kept_and_must_be_a_resident_a_member_or_the_city():
    assert an_initiative("city").origin == "city"
    with pytest.raises(InvalidValue) as refused:
        an_initiative("party")
    assert refused.value.rule == "origin"


def test_support_is_counted_once_per_resident_and_puts_it_on_the_agenda_at_the_threshold():
    initiative = an_initiative()
    initiative.support("resident-eero")
    with pytest.raises(WrongState):
        initiative.support("resident-eero")
    assert not initiative.is_due_at_meeting(2)
    initiative.support("resident-liisa")
    assert initiative.is_due_at_meeting(2)
    initiative.discuss("m1", date(2026, 3, 10))
    assert not initiative.is_due_at_meeting(2)  # taken up
    with pytest.raises(WrongState):
        initiative.support("resident-maija")


def test_its_life_goes_from_discussion_to_the_citys_answer_and_implementation():
    initiative = forwarded()
    assert initiative.status == InitiativeStatus.FORWARDED
    initiative.answer_with("in_progress", "", "officer-1", date(2026, 4, 20), TODAY)
    initiative.answer_with(
        "accepted", "In next year's budget.", "officer-1", date(2026, 5, 2), TODAY
    )
    assert [a["answer"] for a in initiative.answers] == ["in_progress", "accepted"]
    with pytest.raises(WrongState):
        initiative.answer_with("rejected", "No.", "officer-1", date(2026, 5, 3), TODAY)
    initiative.implement("Six benches installed.", "coord-east", date(2026, 9, 1), TODAY)
    assert initiative.status == InitiativeStatus.IMPLEMENTED
    with pytest.raises(WrongState):
        initiative.close("done", "coord-east", date(2026, 9, 2), TODAY)


def test_a_table_forwards_only_what_a_meeting_discussed():
    initiative = an_initiative()
    with pytest.raises(WrongState):
        initiative.forward("statement", "coord-east", date(2026, 3, 5), TODAY)


def test_a_rejection_gives_its_reasons_and_a_rejected_one_is_not_implemented():
    initiative = forwarded()
    with pytest.raises(InvalidValue) as refused:
        initiative.answer_with("rejected", "  ", "officer-1", date(2026, 4, 20), TODAY)
    assert refused.value.rule == "reasons"
    initiative.answer_with("rejected", "No land available.", "officer-1", date(2026, 4, 20), TODAY)
    with pytest.raises(WrongState):
        initiative.implement("x", "coord-east", date(2026, 5, 1), TODAY)


def test_answers_are_not_dated_before_the_forwarding_or_in_the_future():
    initiative = forwarded(date(2026, 4, 1))
    with pytest.raises(InvalidValue):
        initiative.answer_with("accepted", "", "officer-1", date(2026, 3, 31), TODAY)
    with pytest.raises(InvalidValue):
        initiative.answer_with("accepted", "", "officer-1", date(2026, 12, 3), TODAY)


def test_a_forwarded_initiative_is_overdue_past_the_citys_time_until_answered():
    initiative = forwarded(date(2026, 4, 1))
    assert initiative.due_on(60) == date(2026, 5, 31)
    assert not initiative.is_overdue(date(2026, 5, 31), 60)
    assert initiative.is_overdue(date(2026, 6, 1), 60)
    initiative.answer_with("accepted", "", "officer-1", date(2026, 6, 2), TODAY)
    assert not initiative.is_overdue(date(2026, 6, 3), 60)


def programme(initiative: Initiative, **terms) -> None:
    initiative.fund_programme(
        programme_id=terms.pop("programme_id", uuid4()),
        provider_id=terms.pop("provider_id", "naapuriapu"),
        categories=terms.pop("categories", ["snow-clearing"]),
        regions=terms.pop("regions", ["nastola"]),
        unit_price_cents=terms.pop("unit_price_cents", 35_00),
        pricing=terms.pop("pricing", "hour"),
        budget_cents=terms.pop("budget_cents", 5_000_00),
        valid_from=terms.pop("valid_from", date(2026, 11, 1)),
        valid_until=terms.pop("valid_until", date(2027, 3, 31)),
        decided_by="coord-east",
        table_regions=["nastola", "lahti-kivimaa"],
    )


def test_a_discussed_initiative_becomes_one_service_programme_in_the_tables_regions():
    initiative = an_initiative()
    with pytest.raises(WrongState):
        programme(initiative)  # not discussed yet
    initiative.discuss("m1", date(2026, 3, 10))
    with pytest.raises(NotAllowed) as refused:
        programme(initiative, regions=["hollola"])
    assert refused.value.rule == "regions"
    with pytest.raises(InvalidValue):
        programme(initiative, valid_until=date(2026, 10, 1))
    programme(initiative)
    assert initiative.programme["provider_id"] == "naapuriapu"
    with pytest.raises(WrongState):
        programme(initiative)
