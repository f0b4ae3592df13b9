"""The partnerships service's domain events, as the integration events others read."""

from __future__ import annotations

from typing import Any

from contracts.events import (
    ChargeRefusedV1,
    ContractActivatedV1,
    ContractChargedV1,
    ContractProposedV1,
    ContractSignedV1,
    IntegrationEvent,
)
from domain.partnership import PartnershipContract


def to_integration_event(event: Any) -> IntegrationEvent | None:
    contract_id = str(event.originator_id)
    at = event.timestamp
    match event:
        case PartnershipContract.Proposed():
            return ContractProposedV1(
                occurred_at=at,
                contract_id=contract_id,
                partner_id=event.partner_id,
                provider_id=event.provider_id,
                categories=event.categories,
                regions=event.regions,
                unit_price_cents=event.unit_price_cents,
                budget_cents=event.budget_cents,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
            )
        case PartnershipContract.Signed():
            return ContractSignedV1(
                occurred_at=at,
                contract_id=contract_id,
                party=event.party,
                signed_by=event.signed_by,
            )
        case PartnershipContract.Activated():
            return ContractActivatedV1(
                occurred_at=at,
                contract_id=contract_id,
                partner_id=event.partner_id,
                provider_id=event.provider_id,
                categories=event.categories,
                regions=event.regions,
                unit_price_cents=event.unit_price_cents,
                budget_cents=event.budget_cents,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
            )
        case PartnershipContract.Charged():
            return ContractChargedV1(
                occurred_at=at,
                contract_id=contract_id,
                request_id=event.request_id,
                minutes=event.minutes,
                amount_cents=event.amount_cents,
                charged_cents=event.charged_cents,
                remaining_cents=event.remaining_cents,
            )
        case PartnershipContract.ChargeRefused():
            return ChargeRefusedV1(
                occurred_at=at,
                contract_id=contract_id,
                request_id=event.request_id,
                minutes=event.minutes,
                amount_cents=event.amount_cents,
                remaining_cents=event.remaining_cents,
                reason=event.reason,
            )
    return None
