"""What earlier versions stored: roster snapshots without the parts added since, and events
without the attributes added since."""

from uuid import uuid4

from eventsourcing.domain import Snapshot

from domain.matching.job import Job, JobStatus
from domain.matching.policy import Match
from domain.matching.roster import Roster
from tests.unit.matching.builders import (
    DAY,
    NOW,
    enrol,
    job,
    offer_under_c1,
    one_job_of_budget,
    replay,
)


def test_a_verdict_stored_before_candidates_were_kept_still_replays():
    current = Job(id=uuid4(), category="snow", region="north", on=DAY)
    current.record_no_provider("no provider is registered")
    opened, verdict = current.collect_events()
    del verdict.__dict__["candidates"]  # as stored by the earlier version

    copy = replay([opened, verdict])

    assert (copy.status, copy.reason, copy.candidates) == (
        JobStatus.UNMATCHED,
        "no provider is registered",
        [],
    )


def test_a_roster_snapshot_from_before_offers_were_kept_is_filled_in():
    roster = Roster()
    enrol(roster, "p1")
    snapshot = Snapshot.take(roster)
    del snapshot.state["open_offers"], snapshot.state["offered"]
    for field in ("suspended", "pauses", "lat", "long", "stars", "ratings"):
        del snapshot.state["providers"]["p1"][field]

    restored = snapshot.mutate(None)
    restored.fill_in()

    assert (restored.open_offers, restored.offered) == ({}, {})
    assert restored.provider_slots() == roster.provider_slots()
    restored.take_job("p1", "offer-1", "request-1", NOW, NOW, NOW)
    assert restored.due_offers(NOW) == ["offer-1"]


def test_an_offer_stored_before_commitments_were_kept_still_replays():
    current = Roster()
    enrol(current, "p1")
    current.take_job("p1", "offer-1", "request-1", NOW, NOW, NOW)
    events = current.collect_events()
    for name in ("contract_id", "estimated_cents"):
        del events[-1].__dict__[name]  # as stored by the earlier version

    copy = replay(events)

    assert copy.commitments == {}
    assert copy.open_offers == current.open_offers


def test_a_roster_snapshot_from_before_commitments_were_kept_is_filled_in():
    roster = one_job_of_budget()
    snapshot = Snapshot.take(roster)
    del snapshot.state["commitments"]

    restored = snapshot.mutate(None)
    restored.fill_in()

    assert restored.commitments == {}
    assert restored.contract_budgets() == roster.contract_budgets()
    offer_under_c1(restored)
    assert restored.decide(job(request_id="request-2")).match is None
    restored.release_job("p1", "offer-1")
    assert restored.decide(job(request_id="request-2")).match == Match("p1", "c1", "lahti-city")
