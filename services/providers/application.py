"""The providers service's use cases over the ``Provider`` aggregate."""

from __future__ import annotations

from domain.catalogue import Catalogue
from domain.providers import Provider
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.settings import Settings
from services.platform.store import Receipt, ServiceApplication


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
    ) -> Receipt:
        check_scope(self.catalogue, categories, regions)
        provider = Provider.register(
            name=name,
            kind=kind,
            categories=categories,
            regions=regions,
            capacity=capacity,
            contact=contact,
        )
        return Receipt(str(provider.id), self.commit(provider))

    def get_provider(self, provider_id: str) -> Provider:
        return self.get(provider_id, "provider")
