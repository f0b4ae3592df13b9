"""Matching: who may be offered a job and in which order (a pure policy), the offers
themselves, the jobs, and the roster.

The roster is matching's own record of what it has learnt from the other services: the
providers (what they do, where, their capacity, pauses, suspension, location and ratings), the
active contracts and their budgets, the jobs each provider holds now, the offers still open, the
offers made lately, and the budget committed to jobs offered or taken but not yet charged.
Eligibility and ranking read it and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from math import asin, cos, radians, sin, sqrt
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotAllowed, WrongState
from domain.money import Money, price_of_work

# --- the policy ----------------------------------------------------------------------------

# An unrated provider ranks as if its average were the middle of the 1-5 star scale: a new
# provider is neither favoured over well-rated ones nor pushed behind poorly rated ones.
NEUTRAL_RATING = 3.0
EARTH_RADIUS_KM = 6371.0


class Rule(StrEnum):
    """Why a provider was not eligible, checked in this order."""

    DECLINED = "declined"
    CATEGORY = "category"
    REGION = "region"
    SUSPENDED = "suspended"
    PAUSED = "paused"
    CAPACITY = "capacity"
    CONTRACT = "contract"
    BUDGET = "budget"


@dataclass(frozen=True)
class JobToMatch:
    request_id: str
    category: str
    region: str
    on: date
    estimated_minutes: int = 60
    declined: frozenset[str] = frozenset()
    let_expire: frozenset[str] = frozenset()
    lat: float | None = None
    long: float | None = None
    preferred_provider_id: str | None = None


@dataclass(frozen=True)
class ProviderSlot:
    provider_id: str
    categories: frozenset[str]
    regions: frozenset[str]
    capacity: int
    jobs: int
    suspended: bool = False
    # (first day, last day or None when open-ended) of each pause
    pauses: tuple[tuple[date, date | None], ...] = ()
    lat: float | None = None
    long: float | None = None
    rating: float | None = None  # average stars, None when never rated
    recent_offers: int = 0  # offers made to it within the fairness window

    @property
    def free(self) -> int:
        return self.capacity - self.jobs

    def paused_on(self, day: date) -> bool:
        return any(starts <= day and (ends is None or day <= ends) for starts, ends in self.pauses)


@dataclass(frozen=True)
class ContractBudget:
    contract_id: str
    provider_id: str
    categories: frozenset[str]
    regions: frozenset[str]
    remaining_cents: int
    valid_from: date
    valid_until: date
    unit_price_cents: int = 0
    partner_id: str = ""

    def covers(self, job: JobToMatch) -> bool:
        return (
            job.category in self.categories
            and job.region in self.regions
            and self.valid_from <= job.on <= self.valid_until
        )

    def estimated_cost(self, job: JobToMatch) -> int:
        """Cents the job is expected to cost under this contract (the catalogue's estimate)."""
        return price_of_work(Money(self.unit_price_cents), job.estimated_minutes).cents


@dataclass(frozen=True)
class Match:
    provider_id: str
    contract_id: str
    partner_id: str = ""
    # what the job is expected to cost under the contract: the budget it holds while open
    estimated_cents: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Candidate:
    """One provider as the policy saw it: excluded by a rule, or eligible with a score."""

    provider_id: str
    rule: str = ""  # a Rule when excluded
    reason: str = ""  # the sentence that goes with the rule
    rank: int = 0  # 1 for the best eligible provider; 0 when excluded
    preferred: bool = False
    recent_offers: int = 0
    rating: float | None = None
    distance_km: float | None = None

    @property
    def eligible(self) -> bool:
        return not self.rule

    def as_dict(self) -> dict[str, Any]:
        """Plain values, as stored in the events that record the decision."""
        if not self.eligible:
            return {"provider_id": self.provider_id, "rule": self.rule, "reason": self.reason}
        return {
            "provider_id": self.provider_id,
            "rank": self.rank,
            "preferred": self.preferred,
            "recent_offers": self.recent_offers,
            "rating": self.rating,
            "distance_km": self.distance_km,
        }


@dataclass(frozen=True)
class Decision:
    """The outcome of the policy: a match, or the reason there is none; and every candidate."""

    match: Match | None
    reason: str = ""
    candidates: tuple[Candidate, ...] = ()
    # Providers that neither do the category nor work in the region: counted, not listed.
    unrelated: int = 0

    @property
    def excluded(self) -> dict[str, str]:
        return {c.provider_id: c.reason for c in self.candidates if not c.eligible}

    @property
    def ranked(self) -> list[Candidate]:
        return sorted((c for c in self.candidates if c.eligible), key=lambda c: c.rank)

    @property
    def chosen(self) -> Candidate | None:
        ranked = self.ranked
        return ranked[0] if ranked else None


def distance_km(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance by the haversine formula."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi, dlambda = phi2 - phi1, radians(long2 - long1)
    a = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))


