"""The providers service's use cases over the ``Provider`` aggregate.

Who may do what: any signed-in person founds a provider; a member of the provider changes
its capabilities, members and pauses; an officer of a municipal partner with an active
contract with it suspends and reinstates it. A provider the caller may not act on answers
as if it did not exist.
"""

from __future__ import annotations

from datetime import date

import msgspec

from domain.calendar import local_today
from domain.catalogue import Catalogue
from domain.providers import Provider
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.errors import NotFound
from services.platform.identity import Caller, Role, check_sees
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication
from services.providers.commands import (
    Capabilities,
    NewMember,
    NewPause,
    NewProvider,
    PartnerDecision,
)

# Pauses and contract periods are calendar dates in the municipality's own time zone.


def sees_whole(caller: Caller | None, provider: Provider) -> bool:
    """Whether ``caller`` reads the whole record (contact person, members, pauses, the
    suspension): a member of the provider, an officer or an admin; anybody else reads its
    public part."""
    if caller is None:
        return False
    return caller.is_member_of(str(provider.id)) or caller.holds(Role.OFFICER)


class ProvidersApplication(ServiceApplication):
    service = "providers"

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        super().__init__(settings)
        self.catalogue = catalogue or load_catalogue()

    def register(self, caller: Caller, command: NewProvider) -> Receipt:
        """``caller`` founds the provider; members act for it with tokens naming it."""
        check_scope(self.catalogue, command.categories, command.regions)
        person = command.contact_person
        provider = Provider.register(
            name=command.name,
            kind=command.kind.value,
            categories=command.categories,
            regions=command.regions,
            capacity=command.capacity,
            contact=command.contact,
            business_id=command.business_id,
            contact_person=msgspec.structs.asdict(person) if person else None,
            lat=command.lat,
            long=command.long,
        )
        return Receipt(str(provider.id), self.commit(provider))

    def get_provider(self, provider_id: str) -> Provider:
        return self.get(provider_id, "provider")

    def _own(self, caller: Caller, provider_id: str) -> Provider:
        """The provider ``caller`` is a member of (an admin: any), else 404."""
        provider = self.get_provider(provider_id)
        check_sees(caller.is_member_of(provider_id), "provider", provider_id)
        return provider

    def _under_contract(self, caller: Caller, provider_id: str) -> Provider:
        """The provider, if the officer's partner has a contract with it in force today
        (an admin: any provider, the domain then checks the partner), else 404."""
        provider = self.get_provider(provider_id)
        partners = provider.partners(local_today())
        check_sees(
            caller.is_admin or any(caller.is_officer_of(p) for p in partners),
            "provider",
            provider_id,
        )
        return provider

    def change_capabilities(
        self, caller: Caller, provider_id: str, command: Capabilities
    ) -> Receipt:
        check_scope(self.catalogue, command.categories, command.regions)
        provider = self._own(caller, provider_id)
        provider.change_capabilities(command.categories, command.regions, command.capacity)
        return Receipt(provider_id, self.commit(provider))

    def add_member(self, caller: Caller, provider_id: str, command: NewMember) -> Receipt:
        provider = self._own(caller, provider_id)
        member_id = provider.add_member(command.name, command.role)
        return Receipt(member_id, self.commit(provider))

    def remove_member(self, caller: Caller, provider_id: str, member_id: str) -> Receipt:
        provider = self._own(caller, provider_id)
        if member_id not in provider.members:
            raise NotFound(f"no member {member_id} in provider {provider_id}")
        provider.remove_member(member_id)
        return Receipt(member_id, self.commit(provider))

    def pause(self, caller: Caller, provider_id: str, command: NewPause) -> Receipt:
        provider = self._own(caller, provider_id)
        pause_id = provider.pause(command.starts, command.ends, command.reason, today=local_today())
        return Receipt(pause_id, self.commit(provider))

    def end_pause(self, caller: Caller, provider_id: str, pause_id: str) -> Receipt:
        provider = self._own(caller, provider_id)
        if pause_id not in provider.pauses:
            raise NotFound(f"no pause {pause_id} of provider {provider_id}")
        provider.end_pause(pause_id, today=local_today())
        return Receipt(pause_id, self.commit(provider))

    def suspend(self, caller: Caller, provider_id: str, command: PartnerDecision) -> Receipt:
        provider = self._under_contract(caller, provider_id)
        provider.suspend(caller.acting_partner, command.reason, today=local_today())
        return Receipt(provider_id, self.commit(provider))

    def reinstate(self, caller: Caller, provider_id: str, command: PartnerDecision) -> Receipt:
        provider = self._under_contract(caller, provider_id)
        provider.reinstate(caller.acting_partner, command.reason, today=local_today())
        return Receipt(provider_id, self.commit(provider))

    # --- from other services ----------------------------------------------------------

    def record_contract(
        self,
        changes: Changes,
        provider_id: str,
        contract_id: str,
        partner_id: str,
        valid_from: date,
        valid_until: date,
    ) -> None:
        """A partnership contract with the provider became active: its partner may now
        suspend and reinstate the provider while the contract is in force."""
        provider: Provider = changes.get(provider_id, "provider")
        provider.record_contract(contract_id, partner_id, valid_from, valid_until)
