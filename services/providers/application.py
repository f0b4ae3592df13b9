"""The providers service's use cases over the ``Provider`` aggregate."""

from __future__ import annotations

from datetime import date

from domain.calendar import local_today
from domain.catalogue import Catalogue
from domain.providers import Provider
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.errors import NotFound
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication

# Pauses and contract periods are calendar dates in the municipality's own time zone.


class ProvidersApplication(ServiceApplication):
    service = "providers"

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        super().__init__(settings)
        self.catalogue = catalogue or load_catalogue()

    def register(
        self,
        *,
        name: str,
        kind: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
        contact: str = "",
        business_id: str | None = None,
        contact_person: dict[str, str] | None = None,
        lat: float | None = None,
        long: float | None = None,
    ) -> Receipt:
        check_scope(self.catalogue, categories, regions)
        provider = Provider.register(
            name=name,
            kind=kind,
            categories=categories,
            regions=regions,
            capacity=capacity,
            contact=contact,
            business_id=business_id,
            contact_person=contact_person,
            lat=lat,
            long=long,
        )
        return Receipt(str(provider.id), self.commit(provider))

    def get_provider(self, provider_id: str) -> Provider:
        return self.get(provider_id, "provider")

    def change_capabilities(
        self, provider_id: str, categories: list[str], regions: list[str], capacity: int
    ) -> Receipt:
        check_scope(self.catalogue, categories, regions)
        provider = self.get_provider(provider_id)
        provider.change_capabilities(categories, regions, capacity)
        return Receipt(provider_id, self.commit(provider))

    def add_member(self, provider_id: str, name: str, role: str = "") -> Receipt:
        provider = self.get_provider(provider_id)
        member_id = provider.add_member(name, role)
        return Receipt(member_id, self.commit(provider))

    def remove_member(self, provider_id: str, member_id: str) -> Receipt:
        provider = self.get_provider(provider_id)
        if member_id not in provider.members:
            raise NotFound(f"no member {member_id} in provider {provider_id}")
        provider.remove_member(member_id)
        return Receipt(member_id, self.commit(provider))

    def pause(self, provider_id: str, starts: date, ends: date | None, reason: str) -> Receipt:
        provider = self.get_provider(provider_id)
        pause_id = provider.pause(starts, ends, reason, today=local_today())
        return Receipt(pause_id, self.commit(provider))

    def end_pause(self, provider_id: str, pause_id: str) -> Receipt:
        provider = self.get_provider(provider_id)
        if pause_id not in provider.pauses:
            raise NotFound(f"no pause {pause_id} of provider {provider_id}")
        provider.end_pause(pause_id, today=local_today())
        return Receipt(pause_id, self.commit(provider))

    def suspend(self, provider_id: str, partner_id: str, reason: str) -> Receipt:
        provider = self.get_provider(provider_id)
        provider.suspend(partner_id, reason, today=local_today())
        return Receipt(provider_id, self.commit(provider))

    def reinstate(self, provider_id: str, partner_id: str, reason: str) -> Receipt:
        provider = self.get_provider(provider_id)
        provider.reinstate(partner_id, reason, today=local_today())
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
