"""The job: matching's record of one service request, the offers made for it and how it ended."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.errors import WrongState
from domain.matching.policy import JobToMatch


class JobStatus(StrEnum):
    OPEN = "open"
    OFFERED = "offered"
    TAKEN = "taken"
    DONE = "done"  # the provider reported the work: it no longer holds a place
    UNMATCHED = "unmatched"
    CLOSED = "closed"  # the request was cancelled or expired


class Job(Aggregate):
    """Matching's record of one service request: the offers made for it and how it ended.

    Its id is the request's id, so a redelivered ``ServiceRequested`` cannot open it twice.
    """

    @event("Opened")
    def __init__(
        self,
        id: UUID,
        category: str,
        region: str,
        on: date,
        lat: float | None = None,
        long: float | None = None,
        preferred_provider_id: str | None = None,
        resident_id: str = "",  # whose request; jobs opened before it was kept have ""
        chosen_provider_id: str | None = None,  # the resident's choice under a voucher
    ) -> None:
        self.resident_id = resident_id
        self.chosen_provider_id = chosen_provider_id
        self.category = category
        self.region = region
        self.on = on
        self.lat = lat
        self.long = long
        self.preferred_provider_id = preferred_provider_id
        self.offer_id: str | None = None
        self.provider_id: str | None = None
        self.offers: list[str] = []  # every offer made for it, in order
        self.declined_by: list[str] = []
        self.expired_for: list[str] = []  # providers that let an offer lapse
        self.status = JobStatus.OPEN
        self.reason = ""
        self.candidates: list[dict] = []  # the last decision that found nobody
        self.unrelated = 0

    def to_match(self, estimated_minutes: int = 60) -> JobToMatch:
        return JobToMatch(
            request_id=str(self.id),
            category=self.category,
            region=self.region,
            on=self.on,
            estimated_minutes=estimated_minutes,
            declined=frozenset(self.declined_by),
            let_expire=frozenset(self.expired_for),
            lat=self.lat,
            long=self.long,
            preferred_provider_id=self.preferred_provider_id,
            chosen_provider_id=self.chosen_provider_id,
        )

    def check_current(self, offer_id: str) -> None:
        if self.status != JobStatus.OFFERED or offer_id != self.offer_id:
            raise WrongState("this offer is no longer the job's current offer")

    def record_offer(self, offer_id: str, provider_id: str) -> None:
        if self.status != JobStatus.OPEN:
            raise WrongState(f"the job is {self.status}; it cannot be offered again")
        self._offer_recorded(offer_id=offer_id, provider_id=provider_id)

    @event("OfferRecorded")
    def _offer_recorded(self, offer_id: str, provider_id: str) -> None:
        self.offer_id = offer_id
        self.provider_id = provider_id
        self.offers.append(offer_id)
        self.status = JobStatus.OFFERED

    def record_decline(self, offer_id: str, provider_id: str) -> None:
        self.check_current(offer_id)
        self._declined(provider_id=provider_id)

    @event("Declined")
    def _declined(self, provider_id: str) -> None:
        self.declined_by.append(provider_id)
        self._reopen()

    def record_expiry(self, offer_id: str, provider_id: str) -> None:
        self.check_current(offer_id)
        self._offer_expired(provider_id=provider_id)

    @event("OfferExpired")
    def _offer_expired(self, provider_id: str) -> None:
        self.expired_for.append(provider_id)
        self._reopen()

    def record_withdrawal(self, offer_id: str) -> None:
        self.check_current(offer_id)
        self._offer_withdrawn(offer_id=offer_id)

    @event("OfferWithdrawn")
    def _offer_withdrawn(self, offer_id: str) -> None:
        self._reopen()

    def _reopen(self) -> None:
        self.offer_id = None
        self.provider_id = None
        self.status = JobStatus.OPEN

    def record_taken(self, offer_id: str, provider_id: str) -> None:
        self.check_current(offer_id)
        self._taken(offer_id=offer_id, provider_id=provider_id)

    @event("Taken")
    def _taken(self, offer_id: str, provider_id: str) -> None:
        self.status = JobStatus.TAKEN

    def record_completion(self) -> None:
        if self.status != JobStatus.TAKEN:
            raise WrongState(f"the job is {self.status}; no provider holds it")
        self._done()

    @event("Done")
    def _done(self) -> None:
        self.status = JobStatus.DONE

    def record_no_provider(
        self, reason: str, candidates: list[dict] | None = None, unrelated: int = 0
    ) -> None:
        if self.status != JobStatus.OPEN:
            raise WrongState(f"the job is {self.status}")
        self._no_provider_found(reason=reason, candidates=candidates or [], unrelated=unrelated)

    @event("NoProviderFound")
    def _no_provider_found(
        self, reason: str, candidates: list[dict] | None = None, unrelated: int = 0
    ) -> None:
        self.status = JobStatus.UNMATCHED
        self.reason = reason
        self.candidates = candidates or []
        self.unrelated = unrelated

    def reschedule(self, on: date) -> None:
        """A new day: matched again (an open offer must be withdrawn first). A job taken
        meanwhile was accepted for the old day, which the request refuses: it is matched
        again too (the place its provider held must be freed)."""
        if self.status not in (JobStatus.OPEN, JobStatus.UNMATCHED, JobStatus.TAKEN):
            raise WrongState(f"the job is {self.status}; it cannot be matched again")
        self._rescheduled(on=on)

    @event("Rescheduled")
    def _rescheduled(self, on: date) -> None:
        self.on = on
        self.status = JobStatus.OPEN
        self.reason = ""
        self.candidates = []
        self.unrelated = 0

    def close(self, reason: str) -> None:
        """The request was cancelled or expired: nothing more is offered."""
        if self.status in (JobStatus.OFFERED, JobStatus.CLOSED):
            raise WrongState(f"the job is {self.status}; it cannot be closed now")
        self._closed(reason=reason)

    @event("Closed")
    def _closed(self, reason: str) -> None:
        self.status = JobStatus.CLOSED
        self.reason = reason


# Events stored before matching became a package name the job by its old module path
# (``domain.matching:Job.Opened``). eventsourcing resolves a nested event's topic through
# the topic registered for its class, so this covers every event of the job.
register_topic("domain.matching:Job", Job)
