"""HTTP API of matching: a provider answers an offer and lists its offers; the provider and the
partner concerned read an offer and the decision behind it; a partner's officers read
matching's whole record of a request, and what matching holds of their contracts' budgets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_404_NOT_FOUND

from contracts.events import OfferExplanation
from domain.calendar import local_today
from domain.matching.job import Job
from domain.matching.offer import Offer
from projections import offers as offers_model
from services.matching.application import MatchingApplication, inbox_provider
from services.matching.commands import Answer, Decline
from services.matching.explanation import (
    explain_candidate,
    explain_offer,
    explanation_of,
    is_eligible,
)
from services.platform.http import (
    ID_PATTERN,
    Limit,
    Offset,
    PathId,
    Position,
    QueryId,
    Reads,
    caught_up,
)
from services.platform.identity import OFFICER, PROVIDER, RESIDENT, SIGNED_IN, Caller
from services.platform.openapi import ErrorBody
from services.platform.store import Receipt


class CandidateView(msgspec.Struct):
    """One provider the decision considered: excluded by ``rule``, or eligible with ``rank``
    (1 is the best) and the figures it was ranked by. ``explanation`` says it in a sentence."""

    provider_id: str
    name: str  # the provider's registered name ("" when matching has not heard it)
    eligible: bool
    explanation: str
    rule: str | None = None
    rank: int | None = None
    preferred: bool | None = None
    chosen: bool | None = None  # the provider the resident chose under a service voucher
    recent_offers: int | None = None
    rating: float | None = None
    distance_km: float | None = None


class OfferView(msgspec.Struct):
    id: str
    request_id: str
    provider_id: str
    contract_id: str
    partner_id: str
    category: str
    region: str
    status: str  # open, accepted, declined, expired, withdrawn
    offered_at: str
    expires_at: str | None
    answer: str  # the provider's reason for declining, or why the offer was withdrawn
    declined_by: list[str]
    why: str
    # the facts ``why`` words, for a reader in another language (null when the offer's
    # decision is not recorded)
    explanation: OfferExplanation | None
    chosen: CandidateView | None
    candidates: list[CandidateView]
    unrelated: int  # providers that neither do the category nor work in the region (not listed)
    version: int


class InboxEntry(msgspec.Struct):
    """An offer as its provider's inbox lists it. What the request is for (category, region,
    window) is null until the request board has it."""

    offer_id: str
    request_id: str
    provider_id: str
    contract_id: str
    partner_id: str
    status: str  # open, accepted, declined, expired, withdrawn
    answer: str  # the provider's reason for declining, or why the offer was withdrawn
    offered_at: datetime
    expires_at: datetime | None
    updated_at: datetime
    position: int
    category: str | None
    region: str | None
    window_start: datetime | None
    window_end: datetime | None


class JobOfferView(msgspec.Struct):
    offer_id: str
    provider_id: str
    status: str
    offered_at: str
    expires_at: str | None
    answer: str


class JobView(msgspec.Struct):
    """Matching's record of a request: every offer made for it, in order, and how it ended."""

    request_id: str
    status: str  # offered, taken, done, unmatched, closed
    category: str
    region: str
    day: str
    offers: list[JobOfferView]
    declined_by: list[str]
    let_expire: list[str]
    reason: str  # why nobody could be found, or why the request was closed
    candidates: list[CandidateView]  # when unmatched: every provider and why it was excluded
    unrelated: int  # providers that neither do the category nor work in the region (not listed)
    version: int


def candidate_view(
    entry: dict[str, Any], eligible_count: int, window: timedelta, names: dict[str, str]
) -> CandidateView:
    name = names.get(entry["provider_id"], "")
    explanation = explain_candidate(entry, eligible_count, window)
    if not is_eligible(entry):
        return CandidateView(
            provider_id=entry["provider_id"],
            name=name,
            eligible=False,
            explanation=explanation,
            rule=entry["rule"],
        )
    return CandidateView(
        provider_id=entry["provider_id"],
        name=name,
        eligible=True,
        explanation=explanation,
        rank=entry["rank"],
        preferred=entry["preferred"],
        chosen=bool(entry.get("chosen")),
        recent_offers=entry["recent_offers"],
        rating=entry["rating"],
        distance_km=entry["distance_km"],
    )


def candidate_views(
    entries: list[dict[str, Any]], window: timedelta, names: dict[str, str]
) -> list[CandidateView]:
    eligible = sum(1 for e in entries if is_eligible(e))
    views = [candidate_view(e, eligible, window, names) for e in entries]
    # the ranked first, best first; then the excluded, by id
    return sorted(views, key=lambda v: (not v.eligible, v.rank or 0, v.provider_id))


