"""The partnerships service's use cases over the ``PartnershipContract`` aggregate, each for
a caller: a contract the caller is no party to answers as one that is not there."""

from __future__ import annotations

from domain.catalogue import Catalogue
from domain.errors import NotAllowed
from domain.partnership import BudgetExceeded, PartnershipContract, Party
from services.partnerships.commands import NewCharge, NewContract, Signature
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.http import minutes_of
from services.platform.identity import Caller, Role, check_sees
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication


class PartnershipsApplication(ServiceApplication):
    service = "partnerships"

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        super().__init__(settings)
        self.catalogue = catalogue or load_catalogue()

    def propose(
        self, caller: Caller, command: NewContract, provider_registered: bool = True
    ) -> Receipt:
        """An officer proposes a contract for their own municipal partner to a provider that
        is registered (``provider_registered``, as the provider directory says)."""
        partner_id = caller.acting_partner
        check_scope(self.catalogue, command.categories, command.regions)
        contract = PartnershipContract.propose(
            partner_id=partner_id,
            provider_id=command.provider_id,
            categories=command.categories,
            regions=command.regions,
            unit_price_cents=command.unit_price_cents,
            budget_cents=command.budget_cents,
            valid_from=command.valid_from,
            valid_until=command.valid_until,
            provider_registered=provider_registered,
        )
        return Receipt(str(contract.id), self.commit(contract))

    def sign(self, caller: Caller, contract_id: str, command: Signature) -> Receipt:
        """The caller signs for one party: a contract they are no party to is not there for
        them; for the partner, only an officer with the right to sign may."""
        contract = self.visible_contract(caller, contract_id)
        if command.party == Party.PARTNER:
            acting_for = caller.partner_id if caller.holds(Role.OFFICER) else None
            if acting_for == contract.partner_id and not caller.may_sign:
                raise NotAllowed(
                    "signing for the municipal partner needs the right to sign",
                    rule="may_sign",
                )
        else:
            acting_for = caller.provider_id if caller.holds(Role.PROVIDER) else None
        contract.sign(command.party, acting_for, caller.subject)
        return Receipt(str(contract.id), self.commit(contract))

    def charge(self, caller: Caller, contract_id: str, command: NewCharge) -> Receipt:
        """Charge the work on a request, as the contract's partner. A refusal is stored too,
        then reported as ``BudgetExceeded`` so that the caller learns the charge did not
        happen."""
        contract = self.get_contract(contract_id)
        check_sees(caller.is_officer_of(contract.partner_id), "partnership contract", contract_id)
        outcome = contract.charge(command.request_id, minutes_of(command.hours))
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

    def visible_contract(self, caller: Caller, contract_id: str) -> PartnershipContract:
        """The contract, if the caller is one of its parties (or an admin); else not found."""
        contract = self.get_contract(contract_id)
        check_sees(
            is_party(caller, contract.partner_id, contract.provider_id),
            "partnership contract",
            contract_id,
        )
        return contract


def is_party(caller: Caller, partner_id: str, provider_id: str) -> bool:
    """Whether the caller sees a contract: an officer of its partner, a member of its
    provider, or an admin."""
    return caller.is_officer_of(partner_id) or caller.is_member_of(provider_id)
