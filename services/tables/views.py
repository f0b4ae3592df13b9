"""What the tables service answers: its tables, initiatives and rounds as each caller sees
them (a coordinator sees who attended their table's meetings; a resident who raised an
initiative is named to themselves, the coordinator and an admin only; a ballot to its
resident only)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from domain.errors import DomainError
from domain.settlement import euros
from domain.tables.expenses import CommonExpenses
from domain.tables.initiative import Initiative, Origin
from domain.tables.round import BudgetingRound, Phase
from domain.tables.table import PartnershipTable, Spending
from services.platform.http import csv_text
from services.platform.identity import Caller


class Member(msgspec.Struct):
    member_id: str
    name: str
    kind: str
    joined_on: date


class Membership(msgspec.Struct):
    """One time a member belonged to the table: joined, and left (null: still a member)."""

    member_id: str
    name: str
    kind: str
    joined_on: date
    left_on: date | None
    reason: str


class Meeting(msgspec.Struct):
    meeting_id: str
    on: date
    agenda: str
    held: bool
    attendees: int | list[str]  # how many attended; who, for the table's coordinator
    decisions: list[str]
    discussed: list[str]
    cost_cents: int


class Gathering(msgspec.Struct):
    event_id: str
    kind: str
    title: str
    on: date
    held: bool
    attendance: int
    topics: list[str]
    cost_cents: int


class YearBudget(msgspec.Struct):
    """A year's budget and what was spent or set aside from it, in cents."""

    year: int
    budget_cents: int
    meetings_cents: int
    activities_cents: int
    rounds_cents: int
    programmes_cents: int
    left_cents: int


class Origins(msgspec.Struct):
    resident: int
    member: int
    city: int


class TableSummary(msgspec.Struct):
    table_id: str
    name: str
    regions: list[str]
    coordinator: str
    members: int  # members now
    budget_cents: int  # this year's
    left_cents: int  # of this year's
    initiatives: int
    city_share_percent: int  # of the table's initiatives, those the city raised


class TableView(msgspec.Struct):
    table_id: str
    name: str
    regions: list[str]
    coordinator: str
    members: int
    budget_cents: int
    left_cents: int
    initiatives: int
    city_share_percent: int
    coordinator_share_percent: int
    coordinator_yearly_cost_cents: int
    yearly_budget_cents: int
    meeting_fee_cents: int
    meetings_per_year: int
    support_threshold: int
    answer_days: int
    founded_on: date
    current_members: list[Member]
    meetings: list[Meeting]
    events: list[Gathering]
    budget: YearBudget
    origins: Origins
    next_meeting: Meeting | None
    agenda: list[str]  # the initiatives residents have put on the next meeting's agenda
    version: int
    as_of: datetime | None = None


def year_budget(table: PartnershipTable, year: int) -> YearBudget:
    return YearBudget(
        year=year,
        budget_cents=table.budget_of(year),
        meetings_cents=table.spent_on(year, Spending.MEETINGS),
        activities_cents=table.spent_on(year, Spending.ACTIVITIES),
        rounds_cents=table.spent_on(year, Spending.ROUND),
        programmes_cents=table.spent_on(year, Spending.PROGRAMME),
        left_cents=table.left_in(year),
    )


def current_members(table: PartnershipTable, day: date) -> list[Member]:
    return [
        Member(member_id, m["name"], m["kind"], m["joined_on"])
        for member_id, m in sorted(table.members.items())
        if table.is_member_on(member_id, day)
    ]


def table_summary(table: PartnershipTable, day: date) -> TableSummary:
    return TableSummary(
        table_id=table.table_id,
        name=table.name,
        regions=table.regions,
        coordinator=table.coordinator,
        members=len(current_members(table, day)),
        budget_cents=table.budget_of(day.year),
        left_cents=table.left_in(day.year),
        initiatives=len(table.initiatives),
        city_share_percent=table.city_share_percent(),
    )


def meeting_view(table: PartnershipTable, meeting_id: str, coordinator: bool) -> Meeting:
    m = table.meetings[meeting_id]
    return Meeting(
        meeting_id=meeting_id,
        on=m["on"],
        agenda=m["agenda"],
        held=m["held"],
        attendees=list(m["attendees"]) if coordinator else len(m["attendees"]),
        decisions=m["decisions"],
        discussed=m["discussed"],
        cost_cents=m["cost_cents"],
    )


