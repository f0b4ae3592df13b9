"""HTTP API of partnerships: proposing, signing and charging contracts, and the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from domain.calendar import local_day, local_today
from domain.errors import NotAllowed
from domain.partnership import (
    MunicipalPartner,
    PartnershipContract,
    partner_key,
    partner_side_signed,
)
from domain.settlement import Period, statement
from projections import directory, ledger
from services.partnerships.application import (
    PartnershipsApplication,
    is_reader,
    readers_partner,
    reads_for,
)
from services.partnerships.commands import (
    Amendment,
    Appointment,
    Decision,
    NewCharge,
    NewContract,
    NewPartner,
    Relief,
    Signature,
    SigningRule,
    Termination,
)
from services.partnerships.settlements import SettlementStatement, as_csv, as_json, entry_of
from services.platform.http import (
    Limit,
    Offset,
    PathId,
    Position,
    QueryId,
    Reads,
    bad_query,
    caught_up,
    query_day,
)
from services.platform.identity import (
    ADMIN,
    OFFICER,
    PARTNER_READER,
    PARTY,
    SIGNED_IN,
    SIGNER,
    Caller,
    Role,
    check_sees,
)
from services.platform.openapi import CsvOperation, errors
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
    version: int = 1  # the contract's version the work was charged under
    # who pays the amount: the city (what counts against the budget) and the resident (their
    # own share); on a "reversed" entry, the shares of the charge given back
    city_cents: int | None = None
    resident_cents: int = 0


class BudgetAlert(msgspec.Struct):
    """What is charged reached ``threshold`` per cent (80 or 100) of the budget."""

    threshold: int
    charged_cents: int
    budget_cents: int
    version: int  # the version of the contract that set that budget
    at: datetime | None = None


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
    signed_by_partner: str | None  # the officers who signed for the partner, in order
    signed_by_provider: str | None  # the person who signed for the provider
    valid_from: date
    valid_until: date
    updated_at: datetime
    position: int
    proposed_by: str = ""  # "" for a contract proposed before the proposer was recorded
    partner_signatures_needed: int = 1  # how many of the partner's officers sign it
    partner_signers: list[str] = []
    partner_signed: bool = False  # as many officers as needed, one not the proposer
    version: int = 1  # the latest signed version of the terms
    amendment: dict | None = None  # the next version, waiting for signatures
    reason: str = ""  # why it was last suspended, resumed or terminated
    terminated_on: date | None = None
    reversals: int = 0  # charges given back after a dispute voided their request
    pricing: str = "hour"  # the unit price is per hour, or per job ("job")
    voucher_cents: int | None = None  # the most the city pays per job; None: all of it
    # the budget alerts of the budget in force (80 and 100 per cent), and of those before
    alerts: list[BudgetAlert] = []
    alert: int | None = None  # the highest threshold the budget in force has reached
    entries: list[LedgerEntry] = []


def as_ledger(row: dict) -> ContractLedger:
    signed = partner_side_signed(
        list(row["partner_signers"]), row["partner_signatures_needed"], row["proposed_by"]
    )
    amendment, alerts = row["amendment"], row.get("alerts") or "[]"
    if isinstance(amendment, str):  # jsonb, as asyncpg gives it
        amendment = msgspec.json.decode(amendment)
    if isinstance(alerts, str):
        alerts = msgspec.json.decode(alerts)
    current = [a["threshold"] for a in alerts if a["version"] == row.get("budget_version", 1)]
    status = row["status"]
    if status in ("active", "suspended") and row["valid_until"] < local_today():
        status = "expired"
    return msgspec.convert(
        {
            **row,
            "partner_signed": signed,
            "amendment": amendment,
            "status": status,
            "alerts": alerts,
            "alert": max(current, default=None),
        },
        ContractLedger,
        strict=False,
    )


def seen_by(caller: Caller) -> ledger.Seen:
    """Whose contracts the caller sees on the ledger: an officer their partner's, a table's
    coordinator their table's programmes', a provider member their provider's (a person who
    is both, both), an admin every one."""
    if caller.is_admin:
        return ledger.Seen(everything=True)
    return ledger.Seen(
        partner_id=readers_partner(caller),
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
        # on the primary: a read replica away or behind fails no command
        registered = await directory.wait_for_provider(
            reads.primary, reads.schema, data.provider_id, reads.wait_seconds
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

        An officer of the contract's partner, a member of its provider, or (a programme's
        contract) the coordinator of its table; for anyone else there is no such contract
        (404)."""
        await caught_up(reads, ledger.PROJECTION, ledger.UPSTREAM, position)
        row = await ledger.get_contract(reads.pool, reads.schema, contract_id)
        check_sees(
            row is not None and is_reader(caller, row["partner_id"], row["provider_id"]),
            "partnership contract",
            contract_id,
        )
        return as_ledger(row)


