"""The requests service's domain events, as the integration events other services read."""

from __future__ import annotations

from typing import Any

from contracts.events import (
    CompletionReportedV1,
    IntegrationEvent,
    RequestAssignedV1,
    RequestConfirmedV1,
    RequestOfferedV1,
    RequestUnmatchedV1,
    ServiceRequestedV1,
)
from domain.requests import ServiceRequest


def to_integration_event(event: Any) -> IntegrationEvent | None:
    request_id = str(event.originator_id)
    at = event.timestamp
    match event:
        case ServiceRequest.Submitted():
            return ServiceRequestedV1(
                occurred_at=at,
                request_id=request_id,
                resident_id=event.resident_id,
                category=event.category,
                region=event.region,
                description=event.description,
                window_start=event.window_start,
                window_end=event.window_end,
            )
        case ServiceRequest.Offered():
            return RequestOfferedV1(
                occurred_at=at,
                request_id=request_id,
                offer_id=event.offer_id,
                provider_id=event.provider_id,
            )
        case ServiceRequest.Assigned():
            return RequestAssignedV1(
                occurred_at=at,
                request_id=request_id,
                offer_id=event.offer_id,
                provider_id=event.provider_id,
                contract_id=event.contract_id,
            )
        case ServiceRequest.Unmatched():
            return RequestUnmatchedV1(occurred_at=at, request_id=request_id, reason=event.reason)
        case ServiceRequest.CompletionReported():
            return CompletionReportedV1(
                occurred_at=at,
                request_id=request_id,
                provider_id=event.provider_id,
                contract_id=event.contract_id,
                minutes=event.minutes,
            )
        case ServiceRequest.Confirmed():
            return RequestConfirmedV1(
                occurred_at=at,
                request_id=request_id,
                resident_id=event.resident_id,
                provider_id=event.provider_id,
                contract_id=event.contract_id,
                minutes=event.minutes,
            )
    return None
