"""HTTP API of the requests service: residents submit, reschedule, cancel, confirm, dispute and
rate; providers report completion; municipal partners resolve disputes; each reads the requests
that concern them, and everybody reads the public request board."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from anyio import to_thread
from litestar import Controller, get, post

from domain.calendar import local_day
from domain.catalogue import Catalogue, Category, Region
from domain.money import Money, price_for, shares_of
from projections import board, ledger
from services.platform.http import (
    Limit,
    Offset,
    PathId,
    Position,
    QueryCode,
    QueryId,
    Reads,
    caught_up,
)
from services.platform.identity import (
    OFFICER,
    PROVIDER,
    PUBLIC,
    RESIDENT,
    SIGNED_IN,
    Caller,
    Role,
    check_sees,
)
from services.platform.personal import open_rows
from services.platform.store import Receipt
from services.requests.application import RequestsApplication
from services.requests.commands import (
    Cancellation,
    CompletionReport,
    Confirmation,
    Dispute,
    NewRequest,
    Rating,
    Reschedule,
    Resolution,
)
from services.requests.history import HistoryEntry, history


class BoardEntry(msgspec.Struct):
    request_id: str
    resident_id: str
    category: str
    region: str
    description: str
    window_start: datetime
    window_end: datetime
    status: str
    offer_id: str | None
    provider_id: str | None
    contract_id: str | None
    minutes: int | None
    reason: str | None
    submitted_at: datetime
    updated_at: datetime
    position: int
    address: str
    lat: float | None
    long: float | None
    channel: str
    series_id: str | None
    partner_id: str | None
    completed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    media_url: str
    # With ?as_of=: the moment asked for, and the request's version then (else null).
    as_of: datetime | None = None
    version: int | None = None
    # For the resident, once the request is assigned: the price terms of its contract on the
    # day of the work, and once the hours are reported, who pays what (before confirming).
    price: PriceTerms | None = None
    estimate: Estimate | None = None


class PriceTerms(msgspec.Struct):
    """What the work costs under the contract's version in force on its day."""

    pricing: str  # "hour": the unit price an hour; "job": once per job
    unit_price_cents: int
    voucher_cents: int | None  # the service voucher: the most the city pays; None: all of it
    version: int


class Estimate(msgspec.Struct):
    """The charge the reported hours make, and its shares: the city's (at most the voucher)
    and the resident's own (omavastuu)."""

    amount_cents: int
    city_cents: int
    resident_cents: int


class PublicEntry(msgspec.Struct):
    """A request as the city publishes it: never who asked; where and what only for a public
    matter (work on common ground), null for a household's own; ``"[erased]"`` (the point
    null) once the resident's personal data is erased."""

    request_id: str
    category: str
    region: str
    status: str
    window_start: datetime
    window_end: datetime
    submitted_at: datetime
    updated_at: datetime
    position: int
    address: str | None
    lat: float | None
    long: float | None
    description: str | None


# What the public board opens of a public matter: where it is and what is to be done.
PUBLIC_SEALED = {
    "request_sealed": {f: f for f in ("description", "address", "lat", "long")},
}


def sees(caller: Caller, entry: dict) -> bool:
    """Whether the caller may read a request: its resident, a member of the provider it is
    offered or assigned to, an officer of its municipal partner, or an admin."""
    return (
        caller.is_resident(entry["resident_id"])
        or caller.is_member_of(entry["provider_id"])
        or caller.is_officer_of(entry["partner_id"])
    )


def request_as_of(
    application: RequestsApplication, caller: Caller, request_id: str, moment: datetime
) -> BoardEntry:
    """The request as it stood at ``moment``, rebuilt from its events; who may read it is
    who may read it now."""
    request = application.seen_request(request_id, lambda r: sees(caller, vars(r)))
    then = application.as_of(request.id, moment, "service request", request_id)
    fields = {f.name for f in msgspec.structs.fields(BoardEntry)}
    values = {name: getattr(then, name) for name in fields if hasattr(then, name)}
    return msgspec.convert(
        {
            **values,
            "request_id": str(then.id),
            "status": str(then.status),
            "submitted_at": then.created_on,
            "updated_at": then.modified_on,
            "position": 0,
            "completed_at": None,
            "as_of": moment,
            "version": then.version,
        },
        BoardEntry,
        strict=False,
    )