def table_view(
    table: PartnershipTable,
    caller: Caller | None,
    day: date,
    agenda: list[str],
    as_of: datetime | None = None,
) -> TableView:
    coordinator = caller is not None and caller.is_coordinator_of(table.table_id)
    summary = table_summary(table, day)
    meetings = sorted(table.meetings, key=lambda m: (table.meetings[m]["on"], m))
    next_meeting = table.next_meeting(day)
    return TableView(
        **msgspec.structs.asdict(summary),
        coordinator_share_percent=table.coordinator_share_percent,
        coordinator_yearly_cost_cents=table.coordinator_yearly_cost_cents,
        yearly_budget_cents=table.yearly_budget_cents,
        meeting_fee_cents=table.meeting_fee_cents,
        meetings_per_year=table.meetings_per_year,
        support_threshold=table.support_threshold,
        answer_days=table.answer_days,
        founded_on=table.founded_on,
        current_members=current_members(table, day),
        meetings=[meeting_view(table, m, coordinator) for m in meetings],
        events=[
            Gathering(event_id=e, **g)
            for e, g in sorted(table.gatherings.items(), key=lambda item: (item[1]["on"], item[0]))
        ],
        budget=year_budget(table, day.year),
        origins=Origins(**table.origins()),
        next_meeting=meeting_view(table, next_meeting, coordinator) if next_meeting else None,
        agenda=agenda,
        version=table.version,
        as_of=as_of,
    )


# --- fees and payouts ------------------------------------------------------------------------


class FeeLine(msgspec.Struct):
    member_id: str
    name: str
    meetings: int
    cents: int


class Fees(msgspec.Struct):
    """The meeting fees accrued up to ``until`` and not paid yet, per member."""

    until: date
    lines: list[FeeLine]
    total_cents: int


class PayoutView(msgspec.Struct):
    number: int
    period_from: date | None  # the day after which its fees accrued (null: the first payout)
    until: date
    total_cents: int
    lines: list[FeeLine]
    paid_by: str
    at: datetime


PAYOUT_COLUMNS = ("member_id", "name", "meetings", "amount_eur")


def payout_csv(payout: dict) -> str:
    """A payout list as CSV (RFC 4180, CRLF line ends), one row per member: their meetings
    in the period and the sum in euros with a decimal point, exact to the cent."""
    return csv_text(
        PAYOUT_COLUMNS,
        (
            [line["member_id"], line["name"], line["meetings"], euros(line["cents"])]
            for line in payout["lines"]
        ),
    )


# --- initiatives ---------------------------------------------------------------------------


class CityAnswerView(msgspec.Struct):
    answer: str
    reasons: str
    by: str
    on: date


class ProgrammeView(msgspec.Struct):
    programme_id: str
    provider_id: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    pricing: str
    budget_cents: int
    valid_from: date
    valid_until: date


class InitiativeView(msgspec.Struct):
    initiative_id: str
    table_id: str
    title: str
    description: str
    origin: str
    raised_by: str  # "" for a resident's, unless the caller is them, the coordinator or an admin
    raised_on: date
    status: str
    supports: int
    supported: bool  # by the caller
    discussed_at: list[str]
    statement: str
    forwarded_on: date | None
    due_on: date | None  # by when the city answers, once forwarded
    overdue: bool
    answers: list[CityAnswerView]
    outcome: str
    programme: ProgrammeView | None
    from_event: str | None
    topic: str


def initiative_view(
    initiative: Initiative, table: PartnershipTable, caller: Caller | None, today: date
) -> InitiativeView:
    shown = initiative.raised_by
    if initiative.origin == Origin.RESIDENT and not (
        caller is not None
        and (caller.subject == initiative.raised_by or caller.is_coordinator_of(table.table_id))
    ):
        shown = ""
    return InitiativeView(
        initiative_id=str(initiative.id),
        table_id=initiative.table_id,
        title=initiative.title,
        description=initiative.description,
        origin=initiative.origin,
        raised_by=shown,
        raised_on=initiative.raised_on,
        status=initiative.status,
        supports=initiative.supports,
        supported=caller is not None and caller.subject in initiative.supporters,
        discussed_at=list(initiative.discussed_at),
        statement=initiative.statement,
        forwarded_on=initiative.forwarded_on,
        due_on=initiative.due_on(table.answer_days),
        overdue=initiative.is_overdue(today, table.answer_days),
        answers=[CityAnswerView(**a) for a in initiative.answers],
        outcome=initiative.outcome,
        programme=ProgrammeView(**initiative.programme) if initiative.programme else None,
        from_event=initiative.from_event,
        topic=initiative.topic,
    )


