"""A regional partnership table: a non-political forum of residents, associations, businesses
and city officials, with a coordinating city employee, a yearly budget, meetings whose attending
members earn the meeting fee, and events and "Speak out" sessions whose topics can become
initiatives.

The table's money is its yearly budget (€20,000 by default). What it spends is recorded where
it is spent: a meeting's and an event's costs when they are held, and the funds set aside for a
budgeting round or a service programme (``earmark``), part of which can come back (``release``).
Meeting fees are accrued to the attending members when a meeting is held, and paid per period
(``pay_fees``): the payout list is what was accrued in the period and not paid before.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, WrongState

TABLES = uuid5(NAMESPACE_URL, "https://talkoot.lahti.fi/partnership-tables")
TABLE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$")
NAME_LENGTH = 200
TEXT_LENGTH = 2000
MAX_ITEMS = 200  # attendees, decisions, topics: what one meeting or event records at most

# Lahti's figures: the defaults of a new table.
COORDINATOR_SHARE_PERCENT = 25  # of the coordinating employee's working time
COORDINATOR_YEARLY_COST_CENTS = 52_000_00  # a full-time coordinator's yearly cost to the city
YEARLY_BUDGET_CENTS = 20_000_00
MEETING_FEE_CENTS = 120_00
MEETINGS_PER_YEAR = 6
SUPPORT_THRESHOLD = 50  # residents' supports that put an initiative on the next meeting's agenda
ANSWER_DAYS = 60  # days the city has to answer a forwarded initiative before it is overdue


class MemberKind(StrEnum):
    RESIDENT = "resident"
    ASSOCIATION = "association"
    BUSINESS = "business"
    OFFICIAL = "official"


class GatheringKind(StrEnum):
    EVENT = "event"
    SPEAK_OUT = "speak_out"  # a "Speak out" session (Sano sanasi): residents raise topics


class Spending(StrEnum):
    """What a table's budget is spent on, in the shape of the city's yearly budget."""

    MEETINGS = "meetings"  # the costs of holding meetings (rooms, coffee), not the fees
    ACTIVITIES = "activities"  # events and "Speak out" sessions
    ROUND = "round"  # set aside for a participatory budgeting round
    PROGRAMME = "programme"  # set aside for a service programme


def table_key(table_id: str) -> UUID:
    """The table's aggregate id: one per table code, so that it is found by the code."""
    return uuid5(TABLES, table_id)


def text(value: str, what: str, rule: str, length: int = TEXT_LENGTH, blank: bool = False) -> str:
    """``value`` with its whitespace tidied, refused when blank (unless ``blank``), too long
    or holding control characters."""
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value):
        raise InvalidValue(f"{what} holds control characters", rule=rule)
    value = value.strip()
    if not value and not blank:
        raise InvalidValue(f"{what} is needed", rule=rule)
    if len(value) > length:
        raise InvalidValue(f"{what} is at most {length} characters, got {len(value)}", rule=rule)
    return value


def texts(values: list[str], what: str, rule: str, length: int = NAME_LENGTH) -> list[str]:
    if len(values) > MAX_ITEMS:
        raise InvalidValue(f"at most {MAX_ITEMS} {what} at once", rule=rule)
    return [text(v, what, rule, length) for v in values]


