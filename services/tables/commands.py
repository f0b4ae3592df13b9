"""The tables service's commands, as the request bodies that carry them. Who sends one is the
caller of its route, never a field here."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from domain.tables import table as defaults
from domain.tables.table import MAX_ITEMS, NAME_LENGTH, TEXT_LENGTH
from services.platform.http import Body, Code, Codes, Id, line, text

Cents = Annotated[int, Meta(ge=0, le=10**12)]
Positive = Annotated[int, Meta(gt=0, le=10**12)]


class NewTable(Body):
    """An admin founds a table for regions of the catalogue, with its coordinator; the Lahti
    figures are the defaults."""

    table_id: Code
    name: line(200, 1)
    regions: Codes
    coordinator: line(200, 1)  # the coordinating employee's subject
    founded_on: date | None = None  # today when not given
    coordinator_share_percent: Annotated[int, Meta(ge=1, le=100)] = (
        defaults.COORDINATOR_SHARE_PERCENT
    )
    coordinator_yearly_cost_cents: Cents = defaults.COORDINATOR_YEARLY_COST_CENTS
    yearly_budget_cents: Cents = defaults.YEARLY_BUDGET_CENTS
    meeting_fee_cents: Cents = defaults.MEETING_FEE_CENTS
    meetings_per_year: Annotated[int, Meta(ge=1, le=52)] = defaults.MEETINGS_PER_YEAR
    support_threshold: Annotated[int, Meta(ge=1, le=100_000)] = defaults.SUPPORT_THRESHOLD
    answer_days: Annotated[int, Meta(ge=1, le=365)] = defaults.ANSWER_DAYS


Text = text(TEXT_LENGTH)
Said = text(TEXT_LENGTH, blank=False)
Title = line(NAME_LENGTH, 1)
Percent = Annotated[int, Meta(ge=0, le=100)]
Count = Annotated[int, Meta(ge=0, le=1000)]
Items = Annotated[list[line(NAME_LENGTH, 1)], Meta(max_length=MAX_ITEMS)]
Decisions = Annotated[list[text(TEXT_LENGTH, blank=False)], Meta(max_length=MAX_ITEMS)]
Ids = Annotated[list[Id], Meta(max_length=MAX_ITEMS)]


# --- the table: its coordinator, budgets, members, meetings, events and fees ---------------


class Appointment(Body):
    """An admin appoints the table's coordinating employee (their subject) and the share of
    their working time they give it."""

    coordinator: line(200, 1)
    share_percent: Annotated[int, Meta(ge=1, le=100)] = defaults.COORDINATOR_SHARE_PERCENT


class YearBudget(Body):
    budget_cents: Cents


class Joining(Body):
    """A member joins the table on ``on`` (today when not given): a resident, an association,
    a business or an official."""

    member_id: Id
    name: line(NAME_LENGTH, 1)
    kind: Literal["resident", "association", "business", "official"] = "resident"
    on: date | None = None


class Departure(Body):
    on: date | None = None
    reason: Text = ""


class NewMeeting(Body):
    on: date
    agenda: Text = ""


class MeetingRecord(Body):
    """What a held meeting records: the members who attended (each earns the meeting fee),
    its decisions, the initiatives it discussed, and its cost (not the fees)."""

    attendees: Ids
    decisions: Decisions = []
    discussed: Ids = []
    cost_cents: Cents = 0


class NewGathering(Body):
    """An event, or a "Speak out" session where residents raise topics."""

    title: Title
    on: date
    kind: Literal["event", "speak_out"] = "event"


class GatheringRecord(Body):
    attendance: Annotated[int, Meta(ge=0, le=100_000)]
    topics: Items = []
    cost_cents: Cents = 0


class Payout(Body):
    """Pay every meeting fee accrued up to ``until`` and not paid yet."""

    until: date


# --- initiatives ---------------------------------------------------------------------------


class NewInitiative(Body):
    """An initiative of the table. A resident raises one as a resident, an officer as the
    city; the coordinator records one raised by a member (``raised_by`` their member id), by
    the city or by a resident, and may say which topic of a held event it came from
    (``from_event`` and the topic's index, from 0), and the day it was raised, for one
    raised before it was recorded here (``on``)."""

    title: Title
    description: Text = ""
    from_event: Id | None = None
    topic: Annotated[int, Meta(ge=0, le=MAX_ITEMS)] | None = None
    origin: Literal["resident", "member", "city"] | None = None
    raised_by: Id | None = None
    on: date | None = None  # the coordinator's, for one raised earlier; today when not given


class Forwarding(Body):
    """The table forwards a discussed initiative to the city with its statement."""

    statement: Said
    on: date | None = None


class CityAnswer(Body):
    """The city's answer: accepted, rejected (with its reasons) or in progress."""

    answer: Literal["accepted", "rejected", "in_progress"]
    reasons: Text = ""
    on: date | None = None


class Implementation(Body):
    outcome: Said
    on: date | None = None


class Closure(Body):
    reason: Said
    on: date | None = None


class NewProgramme(Body):
    """The table funds the initiative as a service programme: a provider delivers residents'
    services of ``categories`` in the table's ``regions`` at ``unit_price_cents`` (per hour
    or per job), up to ``budget_cents`` set aside from the table's budget of
    ``valid_from``'s year."""

    provider_id: Id
    categories: Codes
    regions: Codes
    unit_price_cents: Positive
    budget_cents: Positive
    valid_from: date
    valid_until: date
    pricing: Literal["hour", "job"] = "hour"


# --- participatory budgeting rounds ----------------------------------------------------------


class NewRound(Body):
    """A participatory budgeting round of ``year``, its budget set aside from the table's
    budget of that year, with its ballot rule: ``share`` (spend at least
    ``threshold_percent`` of the budget), ``at_least`` (pick at least ``minimum``
    proposals) or ``between`` (between ``minimum`` and ``maximum``)."""

    title: Title
    year: Annotated[int, Meta(ge=2000, le=2100)]
    budget_cents: Positive
    rule: line(20, 1)
    threshold_percent: Percent = 0
    minimum: Count = 0
    maximum: Count = 0
    selection_threshold: Annotated[int, Meta(ge=0, le=100_000)] = 0


class NewProposal(Body):
    title: Title
    cost_cents: Positive
    description: Text = ""


class PhaseChange(Body):
    """The round's next phase: reviewing, selecting, publishing_costs or balloting (it
    finishes with its tally)."""

    phase: line(40, 1)


class Review(Body):
    feasible: bool
    reason: Text = ""
    cost_cents: Positive | None = None  # the reviewed cost; the estimate when not given


class Ballot(Body):
    """The resident's whole choice: it replaces their earlier ballot."""

    proposals: Ids


class PaperBallot(Body):
    """A voting booth's paper ballot, entered by the coordinator: ``voter`` is the resident's
    id as checked at the booth."""

    voter: Id
    proposals: Ids


# --- the tables' common expenses -------------------------------------------------------------


class NewCommonExpense(Body):
    """An expense the city made for all its tables together: ``amount_cents``, on ``on``
    (today when not given), for ``purpose``, with a note."""

    amount_cents: Positive
    purpose: Literal["marketing", "joint_events", "other"]
    on: date | None = None
    note: Text = ""
