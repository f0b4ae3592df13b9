"""The requests service's use cases over the ``ServiceRequest`` aggregate.

Each command of a person takes the verified caller, the ids in its path and the command itself.
A request the caller may not touch answers as a missing one would (404); then the domain
decides, and records who acted as the caller's token names them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from domain.catalogue import Catalogue
from domain.requests import ServiceRequest
from domain.series import RequestSeries
from services.platform.catalogue import check_scope, load_catalogue, region_of
from services.platform.errors import NotFound
from services.platform.http import minutes_of
from services.platform.identity import Caller, check_sees
from services.platform.personal import Personal
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication
from services.requests.commands import (
    Cancellation,
    CompletionReport,
    Confirmation,
    Dispute,
    NewRequest,
    Rating,
    Reschedule,
    Resolution,
)
from services.requests.residents import ResidentsUseCases
from services.requests.series import SeriesUseCases, acting_resident

# Where a resident's personal data is in the events (and snapshots) of requests and series:
# where the work is and what they wrote. The store keeps these sealed for the resident.
REQUEST_PLACE = ("description", "address", "lat", "long", "media_url")
SERIES_PLACE = ("description", "address", "lat", "long")
PERSONAL = {
    ServiceRequest.Submitted: Personal("resident_id", REQUEST_PLACE),
    ServiceRequest.Cancelled: Personal("resident_id", ("reason",)),
    ServiceRequest.Disputed: Personal("resident_id", ("reason",)),
    ServiceRequest.Rated: Personal("resident_id", ("comment",)),
    ServiceRequest: Personal("resident_id", (*REQUEST_PLACE, "reason", "rating_comment")),
    RequestSeries.Started: Personal("resident_id", SERIES_PLACE),
    RequestSeries.Ended: Personal("resident_id", ("reason",)),
    RequestSeries: Personal("resident_id", (*SERIES_PLACE, "ended_reason")),
}


class RequestsApplication(ResidentsUseCases, SeriesUseCases, ServiceApplication):
    service = "requests"
    personal = PERSONAL

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        super().__init__(settings)
        self.catalogue = catalogue or load_catalogue()

    # --- residents -----------------------------------------------------------------------

    def submit(self, caller: Caller, command: NewRequest) -> Receipt:
        """A resident's new request, through the native API."""
        return self.submit_request(
            resident_id=acting_resident(caller), **msgspec.structs.asdict(command)
        )

    def submit_request(self, *, category: str, region: str | None, **details: Any) -> Receipt:
        """A new request; ``details`` are ServiceRequest.submit's (resident, window, place,
        channel, series...). Without a region, it is the one its point lies in."""
        check_scope(self.catalogue, [category], [])
        region = region_of(self.catalogue, region, details.get("lat"), details.get("long"))
        request = ServiceRequest.submit(
            category=category, region=region, now=datetime.now(UTC), **details
        )
        return Receipt(str(request.id), self.commit(request))

    def confirm(self, caller: Caller, request_id: str, command: Confirmation) -> Receipt:
        request = self.residents_request(caller, request_id)
        request.confirm(caller.subject)
        return self.saved(request)

    def reschedule(self, caller: Caller, request_id: str, command: Reschedule) -> Receipt:
        request = self.residents_request(caller, request_id)
        request.reschedule(
            caller.subject, command.window_start, command.window_end, now=datetime.now(UTC)
        )
        return self.saved(request)

    def cancel(self, caller: Caller, request_id: str, command: Cancellation) -> Receipt:
        request = self.residents_request(caller, request_id)
        request.cancel(caller.subject, command.reason)
        return self.saved(request)

    def dispute(self, caller: Caller, request_id: str, command: Dispute) -> Receipt:
        request = self.residents_request(caller, request_id)
        request.dispute(caller.subject, command.reason)
        return self.saved(request)

    def rate(self, caller: Caller, request_id: str, command: Rating) -> Receipt:
        request = self.residents_request(caller, request_id)
        request.rate(caller.subject, command.stars, command.comment)
        return self.saved(request)

    # --- providers and municipal partners --------------------------------------------------

    def report_completion(
        self, caller: Caller, request_id: str, command: CompletionReport
    ) -> Receipt:
        request = self.seen_request(request_id, lambda r: caller.is_member_of(r.provider_id))
        request.report_completion(caller.acting_provider, minutes_of(command.hours))
        return self.saved(request)

    def resolve(self, caller: Caller, request_id: str, command: Resolution) -> Receipt:
        request = self.seen_request(request_id, lambda r: caller.is_officer_of(r.partner_id))
        minutes = None if command.hours is None else minutes_of(command.hours)
        request.resolve(caller.acting_partner, command.outcome, minutes, command.note)
        return self.saved(request)

    # --- timed work ----------------------------------------------------------------------

    def expire(self, request_id: str, now: datetime) -> Receipt:
        request = self.get_request(request_id)
        request.expire(now)
        return self.saved(request)

    def confirm_automatically(self, request_id: str, now: datetime, after: timedelta) -> Receipt:
        request = self.get_request(request_id)
        request.confirm_automatically(now, after)
        return self.saved(request)

    # --- finding a request ---------------------------------------------------------------

    def get_request(self, request_id: str) -> ServiceRequest:
        request = self.get(request_id, "service request")
        if not isinstance(request, ServiceRequest):  # the id of a series, say
            raise NotFound.of("service request", request_id)
        return request

    def seen_request(
        self, request_id: str, sees: Callable[[ServiceRequest], bool]
    ) -> ServiceRequest:
        """The request, if ``sees`` lets the caller see it; else 404, as for a missing one."""
        request = self.get_request(request_id)
        check_sees(sees(request), "service request", request_id)
        return request

    def residents_request(self, caller: Caller, request_id: str) -> ServiceRequest:
        """A request the caller made (an admin sees every one)."""
        return self.seen_request(request_id, lambda r: caller.is_resident(r.resident_id))

    def saved(self, request: ServiceRequest) -> Receipt:
        return Receipt(str(request.id), self.commit(request))

    # --- what matching tells us (a run of events, stored together) ---------------------

    def record_offer(
        self,
        changes: Changes,
        request_id: str,
        offer_id: str,
        provider_id: str,
        why: str = "",
        explanation: dict | None = None,
    ) -> None:
        changes.get(request_id, "service request").record_offer(
            offer_id, provider_id, why, explanation
        )

    def assign(
        self,
        changes: Changes,
        request_id: str,
        offer_id: str,
        provider_id: str,
        contract_id: str,
        partner_id: str = "",
    ) -> None:
        changes.get(request_id, "service request").assign(
            offer_id, provider_id, contract_id, partner_id
        )

    def record_unmatched(self, changes: Changes, request_id: str, reason: str) -> None:
        changes.get(request_id, "service request").record_unmatched(reason)
