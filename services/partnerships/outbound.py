"""The partnerships service's domain events, as the integration events others read."""

from __future__ import annotations

from contracts.events import (
    ChargeRefusedV1,
    ContractActivatedV1,
    ContractAmendedV1,
    ContractAmendmentProposedV1,
    ContractAmendmentSignedV1,
    ContractBudgetAlertV1,
    ContractChargedV1,
    ContractChargeReversedV1,
    ContractProposedV1,
    ContractResumedV1,
    ContractSignedV1,
    ContractSuspendedV1,
    ContractTerminatedV1,
)
from domain.partnership import PartnershipContract
from services.platform.outbound import translation

to_integration_event = translation(
    {
        PartnershipContract.Proposed: (ContractProposedV1, "contract_id"),
        PartnershipContract.Signed: (ContractSignedV1, "contract_id"),
        # a table's decision is its programme contract's signature for the partner; a
        # programme whose provider is unknown ends before it starts, with the reason
        PartnershipContract.SignedByTable: (ContractSignedV1, "contract_id"),
        PartnershipContract.ProgrammeRefused: (ContractTerminatedV1, "contract_id"),
        PartnershipContract.Activated: (ContractActivatedV1, "contract_id"),
        PartnershipContract.Charged: (ContractChargedV1, "contract_id"),
        PartnershipContract.ChargeRefused: (ChargeRefusedV1, "contract_id"),
        PartnershipContract.AmendmentProposed: (ContractAmendmentProposedV1, "contract_id"),
        PartnershipContract.AmendmentSigned: (ContractAmendmentSignedV1, "contract_id"),
        PartnershipContract.Amended: (ContractAmendedV1, "contract_id"),
        PartnershipContract.Suspended: (ContractSuspendedV1, "contract_id"),
        PartnershipContract.Resumed: (ContractResumedV1, "contract_id"),
        PartnershipContract.Terminated: (ContractTerminatedV1, "contract_id"),
        PartnershipContract.BudgetAlert: (ContractBudgetAlertV1, "contract_id"),
        PartnershipContract.ChargeReversed: (ContractChargeReversedV1, "contract_id"),
    }
)
