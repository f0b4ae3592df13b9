"""Matching over the real services: work is spread fairly, every offer explains itself, offers
lapse to the next candidate and then to 'unmatched'; and matching's use cases for what becomes
of a request (new day, cancellation, expiry), on the real event store."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import anyio
import pytest
from eventsourcing.domain import Snapshot

from contracts.events import (
    ChargeRefusedV1,
    ContractChargedV1,
    DisputeResolvedV1,
    IntegrationEvent,
    RequestCancelledV1,
)
from deploy.stack import Stack
from domain.calendar import local_today
from domain.errors import WrongState
from domain.matching.job import JobStatus
from domain.matching.offer import OfferStatus
from domain.matching.roster import ROSTER_ID
from domain.money import Money, price_of_work
from services.matching.application import MatchingApplication, RosterChanges
from services.matching.commands import Answer, Decline
from services.matching.inbound import subscriptions
from services.platform.catalogue import load_catalogue
from services.platform.identity import Caller, Role
from services.platform.settings import Settings
from tests.client import Talkoot, eventually
from tests.conftest import another_talkoot


def job_record(talkoot: Talkoot, request_id: str, good: Callable[[dict], bool], what: str) -> dict:
    def read() -> dict | None:
        response = talkoot.get("matching", f"/jobs/{request_id}")
        return response.json() if response.status_code == 200 else None

    return eventually(read, lambda job: job is not None and good(job), 20, what)


def offer_record(talkoot: Talkoot, offer_id: str) -> dict:
    return talkoot.ok(talkoot.get("matching", f"/offers/{offer_id}"), 200)


def current_offer(job: dict) -> dict:
    return job["offers"][-1]


# --- fairness and explanations, on the session's services --------------------------------


def test_requests_are_spread_evenly_and_each_offer_says_who_was_passed_over_and_why(
    talkoot: Talkoot, scope
):
    category, region = scope
    equal = sorted(talkoot.ready_provider(category, region, capacity=20)[0] for _ in range(3))
    uncontracted = talkoot.register_provider(category, region)
    talkoot.wait_until_quiet()

    # The first request: its first provider declines, and the job goes to the next one.
    first = talkoot.submit(category, region)["id"]
    job = job_record(talkoot, first, lambda j: j["status"] == "offered", "the first offer")
    decliner = current_offer(job)["provider_id"]
    assert decliner == equal[0]  # nobody has had work yet: the tie goes by id
    talkoot.ok(
        talkoot.post(
            "matching",
            f"/offers/{current_offer(job)['offer_id']}/decline",
            {"reason": "no one free that day"},
            who=talkoot.member(decliner),
        )
    )
    job = job_record(talkoot, first, lambda j: len(j["offers"]) == 2, "the second offer")
    assert job["declined_by"] == [decliner]
    assert [o["status"] for o in job["offers"]] == ["declined", "open"]
    assert job["offers"][0]["answer"] == "no one free that day"

    offer = offer_record(talkoot, current_offer(job)["offer_id"])
    assert offer["status"] == "open"
    assert offer["provider_id"] == equal[1]  # the decliner had one offer already
    assert offer["partner_id"] == "lahti-city"
    assert offer["expires_at"] > offer["offered_at"]
    by_id = {c["provider_id"]: c for c in offer["candidates"]}
    assert by_id[decliner]["rule"] == "declined"
    assert by_id[decliner]["explanation"] == "not eligible: declined this request"
    assert by_id[uncontracted]["rule"] == "contract"
    assert not by_id[uncontracted]["eligible"]
    ranked = [c for c in offer["candidates"] if c["eligible"]]
    assert [(c["provider_id"], c["rank"]) for c in ranked] == [(equal[1], 1), (equal[2], 2)]
    assert offer["chosen"]["provider_id"] == equal[1]
    assert offer["chosen"]["recent_offers"] == 0
    assert "ranked 1 of 2 eligible" in offer["chosen"]["explanation"]
    assert "not rated yet" in offer["chosen"]["explanation"]
    assert offer["why"].startswith("Offered to Testiosuuskunta, the first of 2 eligible providers")
    assert offer["chosen"]["provider_id"] == equal[1]
    # the facts of that sentence, for readers in other languages
    facts = offer["explanation"]
    assert (facts["provider_name"], facts["rank"], facts["eligible"]) == ("Testiosuuskunta", 1, 2)
    # every provider the decision excluded, counted by its rule (other tests' providers of
    # this category or region among them)
    assert facts["excluded"] == Counter(c["rule"] for c in offer["candidates"] if c["rule"])
    assert (facts["excluded"]["declined"], facts["excluded"]["contract"]) == (1, 1)
    assert (facts["recent_offers"], facts["rating"], facts["neutral_rating"]) == (0, None, 3.0)
    assert facts["window_hours"] == 30 * 24  # TALKOOT_FAIRNESS_WINDOW's default

    # Thirty more requests: with the decline, 32 offers over three providers.
    request_ids = [talkoot.submit(category, region)["id"] for _ in range(30)]
    jobs = [
        job_record(talkoot, rid, lambda j: j["status"] == "offered", f"request {rid} offered")
        for rid in request_ids
    ]
    offers = Counter(o["provider_id"] for j in [job, *jobs] for o in j["offers"])
    assert sum(offers.values()) == 32
    assert set(offers) == set(equal)
    assert max(offers.values()) - min(offers.values()) <= 1, offers

    # Each later offer counted the earlier ones as recent work.
    last = offer_record(talkoot, current_offer(jobs[-1])["offer_id"])
    recent = {c["provider_id"]: c["recent_offers"] for c in last["candidates"] if c["eligible"]}
    assert sum(recent.values()) == 31


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "   "}, {"reason": "\n\t"}, {"reason": "x" * 1001}],
    ids=["missing", "empty", "spaces", "layout only", "too long"],
)
def test_a_decline_without_a_reason_is_refused_naming_it_and_the_offer_stays_open(
    talkoot: Talkoot, scope, body
):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.submit(*scope)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")

    response = talkoot.post(
        "matching",
        f"/offers/{offered['offer_id']}/decline",
        body,
        who=talkoot.member(provider_id),
    )

    assert response.status_code == 400, response.text
    error = response.json()
    assert any(
        item.get("key") == "reason" or "`reason`" in item.get("message", "")
        for item in error["extra"]
    ), error
    offer = offer_record(talkoot, offered["offer_id"])
    assert (offer["status"], offer["answer"], offer["version"]) == ("open", "", 1)
    job = job_record(talkoot, request_id, lambda j: True, "the job")
    assert (job["declined_by"], len(job["offers"])) == ([], 1)
    assert talkoot.board_entry(request_id)["status"] == "offered"


def test_a_job_and_an_offer_that_do_not_exist_are_404(talkoot: Talkoot):
    missing = str(uuid.uuid4())
    assert talkoot.get("matching", f"/jobs/{missing}").status_code == 404
    assert talkoot.get("matching", f"/offers/{missing}").status_code == 404


# --- what is held of a contract's budget, on the session's services ----------------------


def budgets_held(talkoot: Talkoot, who: str, **params) -> dict[str, dict]:
    budgets = talkoot.ok(talkoot.get("matching", "/budgets", who=who, **params), 200)
    return {b["contract_id"]: b for b in budgets}


def test_an_officer_reads_what_matching_holds_of_their_contracts_budgets_until_the_charge(
    talkoot: Talkoot, scope
):
    category, region = scope
    partner = f"budget-city-{uuid.uuid4().hex[:8]}"
    provider_id, contract_id = talkoot.ready_provider(category, region, partner_id=partner)
    officer = talkoot.officer(partner)
    assert budgets_held(talkoot, officer) == {
        contract_id: {
            "contract_id": contract_id,
            "partner_id": partner,
            "provider_id": provider_id,
            "held_cents": 0,
            "jobs": 0,
        }
    }

    request_id = talkoot.assigned_request(category, region, provider_id)
    minutes = load_catalogue().categories[category].estimated_minutes
    estimate = price_of_work(Money(3000), minutes).cents
    budget = budgets_held(talkoot, officer)[contract_id]
    assert (budget["held_cents"], budget["jobs"]) == (estimate, 1)
    # the admin reads every partner's, or one partner's; another partner's officer nothing
    assert budgets_held(talkoot, talkoot.admin(), partner_id=partner) == budgets_held(
        talkoot, officer
    )
    assert contract_id in budgets_held(talkoot, talkoot.admin(), provider_id=provider_id)
    assert contract_id not in budgets_held(talkoot, talkoot.officer(f"{partner}-other"))
    named = talkoot.get(
        "matching", "/budgets", who=talkoot.officer("elsewhere"), partner_id=partner
    )
    assert named.status_code == 404, named.text
    for who, status in [(talkoot.member(provider_id), 403), (talkoot.resident(), 403), (None, 401)]:
        assert talkoot.get("matching", "/budgets", who=who).status_code == status

    # Reported and confirmed: the contract is charged, and matching holds nothing any more.
    member = talkoot.member(provider_id)
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 1.5}, who=member))
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=talkoot.resident()))
    eventually(
        lambda: budgets_held(talkoot, officer)[contract_id],
        lambda b: (b["held_cents"], b["jobs"]) == (0, 0),
        20,
        "the charged job to hold nothing",
    )
    assert talkoot.ledger(contract_id)["charged_cents"] == 4500


# --- offers lapse: a stack of its own with a short time to answer ------------------------


@pytest.fixture(scope="module")
def hasty(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talkoot]:
    """Talkoot with offers that lapse after 2 s, swept every 0.3 s, on the session's servers."""
    with another_talkoot(
        stack,
        tmp_path_factory.mktemp("hasty"),
        TALKOOT_OFFER_EXPIRES_AFTER="2s",
        TALKOOT_SWEEP_SECONDS="0.3",
    ) as client:
        yield client