def _exclusion(
    job: JobToMatch, provider: ProviderSlot, contracts: list[ContractBudget]
) -> tuple[Rule, str] | ContractBudget:
    """The first rule that excludes ``provider``, with its sentence; else the contract to use."""
    pid = provider.provider_id
    if pid in job.declined:
        return Rule.DECLINED, "declined this request"
    if pid in job.let_expire:
        return Rule.DECLINED, "let an offer for this request expire"
    if job.category not in provider.categories:
        return Rule.CATEGORY, "does not do this category"
    if job.region not in provider.regions:
        return Rule.REGION, "does not work in this region"
    if provider.suspended:
        return Rule.SUSPENDED, "is suspended by a municipal partner"
    if provider.paused_on(job.on):
        return Rule.PAUSED, f"has paused taking work on {job.on.isoformat()}"
    if provider.free <= 0:
        return Rule.CAPACITY, "has no free capacity"
    covering = sorted(
        (c for c in contracts if c.provider_id == pid and c.covers(job)),
        key=lambda c: c.contract_id,
    )
    if not covering:
        return Rule.CONTRACT, "has no active contract covering this category and region that day"
    for contract in covering:
        if contract.remaining_cents >= contract.estimated_cost(job):
            return contract
    cost = Money(covering[0].estimated_cost(job))
    return Rule.BUDGET, f"has no contract budget left for the estimated cost of {cost}"


def _score(job: JobToMatch, provider: ProviderSlot) -> Candidate:
    distance = None
    if None not in (job.lat, job.long, provider.lat, provider.long):
        distance = round(distance_km(job.lat, job.long, provider.lat, provider.long), 1)
    return Candidate(
        provider_id=provider.provider_id,
        preferred=provider.provider_id == job.preferred_provider_id,
        recent_offers=provider.recent_offers,
        rating=None if provider.rating is None else round(provider.rating, 2),
        distance_km=distance,
    )


def ranking_key(candidate: Candidate) -> tuple:
    """Preferred provider of the series first, then least recent work, then the better rating
    (unrated counts as NEUTRAL_RATING), then the nearer (unknown distance last), then id."""
    rating = NEUTRAL_RATING if candidate.rating is None else candidate.rating
    return (
        not candidate.preferred,
        candidate.recent_offers,
        -rating,
        candidate.distance_km is None,
        candidate.distance_km or 0.0,
        candidate.provider_id,
    )


def choose_provider(
    job: JobToMatch, providers: list[ProviderSlot], contracts: list[ContractBudget]
) -> Decision:
    """Every provider is checked against the eligibility rules in order (declined, category,
    region, suspended, paused, capacity, contract, budget); the eligible ones are ranked and the
    first is chosen. The decision lists every provider considered, excluded or ranked; those
    that neither do the category nor work in the region are only counted."""
    excluded: list[Candidate] = []
    eligible: list[tuple[Candidate, ContractBudget]] = []
    unrelated = 0
    for provider in sorted(providers, key=lambda p: p.provider_id):
        if job.category not in provider.categories and job.region not in provider.regions:
            unrelated += 1
            continue
        outcome = _exclusion(job, provider, contracts)
        if isinstance(outcome, ContractBudget):
            eligible.append((_score(job, provider), outcome))
        else:
            rule, reason = outcome
            excluded.append(Candidate(provider.provider_id, rule=rule.value, reason=reason))
    eligible.sort(key=lambda pair: ranking_key(pair[0]))
    ranked = [(replace(c, rank=n), contract) for n, (c, contract) in enumerate(eligible, start=1)]
    candidates = tuple(sorted([c for c, _ in ranked] + excluded, key=lambda c: c.provider_id))
    if ranked:
        best, contract = ranked[0]
        return Decision(
            Match(
                best.provider_id,
                contract.contract_id,
                contract.partner_id,
                contract.estimated_cost(job),
            ),
            candidates=candidates,
            unrelated=unrelated,
        )
    if not providers:
        reason = "no provider is registered"
    elif not excluded:
        reason = "no provider does this category or works in this region"
    else:
        reason = "no eligible provider: " + "; ".join(sorted({c.reason for c in excluded}))
    return Decision(None, reason=reason, candidates=candidates, unrelated=unrelated)


