"""Matching: the eligibility policy, offers, jobs and the roster."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot

from domain.errors import NotAllowed, WrongState
from domain.matching.job import Job, JobStatus
from domain.matching.offer import Offer, OfferStatus
from domain.matching.policy import (
    NEUTRAL_RATING,
    ContractBudget,
    JobToMatch,
    Match,
    ProviderSlot,
    choose_provider,
    distance_km,
)
from domain.matching.roster import ROSTER_ID, Roster, stamp
from domain.money import Money, price_of_work

DAY = date(2025, 3, 10)


def job(**overrides) -> JobToMatch:
    fields = {"request_id": "request-1", "category": "snow", "region": "north", "on": DAY}
    fields.update(overrides)
    return JobToMatch(**fields)


def slot(provider_id: str, **overrides) -> ProviderSlot:
    fields = {
        "provider_id": provider_id,
        "categories": frozenset({"snow"}),
        "regions": frozenset({"north"}),
        "capacity": 2,
        "jobs": 0,
    }
    fields.update(overrides)
    return ProviderSlot(**fields)


def budget(contract_id: str, provider_id: str, **overrides) -> ContractBudget:
    fields = {
        "contract_id": contract_id,
        "provider_id": provider_id,
        "categories": frozenset({"snow"}),
        "regions": frozenset({"north"}),
        "remaining_cents": 50_000,
        "valid_from": date(2025, 1, 1),
        "valid_until": date(2025, 12, 31),
        "unit_price_cents": 3000,
        "partner_id": "lahti-city",
    }
    fields.update(overrides)
    return ContractBudget(**fields)


def replay(events):
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def event_names(aggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


# --- choose_provider: who is eligible ------------------------------------------------------


def test_an_eligible_provider_is_matched_with_its_covering_contract():
    decision = choose_provider(job(), [slot("p1")], [budget("c1", "p1")])

    assert decision.match == Match("p1", "c1", "lahti-city")
    assert decision.reason == ""
    assert decision.excluded == {}


def test_a_provider_that_declined_is_not_offered_the_job_again():
    decision = choose_provider(
        job(declined=frozenset({"p1"})),
        [slot("p1"), slot("p2")],
        [budget("c1", "p1"), budget("c2", "p2")],
    )

    assert decision.match == Match("p2", "c2", "lahti-city")
    assert decision.excluded == {"p1": "declined this request"}


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        (slot("p1", categories=frozenset({"yard"})), "does not do this category"),
        (slot("p1", regions=frozenset({"south"})), "does not work in this region"),
        (slot("p1", capacity=2, jobs=2), "has no free capacity"),
        (slot("p1", capacity=1, jobs=3), "has no free capacity"),
        (slot("p1", capacity=0, jobs=0), "has no free capacity"),
    ],
)
def test_a_provider_is_excluded_for_what_it_cannot_do(provider, reason):
    decision = choose_provider(job(), [provider], [budget("c1", "p1")])

    assert decision.match is None
    assert decision.excluded == {"p1": reason}
    assert decision.reason == f"no eligible provider: {reason}"


def test_a_provider_with_one_free_place_is_eligible():
    decision = choose_provider(job(), [slot("p1", capacity=3, jobs=2)], [budget("c1", "p1")])
    assert decision.match == Match("p1", "c1", "lahti-city")


NO_BUDGET = "has no contract budget left for the estimated cost of 30.00 €"
NO_CONTRACT = "has no active contract covering this category and region that day"


@pytest.mark.parametrize(
    "contract",
    [
        budget("c1", "p2"),  # somebody else's contract
        budget("c1", "p1", categories=frozenset({"yard"})),
        budget("c1", "p1", regions=frozenset({"south"})),
        budget("c1", "p1", valid_from=date(2025, 3, 11)),
        budget("c1", "p1", valid_until=date(2025, 3, 9)),
    ],
    ids=["other provider", "other category", "other region", "not yet valid", "expired"],
)
def test_a_provider_needs_a_contract_covering_category_region_and_day(contract):
    decision = choose_provider(job(), [slot("p1")], [contract])

    assert decision.match is None
    assert decision.excluded == {"p1": NO_CONTRACT}


def test_a_provider_without_any_contract_is_excluded():
    decision = choose_provider(job(), [slot("p1")], [])
    assert decision.excluded == {"p1": NO_CONTRACT}


@pytest.mark.parametrize(
    ("valid_from", "valid_until"), [(DAY, date(2025, 12, 31)), (date(2025, 1, 1), DAY)]
)
def test_a_contract_covers_its_first_and_last_day(valid_from, valid_until):
    contract = budget("c1", "p1", valid_from=valid_from, valid_until=valid_until)
    assert contract.covers(job())
    assert choose_provider(job(), [slot("p1")], [contract]).match == Match("p1", "c1", "lahti-city")


@pytest.mark.parametrize("remaining", [0, -100])
def test_a_contract_with_its_budget_used_up_does_not_count(remaining):
    decision = choose_provider(job(), [slot("p1")], [budget("c1", "p1", remaining_cents=remaining)])

    assert decision.match is None
    assert decision.excluded == {"p1": NO_BUDGET}


def test_the_funded_contract_is_chosen_over_a_spent_one():
    contracts = [budget("c1", "p1", remaining_cents=2999), budget("c2", "p1", remaining_cents=3000)]
    decision = choose_provider(job(), [slot("p1")], contracts)
    assert decision.match == Match("p1", "c2", "lahti-city")


def test_among_funded_contracts_the_first_by_id_is_chosen():
    contracts = [budget("c9", "p1"), budget("c3", "p1"), budget("c5", "p1")]
    assert choose_provider(job(), [slot("p1")], contracts).match == Match("p1", "c3", "lahti-city")


# --- choose_provider: which one, and why none ------------------------------------------------


def test_the_first_eligible_provider_by_id_is_chosen_whatever_the_input_order():
    providers = [slot("p3"), slot("p1"), slot("p2")]
    contracts = [budget("c3", "p3"), budget("c1", "p1"), budget("c2", "p2")]

    first = choose_provider(job(), providers, contracts)
    reversed_input = choose_provider(job(), providers[::-1], contracts[::-1])

    assert first.match == Match("p1", "c1", "lahti-city")
    assert reversed_input == first


def test_providers_passed_over_before_the_match_are_listed():
    providers = [slot("p1", jobs=2), slot("p2", regions=frozenset({"south"})), slot("p3")]
    contracts = [budget("c1", "p1"), budget("c2", "p2"), budget("c3", "p3")]

    decision = choose_provider(job(), providers, contracts)

    assert decision.match == Match("p3", "c3", "lahti-city")
    assert decision.excluded == {"p1": "has no free capacity", "p2": "does not work in this region"}


def test_with_no_providers_the_reason_says_none_is_registered():
    decision = choose_provider(job(), [], [budget("c1", "p1")])

    assert decision.match is None
    assert decision.reason == "no provider is registered"
    assert decision.excluded == {}


def test_when_none_is_eligible_the_reason_lists_each_distinct_cause_sorted():
    providers = [
        slot("p1", jobs=2),
        slot("p2", categories=frozenset({"yard"})),
        slot("p3", jobs=5, capacity=5),
        slot("p4"),
    ]
    decision = choose_provider(job(), providers, [budget("c4", "p4", remaining_cents=0)])

    assert decision.match is None
    assert decision.reason == (
        f"no eligible provider: does not do this category; {NO_BUDGET}; has no free capacity"
    )
    assert decision.excluded == {
        "p1": "has no free capacity",
        "p2": "does not do this category",
        "p3": "has no free capacity",
        "p4": NO_BUDGET,
    }


def test_a_declined_provider_is_excluded_before_anything_else_is_checked():
    decision = choose_provider(
        job(declined=frozenset({"p1"})),
        [slot("p1", categories=frozenset({"yard"}), jobs=2)],
        [],
    )
    assert decision.excluded == {"p1": "declined this request"}


def test_provider_slot_free_is_capacity_minus_jobs():
    assert slot("p1", capacity=5, jobs=2).free == 3


# --- Offer -------------------------------------------------------------------------------


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


# --- Job ---------------------------------------------------------------------------------


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


# --- Roster ------------------------------------------------------------------------------


def new_roster() -> Roster:
    roster = Roster()
    roster.collect_events()
    return roster


def enrol(roster: Roster, provider_id: str, capacity: int = 2) -> None:
    roster.enrol_provider(provider_id, ["snow"], ["north"], capacity)


def add_contract(roster: Roster, contract_id: str, provider_id: str, remaining: int = 50_000):
    roster.add_contract(
        contract_id,
        provider_id,
        ["snow"],
        ["north"],
        remaining,
        "2025-01-01",
        "2025-12-31",
        3000,
        "lahti-city",
    )


def test_there_is_one_roster_per_installation():
    assert Roster().id == ROSTER_ID
    assert Roster().id == Roster().id


def test_an_enrolled_provider_becomes_a_slot_with_no_jobs():
    roster = new_roster()

    roster.enrol_provider("p1", ["snow", "yard"], ["north"], 3)

    assert event_names(roster) == ["ProviderEnrolled"]
    assert roster.provider_slots() == [
        ProviderSlot("p1", frozenset({"snow", "yard"}), frozenset({"north"}), 3, 0)
    ]


def test_re_enrolling_updates_the_declaration_and_keeps_the_jobs_held():
    roster = new_roster()
    enrol(roster, "p1", capacity=2)
    roster.take_job("p1")

    roster.enrol_provider("p1", ["yard"], ["south"], 5)

    assert roster.provider_slots() == [
        ProviderSlot("p1", frozenset({"yard"}), frozenset({"south"}), 5, 1)
    ]


def test_an_added_contract_becomes_a_budget_with_dates():
    roster = new_roster()

    add_contract(roster, "c1", "p1", remaining=1234)

    assert event_names(roster) == ["ContractAdded"]
    assert roster.contract_budgets() == [
        ContractBudget(
            "c1",
            "p1",
            frozenset({"snow"}),
            frozenset({"north"}),
            1234,
            date(2025, 1, 1),
            date(2025, 12, 31),
            3000,
            "lahti-city",
        )
    ]


def test_update_budget_sets_the_remaining_cents():
    roster = new_roster()
    add_contract(roster, "c1", "p1", remaining=50_000)
    roster.collect_events()

    roster.update_budget("c1", 1_000)

    assert event_names(roster) == ["BudgetUpdated"]
    assert roster.contract_budgets()[0].remaining_cents == 1_000


def test_update_budget_of_an_unknown_contract_records_nothing():
    roster = new_roster()

    roster.update_budget("c-unknown", 1_000)

    assert roster.collect_events() == []
    assert roster.contracts == {}


def test_taking_and_releasing_jobs_counts_what_a_provider_holds():
    roster = new_roster()
    enrol(roster, "p1", capacity=3)

    roster.take_job("p1")
    roster.take_job("p1")
    roster.release_job("p1")

    assert event_names(roster) == ["ProviderEnrolled", "JobTaken", "JobTaken", "JobReleased"]
    assert roster.provider_slots()[0].jobs == 1
    assert roster.provider_slots()[0].free == 2


def test_a_job_taken_before_the_provider_is_known_is_kept_until_it_enrols():
    roster = new_roster()

    roster.take_job("p1")
    assert roster.provider_slots()[0] == ProviderSlot("p1", frozenset(), frozenset(), 0, 1)

    enrol(roster, "p1", capacity=2)
    assert roster.provider_slots()[0].jobs == 1


@pytest.mark.parametrize("provider_id", ["p1", "p-unknown"])
def test_releasing_when_nothing_is_held_records_nothing(provider_id):
    roster = new_roster()
    enrol(roster, "p1")
    roster.collect_events()

    roster.release_job(provider_id)

    assert roster.collect_events() == []
    assert roster.providers["p1"]["jobs"] == 0


def test_decide_matches_from_what_the_roster_knows():
    roster = new_roster()
    enrol(roster, "p2")
    enrol(roster, "p1")
    add_contract(roster, "c2", "p2")
    add_contract(roster, "c1", "p1")

    assert roster.decide(job()).match == Match("p1", "c1", "lahti-city")


def test_decide_moves_on_when_a_provider_is_full():
    roster = new_roster()
    enrol(roster, "p1", capacity=1)
    enrol(roster, "p2", capacity=1)
    add_contract(roster, "c1", "p1")
    add_contract(roster, "c2", "p2")

    roster.take_job("p1")

    decision = roster.decide(job())
    assert decision.match == Match("p2", "c2", "lahti-city")
    assert decision.excluded == {"p1": "has no free capacity"}


def test_decide_finds_nobody_once_the_budget_is_spent():
    roster = new_roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")
    roster.update_budget("c1", 0)

    decision = roster.decide(job())

    assert decision.match is None
    assert decision.reason == f"no eligible provider: {NO_BUDGET}"


def test_decide_honours_the_declines_of_the_job():
    roster = new_roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")

    decision = roster.decide(replace(job(), declined=frozenset({"p1"})))

    assert decision.match is None
    assert decision.excluded == {"p1": "declined this request"}


def test_the_roster_replays_to_the_same_state():
    roster = Roster()
    enrol(roster, "p1", capacity=3)
    add_contract(roster, "c1", "p1")
    roster.take_job("p1")
    roster.take_job("p1")
    roster.release_job("p1")
    roster.update_budget("c1", 700)

    copy = replay(roster.collect_events())

    assert copy.id == ROSTER_ID
    assert vars(copy) == vars(roster)
    assert copy.provider_slots() == roster.provider_slots()
    assert copy.contract_budgets() == roster.contract_budgets()


# --- the further eligibility rules -------------------------------------------------------


def rules(decision) -> dict[str, str]:
    return {c.provider_id: c.rule for c in decision.candidates if not c.eligible}


def test_a_provider_that_let_an_offer_lapse_is_excluded_under_the_declined_rule():
    decision = choose_provider(
        job(let_expire=frozenset({"p1"})), [slot("p1")], [budget("c1", "p1")]
    )

    assert decision.match is None
    assert rules(decision) == {"p1": "declined"}
    assert decision.excluded == {"p1": "let an offer for this request expire"}


def test_a_suspended_provider_is_excluded():
    decision = choose_provider(job(), [slot("p1", suspended=True)], [budget("c1", "p1")])

    assert rules(decision) == {"p1": "suspended"}
    assert decision.excluded == {"p1": "is suspended by a municipal partner"}


@pytest.mark.parametrize(
    ("starts", "ends", "paused"),
    [
        (date(2025, 3, 10), date(2025, 3, 10), True),
        (date(2025, 3, 1), date(2025, 3, 31), True),
        (date(2025, 3, 1), None, True),
        (date(2025, 3, 11), None, False),
        (date(2025, 3, 1), date(2025, 3, 9), False),
    ],
    ids=["that day", "around it", "open-ended", "starts after", "ended before"],
)
def test_a_pause_excludes_a_provider_only_when_it_covers_the_jobs_day(starts, ends, paused):
    provider = slot("p1", pauses=((starts, ends),))
    decision = choose_provider(job(), [provider], [budget("c1", "p1")])

    if paused:
        assert rules(decision) == {"p1": "paused"}
        assert decision.excluded == {"p1": "has paused taking work on 2025-03-10"}
    else:
        assert decision.match == Match("p1", "c1", "lahti-city")


def test_the_rules_are_checked_in_order_and_the_first_broken_one_is_named():
    everything_wrong = slot(
        "p1",
        regions=frozenset({"south"}),
        suspended=True,
        pauses=((DAY, DAY),),
        jobs=2,
    )
    suspended_and_paused = slot("p2", suspended=True, pauses=((DAY, DAY),), jobs=2)
    paused_and_full = slot("p3", pauses=((DAY, DAY),), jobs=2)
    full_without_contract = slot("p4", jobs=2)
    without_contract = slot("p5")
    providers = [
        everything_wrong,
        suspended_and_paused,
        paused_and_full,
        full_without_contract,
        without_contract,
    ]
    decision = choose_provider(job(), providers, [])

    assert rules(decision) == {
        "p1": "region",
        "p2": "suspended",
        "p3": "paused",
        "p4": "capacity",
        "p5": "contract",
    }


@pytest.mark.parametrize(
    ("unit_price", "minutes", "remaining", "eligible"),
    [
        (3000, 60, 3000, True),
        (3000, 60, 2999, False),
        (3000, 90, 4500, True),
        (3000, 90, 4499, False),
        (3333, 90, 5000, True),  # 4999.5 cents rounds half up to 5000
        (3333, 90, 4999, False),
    ],
)
def test_budget_must_cover_the_estimated_cost_rounded_like_the_charge(
    unit_price, minutes, remaining, eligible
):
    contract = budget("c1", "p1", unit_price_cents=unit_price, remaining_cents=remaining)
    decision = choose_provider(job(estimated_minutes=minutes), [slot("p1")], [contract])

    assert (decision.match is not None) == eligible
    assert contract.estimated_cost(job(estimated_minutes=minutes)) == (
        price_of_work(Money(unit_price), minutes).cents
    )
    if not eligible:
        assert rules(decision) == {"p1": "budget"}


def test_the_budget_sentence_names_the_estimated_cost():
    contract = budget("c1", "p1", unit_price_cents=3200, remaining_cents=100)
    decision = choose_provider(job(estimated_minutes=120), [slot("p1")], [contract])
    assert decision.excluded == {
        "p1": "has no contract budget left for the estimated cost of 64.00 €"
    }


def test_a_contract_with_enough_budget_is_chosen_over_an_earlier_one_without():
    contracts = [
        budget("c1", "p1", remaining_cents=100),
        budget("c2", "p1", remaining_cents=10_000, partner_id="hollola"),
    ]
    assert choose_provider(job(), [slot("p1")], contracts).match == Match("p1", "c2", "hollola")


def test_every_provider_considered_is_in_the_decision_with_its_rule_or_rank():
    providers = [slot("p1", jobs=2), slot("p2"), slot("p3", categories=frozenset({"yard"}))]
    contracts = [budget("c1", "p1"), budget("c2", "p2"), budget("c3", "p3")]

    decision = choose_provider(job(), providers, contracts)

    assert [c.provider_id for c in decision.candidates] == ["p1", "p2", "p3"]
    assert [c.as_dict() for c in decision.candidates] == [
        {"provider_id": "p1", "rule": "capacity", "reason": "has no free capacity"},
        {
            "provider_id": "p2",
            "rank": 1,
            "preferred": False,
            "recent_offers": 0,
            "rating": None,
            "distance_km": None,
        },
        {"provider_id": "p3", "rule": "category", "reason": "does not do this category"},
    ]
    assert decision.chosen.provider_id == "p2"


# --- ranking -----------------------------------------------------------------------------


def ranked_ids(decision) -> list[str]:
    return [c.provider_id for c in decision.ranked]


def equal(*ids: str, **overrides) -> tuple[list[ProviderSlot], list[ContractBudget]]:
    return (
        [slot(pid, **overrides) for pid in ids],
        [budget(f"c-{pid}", pid) for pid in ids],
    )


def test_the_least_recently_offered_provider_comes_first():
    providers, contracts = equal("p1", "p2", "p3")
    providers = [
        replace(providers[0], recent_offers=5),
        replace(providers[1], recent_offers=2),
        replace(providers[2], recent_offers=3),
    ]
    decision = choose_provider(job(), providers, contracts)

    assert decision.match.provider_id == "p2"
    assert ranked_ids(decision) == ["p2", "p3", "p1"]
    assert [c.rank for c in decision.ranked] == [1, 2, 3]


def test_the_series_preferred_provider_comes_first_when_eligible():
    providers, contracts = equal("p1", "p2")
    providers = [providers[0], replace(providers[1], recent_offers=9)]
    decision = choose_provider(job(preferred_provider_id="p2"), providers, contracts)

    assert ranked_ids(decision) == ["p2", "p1"]
    assert decision.chosen.preferred is True


def test_an_ineligible_preferred_provider_is_passed_over():
    providers, contracts = equal("p1", "p2")
    providers = [providers[0], replace(providers[1], suspended=True)]
    decision = choose_provider(job(preferred_provider_id="p2"), providers, contracts)

    assert decision.match.provider_id == "p1"
    assert rules(decision) == {"p2": "suspended"}


def test_with_equal_work_the_better_rating_comes_first_and_unrated_counts_as_neutral():
    providers, contracts = equal("p1", "p2", "p3", "p4")
    providers = [
        replace(providers[0], rating=2.5),
        replace(providers[1]),  # unrated: 3.0
        replace(providers[2], rating=4.8),
        replace(providers[3], rating=3.5),
    ]
    decision = choose_provider(job(), providers, contracts)

    assert ranked_ids(decision) == ["p3", "p4", "p2", "p1"]
    assert NEUTRAL_RATING == 3.0


def test_fairness_weighs_more_than_rating():
    providers, contracts = equal("p1", "p2")
    providers = [replace(providers[0], rating=5.0, recent_offers=1), providers[1]]
    assert ranked_ids(choose_provider(job(), providers, contracts)) == ["p2", "p1"]


LAHTI = (60.9827, 25.6615)
HOLLOLA = (60.9889, 25.5126)
HELSINKI = (60.1699, 24.9384)


def test_distance_is_by_haversine_in_km():
    assert 95 < distance_km(*LAHTI, *HELSINKI) < 105
    assert distance_km(*LAHTI, *LAHTI) == 0


def test_with_equal_work_and_rating_the_nearer_comes_first_and_unknown_distance_last():
    providers, contracts = equal("p1", "p2", "p3")
    providers = [
        replace(providers[0], lat=HELSINKI[0], long=HELSINKI[1]),
        providers[1],  # no location
        replace(providers[2], lat=HOLLOLA[0], long=HOLLOLA[1]),
    ]
    decision = choose_provider(job(lat=LAHTI[0], long=LAHTI[1]), providers, contracts)

    assert ranked_ids(decision) == ["p3", "p1", "p2"]
    assert decision.chosen.distance_km == round(distance_km(*LAHTI, *HOLLOLA), 1)
    assert decision.ranked[2].distance_km is None


def test_without_the_requests_location_distance_does_not_count():
    providers, contracts = equal("p1", "p2")
    providers = [replace(providers[0], lat=HELSINKI[0], long=HELSINKI[1]), providers[1]]
    decision = choose_provider(job(), providers, contracts)

    assert ranked_ids(decision) == ["p1", "p2"]  # by id
    assert all(c.distance_km is None for c in decision.ranked)


def test_full_ties_are_broken_by_provider_id_whatever_the_input_order():
    providers, contracts = equal("p3", "p1", "p2")
    first = choose_provider(job(), providers, contracts)
    again = choose_provider(job(), providers[::-1], contracts[::-1])

    assert ranked_ids(first) == ["p1", "p2", "p3"]
    assert again == first


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
    )
    copy = replay(offer.collect_events())
    assert vars(copy) == vars(offer)
    assert copy.candidates == [{"provider_id": "p0", "rule": "region", "reason": "x"}]


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


# --- roster: availability, ratings, open offers and recent work --------------------------

NOW = datetime(2025, 3, 9, 12, tzinfo=UTC)


def test_pauses_suspension_and_ratings_reach_the_slots():
    roster = new_roster()
    enrol(roster, "p1")
    roster.pause("p1", "pause-1", "2025-03-10", None)
    roster.pause("p1", "pause-2", "2025-04-01", "2025-04-02")
    roster.suspend("p1")
    roster.rate("p1", 5)
    roster.rate("p1", 2)

    (p1,) = roster.provider_slots()
    assert p1.suspended
    assert p1.pauses == ((date(2025, 3, 10), None), (date(2025, 4, 1), date(2025, 4, 2)))
    assert p1.rating == 3.5

    roster.end_pause("p1", "pause-1")
    roster.end_pause("p1", "pause-unknown")  # records nothing
    roster.reinstate("p1")

    (p1,) = roster.provider_slots()
    assert not p1.suspended
    assert p1.pauses == ((date(2025, 4, 1), date(2025, 4, 2)),)
    assert event_names(roster)[-2:] == ["PauseEnded", "ProviderReinstated"]


def test_changed_capabilities_keep_the_location_and_the_jobs_held():
    roster = new_roster()
    roster.enrol_provider("p1", ["snow"], ["north"], 2, 60.98, 25.66)
    roster.take_job("p1")

    roster.change_capabilities("p1", ["yard"], ["south"], 4)

    assert roster.provider_slots() == [
        ProviderSlot("p1", frozenset({"yard"}), frozenset({"south"}), 4, 1, lat=60.98, long=25.66)
    ]


def test_an_offer_made_is_open_until_answered_and_falls_due_at_its_time():
    roster = new_roster()
    enrol(roster, "p1")
    roster.take_job(
        "p1", "offer-1", "request-1", offered_at=NOW, expires_at=NOW + timedelta(hours=24)
    )
    roster.take_job(
        "p1", "offer-2", "request-2", offered_at=NOW, expires_at=NOW + timedelta(hours=1)
    )

    assert roster.due_offers(NOW + timedelta(minutes=59)) == []
    assert roster.due_offers(NOW + timedelta(hours=1)) == ["offer-2"]
    assert roster.due_offers(NOW + timedelta(days=2)) == ["offer-2", "offer-1"]

    roster.settle_offer("offer-1")  # accepted: the place stays held
    roster.release_job("p1", "offer-2")  # declined or lapsed: the place is free

    assert roster.open_offers == {}
    assert roster.providers["p1"]["jobs"] == 1


def test_recent_work_counts_offers_within_the_window_and_older_ones_are_forgotten():
    roster = new_roster()
    enrol(roster, "p1")
    enrol(roster, "p2")
    window = timedelta(days=30)
    for days_ago in (40, 35, 10):
        at = NOW - timedelta(days=days_ago)
        roster.take_job("p1", offered_at=at, forget_before=at - window)
    roster.take_job("p2", offered_at=NOW - timedelta(days=31), forget_before=NOW - timedelta(100))

    assert roster.recent_offers("p1", NOW - window) == 1
    assert roster.recent_offers("p2", NOW - window) == 0
    slots = {s.provider_id: s for s in roster.provider_slots(NOW - window)}
    assert (slots["p1"].recent_offers, slots["p2"].recent_offers) == (1, 0)

    # the next offer made forgets, for every provider, what fell out of the window
    roster.take_job("p1", offered_at=NOW, forget_before=NOW - window)
    assert roster.offered == {"p1": [stamp(NOW - timedelta(days=10)), stamp(NOW)]}


def test_the_roster_with_offers_and_availability_replays_to_the_same_state():
    roster = Roster()
    roster.enrol_provider("p1", ["snow"], ["north"], 3, 60.98, 25.66)
    add_contract(roster, "c1", "p1")
    roster.pause("p1", "pause-1", "2025-03-10", "2025-03-12")
    roster.suspend("p1")
    roster.rate("p1", 4)
    roster.take_job("p1", "offer-1", "request-1", NOW, NOW + timedelta(hours=2), NOW)
    roster.settle_offer("offer-1")
    roster.take_job("p1", "offer-2", "request-2", NOW, NOW + timedelta(hours=2), NOW)
    roster.release_job("p1", "offer-2")

    copy = replay(roster.collect_events())

    assert vars(copy) == vars(roster)
    assert copy.provider_slots(NOW) == roster.provider_slots(NOW)


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


def test_providers_that_neither_do_the_category_nor_work_in_the_region_are_counted_not_listed():
    providers = [
        slot("p1"),
        slot("p2", categories=frozenset({"yard"})),
        slot("p3", categories=frozenset({"yard"}), regions=frozenset({"south"})),
        slot("p4", categories=frozenset({"yard"}), regions=frozenset({"south"})),
    ]
    contracts = [budget(f"c{n}", f"p{n}") for n in range(1, 5)]

    decision = choose_provider(job(), providers, contracts)

    assert [c.provider_id for c in decision.candidates] == ["p1", "p2"]
    assert decision.excluded == {"p2": "does not do this category"}
    assert decision.unrelated == 2
    assert decision.chosen.provider_id == "p1"


def test_when_nobody_does_the_work_in_the_area_the_reason_says_so():
    providers = [slot("p1", categories=frozenset({"yard"}), regions=frozenset({"south"}))]

    decision = choose_provider(job(), providers, [budget("c1", "p1")])

    assert decision.match is None
    assert decision.candidates == ()
    assert decision.unrelated == 1
    assert decision.reason == "no provider does this category or works in this region"


def test_an_offer_no_longer_open_frees_no_place_twice():
    roster = new_roster()
    enrol(roster, "p1")
    roster.take_job("p1", "offer-1", "request-1", offered_at=NOW, expires_at=NOW)
    roster.take_job("p1", "offer-2", "request-2", offered_at=NOW, expires_at=NOW)
    roster.settle_offer("offer-1")  # accepted: holds its place
    roster.release_job("p1", "offer-2")
    roster.collect_events()

    roster.release_job("p1", "offer-2")  # the same decline or lapse heard again

    assert roster.providers["p1"]["jobs"] == 1
    assert roster.collect_events() == []


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


# --- budget committed to jobs offered or taken, not yet charged --------------------------

COST = 3000  # an hour at the contract's 30.00 € (job() estimates 60 minutes)


def one_job_of_budget() -> Roster:
    """p1 with room for many jobs and a contract with budget for one."""
    roster = new_roster()
    enrol(roster, "p1", capacity=5)
    add_contract(roster, "c1", "p1", remaining=COST)
    roster.collect_events()
    return roster


def offer_under_c1(roster: Roster, offer_id: str = "offer-1", request_id: str = "request-1"):
    roster.take_job(
        "p1",
        offer_id,
        request_id,
        offered_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        contract_id="c1",
        estimated_cents=COST,
    )


def test_an_offer_commits_its_estimated_cost_against_the_contract():
    roster = one_job_of_budget()

    offer_under_c1(roster)

    assert event_names(roster) == ["JobTaken"]
    assert roster.commitments == {
        "request-1": {"contract_id": "c1", "cents": COST, "offer_id": "offer-1"}
    }
    assert roster.contracts["c1"]["remaining_cents"] == COST  # only a charge changes it
    (others,) = roster.contract_budgets("request-2")
    assert others.remaining_cents == 0


def test_the_policy_sees_the_remaining_budget_less_the_other_jobs_commitments():
    roster = one_job_of_budget()
    offer_under_c1(roster)

    second = roster.decide(job(request_id="request-2"))
    again = roster.decide(job(request_id="request-1"))  # matched again after a decline

    assert second.match is None
    assert second.reason == f"no eligible provider: {NO_BUDGET}"
    assert again.match == Match("p1", "c1", "lahti-city")


def test_commitments_add_up_per_contract():
    roster = new_roster()
    enrol(roster, "p1", capacity=5)
    add_contract(roster, "c1", "p1", remaining=10_000)
    add_contract(roster, "c2", "p1", remaining=10_000)
    roster.take_job("p1", "o1", "r1", contract_id="c1", estimated_cents=3000)
    roster.take_job("p1", "o2", "r2", contract_id="c1", estimated_cents=4500)
    roster.take_job("p1", "o3", "r3", contract_id="c2", estimated_cents=1000)

    remaining = {c.contract_id: c.remaining_cents for c in roster.contract_budgets()}
    assert remaining == {"c1": 2500, "c2": 9000}
    remaining = {c.contract_id: c.remaining_cents for c in roster.contract_budgets("r2")}
    assert remaining == {"c1": 7000, "c2": 9000}


def test_an_offer_declined_lapsed_or_withdrawn_gives_its_commitment_back():
    # decline, lapse and withdrawal all free the open offer's place in the roster
    roster = one_job_of_budget()
    offer_under_c1(roster)
    roster.collect_events()

    roster.release_job("p1", "offer-1")

    assert event_names(roster) == ["JobReleased"]
    assert roster.commitments == {}
    assert roster.decide(job(request_id="request-2")).match == Match("p1", "c1", "lahti-city")


def test_an_accepted_job_keeps_its_commitment_through_completion_until_the_charge():
    roster = one_job_of_budget()
    offer_under_c1(roster)
    roster.settle_offer("offer-1")  # accepted
    roster.release_job("p1")  # the work was reported: its place is free
    assert list(roster.commitments) == ["request-1"]
    assert roster.decide(job(request_id="request-2")).match is None
    roster.collect_events()

    roster.update_budget("c1", 0)  # charged, say, a little more than estimated
    roster.release_commitment("request-1")

    assert event_names(roster) == ["BudgetUpdated", "CommitmentReleased"]
    assert roster.commitments == {}
    assert roster.contract_budgets()[0].remaining_cents == 0


@pytest.mark.parametrize("why", ["closed", "charge refused", "voided"])
def test_a_request_that_will_not_be_charged_gives_its_commitment_back_once(why):
    roster = one_job_of_budget()
    offer_under_c1(roster)
    if why != "closed":
        roster.settle_offer("offer-1")
    roster.collect_events()

    roster.release_commitment("request-1")
    roster.release_commitment("request-1")  # the same news heard again

    assert event_names(roster) == ["CommitmentReleased"]
    assert roster.commitments == {}
    assert roster.contract_budgets("request-2")[0].remaining_cents == COST


def test_a_new_offer_for_the_request_replaces_its_commitment_and_a_stale_release_keeps_it():
    roster = one_job_of_budget()
    add_contract(roster, "c2", "p1", remaining=COST)
    offer_under_c1(roster, "offer-1")
    roster.release_job("p1", "offer-1")  # declined
    roster.take_job("p1", "offer-2", "request-1", contract_id="c2", estimated_cents=2000)

    roster.release_job("p1", "offer-1")  # the old decline heard again

    assert roster.commitments == {
        "request-1": {"contract_id": "c2", "cents": 2000, "offer_id": "offer-2"}
    }


def test_an_offer_made_without_a_contract_commits_nothing():
    roster = one_job_of_budget()

    roster.take_job("p1", "offer-1", "request-1")

    assert roster.commitments == {}


def test_the_roster_with_commitments_replays_to_the_same_state():
    roster = Roster()
    enrol(roster, "p1", capacity=5)
    add_contract(roster, "c1", "p1", remaining=10 * COST)
    for n in range(1, 5):
        offer_under_c1(roster, f"offer-{n}", f"request-{n}")
    roster.release_job("p1", "offer-1")
    roster.settle_offer("offer-2")
    roster.update_budget("c1", 9 * COST)
    roster.release_commitment("request-2")
    roster.release_commitment("request-3")

    copy = replay(roster.collect_events())

    assert vars(copy) == vars(roster)
    assert list(copy.commitments) == ["request-4"]
    assert copy.contract_budgets() == roster.contract_budgets()
    assert copy.contract_budgets()[0].remaining_cents == 8 * COST


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


def test_the_roster_knows_providers_by_name_for_the_explanations():
    roster = Roster()
    roster.enrol_provider("p1", ["snow"], ["north"], 1, name="Nastolan kyläyhdistys")
    roster.take_job("p2")  # a job heard of before the provider enrolled

    assert roster.provider_names() == {"p1": "Nastolan kyläyhdistys", "p2": ""}
    assert replay(roster.collect_events()).provider_names() == roster.provider_names()
