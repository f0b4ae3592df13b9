"""HTTP API of partnerships: proposing, signing and charging contracts, and the ledger."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from anyio import to_thread
from litestar import Controller, get, post

from projections import directory, ledger
from services.partnerships.application import PartnershipsApplication, is_party
from services.partnerships.commands import NewCharge, NewContract, Signature
from services.platform.http import (
    Limit,
    Offset,
    PathId,
    Position,
    QueryId,
    Reads,
    caught_up,
)
from services.platform.identity import OFFICER, PARTY, SIGNED_IN, SIGNER, Caller, Role, check_sees
from services.platform.store import Receipt


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
    signed_by_partner: str | None  # the person who signed for the partner
    signed_by_provider: str | None  # the person who signed for the provider
    valid_from: date
    valid_until: date
    updated_at: datetime
    position: int
    entries: list[LedgerEntry] = []


def as_ledger(row: dict) -> ContractLedger:
    return msgspec.convert(row, ContractLedger)


def seen_by(caller: Caller) -> ledger.Seen:
    """Whose contracts the caller sees on the ledger: an officer their partner's, a provider
    member their provider's (a person who is both, both), an admin every one."""
    if caller.is_admin:
        return ledger.Seen(everything=True)
    return ledger.Seen(
        partner_id=caller.partner_id if caller.holds(Role.OFFICER) else None,
        provider_id=caller.provider_id if caller.holds(Role.PROVIDER) else None,
    )


class ContractsController(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @post("/", guards=[OFFICER], summary="Propose a partnership contract")
    async def propose(
        self,
        data: NewContract,
        application: PartnershipsApplication,
        caller: Caller,
        reads: Reads,
    ) -> Receipt:
        """A municipal partner proposes scope, unit price per hour (cents), budget cap (cents)
        and validity to a registered provider (one the provider directory lists; 422, rule
        ``provider_id``, for any other). It is active once both have signed.

        An officer proposes for their own partner (the one their token names)."""
        _ = caller.acting_partner  # one who acts for no partner is refused before the wait
        registered = await directory.wait_for_provider(
            reads.pool, reads.schema, data.provider_id, reads.wait_seconds
        )
        return await to_thread.run_sync(application.propose, caller, data, registered)

    @post(
        "/{contract_id:str}/signatures",
        guards=[PARTY],
        sync_to_thread=True,
        summary="Sign a contract",
    )
    def sign(
        self,
        contract_id: PathId,
        data: Signature,
        application: PartnershipsApplication,
        caller: Caller,
    ) -> Receipt:
        """The partner or the provider signs; the signature names the person who signed. The
        second signature activates the contract.

        For the partner: an officer of the contract's partner with the right to sign (one
        without it gets 403). For the provider: a member of the contract's provider. Anyone
        else is no party to the contract and finds none (404)."""
        return application.sign(caller, contract_id, data)

    @post(
        "/{contract_id:str}/charges",
        guards=[SIGNER],
        sync_to_thread=True,
        summary="Charge work to a contract",
    )
    def charge(
        self,
        contract_id: PathId,
        data: NewCharge,
        application: PartnershipsApplication,
        caller: Caller,
    ) -> Receipt:
        """Charge hours of work on a request at the contract's unit price. Confirmed requests
        are charged automatically; this is for work settled outside that flow. A charge past
        the remaining budget is refused (409, rule ``budget_exceeded``) and the refusal kept.

        An officer of the contract's partner with the right to sign."""
        return application.charge(caller, contract_id, data)

    @get("/{contract_id:str}", guards=[SIGNED_IN], summary="A contract's ledger")
    async def get_contract(
        self,
        contract_id: PathId,
        reads: Reads,
        caller: Caller,
        position: Position = None,
    ) -> ContractLedger:
        """Budget, charged and remaining, with every charge and refusal.

        An officer of the contract's partner or a member of its provider; for anyone else
        there is no such contract (404)."""
        await caught_up(reads, ledger.PROJECTION, ledger.UPSTREAM, position)
        row = await ledger.get_contract(reads.pool, reads.schema, contract_id)
        check_sees(
            row is not None and is_party(caller, row["partner_id"], row["provider_id"]),
            "partnership contract",
            contract_id,
        )
        return as_ledger(row)


class LedgerController(Controller):
    path = "/ledger"
    tags = ["contracts"]

    @get("/", guards=[SIGNED_IN], summary="The contract ledger")
    async def list_contracts(
        self,
        reads: Reads,
        caller: Caller,
        partner_id: QueryId = None,
        provider_id: QueryId = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[ContractLedger]:
        """Every contract the caller is a party to, with its budget, charged and remaining
        amounts: an officer's partner's, a provider member's own, every one for an admin.
        ``partner_id`` and ``provider_id`` narrow it further."""
        await caught_up(reads, ledger.PROJECTION, ledger.UPSTREAM, position)
        rows = await ledger.list_contracts(
            reads.pool,
            reads.schema,
            seen_by(caller),
            partner_id=partner_id,
            provider_id=provider_id,
            limit=limit,
            offset=offset,
        )
        return [as_ledger(r) for r in rows]