# --- offers ------------------------------------------------------------------------------


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Offer(Aggregate):
    """A job offered to one provider under one contract, answered once, or lapsed.

    ``candidates`` is the decision that made it: every provider considered, with the rule that
    excluded it or its score and rank; ``score`` is the chosen provider's.
    """

    @event("Made")
    def __init__(
        self,
        request_id: str,
        provider_id: str,
        contract_id: str,
        category: str,
        region: str,
        declined_by: list[str],
        partner_id: str = "",
        expires_at: datetime | None = None,
        candidates: list[dict] | None = None,
        score: dict | None = None,
        unrelated: int = 0,
    ) -> None:
        self.request_id = request_id
        self.provider_id = provider_id
        self.contract_id = contract_id
        self.partner_id = partner_id
        self.category = category
        self.region = region
        self.declined_by = declined_by
        self.expires_at = expires_at
        self.candidates = candidates or []
        self.score = score or {}
        self.unrelated = unrelated
        self.status = OfferStatus.OPEN
        self.answer = ""  # the decline's reason, or why the offer was withdrawn

    def check_answerable_by(self, provider_id: str, now: datetime | None = None) -> None:
        """The provider it was made to answers it, while it is open and, given ``now``,
        before its time to answer has passed."""
        if provider_id != self.provider_id:
            raise NotAllowed(
                "only the provider this job was offered to can answer the offer",
                rule="provider_id",
            )
        self.check_open()
        if now is not None and self.due(now):
            raise WrongState(f"the time to answer this offer ended at {self.expires_at}")

    def check_open(self) -> None:
        if self.status != OfferStatus.OPEN:
            raise WrongState(f"this offer has already been {self.status}")

    def due(self, now: datetime) -> bool:
        if self.status != OfferStatus.OPEN or self.expires_at is None:
            return False
        return now >= self.expires_at

    # The answers repeat who and what, so that each event reads as a whole fact in the audit.

    def accept(self, provider_id: str, now: datetime | None = None) -> None:
        self.check_answerable_by(provider_id, now)
        self._accepted(
            request_id=self.request_id,
            provider_id=provider_id,
            contract_id=self.contract_id,
            partner_id=self.partner_id,
        )

    @event("Accepted")
    def _accepted(
        self, request_id: str, provider_id: str, contract_id: str, partner_id: str = ""
    ) -> None:
        self.status = OfferStatus.ACCEPTED

    def decline(self, provider_id: str, reason: str, now: datetime | None = None) -> None:
        self.check_answerable_by(provider_id, now)
        self._declined(request_id=self.request_id, provider_id=provider_id, reason=reason)

    @event("Declined")
    def _declined(self, request_id: str, provider_id: str, reason: str) -> None:
        self.status = OfferStatus.DECLINED
        self.answer = reason

    def expire(self, now: datetime) -> None:
        self.check_open()
        if not self.due(now):
            raise WrongState(f"this offer is open until {self.expires_at}")
        self._expired(request_id=self.request_id, provider_id=self.provider_id)

    @event("Expired")
    def _expired(self, request_id: str, provider_id: str) -> None:
        self.status = OfferStatus.EXPIRED

    def withdraw(self, reason: str) -> None:
        self.check_open()
        self._withdrawn(request_id=self.request_id, provider_id=self.provider_id, reason=reason)

    @event("Withdrawn")
    def _withdrawn(self, request_id: str, provider_id: str, reason: str) -> None:
        self.status = OfferStatus.WITHDRAWN
        self.answer = reason


# --- jobs --------------------------------------------------------------------------------


class JobStatus(StrEnum):
    OPEN = "open"
    OFFERED = "offered"
    TAKEN = "taken"
    DONE = "done"  # the provider reported the work: it no longer holds a place
    UNMATCHED = "unmatched"
    CLOSED = "closed"  # the request was cancelled or expired