def offer_view(offer: Offer, window: timedelta, names: dict[str, str]) -> OfferView:
    candidates = candidate_views(offer.candidates, window, names)
    chosen = next((c for c in candidates if c.provider_id == offer.provider_id), None)
    # As it was told when the offer was made; offers made before it was recorded, in words now.
    decided = (offer.provider_id, offer.candidates, offer.unrelated, window, names)
    why = offer.why or explain_offer(*decided)
    stored = getattr(offer, "explanation", None)
    explanation = msgspec.convert(stored, OfferExplanation) if stored else explanation_of(*decided)
    return OfferView(
        id=str(offer.id),
        request_id=offer.request_id,
        provider_id=offer.provider_id,
        contract_id=offer.contract_id,
        partner_id=offer.partner_id,
        category=offer.category,
        region=offer.region,
        status=offer.status.value,
        offered_at=offer.created_on.isoformat(),
        expires_at=offer.expires_at.isoformat() if offer.expires_at else None,
        answer=offer.answer,
        declined_by=offer.declined_by,
        why=why,
        explanation=explanation,
        chosen=chosen,
        candidates=candidates,
        unrelated=offer.unrelated,
        version=offer.version,
    )


def job_view(job: Job, offers: list[Offer], window: timedelta, names: dict[str, str]) -> JobView:
    return JobView(
        request_id=str(job.id),
        status=job.status.value,
        category=job.category,
        region=job.region,
        day=job.on.isoformat(),
        offers=[
            JobOfferView(
                offer_id=str(o.id),
                provider_id=o.provider_id,
                status=o.status.value,
                offered_at=o.created_on.isoformat(),
                expires_at=o.expires_at.isoformat() if o.expires_at else None,
                answer=o.answer,
            )
            for o in offers
        ],
        declined_by=job.declined_by,
        let_expire=job.expired_for,
        reason=job.reason,
        candidates=candidate_views(job.candidates, window, names),
        unrelated=job.unrelated,
        version=job.version,
    )


OfferStatusFilter = Annotated[
    Literal["open", "accepted", "declined", "expired", "withdrawn"] | None,
    Parameter(description="only offers with this status (all when not given)"),
]


class BudgetView(msgspec.Struct):
    """What matching holds of a contract's budget for the ``jobs`` it has offered or that were
    accepted under it and are not yet charged: their estimated cost, ``held_cents``. The
    contract's ledger (partnerships) has its budget and what was charged; what is left to
    offer is the budget less both."""

    contract_id: str
    partner_id: str
    provider_id: str
    held_cents: int
    jobs: int


class ChoiceView(msgspec.Struct):
    """A provider the resident may choose for a request under a service voucher: its terms
    under the voucher contract, and the price of the category's estimated time split into
    what the city pays (at most the voucher) and the resident's own share."""

    provider_id: str
    name: str  # the provider's registered name ("" when matching has not heard it)
    rating: float | None  # its residents' average stars; null: not rated yet
    contract_id: str
    pricing: str  # hour | job
    unit_price_cents: int
    voucher_cents: int
    estimated_minutes: int
    price_cents: int
    city_cents: int
    resident_cents: int


class ChoicesController(Controller):
    path = "/choices"
    tags = ["choices"]

    @get(
        "/",
        guards=[RESIDENT],
        sync_to_thread=True,
        summary="The providers a resident may choose under a service voucher",
    )
    def list_choices(
        self,
        application: MatchingApplication,
        category: Annotated[str, Parameter(pattern=ID_PATTERN, description="a category code")],
        region: Annotated[str, Parameter(pattern=ID_PATTERN, description="a region code")],
        day: Annotated[
            date | None,
            Parameter(description="the day of the work (Lahti's day); today when left out"),
        ] = None,
    ) -> list[ChoiceView]:
        """Freedom of choice: the providers eligible for a request of ``category`` in
        ``region`` on ``day`` under a service voucher contract (one with ``voucher_cents``),
        by provider id, with their name, rating, price terms and the resident's own share of
        the price of the category's estimated time. Only these may be chosen: send one's id as
        ``chosen_provider_id`` with the new request. A category not in the catalogue is 400
        naming ``category``. Current at once: matching's own record of providers, contracts and
        the budget held. A resident."""
        choices, names, _ = application.choices(category, region, day or local_today())
        return [
            ChoiceView(
                provider_id=c.provider_id,
                name=names.get(c.provider_id, ""),
                rating=c.rating,
                contract_id=c.contract_id,
                pricing=c.pricing,
                unit_price_cents=c.unit_price_cents,
                voucher_cents=c.voucher_cents,
                estimated_minutes=c.estimated_minutes,
                price_cents=c.price_cents,
                city_cents=c.city_cents,
                resident_cents=c.resident_cents,
            )
            for c in choices
        ]


