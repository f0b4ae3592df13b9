"""The job: a request's offers, declines, lapses, new days and how it ended."""

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import WrongState
from domain.matching.job import Job, JobStatus
from domain.matching.policy import JobToMatch
from tests.unit.matching.builders import DAY, event_names, replay


def open_job() -> Job:
    new = Job(id=uuid4(), category="snow", region="north", on=DAY)
    new.collect_events()
    return new


def test_a_job_takes_the_request_id_and_opens():
    request_id = uuid4()
    new = Job(id=request_id, category="snow", region="north", on=DAY)

    assert new.id == request_id
    assert event_names(new) == ["Opened"]
    assert new.status == JobStatus.OPEN
    assert new.declined_by == []


def test_a_job_becomes_a_job_to_match():
    new = open_job()
    assert new.to_match() == JobToMatch(
        request_id=str(new.id), category="snow", region="north", on=DAY
    )


def test_recording_an_offer_marks_the_job_offered():
    current = open_job()

    current.record_offer("offer-1", "p1")

    assert event_names(current) == ["OfferRecorded"]
    assert current.status == JobStatus.OFFERED
    assert (current.offer_id, current.provider_id) == ("offer-1", "p1")


def test_a_decline_reopens_the_job_and_excludes_the_provider_from_matching():
    current = open_job()
    current.record_offer("offer-1", "p1")
    current.collect_events()

    current.record_decline("offer-1", "p1")

    assert event_names(current) == ["Declined"]
    assert current.status == JobStatus.OPEN
    assert current.offer_id is None
    assert current.provider_id is None
    assert current.declined_by == ["p1"]
    assert current.to_match().declined == frozenset({"p1"})


def test_declines_accumulate_across_offers():
    current = open_job()
    current.record_offer("offer-1", "p1")
    current.record_decline("offer-1", "p1")
    current.record_offer("offer-2", "p2")
    current.record_decline("offer-2", "p2")

    assert current.declined_by == ["p1", "p2"]
    assert current.to_match().declined == frozenset({"p1", "p2"})


def test_a_decline_of_an_old_offer_is_refused():
    current = open_job()
    current.record_offer("offer-1", "p1")
    current.record_decline("offer-1", "p1")
    current.record_offer("offer-2", "p2")
    current.collect_events()

    with pytest.raises(WrongState, match="no longer the job's current offer"):
        current.record_decline("offer-1", "p1")

    assert current.status == JobStatus.OFFERED
    assert current.declined_by == ["p1"]
    assert current.collect_events() == []


def test_a_decline_when_nothing_is_offered_is_refused():
    with pytest.raises(WrongState):
        open_job().record_decline("offer-1", "p1")


def test_a_taken_job_is_taken():
    current = open_job()
    current.record_offer("offer-1", "p1")
    current.record_taken("offer-1", "p1")
    assert current.status == JobStatus.TAKEN


def test_an_old_offer_cannot_take_the_job():
    current = open_job()
    current.record_offer("offer-1", "p1")
    current.record_decline("offer-1", "p1")
    current.record_offer("offer-2", "p2")

    with pytest.raises(WrongState):
        current.record_taken("offer-1", "p1")


def test_a_job_nobody_can_do_keeps_the_reason():
    current = open_job()
    current.record_no_provider("no provider is registered")

    assert current.status == JobStatus.UNMATCHED
    assert current.reason == "no provider is registered"


def test_a_job_replays_to_the_same_state():
    current = Job(id=uuid4(), category="snow", region="north", on=DAY)
    current.record_offer("offer-1", "p1")
    current.record_decline("offer-1", "p1")
    current.record_offer("offer-2", "p2")
    current.record_taken("offer-2", "p2")
    events = current.collect_events()

    copy = replay(events)

    assert [type(e).__name__ for e in events] == [
        "Opened",
        "OfferRecorded",
        "Declined",
        "OfferRecorded",
        "Taken",
    ]
    assert vars(copy) == vars(current)


