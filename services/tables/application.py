"""The tables service's use cases over its aggregates: the ``PartnershipTable``, its
``Initiative``s and its ``BudgetingRound``s, each for a caller.

A coordinator runs their own table only: another table, and its initiatives and rounds, answer
to them as if they were not there (404). A resident supports, proposes, selects and votes in
the table whose regions include their own (else 403, rule ``region``). Officers speak for the
city: they raise the city's initiatives and answer the forwarded ones.

A table keeps the ids of its initiatives (``InitiativeFiled``) and of its rounds and
programmes (the funds it set aside for each, ``FundsEarmarked``), so that finding a table's
initiatives and rounds reads that table's and theirs only: the cost grows with the table, not
with the city's every initiative.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic

from domain.calendar import local_today
from domain.catalogue import Catalogue
from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.tables.budgeting import tally
from domain.tables.expenses import CommonExpenses, expenses_key
from domain.tables.initiative import Initiative, Origin
from domain.tables.round import BudgetingRound, Channel, Phase
from domain.tables.table import PartnershipTable, Spending, table_key
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.errors import NotFound
from services.platform.identity import Caller, Role, check_sees
from services.platform.settings import Settings
from services.platform.store import Receipt, ServiceApplication
from services.tables.commands import (
    Appointment,
    Ballot,
    CityAnswer,
    Closure,
    Departure,
    Forwarding,
    GatheringRecord,
    Implementation,
    Joining,
    MeetingRecord,
    NewCommonExpense,
    NewGathering,
    NewInitiative,
    NewMeeting,
    NewProgramme,
    NewProposal,
    NewRound,
    NewTable,
    PaperBallot,
    Payout,
    PhaseChange,
    Review,
    YearBudget,
)

NO_SECRET = (
    "the tables service needs TALKOOT_PSEUDONYM_SECRET: a ballot's voter is stored as a "
    "pseudonym keyed with it, never as the resident"
)


def check_pseudonym_secret(settings: Settings) -> None:
    """The tables service does not start without the secret of its voters' pseudonyms."""
    if not settings.pseudonym_secret:
        raise SystemExit(NO_SECRET)


def voter_pseudonym(secret: str, round_id: str, resident_id: str) -> str:
    """Who cast a ballot, as the round stores it: an HMAC-SHA256 keyed with the server's
    secret, one per round, so that neither the resident nor their ballots in other rounds can
    be read from it, and their later ballot still replaces their earlier one."""
    message = f"ballot-voter:{round_id}:{resident_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_region(caller: Caller, table: PartnershipTable, doing: str) -> None:
    """A resident takes part in the table of their own region (their token's ``region``)."""
    if caller.region not in table.regions:
        where = f"you live in {caller.region}" if caller.region else "your token names no region"
        raise NotAllowed(
            f"a resident {doing} at the table of their own region: the table {table.table_id} "
            f"serves {', '.join(table.regions)}, and {where}",
            rule="region",
        )