class Job(Aggregate):
    """Matching's record of one service request: the offers made for it and how it ended.

    Its id is the request's id, so a redelivered ``ServiceRequested`` cannot open it twice.
    """

    @event("Opened")
    def __init__(
        self,
        id: UUID,
        category: str,
        region: str,
        on: date,
        lat: float | None = None,
        long: float | None = None,
        preferred_provider_id: str | None = None,
    ) -> None:
        self.category = category
        self.region = region
        self.on = on
        self.lat = lat
        self.long = long
        self.preferred_provider_id = preferred_provider_id
        self.offer_id: str | None = None
        self.provider_id: str | None = None
        self.offers: list[str] = []  # every offer made for it, in order
        self.declined_by: list[str] = []
        self.expired_for: list[str] = []  # providers that let an offer lapse
        self.status = JobStatus.OPEN
        self.reason = ""
        self.candidates: list[dict] = []  # the last decision that found nobody
        self.unrelated = 0

    def to_match(self, estimated_minutes: int = 60) -> JobToMatch:
        return JobToMatch(
            request_id=str(self.id),
            category=self.category,
            region=self.region,
            on=self.on,
            estimated_minutes=estimated_minutes,
            declined=frozenset(self.declined_by),
            let_expire=frozenset(self.expired_for),
            lat=self.lat,
            long=self.long,
            preferred_provider_id=self.preferred_provider_id,
        )

    def check_current(self, offer_id: str) -> None:
        if self.status != JobStatus.OFFERED or offer_id != self.offer_id:
            raise WrongState("this offer is no longer the job's current offer")

    def record_offer(self, offer_id: str, provider_id: str) -> None:
        if self.status != JobStatus.OPEN:
            raise WrongState(f"the job is {self.status}; it cannot be offered again")
        self._offer_recorded(offer_id=offer_id, provider_id=provider_id)

    @event("OfferRecorded")
    def _offer_recorded(self, offer_id: str, provider_id: str) -> None:
        self.offer_id = offer_id
        self.provider_id = provider_id
        self.offers.append(offer_id)
        self.status = JobStatus.OFFERED

    def record_decline(self, offer_id: str, provider_id: str) -> None:
        self.check_current(offer_id)
        self._declined(provider_id=provider_id)

    @event("Declined")
    def _declined(self, provider_id: str) -> None:
        self.declined_by.append(provider_id)
        self._reopen()

    def record_expiry(self, offer_id: str, provider_id: str) -> None:
        self.check_current(offer_id)
        self._offer_expired(provider_id=provider_id)

    @event("OfferExpired")
    def _offer_expired(self, provider_id: str) -> None:
        self.expired_for.append(provider_id)
        self._reopen()

    def record_withdrawal(self, offer_id: str) -> None:
        self.check_current(offer_id)
        self._offer_withdrawn(offer_id=offer_id)

    @event("OfferWithdrawn")
    def _offer_withdrawn(self, offer_id: str) -> None:
        self._reopen()

    def _reopen(self) -> None:
        self.offer_id = None
        self.provider_id = None
        self.status = JobStatus.OPEN

    def record_taken(self, offer_id: str, provider_id: str) -> None:
        self.check_current(offer_id)
        self._taken(offer_id=offer_id, provider_id=provider_id)

    @event("Taken")
    def _taken(self, offer_id: str, provider_id: str) -> None:
        self.status = JobStatus.TAKEN

    def record_completion(self) -> None:
        if self.status != JobStatus.TAKEN:
            raise WrongState(f"the job is {self.status}; no provider holds it")
        self._done()

    @event("Done")
    def _done(self) -> None:
        self.status = JobStatus.DONE

    def record_no_provider(
        self, reason: str, candidates: list[dict] | None = None, unrelated: int = 0
    ) -> None:
        if self.status != JobStatus.OPEN:
            raise WrongState(f"the job is {self.status}")
        self._no_provider_found(reason=reason, candidates=candidates or [], unrelated=unrelated)

    @event("NoProviderFound")
    def _no_provider_found(
        self, reason: str, candidates: list[dict] | None = None, unrelated: int = 0
    ) -> None:
        self.status = JobStatus.UNMATCHED
        self.reason = reason
        self.candidates = candidates or []
        self.unrelated = unrelated

    def reschedule(self, on: date) -> None:
        """A new day: matched again (an open offer must be withdrawn first). A job taken
        meanwhile was accepted for the old day, which the request refuses: it is matched
        again too (the place its provider held must be freed)."""
        if self.status not in (JobStatus.OPEN, JobStatus.UNMATCHED, JobStatus.TAKEN):
            raise WrongState(f"the job is {self.status}; it cannot be matched again")
        self._rescheduled(on=on)

    @event("Rescheduled")
    def _rescheduled(self, on: date) -> None:
        self.on = on
        self.status = JobStatus.OPEN
        self.reason = ""
        self.candidates = []
        self.unrelated = 0

    def close(self, reason: str) -> None:
        """The request was cancelled or expired: nothing more is offered."""
        if self.status in (JobStatus.OFFERED, JobStatus.CLOSED):
            raise WrongState(f"the job is {self.status}; it cannot be closed now")
        self._closed(reason=reason)

    @event("Closed")
    def _closed(self, reason: str) -> None:
        self.status = JobStatus.CLOSED
        self.reason = reason


