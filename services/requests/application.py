"""The requests service's use cases over the ``ServiceRequest`` aggregate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.catalogue import Catalogue
from domain.requests import ServiceRequest
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication
from services.requests.series import SeriesUseCases


class RequestsApplication(SeriesUseCases, ServiceApplication):
    service = "requests"

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        super().__init__(settings)
        self.catalogue = catalogue or load_catalogue()

    # --- residents and providers ---------------------------------------------------------

    def submit(self, *, category: str, region: str, **details: Any) -> Receipt:
        """A new request; ``details`` are ServiceRequest.submit's (resident, window, place,
        channel, series...)."""
        check_scope(self.catalogue, [category], [region])
        request = ServiceRequest.submit(
            category=category, region=region, now=datetime.now(UTC), **details
        )
        return Receipt(str(request.id), self.commit(request))

    def report_completion(self, request_id: str, provider_id: str, minutes: int) -> Receipt:
        request = self.get_request(request_id)
        request.report_completion(provider_id, minutes)
        return Receipt(str(request.id), self.commit(request))

    def confirm(self, request_id: str, resident_id: str) -> Receipt:
        request = self.get_request(request_id)
        request.confirm(resident_id)
        return Receipt(str(request.id), self.commit(request))

    def reschedule(
        self, request_id: str, resident_id: str, window_start: datetime, window_end: datetime
    ) -> Receipt:
        request = self.get_request(request_id)
        request.reschedule(resident_id, window_start, window_end, now=datetime.now(UTC))
        return Receipt(str(request.id), self.commit(request))

    def cancel(self, request_id: str, resident_id: str, reason: str) -> Receipt:
        request = self.get_request(request_id)
        request.cancel(resident_id, reason)
        return Receipt(str(request.id), self.commit(request))

    def dispute(self, request_id: str, resident_id: str, reason: str) -> Receipt:
        request = self.get_request(request_id)
        request.dispute(resident_id, reason)
        return Receipt(str(request.id), self.commit(request))

    def resolve(
        self, request_id: str, partner_id: str, outcome: str, minutes: int | None, note: str
    ) -> Receipt:
        request = self.get_request(request_id)
        request.resolve(partner_id, outcome, minutes, note)
        return Receipt(str(request.id), self.commit(request))

    def rate(self, request_id: str, resident_id: str, stars: int, comment: str) -> Receipt:
        request = self.get_request(request_id)
        request.rate(resident_id, stars, comment)
        return Receipt(str(request.id), self.commit(request))

    # --- timed work ----------------------------------------------------------------------

    def expire(self, request_id: str, now: datetime) -> Receipt:
        request = self.get_request(request_id)
        request.expire(now)
        return Receipt(str(request.id), self.commit(request))

    def confirm_automatically(self, request_id: str, now: datetime, after: timedelta) -> Receipt:
        request = self.get_request(request_id)
        request.confirm_automatically(now, after)
        return Receipt(str(request.id), self.commit(request))

    def get_request(self, request_id: str) -> ServiceRequest:
        return self.get(request_id, "service request")

    # --- what matching tells us (a run of events, stored together) ---------------------

    def record_offer(
        self, changes: Changes, request_id: str, offer_id: str, provider_id: str
    ) -> None:
        changes.get(request_id, "service request").record_offer(offer_id, provider_id)

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
