"""The providers service's domain events, as the integration events other services read."""

from __future__ import annotations

from contracts.events import ProviderRegisteredV1
from domain.providers import Provider
from services.platform.outbound import translation

to_integration_event = translation({Provider.Registered: (ProviderRegisteredV1, "provider_id")})
