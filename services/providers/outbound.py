"""The providers service's domain events, as the integration events other services read."""

from __future__ import annotations

from typing import Any

from contracts.events import IntegrationEvent, ProviderRegisteredV1
from domain.providers import Provider


def to_integration_event(event: Any) -> IntegrationEvent | None:
    if isinstance(event, Provider.Registered):
        return ProviderRegisteredV1(
            occurred_at=event.timestamp,
            provider_id=str(event.originator_id),
            name=event.name,
            kind=event.kind,
            categories=event.categories,
            regions=event.regions,
            capacity=event.capacity,
        )
    return None
