"""The providers service's domain events, as the integration events other services read.

Members travel by id only: their names stay in this service. Which contracts are active is
learnt from partnerships and kept here (``ContractRecorded``), not published again.
"""

from __future__ import annotations

from contracts.events import (
    ProviderCapabilitiesChangedV1,
    ProviderMemberJoinedV1,
    ProviderMemberLeftV1,
    ProviderPausedV1,
    ProviderPauseEndedV1,
    ProviderRegisteredV1,
    ProviderReinstatedV1,
    ProviderSuspendedV1,
)
from domain.providers import Provider
from services.platform.outbound import translation

to_integration_event = translation(
    {
        Provider.Registered: (ProviderRegisteredV1, "provider_id"),
        Provider.CapabilitiesChanged: (ProviderCapabilitiesChangedV1, "provider_id"),
        Provider.MemberJoined: (ProviderMemberJoinedV1, "provider_id"),
        Provider.MemberLeft: (ProviderMemberLeftV1, "provider_id"),
        Provider.Paused: (ProviderPausedV1, "provider_id"),
        Provider.PauseEnded: (ProviderPauseEndedV1, "provider_id"),
        Provider.Suspended: (ProviderSuspendedV1, "provider_id"),
        Provider.Reinstated: (ProviderReinstatedV1, "provider_id"),
    }
)