async def with_price(reads: Reads, entry: BoardEntry) -> BoardEntry:
    """The entry with its contract's price terms on the day of the work, and once hours are
    reported, the charge they make and who pays it: read from the contract ledger (a read
    model of the partnerships stream), priced by the domain's rule, the same the contract
    charges by."""
    assert entry.contract_id
    terms = await ledger.price_terms(
        reads.pool, reads.schema, entry.contract_id, local_day(entry.window_start)
    )
    if terms is None:
        return entry
    estimate = None
    if entry.minutes:
        amount = price_for(terms["pricing"], Money(terms["unit_price_cents"]), entry.minutes)
        shares = shares_of(amount, terms["voucher_cents"])
        estimate = Estimate(amount.cents, shares.city.cents, shares.resident.cents)
    return msgspec.structs.replace(
        entry, price=msgspec.convert(terms, PriceTerms), estimate=estimate
    )


def scope_of(caller: Caller) -> board.Scope:
    """The requests the caller sees in a list, as ``sees`` says of one."""
    return board.Scope(
        everything=caller.is_admin,
        resident_id=caller.subject if caller.holds(Role.RESIDENT) else None,
        provider_id=caller.provider_id if caller.holds(Role.PROVIDER) else None,
        partner_id=caller.partner_id if caller.holds(Role.OFFICER) else None,
    )


