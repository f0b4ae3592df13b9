"""HTTP API of the requests service: residents submit, reschedule, cancel, confirm, dispute and
rate; providers report completion; municipal partners resolve disputes; everybody reads the
request board."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from msgspec import Meta

from projections import board
from projections.schema import read_schema
from services.platform.errors import NotFound
from services.platform.http import (
    AwareDatetime,
    Body,
    Code,
    Hours,
    Id,
    Lat,
    Limit,
    Long,
    Offset,
    PathId,
    Position,
    QueryCode,
    QueryId,
    caught_up,
    line,
    minutes_of,
    text,
)
from services.platform.store import Receipt
from services.requests.application import RequestsApplication

Description = text(4000)
Address = line(300)
MediaUrl = line(2000)
Reason = text(1000)
Note = text(2000)


class NewRequest(Body):
    resident_id: Id
    category: Code
    region: Code
    window_start: AwareDatetime
    window_end: AwareDatetime
    description: Description = ""
    address: Address = ""
    lat: Lat | None = None
    long: Long | None = None
    media_url: MediaUrl = ""


class CompletionReport(Body):
    provider_id: Id
    hours: Hours


class Confirmation(Body):
    resident_id: Id


class Reschedule(Body):
    resident_id: Id
    window_start: AwareDatetime
    window_end: AwareDatetime


class Cancellation(Body):
    resident_id: Id
    reason: Reason = ""


class Dispute(Body):
    resident_id: Id
    reason: Reason


class Resolution(Body):
    partner_id: Id
    outcome: Literal["upheld", "adjusted", "voided"]
    note: Note
    hours: Hours | None = None


class Rating(Body):
    resident_id: Id
    stars: Annotated[int, Meta(ge=1, le=5)]
    comment: Reason = ""


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


def application(state: State) -> RequestsApplication:
    return state.application


class RequestsController(Controller):
    path = "/requests"
    tags = ["requests"]

    @post("/", sync_to_thread=True, summary="Submit a service request")
    def submit(self, data: NewRequest, state: State) -> Receipt:
        """A resident asks for a service in a category and region, within a wished window;
        optionally where (address, lat and long, for the nearest provider) and a photo."""
        return application(state).submit(**msgspec.structs.asdict(data))

    @post("/{request_id:str}/completion", sync_to_thread=True, summary="Report completion")
    def report_completion(
        self, request_id: PathId, data: CompletionReport, state: State
    ) -> Receipt:
        """The assigned provider reports the work done and the hours, in quarter hours."""
        minutes = minutes_of(data.hours)
        return application(state).report_completion(request_id, data.provider_id, minutes)

    @post("/{request_id:str}/confirmation", sync_to_thread=True, summary="Confirm the work")
    def confirm(self, request_id: PathId, data: Confirmation, state: State) -> Receipt:
        """The resident who made the request confirms the work was done; the contract is
        charged."""
        return application(state).confirm(request_id, data.resident_id)

    @post("/{request_id:str}/reschedule", sync_to_thread=True, summary="Move the wished window")
    def reschedule(self, request_id: PathId, data: Reschedule, state: State) -> Receipt:
        """The resident moves the wished window of a request no provider has taken yet; any
        open offer is withdrawn and matching starts again for the new window."""
        return application(state).reschedule(
            request_id, data.resident_id, data.window_start, data.window_end
        )

    @post("/{request_id:str}/cancellation", sync_to_thread=True, summary="Cancel a request")
    def cancel(self, request_id: PathId, data: Cancellation, state: State) -> Receipt:
        """The resident cancels. Once assigned, only with a reason: the provider is told."""
        return application(state).cancel(request_id, data.resident_id, data.reason)

    @post("/{request_id:str}/dispute", sync_to_thread=True, summary="Dispute the completion")
    def dispute(self, request_id: PathId, data: Dispute, state: State) -> Receipt:
        """The resident disputes the reported work instead of confirming it; the contract's
        municipal partner resolves the dispute."""
        return application(state).dispute(request_id, data.resident_id, data.reason)

    @post("/{request_id:str}/resolution", sync_to_thread=True, summary="Resolve a dispute")
    def resolve(self, request_id: PathId, data: Resolution, state: State) -> Receipt:
        """The contract's municipal partner rules: ``upheld`` charges the reported hours,
        ``adjusted`` the ``hours`` given, ``voided`` nothing."""
        minutes = None if data.hours is None else minutes_of(data.hours)
        return application(state).resolve(
            request_id, data.partner_id, data.outcome, minutes, data.note
        )

    @post("/{request_id:str}/rating", sync_to_thread=True, summary="Rate the work")
    def rate(self, request_id: PathId, data: Rating, state: State) -> Receipt:
        """The resident rates confirmed work once: 1 to 5 stars and an optional comment."""
        return application(state).rate(request_id, data.resident_id, data.stars, data.comment)

    @get("/{request_id:str}", summary="One request on the board")
    async def get_request(
        self,
        request_id: PathId,
        state: State,
        position: Position = None,
    ) -> BoardEntry:
        await caught_up(state, board.PROJECTION, board.UPSTREAM, position)
        row = await board.get_request(state.pool, read_schema(state.settings.namespace), request_id)
        if row is None:
            raise NotFound(f"no service request with id {request_id}")
        return msgspec.convert(row, BoardEntry)

    @get("/", summary="The request board")
    async def list_requests(
        self,
        state: State,
        status: QueryCode = None,
        region: QueryCode = None,
        category: QueryCode = None,
        provider_id: QueryId = None,
        series_id: QueryId = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[BoardEntry]:
        """Every request with its status and who it is offered or assigned to, newest first.

        A provider finds the jobs offered to it with ``?provider_id=...&status=offered``; a
        resident the requests of one recurring series with ``?series_id=...``."""
        await caught_up(state, board.PROJECTION, board.UPSTREAM, position)
        rows = await board.list_requests(
            state.pool,
            read_schema(state.settings.namespace),
            status=status,
            region=region,
            category=category,
            provider_id=provider_id,
            series_id=series_id,
            limit=limit,
            offset=offset,
        )
        return msgspec.convert(rows, list[BoardEntry])
