"""Matching's domain events, as the integration events other services read.

Roster and job bookkeeping stays inside matching; offers and no-match verdicts go out.
"""

from __future__ import annotations

from typing import Any

from contracts.events import (
    IntegrationEvent,
    NoProviderFoundV1,
    OfferAcceptedV1,
    OfferDeclinedV1,
    OfferMadeV1,
)
from domain.matching import Job, Offer


def to_integration_event(event: Any) -> IntegrationEvent | None:
    at = event.timestamp
    match event:
        case Offer.Made():
            return OfferMadeV1(
                occurred_at=at,
                offer_id=str(event.originator_id),
                request_id=event.request_id,
                provider_id=event.provider_id,
                contract_id=event.contract_id,
            )
        case Offer.Accepted():
            return OfferAcceptedV1(
                occurred_at=at,
                offer_id=str(event.originator_id),
                request_id=event.request_id,
                provider_id=event.provider_id,
                contract_id=event.contract_id,
            )
        case Offer.Declined():
            return OfferDeclinedV1(
                occurred_at=at,
                offer_id=str(event.originator_id),
                request_id=event.request_id,
                provider_id=event.provider_id,
                reason=event.reason,
            )
        case Job.NoProviderFound():
            return NoProviderFoundV1(
                occurred_at=at, request_id=str(event.originator_id), reason=event.reason
            )
    return None