# --- jobs: lapses, withdrawals, new days, the end ----------------------------------------


def offered_job(offer_id: str = "offer-1", provider_id: str = "p1") -> Job:
    current = open_job()
    current.record_offer(offer_id, provider_id)
    current.collect_events()
    return current


def test_a_lapsed_offer_reopens_the_job_and_excludes_the_provider():
    current = offered_job()

    current.record_expiry("offer-1", "p1")

    assert event_names(current) == ["OfferExpired"]
    assert current.status == JobStatus.OPEN
    assert current.expired_for == ["p1"]
    assert current.to_match().let_expire == frozenset({"p1"})
    assert current.to_match().declined == frozenset()


def test_a_withdrawn_offer_reopens_the_job_without_excluding_anybody():
    current = offered_job()

    current.record_withdrawal("offer-1")

    assert current.status == JobStatus.OPEN
    assert current.to_match().declined == frozenset()
    assert current.to_match().let_expire == frozenset()


def test_the_job_lists_every_offer_in_order():
    current = offered_job("offer-1", "p1")
    current.record_decline("offer-1", "p1")
    current.record_offer("offer-2", "p2")
    current.record_expiry("offer-2", "p2")
    current.record_offer("offer-3", "p3")

    assert current.offers == ["offer-1", "offer-2", "offer-3"]


def test_an_unmatched_job_is_matched_again_for_a_new_day():
    current = open_job()
    current.record_no_provider("no eligible provider: x", [{"provider_id": "p1"}])
    assert current.candidates == [{"provider_id": "p1"}]

    current.reschedule(date(2025, 4, 1))

    assert current.status == JobStatus.OPEN
    assert current.to_match().on == date(2025, 4, 1)
    assert current.reason == ""


def test_a_job_taken_for_the_old_day_is_matched_again_for_the_new_one():
    # The acceptance crossed the resident's move; the request refuses it.
    current = offered_job()
    current.record_taken("offer-1", "p1")

    current.reschedule(date(2025, 4, 1))

    assert current.status == JobStatus.OPEN
    assert current.to_match().on == date(2025, 4, 1)


@pytest.mark.parametrize("state", ["offered", "closed"])
def test_a_job_is_rescheduled_only_when_nothing_is_offered_and_it_is_not_closed(state):
    current = offered_job()
    if state == "closed":
        current.record_withdrawal("offer-1")
        current.close("cancelled")
    current.collect_events()

    with pytest.raises(WrongState):
        current.reschedule(date(2025, 4, 1))
    assert current.collect_events() == []


def test_a_job_closes_with_the_reason_but_not_while_an_offer_is_open():
    current = offered_job()
    with pytest.raises(WrongState):
        current.close("the resident cancelled")

    current.record_withdrawal("offer-1")
    current.close("the resident cancelled")

    assert current.status == JobStatus.CLOSED
    assert current.reason == "the resident cancelled"
    with pytest.raises(WrongState):
        current.record_offer("offer-2", "p2")


def test_completion_frees_the_job_once():
    current = offered_job()
    current.record_taken("offer-1", "p1")

    current.record_completion()

    assert current.status == JobStatus.DONE
    with pytest.raises(WrongState):
        current.record_completion()


def test_a_job_with_lapses_and_new_days_replays_to_the_same_state():
    current = Job(
        id=uuid4(),
        category="snow",
        region="north",
        on=DAY,
        lat=60.98,
        long=25.66,
        preferred_provider_id="p2",
    )
    current.record_offer("offer-1", "p1")
    current.record_expiry("offer-1", "p1")
    current.record_no_provider("nobody", [{"provider_id": "p1", "rule": "declined"}])
    current.reschedule(date(2025, 4, 1))
    current.record_offer("offer-2", "p2")
    current.record_withdrawal("offer-2")
    current.close("the request expired")

    copy = replay(current.collect_events())

    assert vars(copy) == vars(current)
    assert copy.to_match().preferred_provider_id == "p2"
