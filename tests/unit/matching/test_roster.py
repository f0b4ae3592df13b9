"""The roster: providers, contracts, jobs held, open and recent offers, budget commitments."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from domain.matching.policy import ContractBudget, Match, ProviderSlot
from domain.matching.roster import ROSTER_ID, HeldBudget, Roster, stamp
from tests.unit.matching.builders import (
    COST,
    NO_BUDGET,
    NOW,
    add_contract,
    enrol,
    event_names,
    job,
    new_roster,
    offer_under_c1,
    one_job_of_budget,
    replay,
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


# --- roster: availability, ratings, open offers and recent work --------------------------


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


# --- budget committed to jobs offered or taken, not yet charged --------------------------


def test_an_offer_commits_its_estimated_cost_against_the_contract():
    roster = one_job_of_budget()

    offer_under_c1(roster)

    assert event_names(roster) == ["JobTaken"]
    assert roster.commitments() == {"request-1": ("c1", COST)}
    assert roster.committing == {"request-1": "offer-1"}
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
    assert roster.commitments() == {}
    assert roster.decide(job(request_id="request-2")).match == Match("p1", "c1", "lahti-city")


def test_an_accepted_job_keeps_its_commitment_through_completion_until_the_charge():
    roster = one_job_of_budget()
    offer_under_c1(roster)
    roster.settle_offer("offer-1")  # accepted
    roster.release_job("p1")  # the work was reported: its place is free
    assert list(roster.commitments()) == ["request-1"]
    assert roster.decide(job(request_id="request-2")).match is None
    roster.collect_events()

    roster.update_budget("c1", 0)  # charged, say, a little more than estimated
    roster.release_commitment("request-1")

    assert event_names(roster) == ["BudgetUpdated", "CommitmentReleased"]
    assert roster.commitments() == {}
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
    assert roster.commitments() == {}
    assert roster.contract_budgets("request-2")[0].remaining_cents == COST


def test_a_new_offer_for_the_request_replaces_its_commitment_and_a_stale_release_keeps_it():
    roster = one_job_of_budget()
    add_contract(roster, "c2", "p1", remaining=COST)
    offer_under_c1(roster, "offer-1")
    roster.release_job("p1", "offer-1")  # declined
    roster.take_job("p1", "offer-2", "request-1", contract_id="c2", estimated_cents=2000)

    roster.release_job("p1", "offer-1")  # the old decline heard again

    assert roster.commitments() == {"request-1": ("c2", 2000)}
    assert roster.committing == {"request-1": "offer-2"}


def test_an_offer_made_without_a_contract_commits_nothing():
    roster = one_job_of_budget()

    roster.take_job("p1", "offer-1", "request-1")

    assert roster.commitments() == {}


def test_what_is_held_of_each_budget_is_the_sum_of_its_jobs_not_yet_charged():
    roster = new_roster()
    enrol(roster, "p1", capacity=5)
    add_contract(roster, "c1", "p1", remaining=10_000)
    add_contract(roster, "c2", "p1", remaining=10_000)
    roster.add_contract(
        "c3", "p2", ["snow"], ["north"], 500, "2025-01-01", "2025-12-31", 3000, "town"
    )
    roster.take_job("p1", "o1", "r1", contract_id="c1", estimated_cents=3000)
    roster.take_job("p1", "o2", "r2", contract_id="c1", estimated_cents=4500)
    roster.settle_offer("o2")  # accepted: still held
    roster.take_job("p1", "o3", "r3", contract_id="c2", estimated_cents=1000)
    roster.release_job("p1", "o3")  # declined: given back
    roster.take_job("p2", "o4", "r4", contract_id="c3", estimated_cents=500)
    roster.release_commitment("r4")  # charged

    assert roster.held_budgets("lahti-city") == [
        HeldBudget("c1", "lahti-city", "p1", held_cents=7500, jobs=2),
        HeldBudget("c2", "lahti-city", "p1", held_cents=0, jobs=0),
    ]
    assert [b.contract_id for b in roster.held_budgets()] == ["c1", "c2", "c3"]
    assert roster.held_budgets("town") == [HeldBudget("c3", "town", "p2", 0, 0)]
    assert roster.held_budgets(provider_id="p2") == roster.held_budgets("town")
    assert roster.held_budgets("lahti-city", "p2") == []
    assert roster.held_budgets("nobody") == []
    # what the policy sees is the remaining budget less what is held
    remaining = {c.contract_id: c.remaining_cents for c in roster.contract_budgets()}
    assert remaining == {"c1": 2500, "c2": 10_000, "c3": 500}


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
    assert list(copy.commitments()) == ["request-4"]
    assert copy.contract_budgets() == roster.contract_budgets()
    assert copy.contract_budgets()[0].remaining_cents == 8 * COST


# --- names -------------------------------------------------------------------------------


def test_the_roster_knows_providers_by_name_for_the_explanations():
    roster = Roster()
    roster.enrol_provider("p1", ["snow"], ["north"], 1, name="Nastolan kyläyhdistys")
    roster.take_job("p2")  # a job heard of before the provider enrolled

    assert roster.provider_names() == {"p1": "Nastolan kyläyhdistys", "p2": ""}
    assert replay(roster.collect_events()).provider_names() == roster.provider_names()


# --- contract versions, suspension and termination ------------------------------------------


def amend(roster: Roster, effective_from: str, unit_price_cents: int, regions=("north",)):
    roster.amend_contract(
        "c1",
        2,
        effective_from,
        ["snow"],
        list(regions),
        unit_price_cents,
        "2025-01-01",
        "2025-12-31",
        40_000,
    )


def test_matching_prices_a_job_at_the_version_in_force_on_its_day():
    roster = new_roster()
    roster.enrol_provider("p1", ["snow"], ["north", "south"], 2)
    add_contract(roster, "c1", "p1")
    amend(roster, "2025-06-01", 4000, regions=("north", "south"))

    budgets = roster.contract_budgets()
    assert [(b.valid_from, b.valid_until, b.unit_price_cents) for b in budgets] == [
        (date(2025, 1, 1), date(2025, 5, 31), 3000),
        (date(2025, 6, 1), date(2025, 12, 31), 4000),
    ]
    assert {b.remaining_cents for b in budgets} == {40_000}
    may, june = job(on=date(2025, 5, 31)), job(on=date(2025, 6, 2), region="south")
    assert roster.decide(may).match is not None and roster.decide(june).match is not None
    assert roster.decide(job(on=date(2025, 5, 31), region="south")).match is None


def test_a_suspended_contract_gets_no_work_until_resumed_and_a_terminated_one_none_after():
    roster = new_roster()
    enrol(roster, "p1")
    add_contract(roster, "c1", "p1")
    roster.set_contract_status("c1", "suspended")
    assert roster.contract_budgets() == [] and roster.decide(job()).match is None
    roster.set_contract_status("c1", "active")
    assert roster.decide(job()).match is not None
    roster.set_contract_status("c1", "terminated", "2025-03-01")
    (budget,) = roster.contract_budgets()
    assert budget.valid_until == date(2025, 2, 28)
    assert roster.decide(job(on=date(2025, 2, 28))).match is not None
    assert roster.decide(job(on=date(2025, 3, 1))).match is None


def test_the_roster_keeps_each_versions_pricing_and_voucher_and_a_reversal_gives_budget_back():
    roster = Roster()
    roster.enrol_provider("p1", ["snow"], ["north"], 2)
    roster.add_contract(
        "c1",
        "p1",
        ["snow"],
        ["north"],
        40_000,
        "2025-01-01",
        "2025-12-31",
        5000,
        "lahti-city",
        "job",
        3000,
    )
    roster.amend_contract(
        "c1",
        2,
        "2025-06-01",
        ["snow"],
        ["north"],
        4000,
        "2025-01-01",
        "2025-12-31",
        40_000,
        "hour",
        None,
    )
    before, after = roster.contract_budgets()
    assert (before.pricing, before.voucher_cents, after.pricing, after.voucher_cents) == (
        "job",
        3000,
        "hour",
        None,
    )
    roster.update_budget("c1", 37_000)  # charged
    roster.update_budget("c1", 40_000)  # reversed
    assert {b.remaining_cents for b in roster.contract_budgets()} == {40_000}
    assert vars(replay(roster.collect_events())) == vars(roster)
