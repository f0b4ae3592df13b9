"""The matching policy: who is eligible, by which rule the others are not, and the ranking."""

from dataclasses import replace
from datetime import date

import pytest

from domain.matching.policy import (
    NEUTRAL_RATING,
    ContractBudget,
    Match,
    ProviderSlot,
    choose_provider,
    distance_km,
)
from domain.money import Money, price_of_work
from tests.unit.matching.builders import DAY, NO_BUDGET, NO_CONTRACT, budget, job, slot

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
            "chosen": False,
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


# --- providers that have nothing to do with the job --------------------------------------


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


@pytest.mark.parametrize(
    ("pricing", "voucher", "minutes", "estimate"),
    [
        ("hour", None, 90, 4500),
        ("job", None, 90, 3000),  # the unit price once, whatever the hours
        ("job", None, 600, 3000),
        ("hour", 4000, 120, 4000),  # 60.00 €: the city's share is the voucher
        ("hour", 4000, 60, 3000),  # below the voucher: all of it
        ("job", 2000, 600, 2000),
    ],
)
def test_the_estimate_follows_the_versions_pricing_and_counts_the_citys_share_only(
    pricing, voucher, minutes, estimate
):
    contract = budget("c1", "p1", pricing=pricing, voucher_cents=voucher, remaining_cents=estimate)
    assert contract.estimated_cost(job(estimated_minutes=minutes)) == estimate
    assert choose_provider(job(estimated_minutes=minutes), [slot("p1")], [contract]).match
    short = replace(contract, remaining_cents=estimate - 1)
    assert choose_provider(job(estimated_minutes=minutes), [slot("p1")], [short]).match is None
