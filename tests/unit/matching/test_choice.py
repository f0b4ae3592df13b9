"""Freedom of choice: a provider the resident chose under a service voucher is offered the job
first; after it declines or lets the offer lapse, or when it may not be chosen, the fair
ranking decides and the decision says what became of the choice."""

from domain.matching.policy import (
    Choice,
    Match,
    choose_provider,
    voucher_choices,
)
from tests.unit.matching.builders import budget, job, slot

# p1 ranks first on fairness (fewer recent offers); p2 is the one the resident chooses.
PROVIDERS = [slot("p1", recent_offers=0), slot("p2", recent_offers=3)]
CONTRACTS = [
    budget("c1", "p1", voucher_cents=2000),
    budget("c2", "p2", voucher_cents=2000, pricing="job", unit_price_cents=4500),
]


def test_without_a_choice_the_fair_ranking_decides():
    decision = choose_provider(job(), PROVIDERS, CONTRACTS)
    assert decision.match.provider_id == "p1"
    assert decision.choice == ""


def test_the_chosen_provider_is_offered_first_under_its_voucher_contract():
    decision = choose_provider(job(chosen_provider_id="p2"), PROVIDERS, CONTRACTS)

    assert decision.match == Match("p2", "c2", "lahti-city")
    assert decision.choice == Choice.OFFERED
    assert decision.chosen.chosen is True
    assert [c.provider_id for c in decision.ranked] == ["p2", "p1"]


def test_the_choice_ranks_before_the_series_preference():
    decision = choose_provider(
        job(chosen_provider_id="p2", preferred_provider_id="p1"), PROVIDERS, CONTRACTS
    )
    assert decision.match.provider_id == "p2"


def test_after_the_chosen_provider_declines_the_fair_ranking_decides_and_says_so():
    decision = choose_provider(
        job(chosen_provider_id="p2", declined=frozenset({"p2"})), PROVIDERS, CONTRACTS
    )

    assert decision.match.provider_id == "p1"
    assert decision.choice == Choice.DECLINED
    assert decision.chosen.chosen is False


def test_after_the_chosen_provider_lets_the_offer_lapse_the_fair_ranking_decides():
    decision = choose_provider(
        job(chosen_provider_id="p2", let_expire=frozenset({"p2"})), PROVIDERS, CONTRACTS
    )

    assert decision.match.provider_id == "p1"
    assert decision.choice == Choice.LAPSED


def test_a_chosen_provider_without_a_voucher_contract_is_not_offered_first():
    contracts = [budget("c1", "p1", voucher_cents=2000), budget("c2", "p2")]  # c2: no voucher

    decision = choose_provider(job(chosen_provider_id="p2"), PROVIDERS, contracts)

    assert decision.match.provider_id == "p1"
    assert (decision.choice, decision.choice_rule) == (Choice.NOT_ALLOWED, "voucher")
    assert not any(c.chosen for c in decision.candidates)


def test_a_chosen_provider_that_is_not_eligible_is_not_offered():
    providers = [slot("p1"), slot("p2", capacity=1, jobs=1)]

    decision = choose_provider(job(chosen_provider_id="p2"), providers, CONTRACTS)

    assert decision.match.provider_id == "p1"
    assert (decision.choice, decision.choice_rule) == (Choice.NOT_ALLOWED, "capacity")
    assert decision.excluded == {"p2": "has no free capacity"}


def test_a_chosen_provider_that_is_not_known_is_not_allowed():
    decision = choose_provider(job(chosen_provider_id="nobody"), PROVIDERS, CONTRACTS)

    assert decision.match.provider_id == "p1"
    assert (decision.choice, decision.choice_rule) == (Choice.NOT_ALLOWED, "unknown")


def test_the_choices_are_the_eligible_providers_under_voucher_contracts_with_their_shares():
    providers = [*PROVIDERS, slot("p3"), slot("p4", suspended=True), slot("p5", rating=4.5)]
    contracts = [
        *CONTRACTS,
        budget("c3", "p3"),  # no voucher: the city pays all, nothing to choose
        budget("c4", "p4", voucher_cents=2000),
        budget("c5", "p5", voucher_cents=5000),
    ]

    choices = voucher_choices(job(estimated_minutes=90), providers, contracts)

    assert [c.provider_id for c in choices] == ["p1", "p2", "p5"]
    p1, p2, p5 = choices
    # 90 minutes at 30.00 € an hour: 45.00 €, the voucher pays 20.00 €
    assert (p1.pricing, p1.price_cents, p1.city_cents, p1.resident_cents) == (
        "hour",
        4500,
        2000,
        2500,
    )
    # 45.00 € per job whatever the time
    assert (p2.pricing, p2.unit_price_cents, p2.resident_cents) == ("job", 4500, 2500)
    # a voucher larger than the price: the resident pays nothing
    assert (p5.city_cents, p5.resident_cents, p5.rating) == (4500, 0, 4.5)
