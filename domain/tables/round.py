"""A participatory budgeting round of one table, in CONSUL Democracy's phases:

    accepting (proposals with cost estimates) -> reviewing (each feasible or not, with a
    reason) -> selecting (residents support the feasible ones) -> publishing costs (the
    ballot is fixed: the feasible proposals with enough supports, at their reviewed costs)
    -> balloting (one ballot per resident, changeable until it closes) -> finished (tallied)

A ballot is the resident's whole choice under the round's rule (``domain.tables.budgeting``);
a later ballot of the same resident replaces the earlier. A paper ballot from a voting booth,
entered by the coordinator, is the resident's ballot just the same. The tally is recorded as
an event, and ``recount`` reproduces it from the ballots cast.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.tables.budgeting import Allocation, BallotRule, Rule, tally
from domain.tables.table import NAME_LENGTH, TEXT_LENGTH, check_cents, text

MAX_PROPOSALS = 200


class Phase(StrEnum):
    ACCEPTING = "accepting"
    REVIEWING = "reviewing"
    SELECTING = "selecting"
    PUBLISHING_COSTS = "publishing_costs"
    BALLOTING = "balloting"
    FINISHED = "finished"


PHASES = tuple(Phase)


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"  # a voting booth's paper ballot, entered by the coordinator


class BudgetingRound(Aggregate):
    """One round: its budget (set aside from the table's), rule, proposals and ballots."""

    @event("Opened")
    def __init__(
        self,
        table_id: str,
        title: str,
        year: int,
        budget_cents: int,
        rule: str,
        threshold_percent: int,
        minimum: int,
        maximum: int,
        selection_threshold: int,
        opened_by: str,
        opened_on: date,
    ) -> None:
        self.table_id = table_id
        self.title = title
        self.year = year
        self.budget_cents = budget_cents
        self.rule = rule
        self.threshold_percent = threshold_percent
        self.minimum = minimum
        self.maximum = maximum
        self.selection_threshold = selection_threshold
        self.opened_by = opened_by
        self.opened_on = opened_on
        self.phase = Phase.ACCEPTING
        # proposal id -> {title, description, cost_cents, by, feasible, reason, supporters}
        self.proposals: dict[str, dict] = {}
        self.ballot: list[str] = []  # the proposals on the ballot, once the costs are published
        self.ballots: dict[str, list[str]] = {}  # voter -> their last ballot
        self.channels: dict[str, str] = {}  # voter -> how their last ballot was cast
        self.result: dict | None = None

    @classmethod
    def open(
        cls,
        *,
        table_id: str,
        title: str,
        year: int,
        budget_cents: int,
        rule: str,
        opened_by: str,
        opened_on: date,
        threshold_percent: int = 0,
        minimum: int = 0,
        maximum: int = 0,
        selection_threshold: int = 0,
    ) -> BudgetingRound:
        if rule not in set(BallotRule):
            raise InvalidValue(
                f"a round's rule is one of {', '.join(BallotRule)}; got {rule!r}", rule="rule"
            )
        Rule(BallotRule(rule), threshold_percent, minimum, maximum)  # refuses a rule unkept
        if not 2000 <= year <= 2100:
            raise InvalidValue("a round is for a year between 2000 and 2100", rule="year")
        check_cents(budget_cents, "budget_cents", positive=True)
        if selection_threshold < 0:
            raise InvalidValue("the selection threshold is 0 or more", rule="selection_threshold")
        return cls(
            table_id=table_id,
            title=text(title, "a round's title", "title", NAME_LENGTH),
            year=year,
            budget_cents=budget_cents,
            rule=rule,
            threshold_percent=threshold_percent,
            minimum=minimum,
            maximum=maximum,
            selection_threshold=selection_threshold,
            opened_by=opened_by,
            opened_on=opened_on,
        )

    # --- reading ----------------------------------------------------------------------------

    @property
    def ballot_rule(self) -> Rule:
        return Rule(BallotRule(self.rule), self.threshold_percent, self.minimum, self.maximum)

    @property
    def costs(self) -> dict[str, int]:
        """The cost of each proposal on the ballot."""
        return {p: self.proposals[p]["cost_cents"] for p in self.ballot}

    def recount(self) -> Allocation:
        """The tally of the ballots as they stand: what anyone with audit rights reproduces
        from the events."""
        return tally(self.ballots.values(), self.costs, self.budget_cents)

    def _in(self, phase: Phase, doing: str) -> None:
        if self.phase != phase:
            raise WrongState(
                f"{doing} happens while the round is {phase.value}; it is {self.phase.value}",
                rule="phase",
            )

    # --- the phases -------------------------------------------------------------------------

    def advance(self, to: str) -> None:
        """Move to the next phase (only the next). Publishing the costs fixes the ballot:
        the feasible proposals with at least the selection threshold's supports."""
        if to not in set(Phase):
            raise InvalidValue(f"a phase is one of {', '.join(Phase)}; got {to!r}", rule="phase")
        if to == Phase.FINISHED:
            raise InvalidValue("a round finishes with its tally", rule="phase")
        current = PHASES.index(self.phase)
        if PHASES.index(Phase(to)) != current + 1:
            raise WrongState(
                f"the round is {self.phase.value}: its next phase is {PHASES[current + 1].value}"
                if current + 1 < len(PHASES)
                else "the round is finished",
                rule="phase",
            )
        if to == Phase.REVIEWING and not self.proposals:
            raise WrongState("no proposals were made", rule="phase")
        if to == Phase.SELECTING:
            unreviewed = [p for p, v in self.proposals.items() if v["feasible"] is None]
            if unreviewed:
                raise WrongState(
                    f"review every proposal first: {', '.join(unreviewed)}", rule="phase"
                )
        ballot: list[str] = []
        if to == Phase.PUBLISHING_COSTS:
            ballot = [
                p
                for p, v in self.proposals.items()
                if v["feasible"] and len(v["supporters"]) >= self.selection_threshold
            ]
            if not ballot:
                raise WrongState("no feasible proposal was selected for the ballot", rule="phase")
        self._advanced(table_id=self.table_id, phase=to, ballot=ballot)

    @event("Advanced")
    def _advanced(self, table_id: str, phase: str, ballot: list[str]) -> None:
        self.phase = Phase(phase)
        if phase == Phase.PUBLISHING_COSTS:
            self.ballot = ballot

    def propose(
        self, proposal_id: str, title: str, description: str, cost_cents: int, by: str
    ) -> None:
        self._in(Phase.ACCEPTING, "proposing")
        if len(self.proposals) >= MAX_PROPOSALS:
            raise WrongState(f"a round takes at most {MAX_PROPOSALS} proposals", rule="proposals")
        check_cents(cost_cents, "cost_cents", positive=True)
        if cost_cents > self.budget_cents:
            raise InvalidValue("a proposal costs at most the round's budget", rule="cost_cents")
        self._proposed(
            table_id=self.table_id,
            proposal_id=proposal_id,
            title=text(title, "a proposal's title", "title", NAME_LENGTH),
            description=text(description, "the description", "description", TEXT_LENGTH, True),
            cost_cents=cost_cents,
            by=by,
        )

    @event("ProposalMade")
    def _proposed(
        self,
        table_id: str,
        proposal_id: str,
        title: str,
        description: str,
        cost_cents: int,
        by: str,
    ) -> None:
        self.proposals[proposal_id] = {
            "title": title,
            "description": description,
            "cost_cents": cost_cents,
            "by": by,
            "feasible": None,
            "reason": "",
            "supporters": [],
        }

    def review(
        self, proposal_id: str, feasible: bool, reason: str, cost_cents: int | None = None
    ) -> None:
        """Mark a proposal feasible or not, with the reason (needed where not), and its cost
        as reviewed (the estimate where not given)."""
        self._in(Phase.REVIEWING, "reviewing")
        proposal = self._proposal(proposal_id)
        reason = text(reason, "the reason", "reason", blank=True)
        if not feasible and not reason:
            raise InvalidValue("say why the proposal is not feasible", rule="reason")
        cost = proposal["cost_cents"] if cost_cents is None else cost_cents
        check_cents(cost, "cost_cents", positive=True)
        if cost > self.budget_cents:
            raise InvalidValue("a proposal costs at most the round's budget", rule="cost_cents")
        self._reviewed(
            table_id=self.table_id,
            proposal_id=proposal_id,
            feasible=feasible,
            reason=reason,
            cost_cents=cost,
        )

    @event("ProposalReviewed")
    def _reviewed(
        self, table_id: str, proposal_id: str, feasible: bool, reason: str, cost_cents: int
    ) -> None:
        self.proposals[proposal_id].update(feasible=feasible, reason=reason, cost_cents=cost_cents)

    def select(self, proposal_id: str, resident_id: str) -> None:
        """A resident supports a feasible proposal for the ballot."""
        self._in(Phase.SELECTING, "selecting")
        proposal = self._proposal(proposal_id)
        if not proposal["feasible"]:
            raise WrongState("the proposal was found not feasible", rule="feasible")
        if resident_id in proposal["supporters"]:
            raise WrongState("you support this proposal already", rule="supported")
        self._selected(table_id=self.table_id, proposal_id=proposal_id, resident_id=resident_id)

    @event("ProposalSelected")
    def _selected(self, table_id: str, proposal_id: str, resident_id: str) -> None:
        self.proposals[proposal_id]["supporters"].append(resident_id)

    def cast(self, voter: str, proposals: list[str], channel: str, entered_by: str) -> None:
        """The voter's ballot, replacing any earlier one of theirs."""
        self._in(Phase.BALLOTING, "voting")
        if channel not in set(Channel):
            raise InvalidValue("a ballot is cast online or on paper", rule="channel")
        if not voter.strip():
            raise InvalidValue("a ballot is a resident's", rule="voter")
        self.ballot_rule.check(proposals, self.costs, self.budget_cents)
        if self.ballots.get(voter) == list(proposals) and self.channels.get(voter) == channel:
            raise WrongState("that is your ballot already", rule="ballot")
        self._cast(
            table_id=self.table_id,
            voter=voter,
            proposals=list(proposals),
            channel=channel,
            entered_by=entered_by,
            replaces=voter in self.ballots,
        )

    @event("BallotCast")
    def _cast(
        self,
        table_id: str,
        voter: str,
        proposals: list[str],
        channel: str,
        entered_by: str,
        replaces: bool,
    ) -> None:
        self.ballots[voter] = proposals
        self.channels[voter] = channel

    def finish(self) -> Allocation:
        """Close the ballot and record the tally: the allocation of the round's budget."""
        self._in(Phase.BALLOTING, "finishing")
        result = self.recount()
        self._tallied(
            table_id=self.table_id,
            ballots=len(self.ballots),
            votes=result.votes,
            funded=list(result.funded),
            not_fitting=list(result.not_fitting),
            funded_cents=self.budget_cents - result.left_cents,
            left_cents=result.left_cents,
        )
        return result

    @event("Tallied")
    def _tallied(
        self,
        table_id: str,
        ballots: int,
        votes: dict[str, int],
        funded: list[str],
        not_fitting: list[str],
        funded_cents: int,
        left_cents: int,
    ) -> None:
        self.phase = Phase.FINISHED
        self.result = {
            "ballots": ballots,
            "votes": votes,
            "funded": funded,
            "not_fitting": not_fitting,
            "funded_cents": funded_cents,
            "left_cents": left_cents,
        }

    def _proposal(self, proposal_id: str) -> dict:
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise InvalidValue(f"no proposal {proposal_id} in this round", rule="proposal_id")
        return proposal


def check_voter_region(region: str | None, regions: list[str]) -> None:
    """A resident votes in the round of their own region's table."""
    if region not in regions:
        raise NotAllowed("a resident votes in the round of their own region's table", rule="region")
