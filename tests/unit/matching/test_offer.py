"""The offer: made, answered once by its provider, lapsed or withdrawn."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import NotAllowed, WrongState
from domain.matching.offer import Offer, OfferStatus
from tests.unit.matching.builders import NOW, event_names, replay


def make_offer() -> Offer:
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        category="snow",
        region="north",
        declined_by=["p0"],
    )
    offer.collect_events()
    return offer


def test_a_new_offer_is_open():
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        category="snow",
        region="north",
        declined_by=[],
    )
    assert event_names(offer) == ["Made"]
    assert offer.status == OfferStatus.OPEN


def test_the_offered_provider_accepts_and_the_event_names_request_and_contract():
    offer = make_offer()

    offer.accept("p1")

    events = offer.collect_events()
    assert [type(e).__name__ for e in events] == ["Accepted"]
    assert (events[0].request_id, events[0].provider_id, events[0].contract_id) == (
        "request-1",
        "p1",
        "c1",
    )
    assert offer.status == OfferStatus.ACCEPTED


def test_the_offered_provider_declines_with_a_reason():
    offer = make_offer()

    offer.decline("p1", "no one free that day")

    events = offer.collect_events()
    assert [type(e).__name__ for e in events] == ["Declined"]
    assert events[0].request_id == "request-1"
    assert events[0].reason == "no one free that day"
    assert offer.status == OfferStatus.DECLINED


ANSWERS = {
    "accept": lambda offer, pid: offer.accept(pid),
    "decline": lambda offer, pid: offer.decline(pid, "busy"),
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_only_the_offered_provider_can_answer(answer):
    offer = make_offer()

    with pytest.raises(NotAllowed) as refused:
        ANSWERS[answer](offer, "p2")

    assert refused.value.rule == "provider_id"
    assert offer.status == OfferStatus.OPEN
    assert offer.collect_events() == []


@pytest.mark.parametrize("first", ANSWERS)
@pytest.mark.parametrize("second", ANSWERS)
def test_an_offer_is_answered_once(first, second):
    offer = make_offer()
    ANSWERS[first](offer, "p1")
    status = offer.status
    offer.collect_events()

    with pytest.raises(WrongState, match="already been"):
        ANSWERS[second](offer, "p1")

    assert offer.status == status
    assert offer.collect_events() == []


def test_an_answered_offer_replays_to_the_same_state():
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        category="snow",
        region="north",
        declined_by=["p0"],
    )
    offer.decline("p1", "busy")

    copy = replay(offer.collect_events())

    assert vars(copy) == vars(offer)
    assert copy.status == OfferStatus.DECLINED


# --- offers lapse and are withdrawn ------------------------------------------------------

MADE_AT = datetime(2025, 3, 9, 12, tzinfo=UTC)


def timed_offer(hours: int = 24) -> Offer:
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        partner_id="lahti-city",
        category="snow",
        region="north",
        declined_by=[],
        expires_at=MADE_AT + timedelta(hours=hours),
        candidates=[{"provider_id": "p1", "rank": 1}],
        score={"provider_id": "p1", "rank": 1},
    )
    offer.collect_events()
    return offer


def test_an_offer_lapses_once_its_time_has_passed():
    offer = timed_offer()
    assert not offer.due(MADE_AT + timedelta(hours=23))

    with pytest.raises(WrongState, match="open until"):
        offer.expire(MADE_AT + timedelta(hours=23))
    assert offer.collect_events() == []

    offer.expire(MADE_AT + timedelta(hours=24))

    events = offer.collect_events()
    assert [type(e).__name__ for e in events] == ["Expired"]
    assert (events[0].request_id, events[0].provider_id) == ("request-1", "p1")
    assert offer.status == OfferStatus.EXPIRED


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_lapsed_offer_cannot_be_answered(answer):
    offer = timed_offer()
    offer.expire(MADE_AT + timedelta(days=2))

    with pytest.raises(WrongState, match="already been expired"):
        ANSWERS[answer](offer, "p1")


def test_an_answered_offer_does_not_lapse():
    offer = timed_offer()
    offer.accept("p1")
    assert not offer.due(MADE_AT + timedelta(days=2))
    with pytest.raises(WrongState):
        offer.expire(MADE_AT + timedelta(days=2))


def test_an_open_offer_is_withdrawn_with_the_reason():
    offer = timed_offer()

    offer.withdraw("the request was rescheduled")

    events = offer.collect_events()
    assert [type(e).__name__ for e in events] == ["Withdrawn"]
    assert events[0].reason == "the request was rescheduled"
    assert offer.status == OfferStatus.WITHDRAWN
    assert offer.answer == "the request was rescheduled"
    with pytest.raises(WrongState):
        offer.withdraw("again")


def test_acceptance_carries_the_contracts_partner():
    offer = timed_offer()
    offer.accept("p1")
    (accepted,) = offer.collect_events()
    assert accepted.partner_id == "lahti-city"


def test_a_made_offer_keeps_its_explanation_and_replays():
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        partner_id="lahti-city",
        category="snow",
        region="north",
        declined_by=[],
        expires_at=MADE_AT,
        candidates=[{"provider_id": "p0", "rule": "region", "reason": "x"}],
        score={"provider_id": "p1", "rank": 1},
        why="Offered to p1, the only eligible provider.",
        explanation={"provider_name": "Ykkönen ry", "rank": 1, "eligible": 1},
    )
    copy = replay(offer.collect_events())
    assert vars(copy) == vars(offer)
    assert copy.candidates == [{"provider_id": "p0", "rule": "region", "reason": "x"}]
    assert copy.explanation == {"provider_name": "Ykkönen ry", "rank": 1, "eligible": 1}


# --- answers after the time to answer ----------------------------------------------------


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_offer_cannot_be_answered_once_its_time_has_passed(answer):
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        category="snow",
        region="north",
        declined_by=[],
        expires_at=NOW,
    )
    offer.collect_events()

    with pytest.raises(WrongState):
        if answer == "accept":
            offer.accept("p1", NOW + timedelta(seconds=1))
        else:
            offer.decline("p1", "too late", NOW + timedelta(seconds=1))

    assert offer.status == OfferStatus.OPEN
    assert offer.collect_events() == []
    offer.accept("p1", NOW - timedelta(seconds=1))  # in time
    assert offer.status == OfferStatus.ACCEPTED