class ContractVersion(msgspec.Struct):
    version: int
    effective_from: date
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    valid_from: date
    valid_until: date
    pricing: str = "hour"
    voucher_cents: int | None = None


class PendingAmendment(msgspec.Struct):
    version: int
    effective_from: date
    proposed_by: str
    partner_signatures_needed: int
    reason: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    valid_from: date
    valid_until: date
    partner_signers: list[str]
    provider_signer: str
    pricing: str = "hour"
    voucher_cents: int | None = None


class ContractHistory(msgspec.Struct):
    """A contract rebuilt from its events: every signed version side by side (the one in
    force on a day prices the work of that day), the amendment waiting for signatures, its
    status and budget; with ``as_of``, as it stood then."""

    contract_id: str
    partner_id: str
    provider_id: str
    status: str  # proposed, active, suspended, terminated; expired past its last day
    reason: str  # why it was last suspended, resumed or terminated
    terminated_on: date | None
    proposed_by: str
    signed_by_partner: str | None
    signed_by_provider: str | None
    budget_cents: int
    charged_cents: int
    remaining_cents: int
    versions: list[ContractVersion]
    amendment: PendingAmendment | None
    as_of: datetime | None = None
    alerts: list[BudgetAlert] = []


def contract_history(contract: PartnershipContract, as_of: datetime | None) -> ContractHistory:
    day = local_day(as_of) if as_of else local_today()
    return ContractHistory(
        contract_id=str(contract.id),
        partner_id=contract.partner_id,
        provider_id=contract.provider_id,
        status=contract.status_on(day).value,
        reason=contract.reason,
        terminated_on=contract.terminated_on,
        proposed_by=contract.proposed_by,
        signed_by_partner=contract.signed_by.get("partner"),
        signed_by_provider=contract.signed_by.get("provider"),
        budget_cents=contract.budget_cents,
        charged_cents=contract.charged_cents,
        remaining_cents=contract.remaining.cents,
        versions=[msgspec.convert(v, ContractVersion) for v in contract.versions],
        amendment=msgspec.convert(contract.amendment, PendingAmendment)
        if contract.amendment
        else None,
        as_of=as_of,
        alerts=[msgspec.convert(a, BudgetAlert) for a in contract.alerts],
    )


