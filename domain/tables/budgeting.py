"""Participatory budgeting's rules, with no I/O: what a ballot must hold under its round's
rule (after Decidim's budgets), and the tally that funds the proposals (after CONSUL
Democracy's).

A round's ballot rule is one of three: spend at least a share of the budget, pick at least N
proposals, or pick between a minimum and a maximum number of them. Every ballot counts one
vote for each proposal it holds, whether a resident cast it online or a coordinator entered it
from a voting booth's paper ballot. The tally goes down the proposals from the most voted,
funds each that fits in what is left of the budget, skips one that does not fit and goes on.
Ties are broken by the lower cost, then by the proposal's id, so that anybody recounting the
same ballots gets the same allocation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidValue


class BallotRule(StrEnum):
    SHARE = "share"  # spend at least ``threshold_percent`` of the budget
    AT_LEAST = "at_least"  # pick at least ``minimum`` proposals
    BETWEEN = "between"  # pick between ``minimum`` and ``maximum`` proposals


@dataclass(frozen=True)
class Rule:
    """A round's ballot rule, checked when the round is set up."""

    kind: BallotRule
    threshold_percent: int = 0
    minimum: int = 0
    maximum: int = 0

    def __post_init__(self) -> None:
        if self.kind == BallotRule.SHARE and not 0 < self.threshold_percent <= 100:
            raise InvalidValue(
                "a share of the budget is 1 to 100 per cent", rule="threshold_percent"
            )
        if self.kind in (BallotRule.AT_LEAST, BallotRule.BETWEEN) and self.minimum < 1:
            raise InvalidValue("a ballot picks at least one proposal", rule="minimum")
        if self.kind == BallotRule.BETWEEN and self.maximum < self.minimum:
            raise InvalidValue("the maximum is at least the minimum", rule="maximum")

    def check(self, picked: Iterable[str], costs: Mapping[str, int], budget_cents: int) -> None:
        """Refuse a ballot the rule does not allow, naming why: each proposal once, each a
        proposal of the round, within the budget, and as the rule asks."""
        picked = list(picked)
        if len(set(picked)) != len(picked):
            raise InvalidValue("a ballot picks each proposal once", rule="proposals")
        unknown = [p for p in picked if p not in costs]
        if unknown:
            raise InvalidValue(
                f"not a proposal on this round's ballot: {', '.join(unknown)}", rule="proposals"
            )
        spent = sum(costs[p] for p in picked)
        if spent > budget_cents:
            raise InvalidValue(
                "the proposals picked cost more than the round's budget", rule="proposals"
            )
        if self.kind == BallotRule.SHARE and spent * 100 < budget_cents * self.threshold_percent:
            raise InvalidValue(
                f"a ballot spends at least {self.threshold_percent} % of the budget",
                rule="threshold_percent",
            )
        if self.kind in (BallotRule.AT_LEAST, BallotRule.BETWEEN) and len(picked) < self.minimum:
            raise InvalidValue(f"a ballot picks at least {self.minimum} proposals", rule="minimum")
        if self.kind == BallotRule.BETWEEN and len(picked) > self.maximum:
            raise InvalidValue(f"a ballot picks at most {self.maximum} proposals", rule="maximum")


@dataclass(frozen=True)
class Allocation:
    """What the tally gives: the votes of each proposal, those funded in order, those that
    did not fit, and what is left of the budget."""

    votes: dict[str, int]
    funded: tuple[str, ...]
    not_fitting: tuple[str, ...]
    left_cents: int


def tally(
    ballots: Iterable[Iterable[str]], costs: Mapping[str, int], budget_cents: int
) -> Allocation:
    """Fund the most voted proposals that fit in what is left, skipping one that does not
    fit and going on. ``ballots`` are the last ballot of each voter; ``costs`` the feasible
    proposals' costs in cents."""
    votes: Counter[str] = Counter({proposal: 0 for proposal in costs})
    for ballot in ballots:
        votes.update(p for p in set(ballot) if p in costs)
    order = sorted(costs, key=lambda p: (-votes[p], costs[p], p))
    left = budget_cents
    funded, not_fitting = [], []
    for proposal in order:
        if votes[proposal] == 0:
            continue  # nobody asked for it
        if costs[proposal] <= left:
            funded.append(proposal)
            left -= costs[proposal]
        else:
            not_fitting.append(proposal)
    return Allocation(dict(votes), tuple(funded), tuple(not_fitting), left)
