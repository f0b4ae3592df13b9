"""HTTP API of partnerships: proposing, signing and charging contracts, and the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from msgspec import Meta

from domain.partnership import Party
from projections import ledger
from projections.schema import read_schema
from services.partnerships.application import PartnershipsApplication
from services.platform.errors import NotFound
from services.platform.http import (
    Body,
    Codes,
    Hours,
    Id,
    Limit,
    Offset,
    PathId,
    Position,
    QueryId,
    caught_up,
    minutes_of,
)
from services.platform.store import Receipt

Cents = Annotated[int, Meta(gt=0, le=10**12)]


class NewContract(Body):
    partner_id: Id
    provider_id: Id
    categories: Codes
    regions: Codes
    unit_price_cents: Cents
    budget_cents: Cents
    valid_from: date
    valid_until: date


class Signature(Body):
    party: Party
    signed_by: Id


class NewCharge(Body):
    request_id: Id
    hours: Hours


class LedgerEntry(msgspec.Struct):
    position: int
    request_id: str
    outcome: str
    minutes: int
    amount_cents: int
    remaining_cents: int
    reason: str | None
    at: datetime


class ContractLedger(msgspec.Struct):
    contract_id: str
    partner_id: str
    provider_id: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    charged_cents: int
    remaining_cents: int
    charges: int
    refusals: int
    status: str
    signed_by_partner: str | None
    signed_by_provider: str | None
    valid_from: date
    valid_until: date
    updated_at: datetime
    position: int
    entries: list[LedgerEntry] = []


def application(state: State) -> PartnershipsApplication:
    return state.application


def as_ledger(row: dict) -> ContractLedger:
    return msgspec.convert(row, ContractLedger)


class ContractsController(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @post("/", sync_to_thread=True, summary="Propose a partnership contract")
    def propose(self, data: NewContract, state: State) -> Receipt:
        """A municipal partner proposes scope, unit price per hour (cents), budget cap (cents)
        and validity to a provider. It is active once both have signed."""
        return application(state).propose(
            partner_id=data.partner_id,
            provider_id=data.provider_id,
            categories=data.categories,
            regions=data.regions,
            unit_price_cents=data.unit_price_cents,
            budget_cents=data.budget_cents,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
        )

    @post("/{contract_id:str}/signatures", sync_to_thread=True, summary="Sign a contract")
    def sign(self, contract_id: PathId, data: Signature, state: State) -> Receipt:
        """The partner (``signed_by`` = partner id) or the provider (``signed_by`` = provider
        id) signs. The second signature activates the contract."""
        return application(state).sign(contract_id, data.party.value, data.signed_by)

    @post("/{contract_id:str}/charges", sync_to_thread=True, summary="Charge work to a contract")
    def charge(self, contract_id: PathId, data: NewCharge, state: State) -> Receipt:
        """Charge hours of work on a request at the contract's unit price. Confirmed requests
        are charged automatically; this is for work settled outside that flow. A charge past
        the remaining budget is refused (409, rule ``budget_exceeded``) and the refusal kept."""
        minutes = minutes_of(data.hours)
        return application(state).charge(contract_id, data.request_id, minutes)

    @get("/{contract_id:str}", summary="A contract's ledger")
    async def get_contract(
        self,
        contract_id: PathId,
        state: State,
        position: Position = None,
    ) -> ContractLedger:
        """Budget, charged and remaining, with every charge and refusal."""
        await caught_up(state, ledger.PROJECTION, ledger.UPSTREAM, position)
        row = await ledger.get_contract(
            state.pool, read_schema(state.settings.namespace), contract_id
        )
        if row is None:
            raise NotFound(f"no partnership contract with id {contract_id}")
        return as_ledger(row)


class LedgerController(Controller):
    path = "/ledger"
    tags = ["contracts"]

    @get("/", summary="The contract ledger")
    async def list_contracts(
        self,
        state: State,
        partner_id: QueryId = None,
        provider_id: QueryId = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[ContractLedger]:
        """Every contract with its budget, charged and remaining amounts."""
        await caught_up(state, ledger.PROJECTION, ledger.UPSTREAM, position)
        rows = await ledger.list_contracts(
            state.pool,
            read_schema(state.settings.namespace),
            partner_id=partner_id,
            provider_id=provider_id,
            limit=limit,
            offset=offset,
        )
        return [as_ledger(r) for r in rows]