# --- rounds ----------------------------------------------------------------------------------


class Proposal(msgspec.Struct):
    proposal_id: str
    title: str
    description: str
    cost_cents: int
    feasible: bool | None  # null: not reviewed yet
    reason: str
    supports: int


class Result(msgspec.Struct):
    ballots: int
    votes: dict[str, int]
    funded: list[str]
    not_fitting: list[str]
    funded_cents: int
    left_cents: int


class RoundSummary(msgspec.Struct):
    round_id: str
    table_id: str
    title: str
    year: int
    budget_cents: int
    rule: str
    phase: str
    proposals: int
    ballots: int


class RoundView(msgspec.Struct):
    round_id: str
    table_id: str
    title: str
    year: int
    budget_cents: int
    rule: str
    threshold_percent: int
    minimum: int
    maximum: int
    selection_threshold: int
    phase: str
    proposals: list[Proposal]
    ballot: list[str]  # the proposals on the ballot, once the costs are published
    ballots: int
    result: Result | None
    my_ballot: list[str] | None  # the caller's own, for a resident who has cast one


def round_summary(budgeting: BudgetingRound) -> RoundSummary:
    return RoundSummary(
        round_id=str(budgeting.id),
        table_id=budgeting.table_id,
        title=budgeting.title,
        year=budgeting.year,
        budget_cents=budgeting.budget_cents,
        rule=budgeting.rule,
        phase=budgeting.phase,
        proposals=len(budgeting.proposals),
        ballots=len(budgeting.ballots),
    )


def round_view(budgeting: BudgetingRound, my_ballot: list[str] | None) -> RoundView:
    return RoundView(
        round_id=str(budgeting.id),
        table_id=budgeting.table_id,
        title=budgeting.title,
        year=budgeting.year,
        budget_cents=budgeting.budget_cents,
        rule=budgeting.rule,
        threshold_percent=budgeting.threshold_percent,
        minimum=budgeting.minimum,
        maximum=budgeting.maximum,
        selection_threshold=budgeting.selection_threshold,
        phase=budgeting.phase,
        proposals=[
            Proposal(
                proposal_id=p,
                title=v["title"],
                description=v["description"],
                cost_cents=v["cost_cents"],
                feasible=v["feasible"],
                reason=v["reason"],
                supports=len(v["supporters"]),
            )
            for p, v in budgeting.proposals.items()
        ],
        ballot=list(budgeting.ballot),
        ballots=len(budgeting.ballots),
        result=Result(**budgeting.result) if budgeting.result else None,
        my_ballot=my_ballot,
    )


class MyBallot(msgspec.Struct):
    """The resident's ballot as it stands, what it spends, and whether the round's rule
    takes it (``check``: "ok", or why not)."""

    proposals: list[str]
    spent_cents: int
    check: str
    phase: str


def my_ballot_view(budgeting: BudgetingRound, proposals: list[str] | None) -> MyBallot:
    proposals = proposals or []
    costs = budgeting.costs
    check = "ok"
    if budgeting.phase in (Phase.BALLOTING, Phase.FINISHED):
        try:
            budgeting.ballot_rule.check(proposals, costs, budgeting.budget_cents)
        except DomainError as error:
            check = error.message
    else:
        check = "the round is not balloting yet"
    return MyBallot(
        proposals=proposals,
        spent_cents=sum(costs.get(p, 0) for p in proposals),
        check=check,
        phase=budgeting.phase,
    )


class Recount(msgspec.Struct):
    """The tally again from the round's stored events, beside the one it published (null:
    not tallied yet)."""

    published: Result | None
    recounted: Result
    matches: bool
    ballots: int


class CommonExpense(msgspec.Struct):
    expense_id: str
    amount_cents: int
    on: date
    purpose: str
    note: str
    recorded_by: str


class CommonExpensesView(msgspec.Struct):
    """A year's common expenses of the tables: each, their total and the total per
    purpose."""

    year: int
    expenses: list[CommonExpense]
    total_cents: int
    by_purpose: dict[str, int]


def common_expenses_view(year: int, expenses: CommonExpenses | None) -> CommonExpensesView:
    if expenses is None:
        return CommonExpensesView(
            year=year,
            expenses=[],
            total_cents=0,
            by_purpose=CommonExpenses.open(year).by_purpose(),
        )
    return CommonExpensesView(
        year=year,
        expenses=[CommonExpense(**e) for e in expenses.expenses],
        total_cents=expenses.total_cents,
        by_purpose=expenses.by_purpose(),
    )