@pytest.mark.dates
def test_an_unanswered_offer_lapses_to_the_next_provider_and_then_to_unmatched(
    hasty: Talkoot, scope
):
    category, region = scope
    first, second = sorted(hasty.ready_provider(category, region)[0] for _ in range(2))

    request_id = hasty.submit(category, region)["id"]
    job = job_record(hasty, request_id, lambda j: len(j["offers"]) >= 1, "the first offer")
    lapsing = offer_record(hasty, current_offer(job)["offer_id"])
    assert lapsing["provider_id"] == first
    offered_at = datetime.fromisoformat(lapsing["offered_at"])
    expires_at = datetime.fromisoformat(lapsing["expires_at"])
    assert timedelta(seconds=1.5) < expires_at - offered_at < timedelta(seconds=2.5)

    job = job_record(hasty, request_id, lambda j: len(j["offers"]) == 2, "the offer to lapse")
    assert job["let_expire"] == [first]
    assert offer_record(hasty, lapsing["id"])["status"] == "expired"
    late = hasty.accept(lapsing["id"], first)
    assert late.status_code == 409, late.text
    assert late.json()["extra"]["rule"] == "wrong_state"

    next_offer = offer_record(hasty, current_offer(job)["offer_id"])
    assert next_offer["provider_id"] == second
    assert {c["provider_id"]: c["rule"] for c in next_offer["candidates"]} == {
        first: "declined",
        second: None,
    }
    assert next_offer["candidates"][1]["explanation"] == (
        "not eligible: let an offer for this request expire"
    )

    job = job_record(hasty, request_id, lambda j: j["status"] == "unmatched", "unmatched")
    assert [o["status"] for o in job["offers"]] == ["expired", "expired"]
    assert job["let_expire"] == [first, second]
    assert job["reason"] == "no eligible provider: let an offer for this request expire"
    assert {c["provider_id"]: c["rule"] for c in job["candidates"]} == {
        first: "declined",
        second: "declined",
    }
    # the requests service hears of it too
    hasty.wait_for_status(request_id, "unmatched")

    # both places are free again: the next request is offered at once
    again = hasty.submit(category, region)["id"]
    job_record(hasty, again, lambda j: j["status"] == "offered", "a new offer")


