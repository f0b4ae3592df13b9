"""The partnerships service's domain events, as the integration events others read."""

from __future__ import annotations

from contracts.events import (
    ChargeRefusedV1,
    ContractActivatedV1,
    ContractChargedV1,
    ContractProposedV1,
    ContractSignedV1,
)
from domain.partnership import PartnershipContract
from services.platform.outbound import translation

to_integration_event = translation(
    {
        PartnershipContract.Proposed: (ContractProposedV1, "contract_id"),
        PartnershipContract.Signed: (ContractSignedV1, "contract_id"),
        PartnershipContract.Activated: (ContractActivatedV1, "contract_id"),
        PartnershipContract.Charged: (ContractChargedV1, "contract_id"),
        PartnershipContract.ChargeRefused: (ChargeRefusedV1, "contract_id"),
    }
)