class TablesApplication(ServiceApplication):
    service = "tables"

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(settings, env)
        self.catalogue = catalogue or load_catalogue()

    # --- tables ---------------------------------------------------------------------------

    def found(self, command: NewTable) -> Receipt:
        """An admin founds a table; a code taken already is refused."""
        if self.table_or_none(command.table_id) is not None:
            raise WrongState(f"the table {command.table_id} is founded already", rule="table_id")
        check_scope(self.catalogue, [], command.regions)
        founded_on = command.founded_on or local_today()
        if founded_on > local_today():
            raise InvalidValue("a table cannot be founded in the future", rule="founded_on")
        table = PartnershipTable.found(
            table_id=command.table_id,
            name=command.name,
            regions=command.regions,
            coordinator=command.coordinator,
            founded_on=founded_on,
            coordinator_share_percent=command.coordinator_share_percent,
            coordinator_yearly_cost_cents=command.coordinator_yearly_cost_cents,
            yearly_budget_cents=command.yearly_budget_cents,
            meeting_fee_cents=command.meeting_fee_cents,
            meetings_per_year=command.meetings_per_year,
            support_threshold=command.support_threshold,
            answer_days=command.answer_days,
        )
        return Receipt(table.table_id, self.commit(table))

    def appoint(self, table_id: str, command: Appointment) -> Receipt:
        table = self.get_table(table_id)
        table.appoint_coordinator(command.coordinator, command.share_percent)
        return Receipt(table.table_id, self.commit(table))

    def set_budget(self, table_id: str, year: int, command: YearBudget) -> Receipt:
        table = self.get_table(table_id)
        table.set_budget(year, command.budget_cents)
        return Receipt(table.table_id, self.commit(table))

    def get_table(self, table_id: str) -> PartnershipTable:
        table = self.table_or_none(table_id)
        if table is None:
            raise NotFound.of("partnership table", table_id)
        return table

    def table_or_none(self, table_id: str) -> PartnershipTable | None:
        try:
            return self.get(table_key(table_id), "partnership table")
        except NotFound:
            return None

    def table_as_of(self, table_id: str, moment: datetime) -> PartnershipTable:
        return self.as_of(table_key(table_id), moment, "partnership table", table_id)

    def coordinated(self, caller: Caller, table_id: str) -> PartnershipTable:
        """The table, for its coordinator (or an admin); for anyone else there is none."""
        table = self.get_table(table_id)
        check_sees(caller.is_coordinator_of(table.table_id), "partnership table", table_id)
        return table

    def table_ids(self) -> list[str]:
        """Every table's code, in the order they were founded (tables are few: a city has a
        handful, one per region or district)."""
        topic = get_topic(PartnershipTable.Founded)
        found: list[str] = []
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic])
            if not page:
                return found
            for notification in page:
                found.append(self.mapper.to_domain_event(notification).table_id)
            start = page[-1].id + 1

    # --- the tables' common expenses --------------------------------------------------------

    def record_common_expense(self, caller: Caller, command: NewCommonExpense) -> Receipt:
        """An admin records an expense the city made for all its tables together, in the
        expenses of its day's year (opened with the year's first one)."""
        today = local_today()
        on = command.on or today
        expenses = self.common_expenses(on.year) or CommonExpenses.open(on.year)
        expense_id = str(uuid4())
        expenses.record(
            expense_id,
            command.amount_cents,
            on,
            command.purpose,
            command.note,
            caller.subject,
            today,
        )
        return Receipt(expense_id, self.commit(expenses))

    def common_expenses(self, year: int) -> CommonExpenses | None:
        """The year's common expenses; None before the first is recorded."""
        try:
            return self.get(expenses_key(year), "common expenses")
        except NotFound:
            return None

    # --- members ----------------------------------------------------------------------------

    def join(self, caller: Caller, table_id: str, command: Joining) -> Receipt:
        table = self.coordinated(caller, table_id)
        today = local_today()
        table.join(command.member_id, command.name, command.kind, command.on or today, today)
        return Receipt(command.member_id, self.commit(table))

    def leave(self, caller: Caller, table_id: str, member_id: str, command: Departure) -> Receipt:
        table = self.coordinated(caller, table_id)
        today = local_today()
        table.leave(member_id, command.on or today, today, command.reason)
        return Receipt(member_id, self.commit(table))

    def membership_history(self, caller: Caller, table_id: str) -> list[dict]:
        """Every membership of the table, from its events: who joined when, and left when
        and why (a member who left and came back has a line for each time)."""
        table = self.coordinated(caller, table_id)
        periods: list[dict] = []
        current: dict[str, dict] = {}
        for stored in self.events.get(table.id):
            if isinstance(stored, PartnershipTable.MemberJoined):
                period = {
                    "member_id": stored.member_id,
                    "name": stored.name,
                    "kind": stored.kind,
                    "joined_on": stored.on,
                    "left_on": None,
                    "reason": "",
                }
                periods.append(period)
                current[stored.member_id] = period
            elif isinstance(stored, PartnershipTable.MemberLeft):
                current[stored.member_id].update(left_on=stored.on, reason=stored.reason)
        return periods

    # --- meetings, events and fees ----------------------------------------------------------

    def plan_meeting(self, caller: Caller, table_id: str, command: NewMeeting) -> Receipt:
        table = self.coordinated(caller, table_id)
        meeting_id = str(uuid4())
        table.plan_meeting(meeting_id, command.on, command.agenda)
        return Receipt(meeting_id, self.commit(table))

    def initiatives_of(
        self, table: PartnershipTable, as_of: datetime | None = None
    ) -> list[Initiative]:
        """The table's initiatives; with ``as_of``, as they stood then (those raised by then:
        ``table`` is then the table as of that moment too)."""
        if as_of is None:
            return [self.get(i, "initiative") for i in table.initiatives]
        found = []
        for initiative_id in table.initiatives:
            try:
                found.append(self.as_of(initiative_id, as_of, "initiative"))
            except NotFound:
                continue
        return found

    def due(self, table: PartnershipTable, as_of: datetime | None = None) -> list[Initiative]:
        """The table's initiatives residents have put on the next meeting's agenda (as it
        stood at ``as_of``, when given)."""
        return [
            i
            for i in self.initiatives_of(table, as_of)
            if i.is_due_at_meeting(table.support_threshold)
        ]

    def record_meeting(
        self, caller: Caller, table_id: str, meeting_id: str, command: MeetingRecord
    ) -> Receipt:
        """The meeting was held: its attendees earn the fee, and each initiative it discussed
        records it. An initiative residents put on its agenda that it did not take up refuses
        the record (rule ``agenda``); the table and the initiatives are stored together."""
        table = self.coordinated(caller, table_id)
        if meeting_id not in table.meetings:
            raise NotFound.of("meeting", meeting_id)
        strangers = [i for i in command.discussed if i not in table.initiatives]
        if strangers:
            raise InvalidValue(
                f"not initiatives of the table: {', '.join(strangers)}", rule="discussed"
            )
        # residents put on its agenda what they had raised by its day (an initiative raised
        # after a meeting was held cannot have been on it)
        held_on = table.meetings[meeting_id]["on"]
        due = [str(i.id) for i in self.due(table) if i.raised_on <= held_on]
        table.hold_meeting(
            meeting_id,
            command.attendees,
            command.decisions,
            command.discussed,
            command.cost_cents,
            local_today(),
            due=due,
        )
        on = table.meetings[meeting_id]["on"]
        discussed = [self.get(i, "initiative") for i in dict.fromkeys(command.discussed)]
        for initiative in discussed:
            initiative.discuss(meeting_id, on)
        return Receipt(meeting_id, self.commit(table, *discussed))

    def plan_event(self, caller: Caller, table_id: str, command: NewGathering) -> Receipt:
        table = self.coordinated(caller, table_id)
        event_id = str(uuid4())
        table.plan_gathering(event_id, command.kind, command.title, command.on)
        return Receipt(event_id, self.commit(table))

    def record_event(
        self, caller: Caller, table_id: str, event_id: str, command: GatheringRecord
    ) -> Receipt:
        table = self.coordinated(caller, table_id)
        if event_id not in table.gatherings:
            raise NotFound.of("event", event_id)
        table.hold_gathering(
            event_id, command.attendance, command.topics, command.cost_cents, local_today()
        )
        return Receipt(event_id, self.commit(table))

    def pay_fees(self, caller: Caller, table_id: str, command: Payout) -> Receipt:
        table = self.coordinated(caller, table_id)
        table.pay_fees(command.until, local_today(), caller.subject)
        number = table.payouts[-1]["number"]
        return Receipt(str(number), self.commit(table))

    # --- initiatives ------------------------------------------------------------------------

    def raise_initiative(self, caller: Caller, table_id: str, command: NewInitiative) -> Receipt:
        """An initiative of the table, its origin from who raises it: the table's coordinator
        says whose it is (a member's, the city's or a resident's); an officer raises the
        city's; a resident of the table's regions their own."""
        table = self.get_table(table_id)
        today = local_today()
        if caller.is_coordinator_of(table.table_id):
            origin = command.origin or Origin.MEMBER
            raised_by = command.raised_by or ("" if origin == Origin.MEMBER else caller.subject)
            if origin == Origin.MEMBER and not table.is_member_on(raised_by, command.on or today):
                raise InvalidValue(
                    "a member's initiative names a member of the table (raised_by)",
                    rule="raised_by",
                )
        elif caller.holds(Role.OFFICER) or caller.holds(Role.RESIDENT):
            if command.origin is not None or command.raised_by is not None or command.on:
                raise NotAllowed(
                    "who raised an initiative, and when, is the caller, now; the coordinator "
                    "alone records one raised by somebody else or earlier",
                    rule="origin",
                )
            if caller.holds(Role.OFFICER):
                origin = Origin.CITY
            else:
                check_region(caller, table, "raises initiatives")
                origin = Origin.RESIDENT
            raised_by = caller.subject
        else:  # a coordinator of another table
            raise NotFound.of("partnership table", table_id)
        topic = ""
        if command.from_event is not None:
            topic = table.topic(command.from_event, command.topic or 0)
        elif command.topic is not None:
            raise InvalidValue("a topic is one of an event's: name the event", rule="from_event")
        raised_on = command.on or today
        if not table.founded_on <= raised_on <= today:
            raise InvalidValue(
                f"an initiative is raised between the table's founding ({table.founded_on}) "
                "and today",
                rule="on",
            )
        initiative = Initiative.raise_(
            table_id=table.table_id,
            title=command.title,
            description=command.description,
            origin=origin,
            raised_by=raised_by,
            raised_on=raised_on,
            from_event=command.from_event,
            topic=topic,
        )
        table.file_initiative(str(initiative.id), origin)
        return Receipt(str(initiative.id), self.commit(table, initiative))

    def get_initiative(self, initiative_id: str) -> Initiative:
        return self.get(initiative_id, "initiative")

    def coordinated_initiative(
        self, caller: Caller, initiative_id: str
    ) -> tuple[PartnershipTable, Initiative]:
        initiative = self.get_initiative(initiative_id)
        check_sees(caller.is_coordinator_of(initiative.table_id), "initiative", initiative_id)
        return self.get_table(initiative.table_id), initiative

    def support(self, caller: Caller, initiative_id: str) -> Receipt:
        """A resident of the table's regions supports the initiative."""
        initiative = self.get_initiative(initiative_id)
        table = self.get_table(initiative.table_id)
        check_region(caller, table, "supports initiatives")
        initiative.support(caller.subject)
        return Receipt(initiative_id, self.commit(initiative))

    def forward(self, caller: Caller, initiative_id: str, command: Forwarding) -> Receipt:
        _, initiative = self.coordinated_initiative(caller, initiative_id)
        today = local_today()
        initiative.forward(command.statement, caller.subject, command.on or today, today)
        return Receipt(initiative_id, self.commit(initiative))

    def answer(self, caller: Caller, initiative_id: str, command: CityAnswer) -> Receipt:
        """The city answers a forwarded initiative (an officer, or an admin)."""
        initiative = self.get_initiative(initiative_id)
        today = local_today()
        initiative.answer_with(
            command.answer, command.reasons, caller.subject, command.on or today, today
        )
        return Receipt(initiative_id, self.commit(initiative))

    def implement(self, caller: Caller, initiative_id: str, command: Implementation) -> Receipt:
        """The table's coordinator, or an officer of the city, says how it was implemented."""
        initiative = self.get_initiative(initiative_id)
        if not caller.holds(Role.OFFICER):
            check_sees(caller.is_coordinator_of(initiative.table_id), "initiative", initiative_id)
        today = local_today()
        initiative.implement(command.outcome, caller.subject, command.on or today, today)
        return Receipt(initiative_id, self.commit(initiative))

    def close_initiative(self, caller: Caller, initiative_id: str, command: Closure) -> Receipt:
        _, initiative = self.coordinated_initiative(caller, initiative_id)
        today = local_today()
        initiative.close(command.reason, caller.subject, command.on or today, today)
        return Receipt(initiative_id, self.commit(initiative))

    def fund_programme(self, caller: Caller, initiative_id: str, command: NewProgramme) -> Receipt:
        """The table funds the initiative as a service programme: its budget is set aside
        from the table's budget of ``valid_from``'s year in the same commit."""
        table, initiative = self.coordinated_initiative(caller, initiative_id)
        check_scope(self.catalogue, command.categories, command.regions)
        programme_id = uuid4()
        initiative.fund_programme(
            programme_id=programme_id,
            provider_id=command.provider_id,
            categories=command.categories,
            regions=command.regions,
            unit_price_cents=command.unit_price_cents,
            pricing=command.pricing,
            budget_cents=command.budget_cents,
            valid_from=command.valid_from,
            valid_until=command.valid_until,
            decided_by=caller.subject,
            table_regions=table.regions,
        )
        table.earmark(
            Spending.PROGRAMME,
            str(programme_id),
            command.budget_cents,
            command.valid_from,
            f"the service programme of {initiative.title}",
        )
        return Receipt(str(programme_id), self.commit(table, initiative))

    # --- rounds -----------------------------------------------------------------------------

    def open_round(self, caller: Caller, table_id: str, command: NewRound) -> Receipt:
        """A round of the table, its budget set aside from the table's budget of its year in
        the same commit."""
        table = self.coordinated(caller, table_id)
        today = local_today()
        budgeting = BudgetingRound.open(
            table_id=table.table_id,
            title=command.title,
            year=command.year,
            budget_cents=command.budget_cents,
            rule=command.rule,
            opened_by=caller.subject,
            opened_on=today,
            threshold_percent=command.threshold_percent,
            minimum=command.minimum,
            maximum=command.maximum,
            selection_threshold=command.selection_threshold,
        )
        on = today if today.year == command.year else date(command.year, 1, 1)
        table.earmark(Spending.ROUND, str(budgeting.id), command.budget_cents, on, budgeting.title)
        return Receipt(str(budgeting.id), self.commit(table, budgeting))

    def round_ids(self, table: PartnershipTable) -> list[str]:
        return table.earmarked_for(Spending.ROUND)

    def get_round(self, round_id: str) -> BudgetingRound:
        return self.get(round_id, "budgeting round")

    def coordinated_round(self, caller: Caller, round_id: str) -> BudgetingRound:
        budgeting = self.get_round(round_id)
        check_sees(caller.is_coordinator_of(budgeting.table_id), "budgeting round", round_id)
        return budgeting

    def residents_round(self, caller: Caller, round_id: str) -> BudgetingRound:
        """The round, for a resident of its table's regions (403, rule ``region``, else)."""
        budgeting = self.get_round(round_id)
        check_region(caller, self.get_table(budgeting.table_id), "takes part in the rounds")
        return budgeting

    def propose(self, caller: Caller, round_id: str, command: NewProposal) -> Receipt:
        """A resident of the table's regions, or its coordinator, makes a proposal."""
        budgeting = self.get_round(round_id)
        if not caller.is_coordinator_of(budgeting.table_id):
            if not caller.holds(Role.RESIDENT):
                raise NotFound.of("budgeting round", round_id)
            check_region(caller, self.get_table(budgeting.table_id), "makes proposals")
        proposal_id = str(uuid4())
        budgeting.propose(
            proposal_id, command.title, command.description, command.cost_cents, caller.subject
        )
        return Receipt(proposal_id, self.commit(budgeting))

    def advance(self, caller: Caller, round_id: str, command: PhaseChange) -> Receipt:
        budgeting = self.coordinated_round(caller, round_id)
        budgeting.advance(command.phase)
        return Receipt(round_id, self.commit(budgeting))

    def review(self, caller: Caller, round_id: str, proposal_id: str, command: Review) -> Receipt:
        budgeting = self.coordinated_round(caller, round_id)
        budgeting.review(proposal_id, command.feasible, command.reason, command.cost_cents)
        return Receipt(proposal_id, self.commit(budgeting))

    def select(self, caller: Caller, round_id: str, proposal_id: str) -> Receipt:
        budgeting = self.residents_round(caller, round_id)
        budgeting.select(proposal_id, caller.subject)
        return Receipt(proposal_id, self.commit(budgeting))

    def voter(self, round_id: str, resident_id: str) -> str:
        if not self.settings.pseudonym_secret:
            raise RuntimeError(NO_SECRET)
        return voter_pseudonym(self.settings.pseudonym_secret, round_id, resident_id)

    def cast(self, caller: Caller, round_id: str, command: Ballot) -> Receipt:
        """The resident's ballot, replacing their earlier one; stored under their pseudonym
        for the round."""
        budgeting = self.residents_round(caller, round_id)
        voter = self.voter(round_id, caller.subject)
        budgeting.cast(voter, command.proposals, Channel.ONLINE, entered_by=voter)
        return Receipt(round_id, self.commit(budgeting))

    def cast_paper(self, caller: Caller, round_id: str, command: PaperBallot) -> Receipt:
        """A paper ballot from a voting booth, entered by the coordinator: the resident's
        ballot just the same (it replaces their online one, and a later one replaces it)."""
        budgeting = self.coordinated_round(caller, round_id)
        voter = self.voter(round_id, command.voter)
        budgeting.cast(voter, command.proposals, Channel.PAPER, entered_by=caller.subject)
        return Receipt(round_id, self.commit(budgeting))

    def my_ballot(self, caller: Caller, budgeting: BudgetingRound) -> list[str] | None:
        """The caller's own last ballot in the round (None: they have cast none)."""
        if not caller.holds(Role.RESIDENT) or not self.settings.pseudonym_secret:
            return None
        return budgeting.ballots.get(self.voter(str(budgeting.id), caller.subject))

    def finish(self, caller: Caller, round_id: str) -> Receipt:
        """Tally the round; what its funded proposals do not use goes back to the table's
        budget in the same commit."""
        budgeting = self.coordinated_round(caller, round_id)
        table = self.get_table(budgeting.table_id)
        result = budgeting.finish()
        table.release(round_id, result.left_cents, f"not allocated in {budgeting.title}")
        return Receipt(round_id, self.commit(table, budgeting))

    def recount(self, round_id: str) -> dict:
        """The tally again, from the round's stored events alone (not from the aggregate):
        its budget, the proposals' reviewed costs, the ballot published with the costs and
        each voter's last ballot; beside the result the round published, if it has."""
        budget_cents, costs, ballot = 0, {}, []
        ballots: dict[str, list[str]] = {}
        published = None
        stored = list(self.events.get(UUID(str(self.get_round(round_id).id))))
        for event in stored:
            if isinstance(event, BudgetingRound.Opened):
                budget_cents = event.budget_cents
            elif isinstance(event, BudgetingRound.ProposalMade | BudgetingRound.ProposalReviewed):
                costs[event.proposal_id] = event.cost_cents
            elif (
                isinstance(event, BudgetingRound.Advanced) and event.phase == Phase.PUBLISHING_COSTS
            ):
                ballot = list(event.ballot)
            elif isinstance(event, BudgetingRound.BallotCast):
                ballots[event.voter] = list(event.proposals)
            elif isinstance(event, BudgetingRound.Tallied):
                published = {
                    "ballots": event.ballots,
                    "votes": dict(event.votes),
                    "funded": list(event.funded),
                    "not_fitting": list(event.not_fitting),
                    "funded_cents": event.funded_cents,
                    "left_cents": event.left_cents,
                }
        result = tally(ballots.values(), {p: costs[p] for p in ballot}, budget_cents)
        recounted = {
            "ballots": len(ballots),
            "votes": result.votes,
            "funded": list(result.funded),
            "not_fitting": list(result.not_fitting),
            "funded_cents": budget_cents - result.left_cents,
            "left_cents": result.left_cents,
        }
        return {
            "published": published,
            "recounted": recounted,
            "matches": published == recounted,
            "ballots": len(ballots),
        }