def test_an_accepted_offer_does_not_lapse(hasty: Talkoot, scope):
    category, region = scope
    provider_id, _ = hasty.ready_provider(category, region)

    request_id = hasty.assigned_request(category, region, provider_id)

    job = job_record(hasty, request_id, lambda j: j["status"] == "taken", "taken")
    offer_id = current_offer(job)["offer_id"]
    eventually(
        lambda: offer_record(hasty, offer_id),
        lambda o: datetime.now(UTC) > datetime.fromisoformat(o["expires_at"]),
        10,
        "the offer's time to pass",
    )
    hasty.wait_until_quiet()
    assert offer_record(hasty, offer_id)["status"] == "accepted"
    assert hasty.board_entry(request_id)["status"] == "assigned"


# --- what becomes of a request, through matching's use cases on the real store ----------

DAY = local_today() + timedelta(days=3)


@pytest.fixture
def matching(stack: Stack) -> Iterator[MatchingApplication]:
    """A matching Application of its own (own schema) on the session's PostgreSQL."""
    settings = Settings(
        database_url=stack.database_url,
        nats_url=stack.nats_url,
        personal_data_key=stack.secrets["personal"],
        namespace=f"test_{uuid.uuid4().hex[:8]}",
        offer_expires_after=timedelta(hours=1),
    )
    app = MatchingApplication(settings)
    yield app
    app.close()
    import psycopg

    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema("matching")}" CASCADE')


