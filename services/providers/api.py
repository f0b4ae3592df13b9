"""HTTP API of the providers service: registration, members, capabilities, pauses, suspension
by municipal partners, a provider's record and the directory."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from domain.calendar import local_day, local_today
from domain.providers import Provider
from projections import directory
from services.platform.http import (
    Limit,
    Offset,
    PathId,
    Position,
    QueryCode,
    Reads,
    caught_up,
)
from services.platform.identity import OFFICER, PROVIDER, PUBLIC, SIGNED_IN, Caller
from services.platform.store import Receipt
from services.providers.application import ProvidersApplication, sees_whole
from services.providers.commands import (
    Capabilities,
    ContactPerson,
    NewMember,
    NewPause,
    NewProvider,
    PartnerDecision,
)


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
    """A provider's record. Anybody reads its public part; a member of the provider, an
    officer or an admin reads the whole of it (``whole``). In the public part the private
    fields (the contact person and contact, the reason of the status, the suspension, the
    members' names and the pauses) are null; ``member_count`` is always given."""

    id: str
    name: str
    kind: str
    business_id: str | None
    categories: list[str]
    regions: list[str]
    capacity: int
    lat: float | None
    long: float | None
    status: Literal["active", "paused", "suspended"]
    member_count: int
    partners: list[str]
    registered_at: str
    version: int
    whole: bool
    contact_person: ContactPerson | None
    contact: str | None
    status_reason: str | None
    suspension: SuspensionView | None
    members: list[MemberView] | None
    pauses: list[PauseView] | None
    as_of: datetime | None = None  # with ?as_of=: the moment the record is as of


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


def provider_view(provider: Provider, today: date, whole: bool) -> ProviderView:
    """The record as the caller may read it: whole, or its public part."""
    status, reason = provider.status(today)
    public = ProviderView(
        id=str(provider.id),
        name=provider.name,
        kind=provider.kind,
        business_id=provider.business_id,
        categories=provider.categories,
        regions=provider.regions,
        capacity=provider.capacity,
        lat=provider.lat,
        long=provider.long,
        status=status.value,
        member_count=len(provider.members),
        partners=provider.partners(today),
        registered_at=provider.created_on.isoformat(),
        version=provider.version,
        whole=False,
        contact_person=None,
        contact=None,
        status_reason=None,
        suspension=None,
        members=None,
        pauses=None,
    )
    if not whole:
        return public
    return msgspec.structs.replace(
        public,
        whole=True,
        contact_person=ContactPerson(**provider.contact_person)
        if provider.contact_person
        else None,
        contact=provider.contact,
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
    )


class ProvidersController(Controller):
    path = "/providers"
    tags = ["providers"]

    @post("/", guards=[SIGNED_IN], sync_to_thread=True, summary="Register a community provider")
    def register(
        self, data: NewProvider, application: ProvidersApplication, caller: Caller
    ) -> Receipt:
        """A cooperative, registered association or social enterprise registers with its
        business id (Y-tunnus); a village group or unregistered association with a contact
        person (name and a phone or an email). Each declares what it does, where, and how many
        jobs it takes at once. Any signed-in person may found a provider; its members then act
        for it with tokens that name it."""
        return application.register(caller, data)

    @get("/", guards=[PUBLIC], summary="The provider directory")
    async def list_providers(
        self,
        reads: Reads,
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
        region, of a kind, or with a status; each with how many members it has, its status
        today and the residents' average rating of its work. Public: it names no contact
        person and no member."""
        await caught_up(reads, directory.PROJECTION, directory.UPSTREAM, position)
        rows = await directory.list_providers(
            reads.pool,
            reads.schema,
            today=local_today(),
            category=category,
            region=region,
            kind=kind,
            status=status,
            limit=limit,
            offset=offset,
        )
        return msgspec.convert(rows, list[DirectoryEntry])

    @get("/{provider_id:str}", guards=[PUBLIC], sync_to_thread=True, summary="A provider's record")
    def get_provider(
        self,
        provider_id: PathId,
        application: ProvidersApplication,
        maybe_caller: Caller | None,
        as_of: datetime | None = None,
    ) -> ProviderView:
        """The whole record: business id or contact person, members, pauses, status today
        (with its reason) and the municipal partners with an active contract. Public in
        part: a member of the provider, an officer or an admin reads the whole record,
        anybody else its public part (no contact person, member names or pauses).

        With ``as_of`` (a moment with its time zone; 422, rule ``as_of``, without one) the
        record as it stood then, rebuilt from its events: who were its members, with their
        roles, its status and partners on that day. Before it registered there is none
        (404)."""
        provider = application.get_provider(provider_id)
        whole = sees_whole(maybe_caller, provider)
        if as_of is None:
            return provider_view(provider, local_today(), whole)
        then = application.as_of(provider.id, as_of, "provider", provider_id)
        return msgspec.structs.replace(provider_view(then, local_day(as_of), whole), as_of=as_of)

    @post(
        "/{provider_id:str}/capabilities",
        guards=[PROVIDER],
        sync_to_thread=True,
        summary="Change capabilities",
    )
    def change_capabilities(
        self,
        provider_id: PathId,
        data: Capabilities,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """Replace the categories, regions and capacity the provider declares. A member of
        the provider."""
        return application.change_capabilities(caller, provider_id, data)

    @post(
        "/{provider_id:str}/members", guards=[PROVIDER], sync_to_thread=True, summary="Add a member"
    )
    def add_member(
        self,
        provider_id: PathId,
        data: NewMember,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """A person joins the provider; the answer's id is the member's id. A member of the
        provider adds them."""
        return application.add_member(caller, provider_id, data)

    @delete(
        "/{provider_id:str}/members/{member_id:str}",
        guards=[PROVIDER],
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        summary="Remove a member",
    )
    def remove_member(
        self,
        provider_id: PathId,
        member_id: PathId,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """A member of the provider removes a member."""
        return application.remove_member(caller, provider_id, member_id)

    @post(
        "/{provider_id:str}/pauses",
        guards=[PROVIDER],
        sync_to_thread=True,
        summary="Declare a pause",
    )
    def pause(
        self,
        provider_id: PathId,
        data: NewPause,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """No offers from ``starts`` to ``ends`` (dates, inclusive; until further notice without
        ``ends``). A pause starts today at the earliest and may not overlap another that is
        upcoming or current. The answer's id is the pause's id. A member of the provider."""
        return application.pause(caller, provider_id, data)

    @post(
        "/{provider_id:str}/pauses/{pause_id:str}/end",
        guards=[PROVIDER],
        sync_to_thread=True,
        summary="End a pause early",
    )
    def end_pause(
        self,
        provider_id: PathId,
        pause_id: PathId,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """The provider takes work again from today (or calls off a pause not yet begun). A
        member of the provider."""
        return application.end_pause(caller, provider_id, pause_id)

    @post(
        "/{provider_id:str}/suspension",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="Suspend a provider",
    )
    def suspend(
        self,
        provider_id: PathId,
        data: PartnerDecision,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """A municipal partner with an active contract with the provider suspends it; matching
        offers it nothing until it is reinstated. An officer of that partner; for any other
        the provider is not there (404)."""
        return application.suspend(caller, provider_id, data)

    @post(
        "/{provider_id:str}/reinstatement",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="Reinstate a provider",
    )
    def reinstate(
        self,
        provider_id: PathId,
        data: PartnerDecision,
        application: ProvidersApplication,
        caller: Caller,
    ) -> Receipt:
        """A municipal partner with an active contract with the provider lifts its suspension.
        An officer of that partner; for any other the provider is not there (404)."""
        return application.reinstate(caller, provider_id, data)
