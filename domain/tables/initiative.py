"""An initiative or statement of a partnership table, from the topic it was raised as to the
city's answer and what came of it; and the service programme an initiative can become.

Who raised it is always recorded (``origin``: a resident, a member of the table, or the city),
so that a table that only rubber-stamps the city's topics shows. Residents support it; one that
reaches the table's support threshold is on the next meeting's agenda. Its life:

    proposed -> discussed (at a meeting) -> forwarded (to the city, with the table's statement)
    -> answered (accepted, rejected with reasons, or in progress; answered again as it goes)
    -> implemented, or closed

A forwarded initiative the city has not answered within the table's ``answer_days`` is overdue.
An initiative the table funds from its budget becomes a service programme: a budget that
community providers deliver residents' services from, through a contract with the table.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.tables.table import NAME_LENGTH, TEXT_LENGTH, check_cents, text


class Origin(StrEnum):
    RESIDENT = "resident"
    MEMBER = "member"
    CITY = "city"


class InitiativeStatus(StrEnum):
    PROPOSED = "proposed"
    DISCUSSED = "discussed"
    FORWARDED = "forwarded"
    ANSWERED = "answered"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"


class Answer(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"


class Initiative(Aggregate):
    """One initiative of one table."""

    @event("Raised")
    def __init__(
        self,
        table_id: str,
        title: str,
        description: str,
        origin: str,
        raised_by: str,
        raised_on: date,
        from_event: str | None = None,  # the event or "Speak out" session it was a topic of
        topic: str = "",
    ) -> None:
        self.table_id = table_id
        self.title = title
        self.description = description
        self.origin = origin
        self.raised_by = raised_by
        self.raised_on = raised_on
        self.from_event = from_event
        self.topic = topic
        self.status = InitiativeStatus.PROPOSED
        self.supporters: list[str] = []
        self.discussed_at: list[str] = []  # meeting ids
        self.statement = ""
        self.forwarded_on: date | None = None
        self.answers: list[dict] = []  # each: {answer, reasons, by, on}
        self.outcome = ""  # how it was implemented, or why it closed
        self.programme: dict | None = None

    @classmethod
    def raise_(
        cls,
        *,
        table_id: str,
        title: str,
        description: str,
        origin: str,
        raised_by: str,
        raised_on: date,
        from_event: str | None = None,
        topic: str = "",
    ) -> Initiative:
        if origin not in set(Origin):
            raise InvalidValue(
                f"an initiative is raised by a {', a '.join(Origin)}; got {origin!r}",
                rule="origin",
            )
        return cls(
            table_id=table_id,
            title=text(title, "an initiative's title", "title", NAME_LENGTH),
            description=text(description, "the description", "description", TEXT_LENGTH, True),
            origin=origin,
            raised_by=raised_by,
            raised_on=raised_on,
            from_event=from_event,
            topic=topic,
        )

    # --- reading ----------------------------------------------------------------------------

    @property
    def supports(self) -> int:
        return len(self.supporters)

    @property
    def answer(self) -> str | None:
        return self.answers[-1]["answer"] if self.answers else None

    def due_on(self, answer_days: int) -> date | None:
        """The day by which the city answers, once it was forwarded."""
        return self.forwarded_on + timedelta(days=answer_days) if self.forwarded_on else None

    def is_overdue(self, today: date, answer_days: int) -> bool:
        """Forwarded to the city, not answered, and past the time the city has."""
        due = self.due_on(answer_days)
        return self.status == InitiativeStatus.FORWARDED and due is not None and today > due

    def is_due_at_meeting(self, threshold: int) -> bool:
        """Residents have put it on the agenda: it reached the threshold and no meeting has
        taken it up yet."""
        return self.status == InitiativeStatus.PROPOSED and self.supports >= threshold

    def _check_day(self, day: date, today: date, after: date | None, what: str) -> None:
        if day > today:
            raise InvalidValue(f"{what} cannot be in the future", rule="on")
        if after is not None and day < after:
            raise InvalidValue(f"{what} cannot be before {after}", rule="on")

    # --- support ----------------------------------------------------------------------------

    def support(self, resident_id: str) -> None:
        if self.status != InitiativeStatus.PROPOSED:
            raise WrongState(
                "support is given to an initiative before the table takes it up", rule="status"
            )
        if resident_id in self.supporters:
            raise WrongState("you support this initiative already", rule="supported")
        self._supported(table_id=self.table_id, resident_id=resident_id)

    @event("Supported")
    def _supported(self, table_id: str, resident_id: str) -> None:
        self.supporters.append(resident_id)

    # --- its life ---------------------------------------------------------------------------

    def discuss(self, meeting_id: str, on: date) -> None:
        """A meeting of the table took it up."""
        if self.status not in (InitiativeStatus.PROPOSED, InitiativeStatus.DISCUSSED):
            raise WrongState(
                f"the initiative is {self.status}: a meeting takes up one not forwarded yet",
                rule="status",
            )
        self._discussed(table_id=self.table_id, meeting_id=meeting_id, on=on)

    @event("Discussed")
    def _discussed(self, table_id: str, meeting_id: str, on: date) -> None:
        self.status = InitiativeStatus.DISCUSSED
        self.discussed_at.append(meeting_id)

    def forward(self, statement: str, by: str, on: date, today: date) -> None:
        """The table forwards it to the city with its statement."""
        if self.status != InitiativeStatus.DISCUSSED:
            raise WrongState(
                "a table forwards an initiative once a meeting has discussed it", rule="status"
            )
        self._check_day(on, today, self.raised_on, "forwarding")
        self._forwarded(
            table_id=self.table_id,
            statement=text(statement, "the table's statement", "statement"),
            by=by,
            on=on,
        )

    @event("Forwarded")
    def _forwarded(self, table_id: str, statement: str, by: str, on: date) -> None:
        self.status = InitiativeStatus.FORWARDED
        self.statement = statement
        self.forwarded_on = on

    def answer_with(self, answer: str, reasons: str, by: str, on: date, today: date) -> None:
        """The city answers: accepted, rejected (with its reasons) or in progress; an answer
        in progress is followed by another."""
        if answer not in set(Answer):
            raise InvalidValue(
                f"the city answers {', '.join(Answer)}; got {answer!r}", rule="answer"
            )
        if self.status not in (InitiativeStatus.FORWARDED, InitiativeStatus.ANSWERED):
            raise WrongState("the city answers an initiative forwarded to it", rule="status")
        if self.status == InitiativeStatus.ANSWERED and self.answer != Answer.IN_PROGRESS:
            raise WrongState(f"the city has answered {self.answer} already", rule="status")
        reasons = text(reasons, "the reasons", "reasons", blank=True)
        if answer == Answer.REJECTED and not reasons:
            raise InvalidValue("a rejection gives its reasons", rule="reasons")
        self._check_day(on, today, self.forwarded_on, "the answer")
        self._answered(table_id=self.table_id, answer=answer, reasons=reasons, by=by, on=on)

    @event("Answered")
    def _answered(self, table_id: str, answer: str, reasons: str, by: str, on: date) -> None:
        self.status = InitiativeStatus.ANSWERED
        self.answers.append({"answer": answer, "reasons": reasons, "by": by, "on": on})

    def implement(self, outcome: str, by: str, on: date, today: date) -> None:
        if self.status != InitiativeStatus.ANSWERED or self.answer == Answer.REJECTED:
            raise WrongState(
                "an initiative is implemented once the city has accepted it or taken it on",
                rule="status",
            )
        self._check_day(on, today, self.answers[-1]["on"], "implementing")
        self._implemented(
            table_id=self.table_id, outcome=text(outcome, "what was done", "outcome"), on=on
        )

    @event("Implemented")
    def _implemented(self, table_id: str, outcome: str, on: date) -> None:
        self.status = InitiativeStatus.IMPLEMENTED
        self.outcome = outcome

    def close(self, reason: str, by: str, on: date, today: date) -> None:
        if self.status in (InitiativeStatus.IMPLEMENTED, InitiativeStatus.CLOSED):
            raise WrongState(f"the initiative is {self.status} already", rule="status")
        self._check_day(on, today, self.raised_on, "closing")
        self._closed(table_id=self.table_id, reason=text(reason, "the reason", "reason"), on=on)

    @event("Closed")
    def _closed(self, table_id: str, reason: str, on: date) -> None:
        self.status = InitiativeStatus.CLOSED
        self.outcome = reason

    # --- a service programme ----------------------------------------------------------------

    def fund_programme(
        self,
        *,
        programme_id: UUID,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        pricing: str,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
        decided_by: str,
        table_regions: list[str],
    ) -> None:
        """The table funds the initiative as a service programme from its budget: residents'
        services of ``categories`` in ``regions`` (the table's own), delivered by
        ``provider_id`` and charged to the table's fund through a contract the provider signs."""
        if self.status in (InitiativeStatus.CLOSED, InitiativeStatus.PROPOSED):
            raise WrongState(
                "a table funds an initiative it has discussed and not closed", rule="status"
            )
        if self.programme is not None:
            raise WrongState("the initiative is a service programme already", rule="programme")
        if not provider_id.strip():
            raise InvalidValue("a programme needs the provider who delivers it", rule="provider_id")
        if not categories:
            raise InvalidValue("a programme covers at least one category", rule="categories")
        if not regions:
            raise InvalidValue("a programme covers at least one region", rule="regions")
        outside = sorted(set(regions) - set(table_regions))
        if outside:
            raise NotAllowed(
                f"a table funds services in its own regions; not in {', '.join(outside)}",
                rule="regions",
            )
        check_cents(unit_price_cents, "unit_price_cents", positive=True)
        check_cents(budget_cents, "budget_cents", positive=True)
        if pricing not in ("hour", "job"):
            raise InvalidValue(f"pricing is 'hour' or 'job', got {pricing!r}", rule="pricing")
        if valid_until < valid_from:
            raise InvalidValue("the programme ends on or after its start", rule="valid_until")
        self._programme_funded(
            table_id=self.table_id,
            programme_id=str(programme_id),
            title=self.title,
            provider_id=provider_id,
            categories=sorted(set(categories)),
            regions=sorted(set(regions)),
            unit_price_cents=unit_price_cents,
            pricing=pricing,
            budget_cents=budget_cents,
            valid_from=valid_from,
            valid_until=valid_until,
            decided_by=decided_by,
        )

    @event("ProgrammeFunded")
    def _programme_funded(
        self,
        table_id: str,
        programme_id: str,
        title: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        pricing: str,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
        decided_by: str,
    ) -> None:
        self.programme = {
            "programme_id": programme_id,
            "provider_id": provider_id,
            "categories": categories,
            "regions": regions,
            "unit_price_cents": unit_price_cents,
            "pricing": pricing,
            "budget_cents": budget_cents,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