def apply(app: MatchingApplication, use_case: Callable[[RosterChanges], None]) -> None:
    """What the consumer does for one upstream event: the use case, stored in one go."""
    with app.changes() as changes:
        use_case(changes)
        app.commit(*changes.aggregates.values())


def two_providers(app: MatchingApplication) -> None:
    def enrol(changes: RosterChanges) -> None:
        for pid in ("p1", "p2"):
            app.enrol_provider(changes, pid, ["snow-clearing"], ["nastola"], 1)
            app.add_contract(
                changes,
                f"c-{pid}",
                pid,
                ["snow-clearing"],
                ["nastola"],
                100_000,
                DAY - timedelta(days=30),
                DAY + timedelta(days=30),
                unit_price_cents=3000,
                partner_id="nastola-unit",
            )

    apply(app, enrol)


def open_job(app: MatchingApplication, request_id: str, on: date = DAY) -> None:
    apply(app, lambda c: app.open_job(c, request_id, "snow-clearing", "nastola", on))


def member(provider_id: str) -> Caller:
    """A member of ``provider_id``, as their token names them."""
    return Caller(f"member-of-{provider_id}", frozenset({Role.PROVIDER}), provider_id=provider_id)


def accept(app: MatchingApplication, offer_id: str, provider_id: str) -> None:
    app.accept(member(provider_id), offer_id, Answer())


def decline(app: MatchingApplication, offer_id: str, provider_id: str, reason: str) -> None:
    app.decline(member(provider_id), offer_id, Decline(reason=reason))


def held(app: MatchingApplication) -> dict[str, int]:
    with app.roster() as roster:
        return {pid: p["jobs"] for pid, p in roster.providers.items()}


@pytest.mark.dates
def test_a_new_day_withdraws_the_open_offer_and_matches_again(matching: MatchingApplication):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    job, (first,) = matching.get_job(request_id)
    assert (first.provider_id, first.partner_id) == ("p1", "nastola-unit")
    assert held(matching) == {"p1": 1, "p2": 0}

    new_day = DAY + timedelta(days=1)
    apply(matching, lambda c: matching.reschedule_job(c, request_id, new_day))

    job, (withdrawn, second) = matching.get_job(request_id)
    assert withdrawn.status == OfferStatus.WITHDRAWN
    assert withdrawn.answer == "the request was rescheduled"
    assert job.on == new_day
    assert job.status == JobStatus.OFFERED
    # p1's place is free again, but p1 has had an offer lately and p2 none
    assert second.provider_id == "p2"
    assert held(matching) == {"p1": 0, "p2": 1}


@pytest.mark.dates
def test_a_new_day_matches_an_unmatched_job_again(matching: MatchingApplication):
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)  # nobody enrolled yet
    job, offers = matching.get_job(request_id)
    assert (job.status, offers) == (JobStatus.UNMATCHED, [])
    assert job.reason == "no provider is registered"

    two_providers(matching)
    apply(matching, lambda c: matching.reschedule_job(c, request_id, DAY))

    job, (offer,) = matching.get_job(request_id)
    assert job.status == JobStatus.OFFERED
    assert offer.provider_id == "p1"


def test_cancelling_withdraws_an_open_offer_and_frees_its_place(matching: MatchingApplication):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)

    apply(matching, lambda c: matching.close_job(c, request_id, "the resident cancelled"))

    job, (offer,) = matching.get_job(request_id)
    assert (job.status, job.reason) == (JobStatus.CLOSED, "the resident cancelled")
    assert offer.status == OfferStatus.WITHDRAWN
    assert held(matching) == {"p1": 0, "p2": 0}
    with matching.roster() as roster:
        assert roster.open_offers == {}


