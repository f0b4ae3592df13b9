"""HTTP API of a resident's personal data as a whole: an admin erases it; the resident (or an
admin) downloads everything held about them."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Controller, get, post

from projections import board
from projections import series as series_model
from services.platform.http import PathId, Position, Reads, caught_up
from services.platform.identity import ADMIN, RESIDENT, Caller
from services.platform.store import Receipt
from services.requests.application import RequestsApplication
from services.requests.commands import Erasure
from services.requests.residents import ResidentData


async def _held(reads: Reads, resident_id: str, pool: Any) -> tuple[list[str], list[str]]:
    """The resident's requests and series, as the read models in ``pool`` know them."""
    return (
        await board.requests_of(pool, reads.schema, resident_id),
        await series_model.series_of(pool, reads.schema, resident_id),
    )


async def _data(
    application: RequestsApplication, reads: Reads, resident_id: str, position: int | None
) -> ResidentData:
    await caught_up(reads, board.PROJECTION, board.UPSTREAM, position)
    await caught_up(reads, series_model.PROJECTION, series_model.UPSTREAM, position)
    request_ids, series_ids = await _held(reads, resident_id, reads.pool)
    return await to_thread.run_sync(application.resident_data, resident_id, request_ids, series_ids)


class ResidentsController(Controller):
    path = "/residents"
    tags = ["personal data"]

    @post("/{resident_id:str}/erasure", guards=[ADMIN], summary="Erase a resident's data")
    async def erase(
        self,
        resident_id: PathId,
        data: Erasure,
        caller: Caller,
        application: RequestsApplication,
        reads: Reads,
    ) -> Receipt:
        """The right to erasure: the resident's keys are destroyed, so that every personal
        field of theirs (where the work is, what they wrote: descriptions, reasons, rating
        comments) reads ``"[erased]"``, and a point's lat and long null, in every answer, read
        model and message from now on. Their requests' and series' history stays and still
        replays; charges and ledgers are untouched. Series still running are ended. An
        ``Erased`` event records who erased whom, when and why (no personal data): the
        ``reason`` is kept, so give a case number, not the resident's name.

        Erasing again with nothing stored since is refused (409 ``already_erased``); a
        resident of whom nothing was ever stored is not found (404).

        An admin."""
        # on the primary, which is never behind a read replica: nothing of theirs is missed
        request_ids, series_ids = await _held(reads, resident_id, reads.primary)
        return await to_thread.run_sync(
            application.erase_resident, caller, resident_id, data, request_ids, series_ids
        )

    @get("/me/data", guards=[RESIDENT], summary="Download my data")
    async def my_data(
        self,
        caller: Caller,
        application: RequestsApplication,
        reads: Reads,
        position: Position = None,
    ) -> ResidentData:
        """The right of access: everything held about the signed-in resident, as JSON: their
        requests and series with every field in clear, every event of them with its time,
        their ratings, disputes and any erasure. What is erased reads ``"[erased]"``.

        A resident, of their own data (an admin gets their own: none)."""
        return await _data(application, reads, caller.subject, position)

    @get("/{resident_id:str}/data", guards=[ADMIN], summary="A resident's data")
    async def data(
        self,
        resident_id: PathId,
        application: RequestsApplication,
        reads: Reads,
        position: Position = None,
    ) -> ResidentData:
        """What ``GET /residents/me/data`` gives the resident, for any resident.

        An admin."""
        return await _data(application, reads, resident_id, position)
