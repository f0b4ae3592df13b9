"""HTTP API of the providers service: registration, members, capabilities, pauses, suspension
by municipal partners, a provider's record and the directory."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from msgspec import Meta

from domain.calendar import local_today
from domain.providers import MAX_CAPACITY, Provider, ProviderKind
from projections import directory
from projections.schema import read_schema
from services.platform.http import (
    Body,
    Codes,
    Id,
    Lat,
    Limit,
    Long,
    Offset,
    PathId,
    Position,
    QueryCode,
    caught_up,
    line,
    text,
)
from services.platform.store import Receipt
from services.providers.application import ProvidersApplication

Name = line(200, min_length=1)
Reason = text(1000, min_length=1)
Line = line(200)
Phone = line(50)
BusinessId = line(20)
Capacity = Annotated[int, Meta(ge=1, le=MAX_CAPACITY)]


class ContactPerson(Body):
    name: Line = ""
    phone: Phone = ""
    email: Line = ""


class NewProvider(Body):
    name: Name
    kind: ProviderKind
    categories: Codes
    regions: Codes
    capacity: Capacity
    contact: Line = ""
    business_id: BusinessId | None = None
    contact_person: ContactPerson | None = None
    lat: Lat | None = None
    long: Long | None = None


class NewMember(Body):
    name: Name
    role: Line = ""


class NewPause(Body):
    starts: date
    reason: Reason
    ends: date | None = None


class Capabilities(Body):
    categories: Codes
    regions: Codes
    capacity: Capacity


class PartnerDecision(Body):
    partner_id: Id
    reason: Reason


class MemberView(msgspec.Struct):
    member_id: str
    name: str
    role: str


class PauseView(msgspec.Struct):
    pause_id: str
    starts: date
    ends: date | None
    reason: str
    state: Literal["upcoming", "current", "over", "ended"]
    ended_on: date | None


class SuspensionView(msgspec.Struct):
    partner_id: str
    reason: str


class ProviderView(msgspec.Struct):
    id: str
    name: str
    kind: str
    business_id: str | None
    contact_person: ContactPerson | None
    contact: str
    categories: list[str]
    regions: list[str]
    capacity: int
    lat: float | None
    long: float | None
    status: Literal["active", "paused", "suspended"]
    status_reason: str
    suspension: SuspensionView | None
    members: list[MemberView]
    pauses: list[PauseView]
    partners: list[str]
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
    status: str
    business_id: str | None
    lat: float | None
    long: float | None
    members: int
    rating_average: float | None
    rating_count: int


def provider_view(provider: Provider, today: date) -> ProviderView:
    status, reason = provider.status(today)
    return ProviderView(
        id=str(provider.id),
        name=provider.name,
        kind=provider.kind,
        business_id=provider.business_id,
        contact_person=ContactPerson(**provider.contact_person)
        if provider.contact_person
        else None,
        contact=provider.contact,
        categories=provider.categories,
        regions=provider.regions,
        capacity=provider.capacity,
        lat=provider.lat,
        long=provider.long,
        status=status.value,
        status_reason=reason,
        suspension=SuspensionView(**provider.suspension) if provider.suspension else None,
        members=[MemberView(member_id=k, **v) for k, v in provider.members.items()],
        pauses=[
            PauseView(
                pause_id=k,
                starts=v["starts"],
                ends=v["ends"],
                reason=v["reason"],
                state=provider.pause_state(k, today),
                ended_on=v["ended_on"],
            )
            for k, v in sorted(provider.pauses.items(), key=lambda item: item[1]["starts"])
        ],
        partners=provider.partners(today),
        registered_at=provider.created_on.isoformat(),
        version=provider.version,
    )


class ProvidersController(Controller):
    path = "/providers"
    tags = ["providers"]

    @post("/", sync_to_thread=True, summary="Register a community provider")
    def register(self, data: NewProvider, state: State) -> Receipt:
        """A cooperative, registered association or social enterprise registers with its
        business id (Y-tunnus); a village group or unregistered association with a contact
        person (name and a phone or an email). Each declares what it does, where, and how many
        jobs it takes at once."""
        app: ProvidersApplication = state.application
        return app.register(
            name=data.name,
            kind=data.kind.value,
            categories=data.categories,
            regions=data.regions,
            capacity=data.capacity,
            contact=data.contact,
            business_id=data.business_id,
            contact_person=msgspec.structs.asdict(data.contact_person)
            if data.contact_person
            else None,
            lat=data.lat,
            long=data.long,
        )

    @get("/", summary="The provider directory")
    async def list_providers(
        self,
        state: State,
        category: QueryCode = None,
        region: QueryCode = None,
        kind: QueryCode = None,
        status: Annotated[
            Literal["active", "paused", "suspended"] | None,
            Parameter(description="status today: active, paused or suspended"),
        ] = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[DirectoryEntry]:
        """Registered providers by name, optionally those doing a category, working in a
        region, of a kind, or with a status; each with its members, status today and the
        residents' average rating of its work."""
        await caught_up(state, directory.PROJECTION, directory.UPSTREAM, position)
        rows = await directory.list_providers(
            state.pool,
            read_schema(state.settings.namespace),
            today=local_today(),
            category=category,
            region=region,
            kind=kind,
            status=status,
            limit=limit,
            offset=offset,
        )
        return msgspec.convert(rows, list[DirectoryEntry])

    @get("/{provider_id:str}", sync_to_thread=True, summary="A provider's record")
    def get_provider(self, provider_id: PathId, state: State) -> ProviderView:
        """The whole record: business id or contact person, members, pauses, status today
        (with its reason) and the municipal partners with an active contract."""
        app: ProvidersApplication = state.application
        return provider_view(app.get_provider(provider_id), local_today())

    @post("/{provider_id:str}/capabilities", sync_to_thread=True, summary="Change capabilities")
    def change_capabilities(self, provider_id: PathId, data: Capabilities, state: State) -> Receipt:
        """Replace the categories, regions and capacity the provider declares."""
        app: ProvidersApplication = state.application
        return app.change_capabilities(provider_id, data.categories, data.regions, data.capacity)

    @post("/{provider_id:str}/members", sync_to_thread=True, summary="Add a member")
    def add_member(self, provider_id: PathId, data: NewMember, state: State) -> Receipt:
        """A person joins the provider; the answer's id is the member's id."""
        app: ProvidersApplication = state.application
        return app.add_member(provider_id, data.name, data.role)

    @delete(
        "/{provider_id:str}/members/{member_id:str}",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        summary="Remove a member",
    )
    def remove_member(self, provider_id: PathId, member_id: PathId, state: State) -> Receipt:
        app: ProvidersApplication = state.application
        return app.remove_member(provider_id, member_id)

    @post("/{provider_id:str}/pauses", sync_to_thread=True, summary="Declare a pause")
    def pause(self, provider_id: PathId, data: NewPause, state: State) -> Receipt:
        """No offers from ``starts`` to ``ends`` (dates, inclusive; until further notice without
        ``ends``). A pause starts today at the earliest and may not overlap another that is
        upcoming or current. The answer's id is the pause's id."""
        app: ProvidersApplication = state.application
        return app.pause(provider_id, data.starts, data.ends, data.reason)

    @post(
        "/{provider_id:str}/pauses/{pause_id:str}/end",
        sync_to_thread=True,
        summary="End a pause early",
    )
    def end_pause(self, provider_id: PathId, pause_id: PathId, state: State) -> Receipt:
        """The provider takes work again from today (or calls off a pause not yet begun)."""
        app: ProvidersApplication = state.application
        return app.end_pause(provider_id, pause_id)

    @post("/{provider_id:str}/suspension", sync_to_thread=True, summary="Suspend a provider")
    def suspend(self, provider_id: PathId, data: PartnerDecision, state: State) -> Receipt:
        """A municipal partner with an active contract with the provider suspends it; matching
        offers it nothing until it is reinstated."""
        app: ProvidersApplication = state.application
        return app.suspend(provider_id, data.partner_id, data.reason)

    @post("/{provider_id:str}/reinstatement", sync_to_thread=True, summary="Reinstate a provider")
    def reinstate(self, provider_id: PathId, data: PartnerDecision, state: State) -> Receipt:
        """A municipal partner with an active contract with the provider lifts its suspension."""
        app: ProvidersApplication = state.application
        return app.reinstate(provider_id, data.partner_id, data.reason)