# --- the roster --------------------------------------------------------------------------


ROSTER_ID: UUID = uuid5(NAMESPACE_URL, "talkoot:matching:roster")


def stamp(at: datetime | None) -> str:
    """A time as the roster keeps it: UTC ISO text with microseconds, so that text order is
    time order; empty for no time."""
    return "" if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


def _empty_provider() -> dict:
    return {
        "categories": [],
        "regions": [],
        "capacity": 0,
        "jobs": 0,
        "suspended": False,
        "pauses": {},
        "lat": None,
        "long": None,
        "stars": 0,
        "ratings": 0,
        "name": "",
    }


class Roster(Aggregate):
    """Matching's view of providers, contracts, current jobs, open offers, recent offers and
    budget commitments: one per installation.

    Its size stays bounded: an offer leaves ``open_offers`` when it is answered, lapses or is
    withdrawn; a commitment leaves when its offer is declined, lapses or is withdrawn, or its
    request is closed, charged, refused a charge or voided; and the history of offers made
    (for fairness) keeps only the fairness window.
    """

    @staticmethod
    def create_id() -> UUID:
        return ROSTER_ID

    @event("Opened")
    def __init__(self) -> None:
        self.providers: dict[str, dict] = {}
        self.contracts: dict[str, dict] = {}
        # offer id -> {"provider_id", "request_id", "expires_at" (ISO)}
        self.open_offers: dict[str, dict] = {}
        # provider id -> ISO times of the offers made to it within the fairness window
        self.offered: dict[str, list[str]] = {}
        # request id -> {"contract_id", "cents", "offer_id"}: the estimated cost of a job
        # offered or taken under a contract, held against its budget until it is charged
        self.commitments: dict[str, dict] = {}

    def fill_in(self) -> None:
        """Give a roster restored from a snapshot taken by an earlier version the parts it
        did not have yet (no events: these are the empty starting values)."""
        self.__dict__.setdefault("open_offers", {})
        self.__dict__.setdefault("offered", {})
        self.__dict__.setdefault("commitments", {})
        for pid in self.providers:
            self._provider(pid)

    def _provider(self, provider_id: str) -> dict:
        slot = self.providers.setdefault(provider_id, _empty_provider())
        for key, value in _empty_provider().items():
            slot.setdefault(key, value)  # records enrolled before a field existed
        return slot

    @event("ProviderEnrolled")
    def enrol_provider(
        self,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
        lat: float | None = None,
        long: float | None = None,
        name: str = "",
    ) -> None:
        slot = self._provider(provider_id)
        slot.update(categories=categories, regions=regions, capacity=capacity)
        slot.update(lat=lat, long=long, name=name)

    @event("CapabilitiesChanged")
    def change_capabilities(
        self, provider_id: str, categories: list[str], regions: list[str], capacity: int
    ) -> None:
        self._provider(provider_id).update(
            categories=categories, regions=regions, capacity=capacity
        )

    @event("ProviderPaused")
    def pause(self, provider_id: str, pause_id: str, starts: str, ends: str | None) -> None:
        self._provider(provider_id)["pauses"][pause_id] = [starts, ends]

    def end_pause(self, provider_id: str, pause_id: str) -> None:
        if pause_id in self.providers.get(provider_id, {}).get("pauses", {}):
            self._pause_ended(provider_id=provider_id, pause_id=pause_id)

    @event("PauseEnded")
    def _pause_ended(self, provider_id: str, pause_id: str) -> None:
        del self.providers[provider_id]["pauses"][pause_id]

    @event("ProviderSuspended")
    def suspend(self, provider_id: str) -> None:
        self._provider(provider_id)["suspended"] = True

    @event("ProviderReinstated")
    def reinstate(self, provider_id: str) -> None:
        self._provider(provider_id)["suspended"] = False

    @event("ProviderRated")
    def rate(self, provider_id: str, stars: int) -> None:
        slot = self._provider(provider_id)
        slot["stars"] += stars
        slot["ratings"] += 1

    @event("ContractAdded")
    def add_contract(
        self,
        contract_id: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        remaining_cents: int,
        valid_from: str,
        valid_until: str,
        unit_price_cents: int = 0,
        partner_id: str = "",
    ) -> None:
        self.contracts[contract_id] = {
            "provider_id": provider_id,
            "categories": categories,
            "regions": regions,
            "remaining_cents": remaining_cents,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "unit_price_cents": unit_price_cents,
            "partner_id": partner_id,
        }

    def update_budget(self, contract_id: str, remaining_cents: int) -> None:
        if contract_id in self.contracts:
            self._budget_updated(contract_id=contract_id, remaining_cents=remaining_cents)

    @event("BudgetUpdated")
    def _budget_updated(self, contract_id: str, remaining_cents: int) -> None:
        self.contracts[contract_id]["remaining_cents"] = remaining_cents

    def take_job(
        self,
        provider_id: str,
        offer_id: str = "",
        request_id: str = "",
        offered_at: datetime | None = None,
        expires_at: datetime | None = None,
        forget_before: datetime | None = None,
        contract_id: str = "",
        estimated_cents: int = 0,
    ) -> None:
        """An offer made holds one of the provider's places until it is answered or lapses;
        it counts as work offered at ``offered_at``, and the history before ``forget_before``
        (the start of the fairness window) is dropped. Made under ``contract_id``, it commits
        ``estimated_cents`` of that contract's budget to the request until the request is
        charged or the commitment is released."""
        self._job_taken(
            provider_id=provider_id,
            offer_id=offer_id,
            request_id=request_id,
            offered_at=stamp(offered_at),
            expires_at=stamp(expires_at),
            forget_before=stamp(forget_before),
            contract_id=contract_id,
            estimated_cents=estimated_cents,
        )

    @event("JobTaken")
    def _job_taken(
        self,
        provider_id: str,
        offer_id: str = "",
        request_id: str = "",
        offered_at: str = "",
        expires_at: str = "",
        forget_before: str = "",
        contract_id: str = "",
        estimated_cents: int = 0,
    ) -> None:
        self._provider(provider_id)["jobs"] += 1
        if offer_id:
            self.open_offers[offer_id] = {
                "provider_id": provider_id,
                "request_id": request_id,
                "expires_at": expires_at,
            }
        if request_id and contract_id:
            # a request has one offer at a time: a new one replaces what the last committed
            self.commitments[request_id] = {
                "contract_id": contract_id,
                "cents": estimated_cents,
                "offer_id": offer_id,
            }
        if offered_at:
            self.offered.setdefault(provider_id, []).append(offered_at)
        if forget_before:
            # stamps (UTC, microseconds) compare in time order as text
            for pid in list(self.offered):
                kept = [at for at in self.offered[pid] if at >= forget_before]
                if kept:
                    self.offered[pid] = kept
                else:
                    del self.offered[pid]

    def settle_offer(self, offer_id: str) -> None:
        """The offer was accepted: it is no longer open, and its place stays held."""
        if offer_id in self.open_offers:
            self._offer_settled(offer_id=offer_id)

    @event("OfferSettled")
    def _offer_settled(self, offer_id: str) -> None:
        del self.open_offers[offer_id]

    def release_job(self, provider_id: str, offer_id: str = "") -> None:
        """Free the place an open offer (``offer_id``) or an accepted job held; an offer that
        is no longer open holds none, so nothing is freed twice. An open offer that is
        declined, lapses or is withdrawn also gives back the budget it committed; an accepted
        job keeps its commitment until it is charged."""
        if offer_id:
            if offer_id in self.open_offers:
                self._job_released(provider_id=provider_id, offer_id=offer_id)
        elif self.providers.get(provider_id, {}).get("jobs", 0) > 0:
            self._job_released(provider_id=provider_id, offer_id=offer_id)

    @event("JobReleased")
    def _job_released(self, provider_id: str, offer_id: str = "") -> None:
        if self.providers.get(provider_id, {}).get("jobs", 0) > 0:
            self.providers[provider_id]["jobs"] -= 1
        offer = self.open_offers.pop(offer_id, None)
        if offer is not None:
            request_id = offer["request_id"]
            if self.commitments.get(request_id, {}).get("offer_id") == offer_id:
                del self.commitments[request_id]

    def release_commitment(self, request_id: str) -> None:
        """The request no longer holds the budget its offer committed: it was charged (the
        remaining budget now counts the real amount), refused a charge, voided, cancelled,
        expired, or is matched again."""
        if request_id in self.commitments:
            self._commitment_released(request_id=request_id)

    @event("CommitmentReleased")
    def _commitment_released(self, request_id: str) -> None:
        del self.commitments[request_id]

    # --- reading ---------------------------------------------------------------------------

    def due_offers(self, now: datetime) -> list[str]:
        """Open offers whose time to answer has passed, the longest overdue first."""
        at = stamp(now)
        due = [
            (o["expires_at"], oid)
            for oid, o in self.open_offers.items()
            if o["expires_at"] and o["expires_at"] <= at
        ]
        return [oid for _, oid in sorted(due)]

    def recent_offers(self, provider_id: str, since: datetime) -> int:
        start = stamp(since)
        return sum(1 for at in self.offered.get(provider_id, []) if at >= start)

    def provider_slots(self, since: datetime | None = None) -> list[ProviderSlot]:
        """The providers as the policy reads them; offers made from ``since`` count as recent
        work (all the history kept when it is None)."""
        slots = []
        for pid, p in self.providers.items():
            ratings = p.get("ratings", 0)
            pauses = p.get("pauses", {}).values()
            slots.append(
                ProviderSlot(
                    provider_id=pid,
                    categories=frozenset(p["categories"]),
                    regions=frozenset(p["regions"]),
                    capacity=p["capacity"],
                    jobs=p["jobs"],
                    suspended=p.get("suspended", False),
                    pauses=tuple(
                        (date.fromisoformat(s), date.fromisoformat(e) if e else None)
                        for s, e in pauses
                    ),
                    lat=p.get("lat"),
                    long=p.get("long"),
                    rating=p["stars"] / ratings if ratings else None,
                    recent_offers=(
                        self.recent_offers(pid, since)
                        if since is not None
                        else len(self.offered.get(pid, []))
                    ),
                )
            )
        return slots

    def provider_names(self) -> dict[str, str]:
        """Provider id -> name, for explanations a person reads (empty when not known)."""
        return {pid: p.get("name", "") for pid, p in self.providers.items()}

    def contract_budgets(self, request_id: str = "") -> list[ContractBudget]:
        """The contracts as the policy reads them when matching ``request_id``: what is left
        of each budget less what the other jobs not yet charged have committed of it (a job
        matched again does not count its own earlier commitment)."""
        committed: dict[str, int] = {}
        for rid, c in self.commitments.items():
            if rid != request_id:
                committed[c["contract_id"]] = committed.get(c["contract_id"], 0) + c["cents"]
        return [
            ContractBudget(
                contract_id=cid,
                provider_id=c["provider_id"],
                categories=frozenset(c["categories"]),
                regions=frozenset(c["regions"]),
                remaining_cents=c["remaining_cents"] - committed.get(cid, 0),
                valid_from=date.fromisoformat(c["valid_from"]),
                valid_until=date.fromisoformat(c["valid_until"]),
                unit_price_cents=c.get("unit_price_cents", 0),
                partner_id=c.get("partner_id", ""),
            )
            for cid, c in self.contracts.items()
        ]

    def decide(self, job: JobToMatch, since: datetime | None = None) -> Decision:
        return choose_provider(
            job, self.provider_slots(since), self.contract_budgets(job.request_id)
        )