def test_cancelling_after_acceptance_frees_the_place_once(matching: MatchingApplication):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    _, (offer,) = matching.get_job(request_id)
    accept(matching, str(offer.id), "p1")
    assert held(matching) == {"p1": 1, "p2": 0}

    apply(matching, lambda c: matching.close_job(c, request_id, "the resident cancelled"))
    apply(matching, lambda c: matching.close_job(c, request_id, "the request expired"))

    job, _ = matching.get_job(request_id)
    assert (job.status, job.reason) == (JobStatus.CLOSED, "the resident cancelled")
    assert held(matching) == {"p1": 0, "p2": 0}


def test_completion_frees_the_place_and_a_later_cancellation_changes_nothing(
    matching: MatchingApplication,
):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    _, (offer,) = matching.get_job(request_id)
    accept(matching, str(offer.id), "p1")

    apply(matching, lambda c: matching.complete_job(c, request_id, "p1"))
    apply(matching, lambda c: matching.close_job(c, request_id, "cancelled late"))

    assert held(matching) == {"p1": 0, "p2": 0}


@pytest.mark.dates
def test_the_sweep_lapses_due_offers_only(matching: MatchingApplication):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    _, (offer,) = matching.get_job(request_id)

    assert matching.expire_offers(offer.expires_at - timedelta(seconds=1)) == 0
    assert matching.expire_offers(offer.expires_at) == 1

    job, (lapsed, nxt) = matching.get_job(request_id)
    assert lapsed.status == OfferStatus.EXPIRED
    assert job.expired_for == ["p1"]
    assert nxt.provider_id == "p2"
    assert held(matching) == {"p1": 0, "p2": 1}
    assert matching.expire_offers(offer.expires_at) == 0  # the next one has its own time


@pytest.mark.dates
def test_suspension_pause_and_rating_change_who_is_offered(matching: MatchingApplication):
    two_providers(matching)
    apply(matching, lambda c: matching.suspend_provider(c, "p1"))
    first = str(uuid.uuid4())
    open_job(matching, first)
    _, (offer,) = matching.get_job(first)
    assert offer.provider_id == "p2"
    assert {c["provider_id"]: c.get("rule") for c in offer.candidates} == {
        "p1": "suspended",
        "p2": None,
    }

    apply(matching, lambda c: matching.reinstate_provider(c, "p1"))
    apply(matching, lambda c: matching.pause_provider(c, "p1", "pause-1", DAY, DAY))
    decline(matching, str(offer.id), "p2", "busy")
    job, _ = matching.get_job(first)
    assert job.status == JobStatus.UNMATCHED
    assert {c["provider_id"]: c["rule"] for c in job.candidates} == {
        "p1": "paused",
        "p2": "declined",
    }


def test_a_suspension_withdraws_the_providers_open_offers(matching: MatchingApplication):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    _, (offer,) = matching.get_job(request_id)
    assert offer.provider_id == "p1"

    apply(matching, lambda c: matching.suspend_provider(c, "p1"))

    _, (withdrawn, second) = matching.get_job(request_id)
    assert withdrawn.status == OfferStatus.WITHDRAWN
    assert withdrawn.answer == "the provider was suspended"
    assert second.provider_id == "p2"
    assert held(matching) == {"p1": 0, "p2": 1}
    with pytest.raises(WrongState):
        accept(matching, str(withdrawn.id), "p1")


@pytest.mark.dates
def test_a_job_accepted_for_the_old_day_is_matched_again_for_the_new_one(
    matching: MatchingApplication,
):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    _, (offer,) = matching.get_job(request_id)
    accept(matching, str(offer.id), "p1")  # just before the move reached matching
    assert held(matching) == {"p1": 1, "p2": 0}

    apply(matching, lambda c: matching.reschedule_job(c, request_id, DAY + timedelta(days=1)))

    job, (_, again) = matching.get_job(request_id)
    assert job.status == JobStatus.OFFERED
    assert again.provider_id == "p2"  # p1 has had an offer lately, p2 none
    assert held(matching) == {"p1": 0, "p2": 1}


# --- a contract's budget is held for the jobs offered or taken under it -------------------

# Snow clearing is estimated at 90 minutes: 45.00 € at 30.00 € an hour. 50.00 € is enough
# for one such job, not two.
ESTIMATE = 4500
NO_BUDGET = "no eligible provider: has no contract budget left for the estimated cost of 45.00 €"


def the_roster(app: MatchingApplication):
    with app.roster() as roster:
        return roster


