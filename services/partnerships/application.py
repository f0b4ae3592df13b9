"""The partnerships service's use cases over the ``PartnershipContract`` aggregate."""

from __future__ import annotations

from datetime import date

from domain.catalogue import Catalogue
from domain.partnership import BudgetExceeded, PartnershipContract
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication


class PartnershipsApplication(ServiceApplication):
    service = "partnerships"

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        super().__init__(settings)
        self.catalogue = catalogue or load_catalogue()

    def propose(
        self,
        *,
        partner_id: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
    ) -> Receipt:
        check_scope(self.catalogue, categories, regions)
        contract = PartnershipContract.propose(
            partner_id=partner_id,
            provider_id=provider_id,
            categories=categories,
            regions=regions,
            unit_price_cents=unit_price_cents,
            budget_cents=budget_cents,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return Receipt(str(contract.id), self.commit(contract))

    def sign(self, contract_id: str, party: str, signed_by: str) -> Receipt:
        contract = self.get_contract(contract_id)
        contract.sign(party, signed_by)
        return Receipt(str(contract.id), self.commit(contract))

    def charge(self, contract_id: str, request_id: str, minutes: int) -> Receipt:
        """Charge the work on a request. A refusal is stored too, then reported as
        ``BudgetExceeded`` so that the caller learns the charge did not happen."""
        contract = self.get_contract(contract_id)
        outcome = contract.charge(request_id, minutes)
        position = self.commit(contract)
        if not outcome.accepted:
            raise BudgetExceeded(outcome.reason)
        return Receipt(str(contract.id), position)

    def charge_confirmed_work(
        self, changes: Changes, contract_id: str, request_id: str, minutes: int
    ) -> None:
        """Charge a confirmed request; a refusal is kept as an event and goes on the ledger."""
        changes.get(contract_id, "partnership contract").charge(request_id, minutes)

    def get_contract(self, contract_id: str) -> PartnershipContract:
        return self.get(contract_id, "partnership contract")
