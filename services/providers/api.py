"""HTTP API of the providers service: registration and a provider's record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from msgspec import Meta

from domain.providers import MAX_CAPACITY, ProviderKind
from projections import directory
from projections.schema import read_schema
from services.platform.http import Codes, caught_up
from services.platform.store import Receipt
from services.providers.application import ProvidersApplication


class NewProvider(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    kind: ProviderKind
    categories: Codes
    regions: Codes
    capacity: Annotated[int, Meta(ge=1, le=MAX_CAPACITY)]
    contact: Annotated[str, Meta(max_length=200)] = ""


class ProviderView(msgspec.Struct):
    id: str
    name: str
    kind: str
    categories: list[str]
    regions: list[str]
    capacity: int
    contact: str
    registered_at: str
    version: int


class DirectoryEntry(msgspec.Struct):
    provider_id: str
    name: str
    kind: str
    categories: list[str]
    regions: list[str]
    capacity: int
    registered_at: datetime
    position: int


class ProvidersController(Controller):
    path = "/providers"
    tags = ["providers"]

    @post("/", sync_to_thread=True, summary="Register a community provider")
    def register(self, data: NewProvider, state: State) -> Receipt:
        """A cooperative, association, village group or social enterprise registers what it
        does, where, and how many jobs it takes at once."""
        app: ProvidersApplication = state.application
        return app.register(
            name=data.name,
            kind=data.kind.value,
            categories=data.categories,
            regions=data.regions,
            capacity=data.capacity,
            contact=data.contact,
        )

    @get("/", summary="The provider directory")
    async def list_providers(
        self,
        state: State,
        category: str | None = None,
        region: str | None = None,
        kind: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        position: Annotated[
            int | None, Parameter(ge=0, description="wait until the directory has this position")
        ] = None,
    ) -> list[DirectoryEntry]:
        """Registered providers by name, optionally those doing a category, working in a
        region, or of a kind."""
        await caught_up(state, directory.PROJECTION, directory.UPSTREAM, position)
        rows = await directory.list_providers(
            state.pool,
            read_schema(state.settings.namespace),
            category=category,
            region=region,
            kind=kind,
            limit=limit,
            offset=offset,
        )
        return msgspec.convert(rows, list[DirectoryEntry])

    @get("/{provider_id:str}", sync_to_thread=True, summary="A provider's record")
    def get_provider(self, provider_id: str, state: State) -> ProviderView:
        app: ProvidersApplication = state.application
        provider = app.get_provider(provider_id)
        return ProviderView(
            id=str(provider.id),
            name=provider.name,
            kind=provider.kind,
            categories=provider.categories,
            regions=provider.regions,
            capacity=provider.capacity,
            contact=provider.contact,
            registered_at=provider.created_on.isoformat(),
            version=provider.version,
        )