class BudgetsController(Controller):
    path = "/budgets"
    tags = ["budgets"]

    @get(
        "/",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="What is held of the contracts' budgets",
        responses={
            HTTP_404_NOT_FOUND: ResponseSpec(
                ErrorBody,
                description="An officer named another partner: for them it is not there",
                generate_examples=False,
            )
        },
    )
    def list_budgets(
        self,
        application: MatchingApplication,
        caller: Caller,
        partner_id: QueryId = None,
        provider_id: QueryId = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[BudgetView]:
        """Per active contract, by contract id: the estimated cost of the jobs offered or
        accepted under it and not yet charged, which matching holds against its budget (a
        contract holding nothing is listed with 0). An officer reads their own partner's
        contracts; an admin every partner's, or one partner's with ``?partner_id=``.
        ``provider_id`` narrows the list to one provider's contracts. Current at once: the
        roster is matching's own record, not a read model."""
        held = application.held_budgets(caller, partner_id, provider_id)[offset : offset + limit]
        return [msgspec.convert(b, BudgetView, from_attributes=True) for b in held]


class OffersController(Controller):
    path = "/offers"
    tags = ["offers"]

    @post(
        "/{offer_id:str}/acceptance",
        guards=[PROVIDER],
        sync_to_thread=True,
        summary="Accept an offer",
    )
    def accept(
        self,
        offer_id: PathId,
        data: Answer,
        application: MatchingApplication,
        caller: Caller,
    ) -> Receipt:
        """The offered provider takes the job; the request becomes assigned to it under the
        offer's contract. Only one answer counts: a second one gets 409. A member of the
        provider the offer was made to; for anybody else the offer is not there (404)."""
        return application.accept(caller, offer_id, data)

    @post(
        "/{offer_id:str}/decline",
        guards=[PROVIDER],
        sync_to_thread=True,
        summary="Decline an offer",
    )
    def decline(
        self,
        offer_id: PathId,
        data: Decline,
        application: MatchingApplication,
        caller: Caller,
    ) -> Receipt:
        """The offered provider declines, saying why (``reason``: not empty nor only white
        space, else 400 naming it, and the offer stays open); the job is offered to the next
        eligible provider, or the request becomes unmatched with the reason. A member of the
        provider the offer was made to; for anybody else the offer is not there (404)."""
        return application.decline(caller, offer_id, data)

    @get(
        "/",
        guards=[PROVIDER],
        summary="A provider's offers (its inbox)",
        responses={
            HTTP_404_NOT_FOUND: ResponseSpec(
                ErrorBody,
                description="A member named another provider: for them it is not there",
                generate_examples=False,
            )
        },
    )
    async def inbox(
        self,
        reads: Reads,
        caller: Caller,
        status: OfferStatusFilter = None,
        provider_id: QueryId = None,
        limit: Limit = 100,
        offset: Offset = 0,
        position: Position = None,
    ) -> list[InboxEntry]:
        """The offers made to the caller's provider, newest first, optionally those with a
        status (``?status=open``: the ones waiting for an answer). A member of a provider
        reads its own; an admin names the provider (``?provider_id=``)."""
        whose = inbox_provider(caller, provider_id)
        await caught_up(reads, offers_model.PROJECTION, offers_model.UPSTREAM, position)
        rows = await offers_model.inbox(
            reads.pool, reads.schema, whose, status=status, limit=limit, offset=offset
        )
        return msgspec.convert(rows, list[InboxEntry])

    @get(
        "/{offer_id:str}",
        guards=[SIGNED_IN],
        sync_to_thread=True,
        summary="An offer, its state and why it was made",
    )
    def get_offer(
        self, offer_id: PathId, application: MatchingApplication, caller: Caller
    ) -> OfferView:
        """The offer with its status (open, accepted, declined, expired, withdrawn) and when it
        lapses, and the decision behind it: every provider considered, the rule that excluded
        it or the figures it was ranked by. A member of the provider it was made to, an
        officer of the partner whose contract it is under, or an admin; for anybody else the
        offer is not there (404)."""
        return offer_view(
            application.offer_for(caller, offer_id),
            application.settings.fairness_window,
            application.provider_names(),
        )


class JobsController(Controller):
    path = "/jobs"
    tags = ["offers"]

    @get(
        "/{request_id:str}",
        guards=[OFFICER],
        sync_to_thread=True,
        summary="Matching's record of a request",
    )
    def get_job(
        self, request_id: PathId, application: MatchingApplication, caller: Caller
    ) -> JobView:
        """Every offer made for the request in order with its outcome, who declined or let an
        offer lapse, and, when nobody could be found, the reason and every provider's rule.
        An officer of a partner under whose contract an offer for it was made, or an admin:
        officers read their matching decisions; for anybody else the request is not there
        (404)."""
        job, offers = application.job_for(caller, request_id)
        return job_view(
            job, offers, application.settings.fairness_window, application.provider_names()
        )
