"""HTTP API of the tables service: the regional partnership tables (their members, meetings,
events and fees), their initiatives, and their participatory budgeting rounds."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import Parameter

from domain.calendar import local_day, local_today
from domain.tables.table import payout
from services.platform.errors import NotFound
from services.platform.http import PathId, check_query_day
from services.platform.identity import (
    ADMIN,
    CITY_OR_COORDINATOR,
    COORDINATOR,
    INITIATOR,
    OFFICER,
    PROPOSER,
    PUBLIC,
    RESIDENT,
    Caller,
)
from services.platform.openapi import errors
from services.platform.store import Receipt
from services.tables.application import TablesApplication
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
from services.tables.views import (
    CommonExpensesView,
    FeeLine,
    Fees,
    InitiativeView,
    Membership,
    MyBallot,
    PayoutView,
    Recount,
    RoundSummary,
    RoundView,
    TableSummary,
    TableView,
    common_expenses_view,
    initiative_view,
    my_ballot_view,
    payout_csv,
    round_summary,
    round_view,
    table_summary,
    table_view,
)

CSV = "text/csv"
PAYOUT_FILE = re.compile(r"^([1-9][0-9]{0,8})\.csv$")
Year = Annotated[int, Parameter(ge=2000, le=2100, description="a year, 2000 to 2100")]
QueryYear = Annotated[
    int | None,
    Parameter(ge=2000, le=2100, description="a year, 2000 to 2100; this year if not given"),
]
Status = Literal["proposed", "discussed", "forwarded", "answered", "implemented", "closed"]


class TablesController(Controller):
    path = "/tables"
    tags = ["tables"]

    @post(
        "/",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Found a partnership table",
        responses=errors(409, 422),
    )
    def found(self, data: NewTable, application: TablesApplication) -> Receipt:
        """An admin founds a regional partnership table for regions of the catalogue (422,
        rule ``region``, for one it does not know), with its coordinating employee; a code
        taken already is refused (409, rule ``table_id``). The Lahti figures are the defaults:
        25 % of the coordinator's time, €20,000 a year, a €120 meeting fee, six meetings a
        year, 50 supports to put an initiative on the agenda, 60 days for the city's
        answer."""
        return application.found(data)

    @get("/", guards=[PUBLIC], sync_to_thread=True, summary="The partnership tables")
    def tables(self, application: TablesApplication) -> list[TableSummary]:
        """Every table with its members now, this year's budget and what is left of it, its
        initiatives and the city's share of them (per cent of the initiatives the city
        raised)."""
        today = local_today()
        return [table_summary(application.get_table(t), today) for t in application.table_ids()]

    @get(
        "/{table_id:str}",
        guards=[PUBLIC],
        sync_to_thread=True,
        summary="A partnership table",
        responses=errors(404, 422),
    )
    def table(
        self,
        table_id: PathId,
        application: TablesApplication,
        maybe_caller: Caller | None,
        as_of: datetime | None = None,
    ) -> TableView:
        """The table: its members now, meetings (who attended, for its coordinator; how many,
        for anyone), events, this year's budget and where it went, where its initiatives came
        from, its next meeting and that meeting's agenda (the initiatives residents have
        supported up to the threshold).

        With ``as_of`` (a moment with its time zone; 422, rule ``as_of``, without one) the
        table as it stood then, rebuilt from its events (and its initiatives' agenda as they
        stood then); before it was founded there is none (404)."""
        table = application.get_table(table_id)
        if as_of is None:
            agenda = [str(i.id) for i in application.due(table)]
            return table_view(table, maybe_caller, local_today(), agenda)
        then = application.table_as_of(table_id, as_of)
        agenda = [str(i.id) for i in application.due(then, as_of)]
        return table_view(then, maybe_caller, local_day(as_of), agenda, as_of)

    @put(
        "/{table_id:str}/coordinator",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Appoint the table's coordinator",
        responses=errors(404, 409, 422),
    )
    def appoint(
        self, table_id: PathId, data: Appointment, application: TablesApplication
    ) -> Receipt:
        """An admin appoints the coordinating employee and the share of their time (1 to
        100 %); the same appointment again is refused (409)."""
        return application.appoint(table_id, data)

    @put(
        "/{table_id:str}/budgets/{year:int}",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Set a year's budget",
        responses=errors(404, 409, 422),
    )
    def set_budget(
        self, table_id: PathId, year: Year, data: YearBudget, application: TablesApplication
    ) -> Receipt:
        """An admin sets the table's budget of ``year`` (cents); less than what is spent or
        set aside already is refused (409, rule ``budget_cents``)."""
        return application.set_budget(table_id, year, data)

    # --- fees and payouts ------------------------------------------------------------------

    @get(
        "/{table_id:str}/fees",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Meeting fees accrued and unpaid",
        responses=errors(404),
    )
    def fees(
        self,
        table_id: PathId,
        application: TablesApplication,
        caller: Caller,
        until: date | None = None,
    ) -> Fees:
        """The meeting fees accrued up to ``until`` (today when not given) and not paid yet:
        one line per member with the meetings they attended and the sum."""
        check_query_day("until", until)
        table = application.coordinated(caller, table_id)
        day = until or local_today()
        lines = [FeeLine(**line) for line in payout(table.unpaid_fees(day), table.members)]
        return Fees(until=day, lines=lines, total_cents=sum(line.cents for line in lines))

    @post(
        "/{table_id:str}/payouts",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Pay the meeting fees",
        responses=errors(404, 409, 422),
    )
    def pay(
        self, table_id: PathId, data: Payout, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """Pay every fee accrued up to ``until`` and not paid before; the receipt's ``id`` is
        the payout's number. Paying a period paid already, or one with nothing to pay, is
        refused (409, rule ``until``); ``until`` in the future or before the table was
        founded too (422, rule ``until``)."""
        return application.pay_fees(caller, table_id, data)

    @get(
        "/{table_id:str}/payouts",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="The table's payouts",
        responses=errors(404),
    )
    def payouts(
        self, table_id: PathId, application: TablesApplication, caller: Caller
    ) -> list[PayoutView]:
        table = application.coordinated(caller, table_id)
        return [
            PayoutView(**{**p, "lines": [FeeLine(**line) for line in p["lines"]]})
            for p in table.payouts
        ]

    @get(
        "/{table_id:str}/payouts/{payout_file:str}",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="A payout list as CSV",
        media_type=CSV,
        responses=errors(404),
    )
    def payout_csv(
        self, table_id: PathId, payout_file: str, application: TablesApplication, caller: Caller
    ) -> Response[str]:
        """The payout numbered N (``N.csv``) as CSV for the city's payroll: a header row, then
        one row per member: member_id, name, meetings, amount_eur (euros with a decimal
        point, exact to the cent)."""
        table = application.coordinated(caller, table_id)
        found = PAYOUT_FILE.match(payout_file)
        number = int(found.group(1)) if found else 0
        if not 1 <= number <= len(table.payouts):
            raise NotFound.of("payout", payout_file)
        name = f"{table.table_id}-payout-{number}.csv"
        return Response(
            payout_csv(table.payouts[number - 1]),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # --- members, meetings, events ------------------------------------------------------------

    @post(
        "/{table_id:str}/members",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="A member joins the table",
        responses=errors(404, 409, 422),
    )
    def join(
        self, table_id: PathId, data: Joining, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """The coordinator records a member joining on ``on`` (today when not given; not in
        the future nor before the table was founded: 422, rule ``on``). A member already is
        refused (409, rule ``member``)."""
        return application.join(caller, table_id, data)

    @get(
        "/{table_id:str}/members",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="The table's members, past and present",
        responses=errors(404),
    )
    def members(
        self, table_id: PathId, application: TablesApplication, caller: Caller
    ) -> list[Membership]:
        """Every membership of the table in the order they began, with when and why each
        ended (``left_on`` null: a member now)."""
        return [Membership(**m) for m in application.membership_history(caller, table_id)]

    @post(
        "/{table_id:str}/members/{member_id:str}/departure",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="A member leaves the table",
        responses=errors(404, 409, 422),
    )
    def leave(
        self,
        table_id: PathId,
        member_id: PathId,
        data: Departure,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """The member leaves on ``on`` (today when not given; not in the future, nor before
        they joined: 422, rule ``on``); one who is no member is refused (409, rule
        ``member``)."""
        return application.leave(caller, table_id, member_id, data)

    @post(
        "/{table_id:str}/meetings",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Plan a meeting",
        responses=errors(404, 409, 422),
    )
    def plan_meeting(
        self, table_id: PathId, data: NewMeeting, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """A meeting on ``on`` (not before the table was founded), with its agenda; the
        receipt's ``id`` is the meeting's."""
        return application.plan_meeting(caller, table_id, data)

    @post(
        "/{table_id:str}/meetings/{meeting_id:str}/record",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Record a held meeting",
        responses=errors(404, 409, 422),
    )
    def record_meeting(
        self,
        table_id: PathId,
        meeting_id: PathId,
        data: MeetingRecord,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """The meeting was held: its attendees (members on its day: 422, rule ``attendees``)
        each earn the meeting fee, its decisions, its cost, and the initiatives it discussed,
        each of which records it. An initiative residents supported up to the threshold
        must be among them (409, rule ``agenda``: nothing is stored). A meeting in the
        future cannot be recorded (422, rule ``meeting``)."""
        return application.record_meeting(caller, table_id, meeting_id, data)

    @post(
        "/{table_id:str}/events",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Plan an event or a Speak out session",
        responses=errors(404, 409, 422),
    )
    def plan_event(
        self,
        table_id: PathId,
        data: NewGathering,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        return application.plan_event(caller, table_id, data)

    @post(
        "/{table_id:str}/events/{event_id:str}/record",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Record a held event",
        responses=errors(404, 409, 422),
    )
    def record_event(
        self,
        table_id: PathId,
        event_id: PathId,
        data: GatheringRecord,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """How many came, the topics residents raised (each can become an initiative) and
        the cost."""
        return application.record_event(caller, table_id, event_id, data)

    # --- the table's initiatives and rounds --------------------------------------------------

    @post(
        "/{table_id:str}/initiatives",
        guards=[INITIATOR],
        sync_to_thread=True,
        summary="Raise an initiative",
        responses=errors(403, 404, 409, 422),
    )
    def raise_initiative(
        self,
        table_id: PathId,
        data: NewInitiative,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """A resident of the table's regions raises one (403, rule ``region``, for anyone
        else), an officer raises the city's; the coordinator records one raised by a member
        (``origin`` member, ``raised_by`` the member's id), the city or a resident, and the
        topic of a held event it came from. Only the coordinator names ``origin`` and
        ``raised_by`` (403, rule ``origin``)."""
        return application.raise_initiative(caller, table_id, data)

    @get(
        "/{table_id:str}/initiatives",
        guards=[PUBLIC],
        sync_to_thread=True,
        summary="The table's initiatives",
        responses=errors(404),
    )
    def initiatives(
        self,
        table_id: PathId,
        application: TablesApplication,
        maybe_caller: Caller | None,
        status: Status | None = None,
    ) -> list[InitiativeView]:
        table = application.get_table(table_id)
        today = local_today()
        return [
            initiative_view(i, table, maybe_caller, today)
            for i in application.initiatives_of(table)
            if status is None or i.status == status
        ]

    @post(
        "/{table_id:str}/rounds",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Open a participatory budgeting round",
        responses=errors(404, 409, 422),
    )
    def open_round(
        self, table_id: PathId, data: NewRound, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """Its budget is set aside from the table's budget of ``year`` (409, rule
        ``budget_cents``, when less is left); its rule is ``share``, ``at_least`` or
        ``between`` (422 naming the rule's figure it lacks)."""
        return application.open_round(caller, table_id, data)

    @get(
        "/{table_id:str}/rounds",
        guards=[PUBLIC],
        sync_to_thread=True,
        summary="The table's rounds",
        responses=errors(404),
    )
    def rounds(self, table_id: PathId, application: TablesApplication) -> list[RoundSummary]:
        table = application.get_table(table_id)
        return [round_summary(application.get_round(r)) for r in application.round_ids(table)]


class InitiativesController(Controller):
    path = "/initiatives"
    tags = ["initiatives"]

    @get(
        "/{initiative_id:str}",
        guards=[PUBLIC],
        sync_to_thread=True,
        summary="An initiative",
        responses=errors(404, 422),
    )
    def initiative(
        self,
        initiative_id: PathId,
        application: TablesApplication,
        maybe_caller: Caller | None,
        as_of: datetime | None = None,
    ) -> InitiativeView:
        """Its origin, supports, the meetings that discussed it, the table's statement, the
        city's answers, by when the city answers and whether it is overdue, and what came of
        it. Who raised a resident's initiative is shown to them, the coordinator and an admin
        only.

        With ``as_of`` (a moment with its time zone; 422, rule ``as_of``, without one) the
        initiative as it stood then, rebuilt from its events (overdue as of that day); before
        it was raised there is none (404)."""
        initiative = application.get_initiative(initiative_id)
        if as_of is None:
            table = application.get_table(initiative.table_id)
            return initiative_view(initiative, table, maybe_caller, local_today())
        then = application.as_of(initiative_id, as_of, "initiative")
        table = application.table_as_of(then.table_id, as_of)
        day = min(local_day(as_of), local_today())
        return initiative_view(then, table, maybe_caller, day)

    @post(
        "/{initiative_id:str}/support",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Support an initiative",
        responses=errors(403, 404, 409),
    )
    def support(
        self, initiative_id: PathId, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """A resident of the table's regions (403, rule ``region``, else) supports it, once
        (409, rule ``supported``), while the table has not taken it up (409, rule
        ``status``)."""
        return application.support(caller, initiative_id)

    @post(
        "/{initiative_id:str}/forward",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Forward an initiative to the city",
        responses=errors(404, 409, 422),
    )
    def forward(
        self,
        initiative_id: PathId,
        data: Forwarding,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """Once a meeting has discussed it (409, rule ``status``), with the table's
        statement; the city's time to answer runs from ``on``."""
        return application.forward(caller, initiative_id, data)

    @post(
        "/{initiative_id:str}/answer",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="The city answers an initiative",
        responses=errors(404, 409, 422),
    )
    def answer(
        self,
        initiative_id: PathId,
        data: CityAnswer,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """Accepted, rejected (with reasons: 422, rule ``reasons``) or in progress (answered
        again later), once forwarded (409, rule ``status``)."""
        return application.answer(caller, initiative_id, data)

    @post(
        "/{initiative_id:str}/implemented",
        guards=[CITY_OR_COORDINATOR],
        sync_to_thread=True,
        summary="An initiative was implemented",
        responses=errors(404, 409, 422),
    )
    def implemented(
        self,
        initiative_id: PathId,
        data: Implementation,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        return application.implement(caller, initiative_id, data)

    @post(
        "/{initiative_id:str}/closure",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Close an initiative",
        responses=errors(404, 409, 422),
    )
    def close(
        self, initiative_id: PathId, data: Closure, application: TablesApplication, caller: Caller
    ) -> Receipt:
        return application.close_initiative(caller, initiative_id, data)

    @post(
        "/{initiative_id:str}/programme",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Fund an initiative as a service programme",
        responses=errors(403, 404, 409, 422),
    )
    def programme(
        self,
        initiative_id: PathId,
        data: NewProgramme,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        """The table funds a discussed initiative as a service programme in its own regions
        (403, rule ``regions``, elsewhere); ``budget_cents`` is set aside from the table's
        budget of ``valid_from``'s year (409, rule ``budget_cents``, when less is left). The
        receipt's ``id`` is the programme's, which becomes the contract's in partnerships."""
        return application.fund_programme(caller, initiative_id, data)


class RoundsController(Controller):
    path = "/rounds"
    tags = ["rounds"]

    @get(
        "/{round_id:str}",
        guards=[PUBLIC],
        sync_to_thread=True,
        summary="A participatory budgeting round",
        responses=errors(404, 422),
    )
    def round(
        self,
        round_id: PathId,
        application: TablesApplication,
        maybe_caller: Caller | None,
        as_of: datetime | None = None,
    ) -> RoundView:
        """Its phase, proposals, ballot and result; the caller's own ballot for a resident
        (never anybody else's).

        With ``as_of`` (a moment with its time zone; 422, rule ``as_of``, without one) the
        round as it stood then, rebuilt from its events: the ballots cast by then are a count
        there too, and a resident sees their own ballot of then only; before it was opened
        there is none (404)."""
        budgeting = application.get_round(round_id)
        if as_of is not None:
            budgeting = application.as_of(round_id, as_of, "budgeting round")
        mine = application.my_ballot(maybe_caller, budgeting) if maybe_caller else None
        return round_view(budgeting, mine)

    @post(
        "/{round_id:str}/proposals",
        guards=[PROPOSER],
        sync_to_thread=True,
        summary="Make a proposal",
        responses=errors(403, 404, 409, 422),
    )
    def propose(
        self, round_id: PathId, data: NewProposal, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """A resident of the table's regions (403, rule ``region``) or its coordinator, while
        the round accepts proposals (409, rule ``phase``); the receipt's ``id`` is the
        proposal's."""
        return application.propose(caller, round_id, data)

    @post(
        "/{round_id:str}/phase",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Move the round to its next phase",
        responses=errors(404, 409, 422),
    )
    def advance(
        self, round_id: PathId, data: PhaseChange, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """Only to the next phase (409, rule ``phase``): reviewing, selecting,
        publishing_costs (which fixes the ballot), balloting."""
        return application.advance(caller, round_id, data)

    @post(
        "/{round_id:str}/proposals/{proposal_id:str}/review",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Review a proposal",
        responses=errors(404, 409, 422),
    )
    def review(
        self,
        round_id: PathId,
        proposal_id: PathId,
        data: Review,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        return application.review(caller, round_id, proposal_id, data)

    @post(
        "/{round_id:str}/proposals/{proposal_id:str}/selection",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Support a proposal for the ballot",
        responses=errors(403, 404, 409, 422),
    )
    def select(
        self,
        round_id: PathId,
        proposal_id: PathId,
        application: TablesApplication,
        caller: Caller,
    ) -> Receipt:
        return application.select(caller, round_id, proposal_id)

    @put(
        "/{round_id:str}/ballot",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Cast one's ballot",
        responses=errors(403, 404, 409, 422),
    )
    def cast(
        self, round_id: PathId, data: Ballot, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """The resident's whole choice, replacing their earlier ballot; it must keep the
        round's rule (422 naming it). Stored under the resident's pseudonym for the round;
        nothing published names the voter or the choice."""
        return application.cast(caller, round_id, data)

    @get(
        "/{round_id:str}/ballot",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="One's own ballot",
        responses=errors(404),
    )
    def my_ballot(
        self, round_id: PathId, application: TablesApplication, caller: Caller
    ) -> MyBallot:
        """The caller's ballot (empty: none cast), what it spends and whether the round's
        rule takes it."""
        budgeting = application.get_round(round_id)
        return my_ballot_view(budgeting, application.my_ballot(caller, budgeting))

    @post(
        "/{round_id:str}/paper-ballots",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Enter a paper ballot",
        responses=errors(404, 409, 422),
    )
    def paper_ballot(
        self, round_id: PathId, data: PaperBallot, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """A voting booth's ballot of the resident ``voter``: it replaces their earlier
        ballot, online or on paper."""
        return application.cast_paper(caller, round_id, data)

    @post(
        "/{round_id:str}/tally",
        guards=[COORDINATOR],
        sync_to_thread=True,
        summary="Tally the round",
        responses=errors(404, 409),
    )
    def tally(self, round_id: PathId, application: TablesApplication, caller: Caller) -> Receipt:
        """Close the ballot and fund the most voted proposals that fit; what they do not use
        goes back to the table's budget."""
        return application.finish(caller, round_id)

    @get(
        "/{round_id:str}/recount",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="Recount the round from its events",
        responses=errors(404),
    )
    def recount(self, round_id: PathId, application: TablesApplication) -> Recount:
        """The tally again from the ballots stored as events, beside the published result
        (null before the tally) and whether they match: for officers and admins, who audit."""
        return msgspec.convert(application.recount(round_id), Recount)


class CommonExpensesController(Controller):
    path = "/common-expenses"
    tags = ["common expenses"]

    @post(
        "/",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Record a common expense of the tables",
        responses=errors(422),
    )
    def record(
        self, data: NewCommonExpense, application: TablesApplication, caller: Caller
    ) -> Receipt:
        """An admin records an expense the city made for all its tables together
        (``marketing``, ``joint_events`` or ``other``): ``amount_cents``, ``on`` (today when
        not given; never in the future: 422, rule ``on``) and a ``note``. The impact report's
        spent common expenses are these; the receipt's ``id`` is the expense's."""
        return application.record_common_expense(caller, data)

    @get("/", guards=[PUBLIC], sync_to_thread=True, summary="The tables' common expenses")
    def expenses(
        self, application: TablesApplication, year: QueryYear = None
    ) -> CommonExpensesView:
        """The common expenses recorded for ``year`` (this year in Lahti when not given),
        their total and the total per purpose."""
        year = year or local_today().year
        return common_expenses_view(year, application.common_expenses(year))
