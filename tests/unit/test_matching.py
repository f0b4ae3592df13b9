"""Matching: the eligibility policy, offers, jobs and the roster."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from domain.errors import NotAllowed, WrongState
from domain.matching import (
    ROSTER_ID,
    ContractBudget,
    Job,
    JobStatus,
    JobToMatch,
    Match,
    Offer,
    OfferStatus,
    ProviderSlot,
    Roster,
    choose_provider,
)

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

    assert decision.match == Match("p1", "c1")
    assert decision.reason == ""
    assert decision.excluded == {}


def test_a_provider_that_declined_is_not_offered_the_job_again():
    decision = choose_provider(
        job(excluded_providers=frozenset({"p1"})),
        [slot("p1"), slot("p2")],
        [budget("c1", "p1"), budget("c2", "p2")],
    )

    assert decision.match == Match("p2", "c2")
    assert decision.excluded == {"p1": "declined this request"}


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        (slot("p1", categories=frozenset({"yard"})), "does not do this category"),
        (slot("p1", regions=frozenset({"south"})), "does not work in this region"),
        (slot("p1", capacity=2, jobs=2), "no free capacity"),
        (slot("p1", capacity=1, jobs=3), "no free capacity"),
        (slot("p1", capacity=0, jobs=0), "no free capacity"),
    ],
)
def test_a_provider_is_excluded_for_what_it_cannot_do(provider, reason):
    decision = choose_provider(job(), [provider], [budget("c1", "p1")])

    assert decision.match is None
    assert decision.excluded == {"p1": reason}
    assert decision.reason == f"no eligible provider: {reason}"


def test_a_provider_with_one_free_place_is_eligible():
    decision = choose_provider(job(), [slot("p1", capacity=3, jobs=2)], [budget("c1", "p1")])
    assert decision.match == Match("p1", "c1")


NO_CONTRACT = "no active contract covers this category and region"


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
    assert choose_provider(job(), [slot("p1")], [contract]).match == Match("p1", "c1")


@pytest.mark.parametrize("remaining", [0, -100])
def test_a_contract_with_its_budget_used_up_does_not_count(remaining):
    decision = choose_provider(job(), [slot("p1")], [budget("c1", "p1", remaining_cents=remaining)])

    assert decision.match is None
    assert decision.excluded == {"p1": "contract budget used up"}


def test_the_funded_contract_is_chosen_over_a_spent_one():
    contracts = [budget("c1", "p1", remaining_cents=0), budget("c2", "p1", remaining_cents=1)]
    decision = choose_provider(job(), [slot("p1")], contracts)
    assert decision.match == Match("p1", "c2")


def test_among_funded_contracts_the_first_by_id_is_chosen():
    contracts = [budget("c9", "p1"), budget("c3", "p1"), budget("c5", "p1")]
    assert choose_provider(job(), [slot("p1")], contracts).match == Match("p1", "c3")


# --- choose_provider: which one, and why none ------------------------------------------------


def test_the_first_eligible_provider_by_id_is_chosen_whatever_the_input_order():
    providers = [slot("p3"), slot("p1"), slot("p2")]
    contracts = [budget("c3", "p3"), budget("c1", "p1"), budget("c2", "p2")]

    first = choose_provider(job(), providers, contracts)
    reversed_input = choose_provider(job(), providers[::-1], contracts[::-1])

    assert first.match == Match("p1", "c1")
    assert reversed_input == first


def test_providers_passed_over_before_the_match_are_listed():
    providers = [slot("p1", jobs=2), slot("p2", regions=frozenset({"south"})), slot("p3")]
    contracts = [budget("c1", "p1"), budget("c2", "p2"), budget("c3", "p3")]

    decision = choose_provider(job(), providers, contracts)

    assert decision.match == Match("p3", "c3")
    assert decision.excluded == {"p1": "no free capacity", "p2": "does not work in this region"}


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
        "no eligible provider: contract budget used up; does not do this category; no free capacity"
    )
    assert decision.excluded == {
        "p1": "no free capacity",
        "p2": "does not do this category",
        "p3": "no free capacity",
        "p4": "contract budget used up",
    }


def test_a_declined_provider_is_excluded_before_anything_else_is_checked():
    decision = choose_provider(
        job(excluded_providers=frozenset({"p1"})),
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
    assert current.to_match().excluded_providers == frozenset({"p1"})


def test_declines_accumulate_across_offers():
    current = open_job()
    current.record_offer("offer-1", "p1")
    current.record_decline("offer-1", "p1")
    current.record_offer("offer-2", "p2")
    current.record_decline("offer-2", "p2")

    assert current.declined_by == ["p1", "p2"]
    assert current.to_match().excluded_providers == frozenset({"p1", "p2"})


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
        contract_id, provider_id, ["snow"], ["north"], remaining, "2025-01-01", "2025-12-31"
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

    assert roster.decide(job()).match == Match("p1", "c1")


def test_decide_moves_on_when_a_provider_is_full():
    roster = new_roster()
    enrol(roster, "p1", capacity=1)
    enrol(roster, "p2", capacity=1)
    add_contract(roster, "c1", "p1")
    add_contract(roster, "c2", "p2")

    roster.take_job("p1")

    decision = roster.decide(job())
    assert decision.match == Match("p2", "c2")
    assert decision.excluded == {"p1": "no free capacity"}


def test_decide_finds_nobody_once_the_budget_is_spent():
    roster = new_roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")
    roster.update_budget("c1", 0)

    decision = roster.decide(job())

    assert decision.match is None
    assert decision.reason == "no eligible provider: contract budget used up"


def test_decide_honours_the_declines_of_the_job():
    roster = new_roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")

    decision = roster.decide(replace(job(), excluded_providers=frozenset({"p1"})))

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
