"""A participatory budgeting round in CONSUL's phases: proposals, review, selection, the
published ballot, one changeable ballot per resident under the round's rule, and a tally that
a recount of the ballots reproduces."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.tables.round import BudgetingRound, Phase, check_voter_region

COSTS = {"playground": 12_000_00, "benches": 3_000_00, "lights": 6_000_00}


def a_round(**terms) -> BudgetingRound:
    return BudgetingRound.open(
        table_id="lahti-east",
        title="Osallistuva budjetointi 2026",
        year=2026,
        budget_cents=terms.pop("budget_cents", 20_000_00),
        rule=terms.pop("rule", "at_least"),
        minimum=terms.pop("minimum", 1),
        opened_by="coord-east",
        opened_on=date(2026, 2, 1),
        **terms,
    )


def balloting(**terms) -> BudgetingRound:
    round_ = a_round(**terms)
    for proposal, cost in COSTS.items():
        round_.propose(proposal, proposal.title(), "", cost, "resident-aino")
    round_.advance("reviewing")
    for proposal in COSTS:
        round_.review(proposal, True, "")
    for phase in ("selecting", "publishing_costs", "balloting"):
        round_.advance(phase)
    return round_


def test_the_phases_go_one_after_another_in_consuls_order():
    round_ = a_round()
    with pytest.raises(WrongState) as refused:
        round_.advance("balloting")
    assert refused.value.rule == "phase"
    with pytest.raises(WrongState, match="no proposals"):
        round_.advance("reviewing")
    round_.propose("benches", "Benches", "", 3_000_00, "resident-aino")
    round_.advance("reviewing")
    with pytest.raises(WrongState, match="review every proposal"):
        round_.advance("selecting")
    with pytest.raises(InvalidValue):
        round_.advance("finished")  # a round finishes with its tally


def test_proposals_come_while_accepting_and_cost_at_most_the_budget():
    round_ = a_round(budget_cents=10_000_00)
    with pytest.raises(InvalidValue) as refused:
        round_.propose("playground", "Playground", "", 12_000_00, "resident-aino")
    assert refused.value.rule == "cost_cents"
    round_.propose("benches", "Benches", "", 3_000_00, "resident-aino")
    round_.advance("reviewing")
    with pytest.raises(WrongState):
        round_.propose("lights", "Lights", "", 1_000_00, "resident-aino")


def test_a_proposal_found_not_feasible_gives_the_reason_and_stays_off_the_ballot():
    round_ = a_round()
    round_.propose("benches", "Benches", "", 3_000_00, "resident-aino")
    round_.propose("pier", "A pier", "", 9_000_00, "resident-eero")
    round_.advance("reviewing")
    with pytest.raises(InvalidValue) as refused:
        round_.review("pier", False, "")
    assert refused.value.rule == "reason"
    round_.review("pier", False, "The shore is a nature reserve.")
    round_.review("benches", True, "", cost_cents=3_500_00)
    round_.advance("selecting")
    with pytest.raises(WrongState):
        round_.select("pier", "resident-aino")
    round_.advance("publishing_costs")
    assert round_.ballot == ["benches"] and round_.costs == {"benches": 3_500_00}


def test_the_ballot_holds_the_proposals_residents_selected_enough():
    round_ = a_round(selection_threshold=2)
    for proposal, cost in COSTS.items():
        round_.propose(proposal, proposal, "", cost, "resident-aino")
    round_.advance("reviewing")
    for proposal in COSTS:
        round_.review(proposal, True, "")
    round_.advance("selecting")
    for resident in ("r1", "r2"):
        round_.select("lights", resident)
    round_.select("benches", "r1")
    with pytest.raises(WrongState):
        round_.select("lights", "r1")
    round_.advance("publishing_costs")
    assert round_.ballot == ["lights"]


def test_one_ballot_per_voter_and_a_later_one_replaces_the_earlier():
    round_ = balloting()
    round_.cast("v1", ["playground"], "online", "resident-aino")
    round_.cast("v1", ["benches", "lights"], "online", "resident-aino")
    round_.cast("v2", ["benches"], "paper", "coord-east")
    assert round_.ballots == {"v1": ["benches", "lights"], "v2": ["benches"]}
    with pytest.raises(WrongState):
        round_.cast("v2", ["benches"], "paper", "coord-east")
    result = round_.finish()
    assert result.funded == ("benches", "lights") and result.votes["playground"] == 0
    assert round_.phase == Phase.FINISHED and round_.result["ballots"] == 2
    with pytest.raises(WrongState):
        round_.cast("v3", ["benches"], "online", "resident-liisa")


@pytest.mark.parametrize(
    ("terms", "ballot", "rule"),
    [
        ({"rule": "share", "threshold_percent": 50}, ["benches"], "threshold_percent"),
        ({"rule": "at_least", "minimum": 2}, ["benches"], "minimum"),
        ({"rule": "between", "minimum": 1, "maximum": 1}, ["benches", "lights"], "maximum"),
        ({}, ["benches", "benches"], "proposals"),
        ({}, ["pier"], "proposals"),
        ({"budget_cents": 15_000_00}, ["playground", "lights"], "proposals"),
    ],
)
def test_a_ballot_the_rule_does_not_allow_is_refused_naming_the_rule(terms, ballot, rule):
    round_ = balloting(**terms)
    with pytest.raises(InvalidValue) as refused:
        round_.cast("v1", ballot, "online", "resident-aino")
    assert refused.value.rule == rule
    assert round_.ballots == {}


def test_a_resident_votes_only_in_their_own_regions_round():
    check_voter_region("nastola", ["nastola", "lahti-kivimaa"])
    with pytest.raises(NotAllowed) as refused:
        check_voter_region("hollola", ["nastola"])
    assert refused.value.rule == "region"
    with pytest.raises(NotAllowed):
        check_voter_region(None, ["nastola"])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["v1", "v2", "v3", "v4", "v5"]),
            st.lists(st.sampled_from(sorted(COSTS)), min_size=1, max_size=2, unique=True),
        ),
        max_size=30,
    )
)
def test_a_recount_of_the_ballots_gives_the_published_allocation(casts):
    round_ = balloting(budget_cents=21_000_00)
    for voter, proposals in casts:
        if round_.ballots.get(voter) != proposals:
            round_.cast(voter, proposals, "online", voter)
    published = round_.finish()
    assert round_.recount() == published
    assert round_.result["funded"] == list(published.funded)
    assert round_.result["left_cents"] == published.left_cents
