"""A resident's service request and the life it goes through until the work is confirmed.

submitted -> offered -> assigned -> completed -> confirmed is the main path. Before assignment
the resident may reschedule (back to submitted) or cancel; a request nobody takes before its
window ends expires. After completion the resident confirms or disputes; a municipal partner
resolves a dispute (upheld or adjusted: confirmed with the final time; voided: nothing is
charged). A confirmed request can be rated once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.calendar import local_day
from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.place import check_location


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    UNMATCHED = "unmatched"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Stage:
    """What a status allows: the commands (by name) that can move a request on from it, and
    whether the work is over (``closed``: Open311's word; confirmed work may still be rated)."""

    allows: tuple[str, ...] = ()
    closed: bool = False


# Not yet taken by any provider: matching goes on, the resident may still move or drop it, and
# it expires when its window ends.
_WAITING = ("record_offer", "record_unmatched", "reschedule", "cancel", "expire")

# A request's states and what each allows, written once: each command checks its status here,
# ``next_steps`` lists from here, the sweeps find their candidates on the board by it and
# Open311 says open or closed after it.
LIFE: dict[RequestStatus, Stage] = {
    RequestStatus.SUBMITTED: Stage(_WAITING),
    RequestStatus.OFFERED: Stage((*_WAITING, "assign")),
    RequestStatus.UNMATCHED: Stage(_WAITING),
    RequestStatus.ASSIGNED: Stage(("report_completion", "cancel")),
    RequestStatus.COMPLETED: Stage(("confirm", "confirm_automatically", "dispute")),
    RequestStatus.DISPUTED: Stage(("resolve",)),
    RequestStatus.CONFIRMED: Stage(("rate",), closed=True),
    RequestStatus.CANCELLED: Stage(closed=True),
    RequestStatus.VOIDED: Stage(closed=True),
    RequestStatus.EXPIRED: Stage(closed=True),
}


def statuses_allowing(command: str) -> tuple[RequestStatus, ...]:
    """The statuses in which ``command`` can happen to a request."""
    return tuple(status for status, stage in LIFE.items() if command in stage.allows)


# The statuses in which the work is over.
CLOSED = tuple(status for status, stage in LIFE.items() if stage.closed)

OUTCOMES = ("upheld", "adjusted", "voided")
MAX_COMMENT_LENGTH = 1000
EXPIRY_REASON = "no provider took it before its window ended"


MAX_MINUTES_PER_REQUEST = 24 * 60


class ServiceRequest(Aggregate):
    """What a resident asked for, who was offered it, who does it, and how it ended."""

    @event("Submitted")
    def __init__(
        self,
        resident_id: str,
        category: str,
        region: str,
        description: str,
        window_start: datetime,
        window_end: datetime,
        address: str = "",
        lat: float | None = None,
        long: float | None = None,
        channel: str = "api",
        series_id: str | None = None,
        preferred_provider_id: str | None = None,
        media_url: str = "",
        chosen_provider_id: str | None = None,
    ) -> None:
        self.resident_id = resident_id
        # the provider the resident chose under a service voucher; matching decides whether
        # the choice may stand and records what became of it in the offer's explanation
        self.chosen_provider_id = chosen_provider_id
        self.category = category
        self.region = region
        self.description = description
        self.window_start = window_start
        self.window_end = window_end
        self.address = address
        self.lat = lat
        self.long = long
        self.channel = channel
        self.series_id = series_id
        self.preferred_provider_id = preferred_provider_id
        self.media_url = media_url
        self.status = RequestStatus.SUBMITTED
        self.offer_id: str | None = None
        self.provider_id: str | None = None
        self.contract_id: str | None = None
        self.minutes: int | None = None
        self.partner_id: str | None = None
        self.reason: str | None = None
        self.rating: int | None = None
        self.rating_comment: str | None = None

    @classmethod
    def submit(
        cls,
        *,
        resident_id: str,
        category: str,
        region: str,
        description: str,
        window_start: datetime,
        window_end: datetime,
        address: str = "",
        lat: float | None = None,
        long: float | None = None,
        channel: str = "api",
        series_id: str | None = None,
        preferred_provider_id: str | None = None,
        media_url: str = "",
        chosen_provider_id: str | None = None,
        now: datetime | None = None,
    ) -> ServiceRequest:
        if not resident_id.strip():
            raise InvalidValue("a request needs the resident who makes it", rule="resident_id")
        check_window(window_start, window_end, now)
        check_location(lat, long)
        if media_url.strip() and not media_url.strip().startswith(("https://", "http://")):
            raise InvalidValue("media_url must be an http or https address", rule="media_url")
        return cls(
            resident_id=resident_id,
            category=category,
            region=region,
            description=description.strip(),
            window_start=window_start,
            window_end=window_end,
            address=address.strip(),
            lat=lat,
            long=long,
            channel=channel,
            series_id=series_id,
            preferred_provider_id=preferred_provider_id,
            media_url=media_url.strip(),
            chosen_provider_id=chosen_provider_id,
        )

    # --- matching ------------------------------------------------------------------------

    def record_offer(
        self, offer_id: str, provider_id: str, why: str = "", explanation: dict | None = None
    ) -> None:
        """Matching offered the request to ``provider_id``; ``why`` is its explanation, in
        plain words, and ``explanation`` the facts it words, as plain values."""
        # Unmatched too: a verdict about a window the resident has since moved can arrive
        # after the move, and matching's next offer for the new window must still land.
        self.check_allows("record_offer", "it cannot be offered to a provider")
        self._offered(offer_id=offer_id, provider_id=provider_id, why=why, explanation=explanation)

    # ``why`` and ``explanation`` have defaults: Offered events stored before they were
    # recorded have neither.
    @event("Offered")
    def _offered(
        self, offer_id: str, provider_id: str, why: str = "", explanation: dict | None = None
    ) -> None:
        self.status = RequestStatus.OFFERED
        self.offer_id = offer_id
        self.provider_id = provider_id

    def assign(
        self, offer_id: str, provider_id: str, contract_id: str, partner_id: str = ""
    ) -> None:
        """``partner_id`` is the municipal partner of the contract: the one who resolves a
        dispute about this request. Only the request's current offer can be accepted: one
        accepted after the resident moved the window was for the old window."""
        self.check_allows("assign", "only an offered request can be assigned")
        if self.offer_id is None or offer_id != self.offer_id:
            raise WrongState("this offer is no longer the request's current offer")
        self._assigned(
            offer_id=offer_id,
            provider_id=provider_id,
            contract_id=contract_id,
            partner_id=partner_id,
        )

    @event("Assigned")
    def _assigned(
        self, offer_id: str, provider_id: str, contract_id: str, partner_id: str = ""
    ) -> None:
        self.status = RequestStatus.ASSIGNED
        self.offer_id = offer_id
        self.provider_id = provider_id
        self.contract_id = contract_id
        self.partner_id = partner_id or None

    def record_unmatched(self, reason: str) -> None:
        self.check_allows("record_unmatched", "it cannot be marked unmatched")
        self._unmatched(reason=reason)

    @event("Unmatched")
    def _unmatched(self, reason: str) -> None:
        self.status = RequestStatus.UNMATCHED
        self.reason = reason
        self.offer_id = None
        self.provider_id = None

    @property
    def unmatched_reason(self) -> str | None:
        """Why no provider could be found, while that is where the request stands."""
        return self.reason if self.status == RequestStatus.UNMATCHED else None

    # --- delivery ------------------------------------------------------------------------

    def report_completion(self, provider_id: str, minutes: int) -> None:
        self.check_allows(
            "report_completion", "completion can be reported only when it is assigned"
        )
        if provider_id != self.provider_id:
            raise NotAllowed(
                "only the provider assigned to this request can report its completion",
                rule="provider_id",
            )
        check_worked_minutes(minutes)
        assert self.contract_id is not None
        self._completed(provider_id=provider_id, contract_id=self.contract_id, minutes=minutes)

    @event("CompletionReported")
    def _completed(self, provider_id: str, contract_id: str, minutes: int) -> None:
        self.status = RequestStatus.COMPLETED
        self.minutes = minutes

    def confirm(self, resident_id: str) -> None:
        self.check_resident(resident_id, "confirm it")
        self.check_allows("confirm", "it can be confirmed once completion is reported")
        self._confirm_as("resident", self.minutes)

    def confirm_automatically(self, now: datetime, after: timedelta) -> None:
        """Confirm a completion the resident left unanswered for ``after``."""
        self.check_allows(
            "confirm_automatically",
            "it can be confirmed automatically once completion is reported",
        )
        # In the completed state the completion report is the last event.
        if now < self.modified_on + after:
            raise WrongState(
                f"completion was reported at {self.modified_on.isoformat()}; it is confirmed "
                f"automatically only {after} later"
            )
        self._confirm_as("automatic", self.minutes)

    def _confirm_as(self, how: str, minutes: int | None) -> None:
        assert self.provider_id and self.contract_id and minutes
        self._confirmed(
            worked_on=local_day(self.window_start),  # the day the work was booked for
            resident_id=self.resident_id,
            provider_id=self.provider_id,
            contract_id=self.contract_id,
            minutes=minutes,
            how=how,
        )

    @event("Confirmed")
    def _confirmed(
        self,
        resident_id: str,
        provider_id: str,
        contract_id: str,
        minutes: int,
        how: str = "resident",
        worked_on: date | None = None,  # None in confirmations recorded before it was
    ) -> None:
        self.status = RequestStatus.CONFIRMED
        self.minutes = minutes

    # --- the resident changes their mind -------------------------------------------------

    def reschedule(
        self,
        resident_id: str,
        window_start: datetime,
        window_end: datetime,
        now: datetime | None = None,
    ) -> None:
        """Move the wished window; any open offer lapses and matching starts again."""
        self.check_resident(resident_id, "reschedule it")
        self.check_allows("reschedule", "it can be rescheduled only before it is assigned")
        check_window(window_start, window_end, now)
        self._rescheduled(window_start=window_start, window_end=window_end)

    @event("Rescheduled")
    def _rescheduled(self, window_start: datetime, window_end: datetime) -> None:
        self.status = RequestStatus.SUBMITTED
        self.window_start = window_start
        self.window_end = window_end
        self.offer_id = None
        self.provider_id = None
        self.reason = None

    def cancel(self, resident_id: str, reason: str = "") -> None:
        """Drop the request. Once a provider has taken it, the resident must say why: the
        provider is told."""
        self.check_resident(resident_id, "cancel it")
        self.check_allows("cancel", "it can be cancelled only until the work is done")
        reason = reason.strip()
        if self.status == RequestStatus.ASSIGNED and not reason:
            raise InvalidValue(
                "a request already assigned to a provider can be cancelled only with a "
                "reason for the provider",
                rule="reason",
            )
        self._cancelled(
            resident_id=resident_id,
            reason=reason,
            was_status=str(self.status),
            provider_id=self.provider_id,
            offer_id=self.offer_id,
        )

    @event("Cancelled")
    def _cancelled(
        self,
        resident_id: str,
        reason: str,
        was_status: str,
        provider_id: str | None,
        offer_id: str | None,
    ) -> None:
        self.status = RequestStatus.CANCELLED
        self.reason = reason

    # --- time runs out -------------------------------------------------------------------

    def expire(self, now: datetime) -> None:
        """Nobody took the request and its wished window has ended."""
        self.check_allows("expire", "only a request no provider has taken can expire")
        if now <= self.window_end:
            raise WrongState(
                f"the wished window ends at {self.window_end.isoformat()}; the request has "
                "not expired yet"
            )
        self._expired(reason=EXPIRY_REASON, was_status=str(self.status))

    @event("Expired")
    def _expired(self, reason: str, was_status: str) -> None:
        self.status = RequestStatus.EXPIRED
        self.reason = reason

    # --- disputes ------------------------------------------------------------------------

    def dispute(self, resident_id: str, reason: str) -> None:
        """The resident does not accept the reported completion; the contract's municipal
        partner rules on it."""
        self.check_resident(resident_id, "dispute it")
        self.check_allows("dispute", "it can be disputed once completion is reported")
        reason = reason.strip()
        if not reason:
            raise InvalidValue("say what is wrong with the reported work", rule="reason")
        if not self.partner_id:
            raise NotAllowed(
                "no municipal partner is recorded for this request's contract, so nobody could "
                "rule on a dispute; confirm the work or contact the city",
                rule="partner_id",
            )
        assert self.provider_id and self.contract_id and self.minutes
        self._disputed(
            resident_id=resident_id,
            provider_id=self.provider_id,
            contract_id=self.contract_id,
            partner_id=self.partner_id,
            minutes=self.minutes,
            reason=reason,
        )

    @event("Disputed")
    def _disputed(
        self,
        resident_id: str,
        provider_id: str,
        contract_id: str,
        partner_id: str,
        minutes: int,
        reason: str,
    ) -> None:
        self.status = RequestStatus.DISPUTED
        self.reason = reason

    def resolve(self, partner_id: str, outcome: str, minutes: int | None, note: str) -> None:
        """The contract's municipal partner rules on a dispute: ``upheld`` keeps the reported
        time, ``adjusted`` replaces it with ``minutes``, ``voided`` charges nothing."""
        if not self.partner_id or partner_id != self.partner_id:
            raise NotAllowed(
                "only the municipal partner of the contract this request was assigned under "
                "can resolve its dispute",
                rule="partner_id",
            )
        self.check_allows("resolve", "only a disputed request is resolved")
        if outcome not in OUTCOMES:
            raise InvalidValue(
                f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}", rule="outcome"
            )
        if outcome == "adjusted":
            if minutes is None:
                raise InvalidValue("an adjusted outcome needs the hours to charge", rule="hours")
            check_worked_minutes(minutes)
        elif minutes is not None:
            raise InvalidValue("hours are given only with an adjusted outcome", rule="hours")
        note = note.strip()
        if not note:
            raise InvalidValue("a ruling needs a note saying why", rule="note")
        assert self.provider_id and self.contract_id and self.minutes
        final = {"upheld": self.minutes, "adjusted": minutes, "voided": 0}[outcome]
        self._dispute_resolved(
            partner_id=partner_id,
            provider_id=self.provider_id,
            contract_id=self.contract_id,
            outcome=outcome,
            minutes=final,
            note=note,
        )
        if outcome != "voided":
            self._confirm_as(outcome, final)

    @event("DisputeResolved")
    def _dispute_resolved(
        self,
        partner_id: str,
        provider_id: str,
        contract_id: str,
        outcome: str,
        minutes: int,
        note: str,
    ) -> None:
        self.reason = note
        if outcome == "voided":
            self.status = RequestStatus.VOIDED

    # --- after the work ------------------------------------------------------------------

    def rate(self, resident_id: str, stars: int, comment: str = "") -> None:
        self.check_resident(resident_id, "rate it")
        self.check_allows("rate", "only confirmed work can be rated")
        if self.rating is not None:
            raise WrongState("this request has been rated already; a rating is given once")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise InvalidValue(
                f"stars must be a whole number from 1 to 5, got {stars!r}", rule="stars"
            )
        comment = comment.strip()
        if len(comment) > MAX_COMMENT_LENGTH:
            raise InvalidValue(
                f"a comment is at most {MAX_COMMENT_LENGTH} characters, got {len(comment)}",
                rule="comment",
            )
        assert self.provider_id
        self._rated(
            resident_id=resident_id, provider_id=self.provider_id, stars=stars, comment=comment
        )

    @event("Rated")
    def _rated(self, resident_id: str, provider_id: str, stars: int, comment: str) -> None:
        self.rating = stars
        self.rating_comment = comment

    # --- what can happen now -------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        """Nothing can happen to it any more."""
        return not self.next_steps()

    def next_steps(self) -> list[str]:
        """The commands that can move the request on from where it is, by name: those its
        status allows, but a dispute without the partner who would rule on it (assignments
        older than partner ids) and a second rating."""
        lacking = {
            "dispute": not self.partner_id,
            "rate": self.rating is not None,
        }
        return [c for c in LIFE[self.status].allows if not lacking.get(c, False)]

    def check_allows(self, command: str, when: str) -> None:
        """WrongState unless the request's status allows ``command``; ``when`` says when
        it can."""
        if command not in LIFE[self.status].allows:
            raise WrongState(f"request is {self.status}; {when}")

    def check_resident(self, resident_id: str, what: str) -> None:
        if resident_id != self.resident_id:
            raise NotAllowed(
                f"only the resident who made the request can {what}", rule="resident_id"
            )


def check_window(window_start: datetime, window_end: datetime, now: datetime | None = None) -> None:
    """A window with a time zone that ends after it starts and, given ``now``, has not
    already ended."""
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise InvalidValue("the wished time window must carry a time zone", rule="window")
    if window_end <= window_start:
        raise InvalidValue("the wished time window must end after it starts", rule="window")
    if now is not None and window_end <= now:
        raise InvalidValue("the wished time window has already ended", rule="window")


def check_worked_minutes(minutes: int) -> None:
    if not 0 < minutes <= MAX_MINUTES_PER_REQUEST:
        raise InvalidValue(
            f"worked time must be more than 0 and at most {MAX_MINUTES_PER_REQUEST // 60} "
            f"hours, got {minutes} minutes",
            rule="hours",
        )