def test_a_refused_answer_keeps_the_roster_it_did_not_change(matching: MatchingApplication):
    two_providers(matching)
    request_id = str(uuid.uuid4())
    open_job(matching, request_id)
    _, (offer,) = matching.get_job(request_id)
    accept(matching, str(offer.id), "p1")
    before = the_roster(matching)

    with pytest.raises(WrongState):
        accept(matching, str(offer.id), "p1")  # the same acceptance sent again
    with pytest.raises(WrongState):
        decline(matching, str(offer.id), "p1", "no one free that day")

    assert the_roster(matching) is before  # not read again from the store
    assert held(matching) == {"p1": 1, "p2": 0}


def test_a_roster_changed_elsewhere_is_brought_up_to_date_before_the_next_decision(
    matching: MatchingApplication,
):
    two_providers(matching)
    the_roster(matching)
    other = MatchingApplication(matching.settings)  # another replica on the same store
    try:
        apply(other, lambda c: other.suspend_provider(c, "p1"))
        first = str(uuid.uuid4())

        open_job(matching, first)  # decided on the roster as stored: p1 is suspended

        _, (offer,) = matching.get_job(first)
        assert offer.provider_id == "p2"
        assert the_roster(matching).version == other.repository.get(ROSTER_ID).version
    finally:
        other.close()


def test_the_roster_is_snapshotted_from_memory_the_further_apart_the_more_it_holds(
    matching: MatchingApplication,
):
    matching.roster_snapshot_every = 4
    two_providers(matching)  # the roster's first 5 events, saved together: the first snapshot
    matching.roster_snapshot_bytes_per_event = 1  # from the next snapshot on: one per byte
    for _ in range(12):
        apply(matching, lambda c: matching.rate_provider(c, "p1", 5))

    assert matching.snapshots is not None
    taken = matching.snapshots.recorder.select_events(ROSTER_ID)
    # 4 events after the first; then as many events apart as the snapshot has bytes
    assert [s.originator_version for s in taken] == [5, 9]
    assert len(taken[-1].state) > 12
    fresh = MatchingApplication(matching.settings)  # reads the last snapshot and 8 events
    try:
        assert vars(fresh.repository.get(ROSTER_ID)) == vars(the_roster(matching))
    finally:
        fresh.close()


def test_a_roster_snapshot_is_stored_as_one_row_once_whoever_takes_it(
    matching: MatchingApplication,
):
    two_providers(matching)  # 5 events, fewer than roster_snapshot_every: no snapshot yet
    roster = matching.repository.get(ROSTER_ID)
    assert matching.snapshots is not None
    stored = matching.snapshots.mapper.to_stored_event(Snapshot.take(roster))

    assert matching.store_snapshot(stored) is True
    assert matching.store_snapshot(stored) is False  # another process took it: left as it is

    (kept,) = matching.snapshots.recorder.select_events(ROSTER_ID)
    assert (kept.originator_version, kept.topic, kept.state) == (5, stored.topic, stored.state)
    restored = matching.snapshots.mapper.to_domain_event(kept).mutate(None)
    assert vars(restored) == vars(roster)


def budget_for_one_job(app: MatchingApplication) -> None:
    def enrol(changes: RosterChanges) -> None:
        app.enrol_provider(changes, "p1", ["snow-clearing"], ["nastola"], 3)
        app.add_contract(
            changes,
            "c-p1",
            "p1",
            ["snow-clearing"],
            ["nastola"],
            5000,
            DAY - timedelta(days=30),
            DAY + timedelta(days=30),
            unit_price_cents=3000,
            partner_id="nastola-unit",
        )

    apply(app, enrol)


def hear(app: MatchingApplication, upstream: str, *events: IntegrationEvent) -> None:
    """Hand integration events to matching's consumer of ``upstream``, as NATS delivers them."""
    (subscription,) = [s for s in subscriptions(app) if s.upstream == upstream]
    last = app.process_recorder.max_tracking_id(upstream) or 0
    anyio.run(subscription.handle, [(last + n, e) for n, e in enumerate(events, start=1)])


def committed(app: MatchingApplication) -> dict[str, int]:
    with app.roster() as roster:
        return {rid: cents for rid, (_, cents) in roster.commitments().items()}