class ContractChangesController(Controller):
    """Amending, suspending, resuming and terminating a contract in force, and its history."""

    path = "/contracts"
    tags = ["contracts"]

    @post(
        "/{contract_id:str}/amendments",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="Propose an amendment",
    )
    def amend(
        self,
        contract_id: PathId,
        data: Amendment,
        application: PartnershipsApplication,
        caller: Caller,
    ) -> Receipt:
        """The contract's next version: the terms that change (price, budget, scope,
        period), in force from ``effective_from`` once both parties have signed it again
        (``POST /contracts/{id}/signatures``, as for the contract itself; the partner as its
        rule says for the new budget). One amendment waits for signatures at a time.

        An officer of the contract's partner; for anyone else there is no such contract."""
        return application.amend(caller, contract_id, data)

    @post(
        "/{contract_id:str}/suspension",
        guards=[SIGNER],
        sync_to_thread=True,
        summary="Suspend a contract",
    )
    def suspend(
        self,
        contract_id: PathId,
        data: Decision,
        application: PartnershipsApplication,
        caller: Caller,
    ) -> Receipt:
        """No new work under the contract until it is resumed; work done is still charged.

        An officer of the contract's partner who may sign for it."""
        return application.suspend(caller, contract_id, data)

    @post(
        "/{contract_id:str}/resumption",
        guards=[SIGNER],
        sync_to_thread=True,
        summary="Resume a suspended contract",
    )
    def resume(
        self,
        contract_id: PathId,
        data: Decision,
        application: PartnershipsApplication,
        caller: Caller,
    ) -> Receipt:
        """Work goes on under the contract.

        An officer of the contract's partner who may sign for it."""
        return application.resume(caller, contract_id, data)

    @post(
        "/{contract_id:str}/termination",
        guards=[SIGNER],
        sync_to_thread=True,
        summary="Terminate a contract",
    )
    def terminate(
        self,
        contract_id: PathId,
        data: Termination,
        application: PartnershipsApplication,
        caller: Caller,
    ) -> Receipt:
        """No work under the contract from ``on`` (today when not given); work done before
        is still charged under the version in force that day. Final.

        An officer of the contract's partner who may sign for it."""
        return application.terminate(caller, contract_id, data)

    @get(
        "/{contract_id:str}/versions",
        guards=[SIGNED_IN],
        sync_to_thread=True,
        summary="A contract's versions, as of a moment",
    )
    def versions(
        self,
        contract_id: PathId,
        application: PartnershipsApplication,
        caller: Caller,
        as_of: datetime | None = None,
    ) -> ContractHistory:
        """Every signed version of the contract side by side, the amendment waiting for
        signatures, its status and budget; with ``as_of`` (a moment with its time zone), as
        it stood then, rebuilt from its events.

        An officer of the contract's partner, a member of its provider, or (a programme's
        contract) the coordinator of its table; for anyone else there is no such contract
        (404)."""
        contract = application.readable_contract(caller, contract_id)
        if as_of is not None:
            contract = application.as_of(contract.id, as_of, "partnership contract", contract_id)
        return contract_history(contract, as_of)


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
        amounts: an officer's partner's, a provider member's own, a table coordinator's
        table's service programmes' (partner ``table-<table_id>``), every one for an admin.
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


DAY = "a day in Lahti, YYYY-MM-DD; both ends of the period are included"
CSV = "text/csv"