class RequestsController(Controller):
    path = "/requests"
    tags = ["requests"]

    @post("/", guards=[RESIDENT], sync_to_thread=True, summary="Submit a service request")
    def submit(self, data: NewRequest, caller: Caller, application: RequestsApplication) -> Receipt:
        """A resident asks for a service in a category and region, within a wished window;
        optionally where (address, lat and long, for the nearest provider) and a photo.

        A resident, in their own name."""
        return application.submit(caller, data)

    @post(
        "/{request_id:str}/completion",
        guards=[PROVIDER],
        sync_to_thread=True,
        summary="Report completion",
    )
    def report_completion(
        self,
        request_id: PathId,
        data: CompletionReport,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The assigned provider reports the work done and the hours, in quarter hours.

        A member of the provider the request is assigned to."""
        return application.report_completion(caller, request_id, data)

    @post(
        "/{request_id:str}/confirmation",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Confirm the work",
    )
    def confirm(
        self,
        request_id: PathId,
        data: Confirmation,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The resident who made the request confirms the work was done; the contract is
        charged. The body is empty: ``{}``.

        The resident who made the request."""
        return application.confirm(caller, request_id, data)

    @post(
        "/{request_id:str}/reschedule",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Move the wished window",
    )
    def reschedule(
        self,
        request_id: PathId,
        data: Reschedule,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The resident moves the wished window of a request no provider has taken yet; any
        open offer is withdrawn and matching starts again for the new window.

        The resident who made the request."""
        return application.reschedule(caller, request_id, data)

    @post(
        "/{request_id:str}/cancellation",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Cancel a request",
    )
    def cancel(
        self,
        request_id: PathId,
        data: Cancellation,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The resident cancels. Once assigned, only with a reason: the provider is told.

        The resident who made the request."""
        return application.cancel(caller, request_id, data)

    @post(
        "/{request_id:str}/dispute",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="Dispute the completion",
    )
    def dispute(
        self,
        request_id: PathId,
        data: Dispute,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The resident disputes the reported work instead of confirming it; the contract's
        municipal partner resolves the dispute.

        The resident who made the request."""
        return application.dispute(caller, request_id, data)

    @post(
        "/{request_id:str}/resolution",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="Resolve a dispute",
    )
    def resolve(
        self,
        request_id: PathId,
        data: Resolution,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The contract's municipal partner rules: ``upheld`` charges the reported hours,
        ``adjusted`` the ``hours`` given, ``voided`` nothing.

        An officer of the municipal partner the dispute goes to."""
        return application.resolve(caller, request_id, data)

    @post(
        "/{request_id:str}/rating", guards=[RESIDENT], sync_to_thread=True, summary="Rate the work"
    )
    def rate(
        self,
        request_id: PathId,
        data: Rating,
        caller: Caller,
        application: RequestsApplication,
    ) -> Receipt:
        """The resident rates confirmed work once: 1 to 5 stars and an optional comment.

        The resident who made the request."""
        return application.rate(caller, request_id, data)

    @get("/{request_id:str}", guards=[SIGNED_IN], summary="One request")
    async def get_request(
        self,
        request_id: PathId,
        caller: Caller,
        reads: Reads,
        application: RequestsApplication,
        position: Position = None,
        as_of: datetime | None = None,
    ) -> BoardEntry:
        """The whole entry: status, who it is offered or assigned to, where and what. The
        resident's personal data (description, address, lat, long, media_url, their reason
        and rating comment) reads ``"[erased]"`` (lat and long null) once erased.

        With ``as_of`` (a moment with its time zone; 422, rule ``as_of``, without one) the
        request as it stood then, rebuilt from its events (``as_of`` and ``version`` say
        which); before it was submitted there is none (404).

        Its resident, a member of the provider it is offered or assigned to, an officer of
        its municipal partner, or an admin; to anybody else it does not exist (404)."""
        if as_of is not None:
            return await to_thread.run_sync(request_as_of, application, caller, request_id, as_of)
        await caught_up(reads, board.PROJECTION, board.UPSTREAM, position)
        row = await board.get_request(reads.pool, reads.schema, request_id)
        check_sees(row is not None and sees(caller, row), "service request", request_id)
        [row] = await open_rows(application.keyring, reads.primary, [row], board.SEALED)
        entry = msgspec.convert(row, BoardEntry)
        if entry.contract_id and caller.is_resident(entry.resident_id):
            entry = await with_price(reads, entry)
        return entry

    @get("/", guards=[SIGNED_IN], summary="The caller's requests")
    async def list_requests(
        self,
        caller: Caller,
        reads: Reads,
        application: RequestsApplication,
        status: QueryCode = None,
        region: QueryCode = None,
        category: QueryCode = None,
        provider_id: QueryId = None,
        series_id: QueryId = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[BoardEntry]:
        """Requests with their status and who they are offered or assigned to, newest first.

        Those of the caller: a resident's own, those offered or assigned to a provider
        member's provider, those of an officer's municipal partner; an admin's are all. A
        provider finds the jobs offered to it with ``?status=offered``; a resident the
        requests of one recurring series with ``?series_id=...``."""
        await caught_up(reads, board.PROJECTION, board.UPSTREAM, position)
        rows = await board.list_requests(
            reads.pool,
            reads.schema,
            scope_of(caller),
            status=status,
            region=region,
            category=category,
            provider_id=provider_id,
            series_id=series_id,
            limit=limit,
            offset=offset,
        )
        rows = await open_rows(application.keyring, reads.primary, rows, board.SEALED)
        return msgspec.convert(rows, list[BoardEntry])

    @get(
        "/{request_id:str}/history",
        guards=[SIGNED_IN],
        sync_to_thread=True,
        summary="What happened to a request, and why",
    )
    def get_history(
        self, request_id: PathId, caller: Caller, application: RequestsApplication
    ) -> list[HistoryEntry]:
        """Every event of the request, oldest first: ``what`` happened (submitted, offered,
        assigned, ..., rated), ``at`` what time, the request's ``version`` it made, and the
        facts of its kind (the window, who it was offered to and why, the contract, a
        reason, hours, a ruling, the rating). Read from the event store, so current at once;
        never names the resident.

        Those who may read the request (``GET /requests/{id}``); to anybody else it does not
        exist (404). A provider's member reads an offer made to another provider, and a
        partner's officer one made to another provider than the one under its contract,
        without who it went to or why."""
        # The aggregate names its resident, provider and partner as the board's row does.
        request = application.seen_request(request_id, lambda r: sees(caller, vars(r)))
        events = application.repository.event_store.get(request.id, lte=request.version)
        return history(request, events, caller)


class BoardController(Controller):
    path = "/board"
    tags = ["board"]
    guards = [PUBLIC]

    @get("/", summary="The request board")
    async def list_board(
        self,
        application: RequestsApplication,
        reads: Reads,
        status: QueryCode = None,
        region: QueryCode = None,
        category: QueryCode = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[PublicEntry]:
        """Every request as the city publishes it, newest first: its category, region,
        status and wished window; where and what only for public matters (the catalogue's
        work on common ground), never who asked.

        Anybody, signed in or not."""
        await caught_up(reads, board.PROJECTION, board.UPSTREAM, position)
        rows = await board.public_board(
            reads.pool,
            reads.schema,
            application.catalogue.public_matters(),
            status=status,
            region=region,
            category=category,
            limit=limit,
            offset=offset,
        )
        rows = await open_rows(application.keyring, reads.primary, rows, PUBLIC_SEALED)
        return msgspec.convert(rows, list[PublicEntry])

    @get("/{request_id:str}", summary="One request on the board")
    async def get_entry(
        self,
        request_id: PathId,
        application: RequestsApplication,
        reads: Reads,
        position: Position = None,
    ) -> PublicEntry:
        """One request as the city publishes it.

        Anybody, signed in or not."""
        await caught_up(reads, board.PROJECTION, board.UPSTREAM, position)
        row = await board.public_entry(
            reads.pool, reads.schema, application.catalogue.public_matters(), request_id
        )
        check_sees(row is not None, "service request", request_id)
        [row] = await open_rows(application.keyring, reads.primary, [row], PUBLIC_SEALED)
        return msgspec.convert(row, PublicEntry)


# --- the catalogue -----------------------------------------------------------------------


class Polygon(msgspec.Struct):
    """A GeoJSON Polygon (RFC 7946): one ring of [lon, lat] positions, the first repeated last."""

    type: Literal["Polygon"]
    coordinates: list[list[tuple[float, float]]]


class Names(msgspec.Struct):
    """A text in Finnish and in English; the English one stands in where none is in Finnish."""

    fi: str
    en: str


class CategoryView(msgspec.Struct):
    code: str
    name: str  # in English, as Open311 shows it
    description: str
    names: Names
    descriptions: Names
    estimated_minutes: int
    group: str
    public_matter: bool


class RegionView(msgspec.Struct):
    code: str
    name: str
    names: Names
    boundary: Polygon | None  # null: drawn without one, never found from a point


class CatalogueView(msgspec.Struct):
    categories: list[CategoryView]
    regions: list[RegionView]


def in_both(english: str, finnish: str) -> Names:
    return Names(fi=finnish or english, en=english)


def category_view(category: Category) -> CategoryView:
    return CategoryView(
        code=category.code,
        name=category.name,
        description=category.description,
        names=in_both(category.name, category.name_fi),
        descriptions=in_both(category.description, category.description_fi),
        estimated_minutes=category.estimated_minutes,
        group=category.group,
        public_matter=category.public_matter,
    )


def region_view(region: Region) -> RegionView:
    boundary = None
    if region.boundary is not None:
        boundary = Polygon(type="Polygon", coordinates=[list(region.boundary)])
    return RegionView(
        code=region.code,
        name=region.name,
        names=in_both(region.name, region.name_fi),
        boundary=boundary,
    )


def catalogue_view(catalogue: Catalogue) -> CatalogueView:
    return CatalogueView(
        categories=[category_view(c) for c in catalogue.categories.values()],
        regions=[region_view(r) for r in catalogue.regions.values()],
    )


class CatalogueController(Controller):
    path = "/catalogue"
    tags = ["catalogue"]
    guards = [PUBLIC]

    @get("/", summary="The service catalogue and the regions")
    async def get_catalogue(self, application: RequestsApplication) -> CatalogueView:
        """The categories a request may be in and the regions it may be in, as the city's
        reference file has them, in the file's order: each with its names in Finnish and in
        English, a category's estimated duration, group and whether it is a public matter, a
        region's boundary as a GeoJSON Polygon (null for a region drawn without one).

        Anybody, signed in or not."""
        return catalogue_view(application.catalogue)
