"""What earlier versions stored: events and snapshots named by the module path matching had
before it was a package, roster snapshots upcast from version 1, events that lack attributes
added since. Stored and read back through eventsourcing's own mapper and repository."""

import json
import subprocess
import sys
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from domain.matching.job import Job, JobStatus
from domain.matching.offer import Offer
from domain.matching.policy import Match, ProviderSlot
from domain.matching.roster import ROSTER_ID, HeldBudget, Roster, stamp
from services.platform.store import DateAsISO
from tests.unit.matching.builders import (
    COST,
    DAY,
    NOW,
    add_contract,
    enrol,
    job,
    offer_under_c1,
    one_job_of_budget,
    replay,
)

ROOT = Path(__file__).parents[3]
EARLIER = datetime(2025, 1, 2, 8, tzinfo=UTC)


class Store(Application):
    """An event store in memory that encodes as the services' stores do (their transcodings)."""

    is_snapshotting_enabled = True

    def __init__(self) -> None:
        super().__init__(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def old_topic(cls: type) -> str:
    """The topic the earlier version stored ``cls`` under: the module ``domain.matching``."""
    topic = get_topic(cls)
    module, _, name = topic.partition(":")
    assert module.startswith("domain.matching."), topic  # else nothing has moved
    return f"domain.matching:{name}"


def as_version_2(state: dict) -> dict:
    """A roster's state in the shape of version 2: each commitment kept by request, with the
    offer that made it ("" here for one whose offer is no longer open: none can give it
    back)."""
    state = deepcopy(state)
    committing = state.pop("committing")
    del state["held_cents"]
    state["commitments"] = {
        request_id: {
            "contract_id": contract_id,
            "cents": cents,
            "offer_id": committing.get(request_id, ""),
        }
        for contract_id, requests in state.pop("held").items()
        for request_id, cents in requests.items()
    }
    return state


def snapshot_as_before(roster: Roster) -> Snapshot:
    """A snapshot of ``roster`` as taken before the roster counted its versions (version 1),
    sharing nothing with it."""
    snapshot = Snapshot.take(roster)
    state = as_version_2(snapshot.state)
    del state["class_version"]
    return replace(snapshot, state=state)


def store_as_before(store: Store, events: list) -> None:
    """Record ``events`` as the earlier version did, under the old module path."""
    stored = []
    for event in events:
        record = store.mapper.to_stored_event(event)
        stored.append(replace(record, topic=old_topic(type(event))))
    store.recorder.insert_events(stored)


# --- old topics --------------------------------------------------------------------------


def test_new_events_and_snapshots_are_named_by_their_concept_module():
    assert get_topic(Offer.Made) == "domain.matching.offer:Offer.Made"
    assert get_topic(Job.NoProviderFound) == "domain.matching.job:Job.NoProviderFound"
    assert Snapshot.take(Roster()).topic == "domain.matching.roster:Roster"


def test_offers_and_jobs_stored_under_the_old_module_path_are_read_back():
    offer = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        partner_id="lahti-city",
        category="snow",
        region="north",
        declined_by=["p0"],
        expires_at=NOW,
    )
    offer.decline("p1", "busy")
    lonely = Job(id=uuid4(), category="snow", region="north", on=DAY)
    lonely.record_no_provider("no provider is registered", [{"provider_id": "p1"}], 2)
    store = Store()
    offer_events, job_events = offer.collect_events(), lonely.collect_events()
    store_as_before(store, offer_events + job_events)

    stored = store.recorder.select_events(offer.id)
    assert [s.topic for s in stored] == [
        "domain.matching:Offer.Made",
        "domain.matching:Offer.Declined",
    ]
    # the same classes, so the relay still publishes them as before
    assert [type(store.mapper.to_domain_event(s)) for s in stored] == [Offer.Made, Offer.Declined]
    assert vars(store.repository.get(offer.id)) == vars(offer)
    assert vars(store.repository.get(lonely.id)) == vars(lonely)


def test_a_roster_and_its_snapshot_stored_under_the_old_module_path_are_read_back():
    roster = Roster()
    roster.enrol_provider("p1", ["snow"], ["north"], 2, 60.98, 25.66, "Nastolan kyläyhdistys")
    add_contract(roster, "c1", "p1")
    store = Store()
    store.snapshots.put([replace(snapshot_as_before(roster), topic=old_topic(Roster))])
    roster.take_job("p1", "offer-1", "request-1", NOW, NOW, NOW, "c1", 3000)
    store_as_before(store, roster.collect_events())

    restored = store.repository.get(ROSTER_ID)

    assert vars(restored) == vars(roster)
    assert restored.due_offers(NOW) == ["offer-1"]


def test_old_topics_resolve_through_their_registration_not_the_packages_re_exports():
    # A fresh interpreter, in which no topic has been resolved and cached yet; with the names
    # the package gathers taken away, the old topics must still find the classes.
    script = """
import domain.matching
from domain.matching.job import Job
from domain.matching.offer import Offer
from domain.matching.roster import Roster
from eventsourcing.utils import resolve_topic

for name in ("Job", "Offer", "Roster"):
    delattr(domain.matching, name)
assert resolve_topic("domain.matching:Offer.Made") is Offer.Made
assert resolve_topic("domain.matching:Job.NoProviderFound") is Job.NoProviderFound
assert resolve_topic("domain.matching:Roster") is Roster
assert resolve_topic("domain.matching:Roster.JobTaken") is Roster.JobTaken
"""
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr


# --- roster snapshots: version 1 is upcast -----------------------------------------------


def earliest_roster_state() -> dict:
    """A roster snapshot as the first matching service took it (version 1, before versions
    were counted): providers and contracts only, records without the fields added since."""
    return {
        "_created_on": EARLIER,
        "_modified_on": EARLIER,
        "providers": {
            "p1": {"categories": ["snow"], "regions": ["north"], "capacity": 2, "jobs": 1}
        },
        "contracts": {
            "c1": {
                "provider_id": "p1",
                "categories": ["snow"],
                "regions": ["north"],
                "remaining_cents": 50_000,
                "valid_from": "2025-01-01",
                "valid_until": "2025-12-31",
            }
        },
    }


def test_the_earliest_roster_snapshot_is_upcast_and_the_events_after_it_apply():
    # Events 1 to 4 are in the snapshot (only it is read); 5 and 6 came after it.
    roster = Roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")
    roster.take_job("p1")
    roster.rate("p1", 4)
    roster.pause("p1", "pause-1", "2025-03-10", None)
    events = roster.collect_events()
    assert [e.originator_version for e in events[-2:]] == [5, 6]
    store = Store()
    store_as_before(store, events)
    store.snapshots.put(
        [
            Snapshot(
                originator_id=ROSTER_ID,
                originator_version=4,
                timestamp=EARLIER,
                topic="domain.matching:Roster",
                state=earliest_roster_state(),
            )
        ]
    )

    restored = store.repository.get(ROSTER_ID)

    assert restored.version == 6
    assert (restored.open_offers, restored.offered, restored.commitments()) == ({}, {}, {})
    assert restored.providers["p1"] == {
        "categories": ["snow"],
        "regions": ["north"],
        "capacity": 2,
        "jobs": 1,
        "suspended": False,
        "pauses": {"pause-1": ["2025-03-10", None]},
        "lat": None,
        "long": None,
        "stars": 4,
        "ratings": 1,
        "name": "",
    }
    assert restored.provider_slots() == [
        ProviderSlot(
            "p1",
            frozenset({"snow"}),
            frozenset({"north"}),
            2,
            1,
            pauses=((DAY, None),),
            rating=4.0,
        )
    ]
    assert restored.provider_names() == {"p1": ""}
    (budget,) = restored.contract_budgets()
    assert (budget.unit_price_cents, budget.partner_id) == (0, "")
    assert "class_version" not in vars(restored)


def test_upcasting_gives_a_version_1_snapshot_only_what_it_lacks():
    # Snapshots taken just before versions were counted are version 1 too, with every field.
    roster = one_job_of_budget()
    roster.enrol_provider("p1", ["snow"], ["north"], 5, 60.98, 25.66, "Nastolan kyläyhdistys")
    roster.pause("p1", "pause-1", "2025-03-10", "2025-03-12")
    roster.rate("p1", 5)
    offer_under_c1(roster)
    roster.collect_events()
    store = Store()
    store.snapshots.put([snapshot_as_before(roster)])

    assert vars(store.repository.get(ROSTER_ID)) == vars(roster)


def test_a_snapshot_taken_now_records_version_3_and_is_not_upcast(monkeypatch):
    roster = Roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")
    offer_under_c1(roster)
    store = Store()
    store.save(roster)
    store.take_snapshot(ROSTER_ID)

    (record,) = store.snapshots.recorder.select_events(ROSTER_ID)
    stored = json.loads(record.state)
    assert stored["topic"] == "domain.matching.roster:Roster"
    assert stored["state"]["class_version"] == 3

    def refuse(state: dict) -> None:
        raise AssertionError("a version 3 snapshot was upcast")

    monkeypatch.setattr(Roster, "upcast_v1_v2", staticmethod(refuse))
    monkeypatch.setattr(Roster, "upcast_v2_v3", staticmethod(refuse))
    assert vars(store.repository.get(ROSTER_ID)) == vars(roster)


def test_a_roster_snapshot_from_before_offers_were_kept_is_upcast():
    roster = Roster()
    enrol(roster, "p1")
    snapshot = snapshot_as_before(roster)
    del snapshot.state["open_offers"], snapshot.state["offered"]
    for field in ("suspended", "pauses", "lat", "long", "stars", "ratings"):
        del snapshot.state["providers"]["p1"][field]

    restored = snapshot.mutate(None)

    assert (restored.open_offers, restored.offered) == ({}, {})
    assert restored.provider_slots() == roster.provider_slots()
    restored.take_job("p1", "offer-1", "request-1", NOW, NOW, NOW)
    assert restored.due_offers(NOW) == ["offer-1"]