def test_the_budget_of_a_job_offered_or_taken_is_held_until_it_is_charged(
    matching: MatchingApplication,
):
    budget_for_one_job(matching)
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    open_job(matching, first)
    _, (offer,) = matching.get_job(first)
    assert (offer.provider_id, offer.contract_id) == ("p1", "c-p1")
    assert committed(matching) == {first: ESTIMATE}

    # While the first offer is open, the second request finds no budget left.
    open_job(matching, second)
    job, _ = matching.get_job(second)
    assert (job.status, job.reason) == (JobStatus.UNMATCHED, NO_BUDGET)
    assert [c["rule"] for c in job.candidates] == ["budget"]

    # The first offer is declined: its budget is free, and the second, matched again, gets it.
    decline(matching, str(offer.id), "p1", "no one free that day")
    assert matching.get_job(first)[0].status == JobStatus.UNMATCHED  # nobody else
    apply(matching, lambda c: matching.reschedule_job(c, second, DAY))
    job, (offer,) = matching.get_job(second)
    assert job.status == JobStatus.OFFERED
    assert committed(matching) == {second: ESTIMATE}

    # Accepted and reported done, it holds the budget until it is charged.
    accept(matching, str(offer.id), "p1")
    apply(matching, lambda c: matching.complete_job(c, second, "p1"))
    open_job(matching, third)
    job, _ = matching.get_job(third)
    assert (job.status, job.reason) == (JobStatus.UNMATCHED, NO_BUDGET)

    # Charged for 1 hour, 30.00 €: the commitment gives way to the real figure, 20.00 € left.
    hear(
        matching,
        "partnerships",
        ContractChargedV1(
            occurred_at=datetime.now(UTC),
            contract_id="c-p1",
            request_id=second,
            minutes=60,
            amount_cents=3000,
            charged_cents=3000,
            remaining_cents=2000,
        ),
    )
    assert committed(matching) == {}
    with matching.roster() as roster:
        assert roster.contract_budgets()[0].remaining_cents == 2000
    apply(matching, lambda c: matching.reschedule_job(c, third, DAY))
    job, _ = matching.get_job(third)
    assert (job.status, job.reason) == (JobStatus.UNMATCHED, NO_BUDGET)


def refused(request_id: str) -> tuple[str, IntegrationEvent]:
    return "partnerships", ChargeRefusedV1(
        occurred_at=datetime.now(UTC),
        contract_id="c-p1",
        request_id=request_id,
        minutes=120,
        amount_cents=6000,
        remaining_cents=5000,
        reason="the charge exceeds the remaining budget",
    )


def resolved(outcome: str) -> Callable[[str], tuple[str, IntegrationEvent]]:
    def event(request_id: str) -> tuple[str, IntegrationEvent]:
        return "requests", DisputeResolvedV1(
            occurred_at=datetime.now(UTC),
            request_id=request_id,
            partner_id="nastola-unit",
            provider_id="p1",
            contract_id="c-p1",
            outcome=outcome,
            minutes=0 if outcome == "voided" else 60,
            note="",
        )

    return event


def cancelled(request_id: str) -> tuple[str, IntegrationEvent]:
    return "requests", RequestCancelledV1(
        occurred_at=datetime.now(UTC),
        request_id=request_id,
        resident_id="resident-1",
        reason="not needed after all",
        was_status="assigned",
        provider_id="p1",
    )


@pytest.mark.parametrize(
    ("news", "freed"),
    [(refused, True), (resolved("voided"), True), (cancelled, True), (resolved("upheld"), False)],
    ids=["charge refused", "dispute voided", "request cancelled", "dispute upheld"],
)
def test_a_taken_job_that_will_not_be_charged_frees_the_budget_it_held(
    matching: MatchingApplication, news, freed: bool
):
    budget_for_one_job(matching)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    open_job(matching, first)
    _, (offer,) = matching.get_job(first)
    accept(matching, str(offer.id), "p1")
    apply(matching, lambda c: matching.complete_job(c, first, "p1"))

    upstream, event = news(first)
    hear(matching, upstream, event)

    assert committed(matching) == ({} if freed else {first: ESTIMATE})
    open_job(matching, second)
    job, _ = matching.get_job(second)
    assert job.status == (JobStatus.OFFERED if freed else JobStatus.UNMATCHED)


def test_matching_describes_its_record_of_a_request_in_openapi(talkoot: Talkoot):
    document = talkoot.ok(talkoot.get("matching", "/schema/openapi.json"), 200)
    assert {"/jobs/{request_id}", "/offers/{offer_id}", "/offers", "/budgets"} <= set(
        document["paths"]
    )
