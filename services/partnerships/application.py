"""The partnerships service's use cases over the ``PartnershipContract`` aggregate, each for
a caller: a contract the caller is no party to answers as one that is not there."""

from __future__ import annotations

import time
from datetime import date
from uuid import UUID

from eventsourcing.utils import get_topic

from contracts.events import ProgrammeFundedV1
from domain.calendar import local_today
from domain.catalogue import Catalogue
from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.partnership import (
    TERMS,
    BudgetExceeded,
    MunicipalPartner,
    PartnershipContract,
    Party,
    partner_key,
    table_of_partner,
    table_partner,
)
from projections.schema import read_schema
from services.partnerships.commands import (
    Amendment,
    Appointment,
    Decision,
    NewCharge,
    NewContract,
    NewPartner,
    Relief,
    Signature,
    SigningRule,
    Termination,
)
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.errors import NotFound
from services.platform.http import minutes_of
from services.platform.identity import Caller, Role, check_sees
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication


class PartnershipsApplication(ServiceApplication):
    service = "partnerships"

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(settings, env)
        self.catalogue = catalogue or load_catalogue()

    def propose(
        self, caller: Caller, command: NewContract, provider_registered: bool = True
    ) -> Receipt:
        """An officer proposes a contract for their own municipal partner to a provider that
        is registered (``provider_registered``, as the provider directory says). Where the
        partner is in the registry, the proposer is one of its officers, and its rule says how
        many officers sign."""
        partner_id = caller.acting_partner
        check_scope(self.catalogue, command.categories, command.regions)
        partner = self.proposers_partner(caller, partner_id)
        needed = partner.signatures_needed(command.budget_cents) if partner else 1
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
            proposed_by=caller.subject,
            partner_signatures_needed=needed,
            pricing=command.pricing,
            voucher_cents=command.voucher_cents,
        )
        return Receipt(str(contract.id), self.commit(contract))

    def sign(self, caller: Caller, contract_id: str, command: Signature) -> Receipt:
        """The caller signs for one party: a contract they are no party to is not there for
        them; for the partner, only an officer with the right to sign may: the registry's
        word where the partner is registered, their token's (``may_sign``) where it is not."""
        contract = self.visible_contract(caller, contract_id)
        may_sign = True
        if command.party == Party.PARTNER:
            acting_for = caller.partner_id if caller.holds(Role.OFFICER) else None
            may_sign = self.may_sign(caller, contract.partner_id)
        else:
            acting_for = caller.provider_id if caller.holds(Role.PROVIDER) else None
        contract.sign(command.party, acting_for, caller.subject, may_sign=may_sign)
        return Receipt(str(contract.id), self.commit(contract))

    # --- a table's service programme --------------------------------------------------------

    def contract_programme(self, changes: Changes, event: ProgrammeFundedV1) -> None:
        """A table funded a service programme: its contract, under the programme's id, with
        the table's decision as the partner's signature, waiting for the provider's. Once
        there, a second delivery of the programme changes nothing; a provider the directory
        does not know ends it at once, with the reason for the table to read."""
        try:
            programme_id = UUID(event.programme_id)
        except ValueError:
            raise InvalidValue(
                f"a programme's id is a UUID, got {event.programme_id!r}", rule="programme_id"
            ) from None
        if programme_id in changes.aggregates or self.contract_or_none(programme_id):
            return
        check_scope(self.catalogue, event.categories, event.regions)
        changes.add(
            PartnershipContract.for_programme(
                programme_id=programme_id,
                table_id=event.table_id,
                initiative_id=event.initiative_id,
                title=event.title,
                provider_id=event.provider_id,
                categories=event.categories,
                regions=event.regions,
                unit_price_cents=event.unit_price_cents,
                pricing=event.pricing,
                budget_cents=event.budget_cents,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
                decided_by=event.decided_by,
                provider_registered=self.provider_registered(event.provider_id),
                on=local_today(),
            )
        )

    def provider_registered(self, provider_id: str) -> bool:
        """Whether the provider directory lists ``provider_id``: now, or within the read
        wait (one registered a moment ago may not have reached it yet)."""
        query = (
            f"SELECT EXISTS (SELECT 1 FROM {read_schema(self.settings.namespace)}.directory "
            "WHERE provider_id = %s) AS registered"
        )
        deadline = time.monotonic() + self.settings.read_wait_seconds
        while True:
            with self.factory.datastore.transaction(commit=False) as curs:
                curs.execute(query, (provider_id,))
                if curs.fetchone()["registered"]:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def contract_or_none(self, contract_id: UUID) -> PartnershipContract | None:
        try:
            return self.get(contract_id, "partnership contract")
        except NotFound:
            return None

    # --- the registry of municipal partners -----------------------------------------------

    def register_partner(self, command: NewPartner) -> Receipt:
        """An admin registers a municipal partner; a code registered already is refused."""
        if self.partner_or_none(command.partner_id) is not None:
            raise WrongState(f"the municipal partner {command.partner_id} is registered already")
        partner = MunicipalPartner.register(
            command.partner_id, command.name, command.second_signature_above_cents
        )
        return Receipt(partner.partner_id, self.commit(partner))

    def appoint(self, partner_id: str, command: Appointment) -> Receipt:
        partner = self.get_partner(partner_id)
        partner.appoint(command.subject, command.may_sign)
        return Receipt(partner_id, self.commit(partner))

    def relieve(self, partner_id: str, subject: str, command: Relief) -> Receipt:
        partner = self.get_partner(partner_id)
        partner.relieve(subject, command.reason)
        return Receipt(partner_id, self.commit(partner))

    def change_rule(self, partner_id: str, command: SigningRule) -> Receipt:
        partner = self.get_partner(partner_id)
        partner.change_rule(command.second_signature_above_cents)
        return Receipt(partner_id, self.commit(partner))

    def get_partner(self, partner_id: str) -> MunicipalPartner:
        partner = self.partner_or_none(partner_id)
        if partner is None:
            raise NotFound.of("municipal partner", partner_id)
        return partner

    def partner_or_none(self, partner_id: str | None) -> MunicipalPartner | None:
        if not partner_id:
            return None
        try:
            return self.get(partner_key(partner_id), "municipal partner")
        except NotFound:
            return None

    def partner_ids(self) -> list[str]:
        """Every registered partner's code, in the order they were registered."""
        topic = get_topic(MunicipalPartner.Registered)
        found: list[str] = []
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic])
            if not page:
                return found
            for notification in page:
                found.append(self.mapper.to_domain_event(notification).partner_id)
            start = page[-1].id + 1

    # --- amendments, suspension, termination ----------------------------------------------

    def amend(self, caller: Caller, contract_id: str, command: Amendment) -> Receipt:
        """An officer of the contract's partner proposes its next version; both parties sign
        it again (the partner as its rule says for the new budget)."""
        contract = self.partners_contract(caller, contract_id)
        partner = self.proposers_partner(caller, contract.partner_id)
        changes = {
            name: getattr(command, name) for name in TERMS if getattr(command, name) is not None
        }
        check_scope(
            self.catalogue,
            changes.get("categories", contract.categories),
            changes.get("regions", contract.regions),
        )
        budget = changes.get("budget_cents", contract.budget_cents)
        contract.amend(
            changes,
            command.effective_from,
            caller.subject,
            command.reason,
            partner.signatures_needed(budget) if partner else 1,
        )
        return Receipt(str(contract.id), self.commit(contract))

    def suspend(self, caller: Caller, contract_id: str, command: Decision) -> Receipt:
        contract = self.signers_contract(caller, contract_id)
        contract.suspend(command.reason, caller.subject)
        return Receipt(str(contract.id), self.commit(contract))

    def resume(self, caller: Caller, contract_id: str, command: Decision) -> Receipt:
        contract = self.signers_contract(caller, contract_id)
        contract.resume(command.reason, caller.subject)
        return Receipt(str(contract.id), self.commit(contract))

    def terminate(self, caller: Caller, contract_id: str, command: Termination) -> Receipt:
        contract = self.signers_contract(caller, contract_id)
        contract.terminate(command.reason, caller.subject, command.on or local_today())
        return Receipt(str(contract.id), self.commit(contract))

    def proposers_partner(self, caller: Caller, partner_id: str) -> MunicipalPartner | None:
        """The registry's partner for a proposal (None where it is not registered): the
        caller, who proposes, must be one of its officers."""
        partner = self.partner_or_none(partner_id)
        if partner is not None and not partner.is_officer(caller.subject):
            raise NotAllowed(
                f"{caller.subject} is no officer of {partner_id} in the partner registry",
                rule="officer",
            )
        return partner

    def may_sign(self, caller: Caller, partner_id: str) -> bool:
        """Whether the caller signs for the partner: the registry's word where the partner
        is registered, their token's (``may_sign``) where it is not."""
        partner = self.partner_or_none(partner_id)
        return partner.may_sign(caller.subject) if partner else caller.may_sign

    def partners_contract(self, caller: Caller, contract_id: str) -> PartnershipContract:
        """The contract, for an officer of its partner; for anyone else there is none."""
        contract = self.get_contract(contract_id)
        check_sees(caller.is_officer_of(contract.partner_id), "partnership contract", contract_id)
        return contract

    def signers_contract(self, caller: Caller, contract_id: str) -> PartnershipContract:
        """The contract, for an officer of its partner who may sign for it (the registry's
        word where the partner is registered, the token's where not)."""
        contract = self.partners_contract(caller, contract_id)
        if not self.may_sign(caller, contract.partner_id):
            raise NotAllowed(
                "suspending, resuming or terminating a contract needs the right to sign",
                rule="may_sign",
            )
        return contract

    def charge(self, caller: Caller, contract_id: str, command: NewCharge) -> Receipt:
        """Charge the work on a request, as the contract's partner. A refusal is stored too,
        then reported as ``BudgetExceeded`` so that the caller learns the charge did not
        happen."""
        contract = self.get_contract(contract_id)
        check_sees(caller.is_officer_of(contract.partner_id), "partnership contract", contract_id)
        outcome = contract.charge(command.request_id, minutes_of(command.hours), command.worked_on)
        position = self.commit(contract)
        if not outcome.accepted:
            raise BudgetExceeded(outcome.reason)
        return Receipt(str(contract.id), position)

    def charge_confirmed_work(
        self,
        changes: Changes,
        contract_id: str,
        request_id: str,
        minutes: int,
        worked_on: date | None = None,
    ) -> None:
        """Charge a confirmed request under the version in force on the day of the work; a
        refusal is kept as an event and goes on the ledger."""
        changes.get(contract_id, "partnership contract").charge(request_id, minutes, worked_on)

    def reverse_voided_charge(
        self, changes: Changes, contract_id: str, request_id: str, note: str
    ) -> None:
        """A dispute voided the request: if it was charged (an officer charged it before the
        ruling), the charge is reversed and its city's share goes back to the budget; a
        request never charged, or reversed already, has nothing to give back."""
        contract = changes.get(contract_id, "partnership contract")
        if request_id in contract.charged_requests:
            contract.reverse(request_id, f"the dispute was voided: {note}".strip())

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

    def readable_contract(self, caller: Caller, contract_id: str) -> PartnershipContract:
        """The contract, for a party to it, an admin, or the coordinator of the table whose
        programme it is; else not found."""
        contract = self.get_contract(contract_id)
        check_sees(
            is_reader(caller, contract.partner_id, contract.provider_id),
            "partnership contract",
            contract_id,
        )
        return contract


def is_party(caller: Caller, partner_id: str, provider_id: str) -> bool:
    """Whether the caller sees a contract: an officer of its partner, a member of its
    provider, or an admin."""
    return caller.is_officer_of(partner_id) or caller.is_member_of(provider_id)


def reads_for(caller: Caller, partner_id: str) -> bool:
    """Whether the caller reads what a partner's contracts hold: an officer of the partner,
    the coordinator of the table whose programmes it contracts, or an admin."""
    return caller.is_officer_of(partner_id) or caller.is_coordinator_of(
        table_of_partner(partner_id)
    )


def is_reader(caller: Caller, partner_id: str, provider_id: str) -> bool:
    """Whether the caller reads a contract: a party to it, or the coordinator of the table
    whose programme it is (who reads it, but neither signs nor amends it)."""
    return reads_for(caller, partner_id) or caller.is_member_of(provider_id)


def readers_partner(caller: Caller) -> str | None:
    """The partner whose contracts the caller reads as partner: an officer's own, else a
    coordinator's table's (None: neither)."""
    if caller.holds(Role.OFFICER) and caller.partner_id:
        return caller.partner_id
    if caller.holds(Role.COORDINATOR) and caller.table_id:
        return table_partner(caller.table_id)
    return None