def test_a_roster_snapshot_from_before_commitments_were_kept_is_upcast():
    roster = one_job_of_budget()
    snapshot = snapshot_as_before(roster)
    del snapshot.state["commitments"]

    restored = snapshot.mutate(None)

    assert restored.commitments() == {}
    assert restored.contract_budgets() == roster.contract_budgets()
    offer_under_c1(restored)
    assert restored.decide(job(request_id="request-2")).match is None
    restored.release_job("p1", "offer-1")
    assert restored.decide(job(request_id="request-2")).match == Match("p1", "c1", "lahti-city")


# --- roster snapshots: version 2 is upcast ----------------------------------------------


def version_2_roster_state(roster: Roster) -> dict:
    """``roster``'s snapshot as version 2 took it: commitments by request, each naming the
    offer that made it (also once accepted), and offers made in the order recorded."""
    state = deepcopy(Snapshot.take(roster).state)
    state["class_version"] = 2
    for name in ("held", "held_cents", "committing"):
        del state[name]
    state["commitments"] = {
        "request-1": {"contract_id": "c1", "cents": COST, "offer_id": "offer-1"},
        "request-2": {"contract_id": "c1", "cents": 2000, "offer_id": "offer-2"},
        "request-3": {"contract_id": "c2", "cents": 1000, "offer_id": "offer-3"},
    }
    state["offered"] = {"p1": [stamp(NOW), stamp(NOW - timedelta(hours=1)), stamp(NOW)]}
    return state


def test_a_version_2_roster_snapshot_is_upcast_and_decides_as_the_events_do():
    roster = Roster()
    enrol(roster, "p1", capacity=5)
    add_contract(roster, "c1", "p1", remaining=10 * COST)
    add_contract(roster, "c2", "p1", remaining=10 * COST)
    roster.take_job("p1", "offer-1", "request-1", NOW, NOW, contract_id="c1", estimated_cents=COST)
    earlier = NOW - timedelta(hours=1)  # recorded after an offer made later
    roster.take_job(
        "p1", "offer-2", "request-2", earlier, NOW, contract_id="c1", estimated_cents=2000
    )
    roster.settle_offer("offer-2")
    roster.take_job("p1", "offer-3", "request-3", NOW, NOW, contract_id="c2", estimated_cents=1000)
    store = Store()
    store.save(roster)
    store.snapshots.put(
        [
            Snapshot(
                originator_id=ROSTER_ID,
                originator_version=roster.version,
                timestamp=NOW,
                topic=get_topic(Roster),
                state=version_2_roster_state(roster),
            )
        ]
    )

    restored = store.repository.get(ROSTER_ID)

    assert vars(restored) == vars(roster)
    assert "commitments" not in vars(restored)
    assert restored.held == {
        "c1": {"request-1": COST, "request-2": 2000},
        "c2": {"request-3": 1000},
    }
    assert restored.held_cents == {"c1": COST + 2000, "c2": 1000}
    assert restored.committing == {"request-1": "offer-1", "request-3": "offer-3"}  # not accepted
    assert restored.offered == {"p1": [stamp(earlier), stamp(NOW), stamp(NOW)]}
    assert restored.recent_offers("p1", NOW) == 2
    remaining = {b.contract_id: b.remaining_cents for b in restored.contract_budgets("request-2")}
    assert remaining == {"c1": 10 * COST - COST, "c2": 10 * COST - 1000}
    # the open offer gives its commitment back; the accepted one keeps it until the charge
    restored.release_job("p1", "offer-1")
    restored.release_job("p1", "offer-2")
    assert restored.commitments() == {"request-2": ("c1", 2000), "request-3": ("c2", 1000)}
    assert restored.held_budgets() == [
        HeldBudget("c1", "lahti-city", "p1", held_cents=2000, jobs=1),
        HeldBudget("c2", "lahti-city", "p1", held_cents=1000, jobs=1),
    ]


# --- events that lack attributes added since ---------------------------------------------


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


def test_an_offer_stored_before_commitments_were_kept_still_replays():
    current = Roster()
    enrol(current, "p1")
    current.take_job("p1", "offer-1", "request-1", NOW, NOW, NOW)
    events = current.collect_events()
    for name in ("contract_id", "estimated_cents"):
        del events[-1].__dict__[name]  # as stored by the earlier version

    copy = replay(events)

    assert copy.commitments() == {}
    assert copy.open_offers == current.open_offers


@pytest.mark.parametrize(
    ("left_out", "replayed"),
    [
        ("why", {"why": "", "explanation": {"provider_name": "p1", "rank": 1, "eligible": 1}}),
        ("explanation", {"why": "Offered to p1, the only eligible provider.", "explanation": None}),
    ],
)
def test_an_offer_made_before_its_explanation_was_recorded_still_replays(left_out, replayed):
    current = Offer(
        request_id="request-1",
        provider_id="p1",
        contract_id="c1",
        category="snow",
        region="north",
        declined_by=[],
        why="Offered to p1, the only eligible provider.",
        explanation={"provider_name": "p1", "rank": 1, "eligible": 1},
    )
    (made,) = current.collect_events()
    del made.__dict__[left_out]  # as stored by an earlier version

    copy = replay([made])

    assert copy.provider_id == "p1"
    assert {name: getattr(copy, name) for name in replayed} == replayed
