"""A resident's service request and the life it goes through until the work is confirmed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, NotAllowed, WrongState


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    UNMATCHED = "unmatched"


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
    ) -> None:
        self.resident_id = resident_id
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
        self.status = RequestStatus.SUBMITTED
        self.offer_id: str | None = None
        self.provider_id: str | None = None
        self.contract_id: str | None = None
        self.minutes: int | None = None
        self.unmatched_reason: str | None = None

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
    ) -> ServiceRequest:
        if not resident_id.strip():
            raise InvalidValue("a request needs the resident who makes it", rule="resident_id")
        if window_start.tzinfo is None or window_end.tzinfo is None:
            raise InvalidValue("the wished time window must carry a time zone", rule="window")
        if window_end <= window_start:
            raise InvalidValue("the wished time window must end after it starts", rule="window")
        if (lat is None) != (long is None):
            raise InvalidValue("give both lat and long, or neither", rule="lat")
        if lat is not None and not -90 <= lat <= 90:
            raise InvalidValue(f"lat must be between -90 and 90, got {lat}", rule="lat")
        if long is not None and not -180 <= long <= 180:
            raise InvalidValue(f"long must be between -180 and 180, got {long}", rule="long")
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
        )

    # --- matching ------------------------------------------------------------------------

    def record_offer(self, offer_id: str, provider_id: str) -> None:
        self.check_open_for_matching("offered to a provider")
        self._offered(offer_id=offer_id, provider_id=provider_id)

    @event("Offered")
    def _offered(self, offer_id: str, provider_id: str) -> None:
        self.status = RequestStatus.OFFERED
        self.offer_id = offer_id
        self.provider_id = provider_id

    def assign(self, offer_id: str, provider_id: str, contract_id: str) -> None:
        self.check_open_for_matching("assigned")
        self._assigned(offer_id=offer_id, provider_id=provider_id, contract_id=contract_id)

    @event("Assigned")
    def _assigned(self, offer_id: str, provider_id: str, contract_id: str) -> None:
        self.status = RequestStatus.ASSIGNED
        self.offer_id = offer_id
        self.provider_id = provider_id
        self.contract_id = contract_id

    def record_unmatched(self, reason: str) -> None:
        self.check_open_for_matching("marked unmatched")
        self._unmatched(reason=reason)

    @event("Unmatched")
    def _unmatched(self, reason: str) -> None:
        self.status = RequestStatus.UNMATCHED
        self.unmatched_reason = reason
        self.offer_id = None
        self.provider_id = None

    def check_open_for_matching(self, what: str) -> None:
        if self.status not in (RequestStatus.SUBMITTED, RequestStatus.OFFERED):
            raise WrongState(f"request is {self.status}, it cannot be {what}")

    # --- delivery ------------------------------------------------------------------------

    def report_completion(self, provider_id: str, minutes: int) -> None:
        if self.status != RequestStatus.ASSIGNED:
            raise WrongState(
                f"request is {self.status}; completion can be reported only when it is assigned"
            )
        if provider_id != self.provider_id:
            raise NotAllowed(
                "only the provider assigned to this request can report its completion",
                rule="provider_id",
            )
        if not 0 < minutes <= MAX_MINUTES_PER_REQUEST:
            raise InvalidValue(
                f"worked time must be more than 0 and at most {MAX_MINUTES_PER_REQUEST // 60} "
                f"hours, got {minutes} minutes",
                rule="hours",
            )
        assert self.contract_id is not None
        self._completed(provider_id=provider_id, contract_id=self.contract_id, minutes=minutes)

    @event("CompletionReported")
    def _completed(self, provider_id: str, contract_id: str, minutes: int) -> None:
        self.status = RequestStatus.COMPLETED
        self.minutes = minutes

    def confirm(self, resident_id: str) -> None:
        if resident_id != self.resident_id:
            raise NotAllowed(
                "only the resident who made the request can confirm it", rule="resident_id"
            )
        if self.status != RequestStatus.COMPLETED:
            raise WrongState(
                f"request is {self.status}; it can be confirmed once completion is reported"
            )
        assert self.provider_id and self.contract_id and self.minutes
        self._confirmed(
            resident_id=resident_id,
            provider_id=self.provider_id,
            contract_id=self.contract_id,
            minutes=self.minutes,
        )

    @event("Confirmed")
    def _confirmed(
        self, resident_id: str, provider_id: str, contract_id: str, minutes: int
    ) -> None:
        self.status = RequestStatus.CONFIRMED