class SettlementsController(Controller):
    path = "/settlements"
    tags = ["contracts"]

    @get(
        "/",
        guards=[PARTNER_READER],
        summary="Settlement statement of a period",
        operation_class=CsvOperation,
        responses=errors(403, 404),
    )
    async def settlements(
        self,
        request: Request,
        reads: Reads,
        caller: Caller,
        partner_id: QueryId = None,
        contract_id: QueryId = None,
        from_: Annotated[str | None, Parameter(query="from", description=DAY)] = None,
        until: Annotated[str | None, Parameter(description=DAY)] = None,
        format: Literal["json", "csv"] | None = None,
        position: Position = None,
    ) -> Response[SettlementStatement]:
        """The charges of the period with their totals per contract and per partner, in
        integer cents (and euros): each charge's contract, the contract's version it was
        charged under, the request, the day, the minutes and the amount. A charge falls on
        the day in Lahti of the moment it was charged (not the day of the work); ``from``
        and ``until`` are both included, and either may be left out (an open end).

        As CSV with ``Accept: text/csv`` or ``format=csv``: a header row, one row per charge,
        then a total row per contract, per partner and for the whole statement.

        An officer sees their own partner's (``partner_id`` of another partner is refused,
        403), a table's coordinator their table's programmes' (partner ``table-<table_id>``);
        an admin every partner's. A ``contract_id`` the caller may not see is not there
        (404)."""
        first, last = query_day("from", from_), query_day("until", until)
        if first and last and first > last:
            raise bad_query("from", f"from ({first}) is after until ({last})")
        if not caller.is_admin:
            own = readers_partner(caller) or caller.acting_partner
            if partner_id is not None and partner_id != own:
                raise NotAllowed(
                    f"an officer of {own} sees the settlements of {own} only", rule="partner_id"
                )
            partner_id = own
        await caught_up(reads, ledger.PROJECTION, ledger.UPSTREAM, position)
        if contract_id is not None:
            row = await ledger.get_contract(reads.pool, reads.schema, contract_id)
            check_sees(
                row is not None and reads_for(caller, row["partner_id"]),
                "partnership contract",
                contract_id,
            )
        period = Period(first, last)
        rows = await ledger.settled_entries(
            reads.pool,
            reads.schema,
            ledger.Seen(everything=True),  # narrowed to the caller's partner above
            partner_id=partner_id,
            contract_id=contract_id,
            starts=period.starts,
            ends=period.ends,
        )
        made = statement([entry_of(r) for r in rows], period)
        if format == "csv" or (format is None and CSV in request.headers.get("accept", "")):
            name = f"settlements-{first or 'start'}-{last or 'now'}.csv"
            return Response(
                as_csv(made),
                media_type=CSV,
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(as_json(made, partner_id, contract_id))


class OfficerView(msgspec.Struct):
    subject: str
    may_sign: bool


class PartnerView(msgspec.Struct):
    """A municipal partner of the registry; its officers for an admin and for the partner's
    own officers (null for anyone else). ``version`` counts its changes; with ``as_of``, as it
    stood then."""

    partner_id: str
    name: str
    second_signature_above_cents: int | None
    officers: list[OfficerView] | None
    version: int
    as_of: datetime | None = None


def partner_view(
    partner: MunicipalPartner, caller: Caller, as_of: datetime | None = None
) -> PartnerView:
    shows_officers = caller.is_admin or caller.is_officer_of(partner.partner_id)
    return PartnerView(
        partner_id=partner.partner_id,
        name=partner.name,
        second_signature_above_cents=partner.second_signature_above_cents,
        officers=[OfficerView(s, m) for s, m in sorted(partner.officers.items())]
        if shows_officers
        else None,
        version=partner.version,
        as_of=as_of,
    )


class PartnersController(Controller):
    """The registry of municipal partners: the city units that fund services through
    contracts, their officers and who of them may sign, and how many signatures a contract
    needs."""

    path = "/partners"
    tags = ["partners"]

    @post("/", guards=[ADMIN], sync_to_thread=True, summary="Register a municipal partner")
    def register(self, data: NewPartner, application: PartnershipsApplication) -> Receipt:
        """A city unit that funds services through contracts. Its code is what its officers'
        tokens name as their ``partner``; a contract whose budget is above
        ``second_signature_above_cents`` needs two of its officers' signatures (null: one).
        Once registered, who proposes and signs for it is the registry's to say. A code
        registered already is refused (409).

        An admin."""
        return application.register_partner(data)

    @get("/", guards=[SIGNED_IN], sync_to_thread=True, summary="The municipal partners")
    def list_partners(
        self, application: PartnershipsApplication, caller: Caller
    ) -> list[PartnerView]:
        """Every registered partner, in the order they were registered; each one's officers
        for an admin and for its own officers.

        Anybody signed in."""
        return [
            partner_view(application.get_partner(code), caller)
            for code in application.partner_ids()
        ]

    @get("/{partner_id:str}", guards=[SIGNED_IN], sync_to_thread=True, summary="A partner")
    def get_partner(
        self,
        partner_id: PathId,
        application: PartnershipsApplication,
        caller: Caller,
        as_of: datetime | None = None,
    ) -> PartnerView:
        """The partner, or with ``as_of`` (a moment with its time zone) the partner as it
        stood then, rebuilt from its events: who were its officers and who of them could
        sign. Before it was registered there is none (404).

        Anybody signed in; the officers for an admin and the partner's own officers."""
        if as_of is None:
            return partner_view(application.get_partner(partner_id), caller)
        partner = application.as_of(partner_key(partner_id), as_of, "municipal partner", partner_id)
        return partner_view(partner, caller, as_of)

    @post(
        "/{partner_id:str}/officers",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Appoint an officer",
    )
    def appoint(
        self, partner_id: PathId, data: Appointment, application: PartnershipsApplication
    ) -> Receipt:
        """``subject`` is an officer of the partner, who may sign its contracts or not;
        appointing one again changes the right to sign.

        An admin."""
        return application.appoint(partner_id, data)

    @post(
        "/{partner_id:str}/officers/{subject:str}/relief",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="An officer leaves",
    )
    def relieve(
        self,
        partner_id: PathId,
        subject: PathId,
        data: Relief,
        application: PartnershipsApplication,
    ) -> Receipt:
        """The officer is no longer one of the partner's, for ``reason``; the contracts they
        signed stay signed.

        An admin."""
        return application.relieve(partner_id, subject, data)

    @post(
        "/{partner_id:str}/rule",
        guards=[ADMIN],
        sync_to_thread=True,
        summary="Change the signing rule",
    )
    def change_rule(
        self, partner_id: PathId, data: SigningRule, application: PartnershipsApplication
    ) -> Receipt:
        """Above which budget a new contract needs two officers' signatures (null: never).
        Contracts proposed before keep the rule they were proposed under.

        An admin."""
        return application.change_rule(partner_id, data)
