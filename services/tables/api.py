"""HTTP API of the tables service: the regional partnership tables."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, get, post

from services.platform.http import PathId
from services.platform.identity import ADMIN, PUBLIC
from services.platform.openapi import errors
from services.platform.store import Receipt
from services.tables.application import TablesApplication
from services.tables.commands import NewTable


class TableView(msgspec.Struct):
    table_id: str
    name: str
    regions: list[str]
    coordinator: str
    coordinator_share_percent: int
    yearly_budget_cents: int
    meeting_fee_cents: int
    meetings_per_year: int
    support_threshold: int
    answer_days: int
    founded_on: date


class TablesController(Controller):
    path = "/tables"
    tags = ["tables"]

    @post(
        "/",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Found a partnership table",
        responses=errors(409, 422),
    )
    def found(self, data: NewTable, application: TablesApplication) -> Receipt:
        """An admin founds a regional partnership table for regions of the catalogue, with
        its coordinating employee; the Lahti figures are the defaults (25 % of the
        coordinator's time, €20,000 a year, a €120 meeting fee, six meetings a year)."""
        return application.found(data)

    @get(
        "/{table_id:str}",
        guards=[PUBLIC],
        sync_to_thread=True,
        summary="A partnership table",
        responses=errors(404),
    )
    def table(self, table_id: PathId, application: TablesApplication) -> TableView:
        table = application.get_table(table_id)
        return msgspec.convert(vars(table), TableView, from_attributes=True, strict=False)
