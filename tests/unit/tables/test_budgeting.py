"""Participatory budgeting's rules: what a ballot may hold under its round's rule, and the
tally that funds the most voted proposals that fit (CONSUL's rule), reproducible by anybody
who recounts the same ballots."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.tables.budgeting import Allocation, BallotRule, Rule, tally

COSTS = {"playground": 12_000_00, "benches": 3_000_00, "lights": 6_000_00, "mural": 2_500_00}
BUDGET = 20_000_00


def test_the_tally_funds_the_most_voted_that_fit_and_skips_one_that_does_not():
    ballots = [
        ["playground", "benches"],
        ["playground", "lights"],
        ["playground", "lights", "mural"],
        ["lights", "benches"],
        ["lights"],
        ["mural"],
    ]
    result = tally(ballots, COSTS, BUDGET)
    # lights 4, playground 3, then mural and benches 2 each (the cheaper first)
    assert result.votes == {"playground": 3, "benches": 2, "lights": 4, "mural": 2}
    assert result.funded == ("lights", "playground")  # 6 000 € + 12 000 €
    assert result.not_fitting == ("mural", "benches")  # 2 500 € and 3 000 € > the 2 000 € left
    assert result.left_cents == 2_000_00


def test_a_proposal_that_does_not_fit_is_skipped_and_the_tally_goes_on():
    costs = {"big": 15_000_00, "bigger": 18_000_00, "small": 2_000_00}
    ballots = [["bigger"]] * 3 + [["big"]] * 2 + [["small"]]
    result = tally(ballots, costs, BUDGET)
    assert result.funded == ("bigger", "small") and result.not_fitting == ("big",)
    assert result.left_cents == 0


def test_ties_go_to_the_cheaper_then_the_id_and_nobodys_proposal_is_not_funded():
    result = tally([["benches"], ["mural"]], COSTS, BUDGET)
    assert result.funded == ("mural", "benches")
    assert "playground" not in result.funded + result.not_fitting


@given(st.lists(st.lists(st.sampled_from(sorted(COSTS)), max_size=4, unique=True), max_size=40))
def test_a_recount_of_the_same_ballots_in_any_order_gives_the_same_allocation(ballots):
    first = tally(ballots, COSTS, BUDGET)
    again = tally(list(reversed(ballots)), COSTS, BUDGET)
    assert first == again
    assert sum(COSTS[p] for p in first.funded) + first.left_cents == BUDGET
    assert first.left_cents >= 0
    # a proposal with votes is funded or did not fit: one left out costs more than is left
    voted = {p for p, n in first.votes.items() if n}
    assert set(first.funded) | set(first.not_fitting) == voted
    assert all(COSTS[p] > first.left_cents for p in first.not_fitting)


@pytest.mark.parametrize(
    ("rule", "picked", "broken"),
    [
        (Rule(BallotRule.SHARE, threshold_percent=50), ["mural"], "threshold_percent"),
        (Rule(BallotRule.AT_LEAST, minimum=2), ["mural"], "minimum"),
        (Rule(BallotRule.BETWEEN, minimum=1, maximum=2), ["mural", "benches", "lights"], "maximum"),
        (Rule(BallotRule.AT_LEAST, minimum=1), ["mural", "mural"], "proposals"),
        (Rule(BallotRule.AT_LEAST, minimum=1), ["moon"], "proposals"),
        (Rule(BallotRule.AT_LEAST, minimum=1), sorted(COSTS), "proposals"),  # over budget
    ],
)
def test_a_ballot_the_rule_does_not_allow_is_refused_naming_why(rule, picked, broken):
    with pytest.raises(InvalidValue) as refused:
        rule.check(picked, COSTS, BUDGET)
    assert refused.value.rule == broken


@pytest.mark.parametrize(
    ("rule", "picked"),
    [
        (Rule(BallotRule.SHARE, threshold_percent=50), ["playground"]),
        (Rule(BallotRule.AT_LEAST, minimum=2), ["mural", "benches"]),
        (Rule(BallotRule.BETWEEN, minimum=1, maximum=2), ["lights", "benches"]),
    ],
)
def test_a_ballot_the_rule_allows_passes(rule, picked):
    rule.check(picked, COSTS, BUDGET)


@pytest.mark.parametrize(
    ("fields", "broken"),
    [
        ({"kind": BallotRule.SHARE, "threshold_percent": 0}, "threshold_percent"),
        ({"kind": BallotRule.SHARE, "threshold_percent": 101}, "threshold_percent"),
        ({"kind": BallotRule.AT_LEAST, "minimum": 0}, "minimum"),
        ({"kind": BallotRule.BETWEEN, "minimum": 3, "maximum": 2}, "maximum"),
    ],
)
def test_a_rule_that_cannot_be_kept_is_refused(fields, broken):
    with pytest.raises(InvalidValue) as refused:
        Rule(**fields)
    assert refused.value.rule == broken


def test_an_allocation_is_a_value():
    assert tally([], COSTS, BUDGET) == Allocation({p: 0 for p in COSTS}, (), (), BUDGET)