def check_cents(value: int, rule: str, positive: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (1 if positive else 0):
        raise InvalidValue(
            f"{rule} is whole cents, {'above' if positive else 'at least'} zero", rule=rule
        )
    return value


class PartnershipTable(Aggregate):
    """One region's table: its regions (catalogue codes), coordinator, members over time,
    yearly budgets, meetings, events and fees."""

    @staticmethod
    def create_id(table_id: str, **_: object) -> UUID:
        return table_key(table_id)

    @event("Founded")
    def __init__(
        self,
        table_id: str,
        name: str,
        regions: list[str],
        coordinator: str,
        coordinator_share_percent: int,
        coordinator_yearly_cost_cents: int,
        yearly_budget_cents: int,
        meeting_fee_cents: int,
        meetings_per_year: int,
        support_threshold: int,
        answer_days: int,
        founded_on: date,
    ) -> None:
        self.table_id = table_id
        self.name = name
        self.regions = regions
        self.coordinator = coordinator
        self.coordinator_share_percent = coordinator_share_percent
        self.coordinator_yearly_cost_cents = coordinator_yearly_cost_cents
        self.yearly_budget_cents = yearly_budget_cents
        self.meeting_fee_cents = meeting_fee_cents
        self.meetings_per_year = meetings_per_year
        self.support_threshold = support_threshold
        self.answer_days = answer_days
        self.founded_on = founded_on
        self.budgets: dict[int, int] = {}  # year -> the budget set for it, where not the default
        # member id -> {name, kind, joined_on, left_on}; a member who left and came back has
        # the later joining
        self.members: dict[str, dict] = {}
        self.meetings: dict[str, dict] = {}  # meeting id -> {on, agenda, held, ...}
        self.gatherings: dict[str, dict] = {}  # event id -> {kind, title, on, held, ...}
        # each spending: {kind, ref, cents, on, note}; a release is a negative one
        self.spendings: list[dict] = []
        self.fees: list[dict] = []  # each accrued fee: {member_id, meeting_id, on, cents}
        self.paid_until: date | None = None  # fees accrued up to this day are paid
        # each payout: {number, period_from, until, lines, total_cents, paid_by, at}
        self.payouts: list[dict] = []
        # the table's initiatives, in the order they were raised: initiative id -> origin
        self.initiatives: dict[str, str] = {}

    @classmethod
    def found(
        cls,
        *,
        table_id: str,
        name: str,
        regions: list[str],
        coordinator: str,
        founded_on: date,
        coordinator_share_percent: int = COORDINATOR_SHARE_PERCENT,
        coordinator_yearly_cost_cents: int = COORDINATOR_YEARLY_COST_CENTS,
        yearly_budget_cents: int = YEARLY_BUDGET_CENTS,
        meeting_fee_cents: int = MEETING_FEE_CENTS,
        meetings_per_year: int = MEETINGS_PER_YEAR,
        support_threshold: int = SUPPORT_THRESHOLD,
        answer_days: int = ANSWER_DAYS,
    ) -> PartnershipTable:
        if not TABLE_CODE.match(table_id):
            raise InvalidValue(
                "a table's code is 3 to 42 lower-case letters, digits and dashes, such as "
                f"lahti-east; got {table_id!r}",
                rule="table_id",
            )
        if not regions:
            raise InvalidValue("a table serves at least one region", rule="regions")
        if not 1 <= coordinator_share_percent <= 100:
            raise InvalidValue(
                "the coordinator gives 1 to 100 % of their working time",
                rule="coordinator_share_percent",
            )
        if not 1 <= meetings_per_year <= 52:
            raise InvalidValue("a table meets 1 to 52 times a year", rule="meetings_per_year")
        if support_threshold < 1:
            raise InvalidValue("the support threshold is at least 1", rule="support_threshold")
        if not 1 <= answer_days <= 365:
            raise InvalidValue("the city answers within 1 to 365 days", rule="answer_days")
        return cls(
            table_id=table_id,
            name=text(name, "a table's name", "name", NAME_LENGTH),
            regions=sorted(set(regions)),
            coordinator=text(coordinator, "the coordinator", "coordinator", NAME_LENGTH),
            coordinator_share_percent=coordinator_share_percent,
            coordinator_yearly_cost_cents=check_cents(
                coordinator_yearly_cost_cents, "coordinator_yearly_cost_cents"
            ),
            yearly_budget_cents=check_cents(yearly_budget_cents, "yearly_budget_cents"),
            meeting_fee_cents=check_cents(meeting_fee_cents, "meeting_fee_cents"),
            meetings_per_year=meetings_per_year,
            support_threshold=support_threshold,
            answer_days=answer_days,
            founded_on=founded_on,
        )

    # --- reading ----------------------------------------------------------------------------

    def budget_of(self, year: int) -> int:
        return self.budgets.get(year, self.yearly_budget_cents)

    def spent_in(self, year: int) -> int:
        return sum(s["cents"] for s in self.spendings if s["on"].year == year)

    def left_in(self, year: int) -> int:
        """What is left of the year's budget after what was spent and set aside."""
        return self.budget_of(year) - self.spent_in(year)

    def is_member_on(self, member_id: str, day: date) -> bool:
        member = self.members.get(member_id)
        return (
            member is not None
            and member["joined_on"] <= day
            and (member["left_on"] is None or day < member["left_on"])
        )

    def earmarked_for(self, kind: str) -> list[str]:
        """What funds were set aside for, of ``kind`` (the rounds' or the programmes' ids),
        in the order they were set aside."""
        refs = [s["ref"] for s in self.spendings if s["kind"] == kind and s["cents"] > 0]
        return list(dict.fromkeys(refs))

    def spent_on(self, year: int, kind: str) -> int:
        """What the year's budget spent or set aside on ``kind`` (less what came back)."""
        return sum(s["cents"] for s in self.spendings if s["on"].year == year and s["kind"] == kind)

    def unpaid_fees(self, until: date) -> list[dict]:
        """The fees accrued up to ``until`` and not paid yet."""
        return [
            f
            for f in self.fees
            if f["on"] <= until and (self.paid_until is None or f["on"] > self.paid_until)
        ]

    def _check_day(self, day: date, today: date, what: str, rule: str = "on") -> None:
        if day < self.founded_on:
            raise InvalidValue(
                f"{what} cannot be before the table was founded ({self.founded_on})", rule=rule
            )
        if day > today:
            raise InvalidValue(f"{what} cannot be in the future", rule=rule)

    # --- the coordinator, the members and the budget ----------------------------------------

    def appoint_coordinator(self, coordinator: str, share_percent: int) -> None:
        coordinator = text(coordinator, "the coordinator", "coordinator", NAME_LENGTH)
        if not 1 <= share_percent <= 100:
            raise InvalidValue(
                "the coordinator gives 1 to 100 % of their working time",
                rule="coordinator_share_percent",
            )
        if (coordinator, share_percent) == (self.coordinator, self.coordinator_share_percent):
            raise WrongState(f"{coordinator} coordinates the table already, as asked")
        self._coordinator_appointed(
            table_id=self.table_id, coordinator=coordinator, share_percent=share_percent
        )

    @event("CoordinatorAppointed")
    def _coordinator_appointed(self, table_id: str, coordinator: str, share_percent: int) -> None:
        self.coordinator = coordinator
        self.coordinator_share_percent = share_percent

    def join(self, member_id: str, name: str, kind: str, on: date, today: date) -> None:
        member_id = text(member_id, "a member's identifier", "member_id", NAME_LENGTH)
        if kind not in set(MemberKind):
            raise InvalidValue(
                f"a member is one of {', '.join(MemberKind)}; got {kind!r}", rule="kind"
            )
        self._check_day(on, today, "joining")
        current = self.members.get(member_id)
        if current is not None and current["left_on"] is None:
            raise WrongState(f"{member_id} is a member of the table already", rule="member")
        if current is not None and on < current["left_on"]:
            raise InvalidValue(
                f"{member_id} left on {current['left_on']}: they join again on or after it",
                rule="on",
            )
        self._joined(
            table_id=self.table_id,
            member_id=member_id,
            name=text(name, "a member's name", "name", NAME_LENGTH),
            kind=kind,
            on=on,
        )

    @event("MemberJoined")
    def _joined(self, table_id: str, member_id: str, name: str, kind: str, on: date) -> None:
        self.members[member_id] = {"name": name, "kind": kind, "joined_on": on, "left_on": None}

    def leave(self, member_id: str, on: date, today: date, reason: str = "") -> None:
        member = self.members.get(member_id)
        if member is None or member["left_on"] is not None:
            raise WrongState(f"{member_id} is no member of the table", rule="member")
        self._check_day(on, today, "leaving")
        if on < member["joined_on"]:
            raise InvalidValue(f"{member_id} joined on {member['joined_on']}", rule="on")
        self._left(
            table_id=self.table_id,
            member_id=member_id,
            on=on,
            reason=text(reason, "the reason", "reason", blank=True),
        )

    @event("MemberLeft")
    def _left(self, table_id: str, member_id: str, on: date, reason: str) -> None:
        self.members[member_id]["left_on"] = on

    def set_budget(self, year: int, budget_cents: int) -> None:
        if not 2000 <= year <= 2100:
            raise InvalidValue("a budget is for a year between 2000 and 2100", rule="year")
        check_cents(budget_cents, "budget_cents")
        if budget_cents < self.spent_in(year):
            raise WrongState(
                f"the table has spent or set aside {self.spent_in(year)} cents of {year} already",
                rule="budget_cents",
            )
        self._budget_set(table_id=self.table_id, year=year, budget_cents=budget_cents)

    @event("BudgetSet")
    def _budget_set(self, table_id: str, year: int, budget_cents: int) -> None:
        self.budgets[year] = budget_cents

    # --- meetings ---------------------------------------------------------------------------

    def plan_meeting(self, meeting_id: str, on: date, agenda: str) -> None:
        if on < self.founded_on:
            raise InvalidValue("a meeting cannot be before the table was founded", rule="on")
        if meeting_id in self.meetings:
            raise WrongState(f"the meeting {meeting_id} is planned already")
        self._meeting_planned(
            table_id=self.table_id,
            meeting_id=meeting_id,
            on=on,
            agenda=text(agenda, "the agenda", "agenda", blank=True),
        )

    @event("MeetingPlanned")
    def _meeting_planned(self, table_id: str, meeting_id: str, on: date, agenda: str) -> None:
        self.meetings[meeting_id] = {
            "on": on,
            "agenda": agenda,
            "held": False,
            "attendees": [],
            "decisions": [],
            "discussed": [],
            "cost_cents": 0,
        }

    def next_meeting(self, after: date) -> str | None:
        """The first meeting planned and not held on or after ``after``."""
        planned = [
            (m["on"], mid) for mid, m in self.meetings.items() if not m["held"] and m["on"] >= after
        ]
        return min(planned)[1] if planned else None

    def hold_meeting(
        self,
        meeting_id: str,
        attendees: list[str],
        decisions: list[str],
        discussed: list[str],
        cost_cents: int,
        today: date,
        due: list[str] = (),
    ) -> None:
        """Record a planned meeting as held: who attended (members of the table on its day,
        each of whom earns the meeting fee), its decisions, the initiatives it discussed (each
        initiative ``due``, residents having put it on the agenda, among them) and its cost."""
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            raise WrongState(f"no meeting {meeting_id} is planned", rule="meeting")
        if meeting["held"]:
            raise WrongState(f"the meeting {meeting_id} is held already", rule="meeting")
        self._check_day(meeting["on"], today, "holding a meeting", rule="meeting")
        if len(set(attendees)) != len(attendees):
            raise InvalidValue("each attendee once", rule="attendees")
        if len(attendees) > MAX_ITEMS:
            raise InvalidValue(f"at most {MAX_ITEMS} attendees", rule="attendees")
        strangers = [a for a in attendees if not self.is_member_on(a, meeting["on"])]
        if strangers:
            raise InvalidValue(
                f"not members of the table on {meeting['on']}: {', '.join(strangers)}",
                rule="attendees",
            )
        missing = [i for i in due if i not in discussed]
        if missing:
            raise WrongState(
                "residents have put these initiatives on the agenda: the meeting takes them up: "
                + ", ".join(missing),
                rule="agenda",
            )
        check_cents(cost_cents, "cost_cents")
        self._meeting_held(
            table_id=self.table_id,
            meeting_id=meeting_id,
            on=meeting["on"],
            attendees=list(attendees),
            decisions=texts(decisions, "decisions", "decisions", TEXT_LENGTH),
            discussed=list(dict.fromkeys(discussed)),
            cost_cents=cost_cents,
            fee_cents=self.meeting_fee_cents,
        )

    @event("MeetingHeld")
    def _meeting_held(
        self,
        table_id: str,
        meeting_id: str,
        on: date,
        attendees: list[str],
        decisions: list[str],
        discussed: list[str],
        cost_cents: int,
        fee_cents: int,
    ) -> None:
        meeting = self.meetings[meeting_id]
        meeting.update(
            held=True,
            attendees=attendees,
            decisions=decisions,
            discussed=discussed,
            cost_cents=cost_cents,
        )
        for member_id in attendees:
            self.fees.append(
                {"member_id": member_id, "meeting_id": meeting_id, "on": on, "cents": fee_cents}
            )
        if cost_cents:
            self.spendings.append(
                {"kind": Spending.MEETINGS, "ref": meeting_id, "cents": cost_cents, "on": on}
            )

    def pay_fees(self, until: date, today: date, paid_by: str) -> list[dict]:
        """Pay every fee accrued up to ``until`` and not paid yet: the payout list, one line
        per member with their meetings and the sum."""
        self._check_day(until, today, "a payout", rule="until")
        if self.paid_until is not None and until <= self.paid_until:
            raise WrongState(f"the fees are paid up to {self.paid_until} already", rule="until")
        lines = payout(self.unpaid_fees(until), self.members)
        if not lines:
            raise WrongState("no fees are accrued and unpaid in the period", rule="until")
        self.trigger_event(
            self.FeesPaid,
            table_id=self.table_id,
            period_from=self.paid_until,
            until=until,
            lines=lines,
            total_cents=sum(line["cents"] for line in lines),
            paid_by=paid_by,
        )
        return lines

    class FeesPaid(Aggregate.Event):
        """The fees accrued up to ``until`` and not paid before were paid: the payout list.
        Its number (the table's payouts counted from 1) and the moment it was paid are kept
        with the list, so that the payout can be read back and exported later."""

        table_id: str
        period_from: date | None
        until: date
        lines: list[dict]
        total_cents: int
        paid_by: str

        def apply(self, aggregate: PartnershipTable) -> None:
            aggregate.paid_until = self.until
            aggregate.payouts.append(
                {
                    "number": len(aggregate.payouts) + 1,
                    "period_from": self.period_from,
                    "until": self.until,
                    "lines": self.lines,
                    "total_cents": self.total_cents,
                    "paid_by": self.paid_by,
                    "at": self.timestamp,
                }
            )

    # --- the table's initiatives ------------------------------------------------------------

    def file_initiative(self, initiative_id: str, origin: str) -> None:
        """Keep a newly raised initiative on the table's list, with who raised it (resident,
        member or city): the table finds its initiatives, and counts their origins, without
        reading anybody else's."""
        if initiative_id in self.initiatives:
            raise WrongState(f"the initiative {initiative_id} is the table's already")
        self._initiative_filed(table_id=self.table_id, initiative_id=initiative_id, origin=origin)

    @event("InitiativeFiled")
    def _initiative_filed(self, table_id: str, initiative_id: str, origin: str) -> None:
        self.initiatives[initiative_id] = origin

    def origins(self) -> dict[str, int]:
        """How many of the table's initiatives each origin raised."""
        counted = {"resident": 0, "member": 0, "city": 0}
        for origin in self.initiatives.values():
            counted[origin] = counted.get(origin, 0) + 1
        return counted

    def city_share_percent(self) -> int:
        """The city's share of the table's topics: initiatives the city raised, of all, in
        whole per cent (0 when there are none)."""
        if not self.initiatives:
            return 0
        return round(100 * self.origins()["city"] / len(self.initiatives))

    # --- events and "Speak out" sessions ----------------------------------------------------

    def plan_gathering(self, event_id: str, kind: str, title: str, on: date) -> None:
        if kind not in set(GatheringKind):
            raise InvalidValue("an event is 'event' or 'speak_out'", rule="kind")
        if on < self.founded_on:
            raise InvalidValue("an event cannot be before the table was founded", rule="on")
        if event_id in self.gatherings:
            raise WrongState(f"the event {event_id} is planned already")
        self._gathering_planned(
            table_id=self.table_id,
            event_id=event_id,
            kind=kind,
            title=text(title, "an event's title", "title", NAME_LENGTH),
            on=on,
        )

    @event("EventPlanned")
    def _gathering_planned(
        self, table_id: str, event_id: str, kind: str, title: str, on: date
    ) -> None:
        self.gatherings[event_id] = {
            "kind": kind,
            "title": title,
            "on": on,
            "held": False,
            "attendance": 0,
            "topics": [],
            "cost_cents": 0,
        }

    def hold_gathering(
        self, event_id: str, attendance: int, topics: list[str], cost_cents: int, today: date
    ) -> None:
        gathering = self.gatherings.get(event_id)
        if gathering is None:
            raise WrongState(f"no event {event_id} is planned", rule="event")
        if gathering["held"]:
            raise WrongState(f"the event {event_id} is held already", rule="event")
        self._check_day(gathering["on"], today, "holding an event", rule="event")
        if not isinstance(attendance, int) or not 0 <= attendance <= 100_000:
            raise InvalidValue("attendance is a count of 0 to 100 000 people", rule="attendance")
        check_cents(cost_cents, "cost_cents")
        self._gathering_held(
            table_id=self.table_id,
            event_id=event_id,
            kind=gathering["kind"],
            on=gathering["on"],
            attendance=attendance,
            topics=texts(topics, "topics", "topics"),
            cost_cents=cost_cents,
        )

    @event("EventHeld")
    def _gathering_held(
        self,
        table_id: str,
        event_id: str,
        kind: str,
        on: date,
        attendance: int,
        topics: list[str],
        cost_cents: int,
    ) -> None:
        self.gatherings[event_id].update(
            held=True, attendance=attendance, topics=topics, cost_cents=cost_cents
        )
        if cost_cents:
            self.spendings.append(
                {"kind": Spending.ACTIVITIES, "ref": event_id, "cents": cost_cents, "on": on}
            )

    def topic(self, event_id: str, index: int) -> str:
        """The ``index``-th topic raised at a held event: what an initiative can come from."""
        gathering = self.gatherings.get(event_id)
        if gathering is None or not gathering["held"]:
            raise InvalidValue(f"no event {event_id} of the table was held", rule="from_event")
        if not 0 <= index < len(gathering["topics"]):
            raise InvalidValue(f"the event {event_id} raised no topic {index}", rule="topic")
        return gathering["topics"][index]

    # --- funds set aside --------------------------------------------------------------------

    def earmark(self, kind: str, ref: str, amount_cents: int, on: date, note: str) -> None:
        """Set ``amount_cents`` of the year's budget aside for a round or a programme: refused
        when less is left."""
        check_cents(amount_cents, "budget_cents", positive=True)
        left = self.left_in(on.year)
        if amount_cents > left:
            raise WrongState(
                f"the table has {left} cents left of its {on.year} budget; "
                f"{amount_cents} were asked",
                rule="budget_cents",
            )
        self._earmarked(
            table_id=self.table_id, kind=kind, ref=ref, cents=amount_cents, on=on, note=note
        )

    @event("FundsEarmarked")
    def _earmarked(
        self, table_id: str, kind: str, ref: str, cents: int, on: date, note: str
    ) -> None:
        self.spendings.append({"kind": kind, "ref": ref, "cents": cents, "on": on})

    def release(self, ref: str, amount_cents: int, note: str) -> None:
        """Give back what a round or a programme did not use, to the year it was set aside
        from."""
        set_aside = [s for s in self.spendings if s["ref"] == ref]
        if not set_aside or amount_cents <= 0:
            return
        first = set_aside[0]
        amount_cents = min(amount_cents, sum(s["cents"] for s in set_aside))
        self._released(
            table_id=self.table_id,
            kind=first["kind"],
            ref=ref,
            cents=amount_cents,
            on=first["on"],
            note=note,
        )

    @event("FundsReleased")
    def _released(
        self, table_id: str, kind: str, ref: str, cents: int, on: date, note: str
    ) -> None:
        self.spendings.append({"kind": kind, "ref": ref, "cents": -cents, "on": on})


def payout(fees: list[dict], members: dict[str, dict]) -> list[dict]:
    """The payout list of ``fees``: one line per member, with their name, the meetings and
    the sum, in the members' order of id."""
    lines: dict[str, dict] = {}
    for fee in fees:
        line = lines.setdefault(
            fee["member_id"],
            {
                "member_id": fee["member_id"],
                "name": members.get(fee["member_id"], {}).get("name", fee["member_id"]),
                "meetings": 0,
                "cents": 0,
            },
        )
        line["meetings"] += 1
        line["cents"] += fee["cents"]
    return [lines[m] for m in sorted(lines)]
