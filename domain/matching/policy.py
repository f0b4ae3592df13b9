"""The matching policy: who may be offered a job, in which order, and why the others may not.

Frozen values and pure functions over what the roster knows; no aggregate, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from math import asin, cos, radians, sin, sqrt
from typing import Any

from domain.money import Money, price_for, shares_of

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
    # the provider the resident chose under a service voucher (freedom of choice)
    chosen_provider_id: str | None = None


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
    pricing: str = "hour"  # the unit price per hour, or per job ("job")
    voucher_cents: int | None = None  # the most the city pays per job; None: all of it

    def covers(self, job: JobToMatch) -> bool:
        return (
            job.category in self.categories
            and job.region in self.regions
            and self.valid_from <= job.on <= self.valid_until
        )

    def estimated_cost(self, job: JobToMatch) -> int:
        """Cents of the budget the job is expected to take under this contract: the city's
        share of its price (per hour at the catalogue's estimate of the time, or per job)."""
        amount = price_for(self.pricing, Money(self.unit_price_cents), job.estimated_minutes)
        return shares_of(amount, self.voucher_cents).city.cents


@dataclass(frozen=True)
class Match:
    provider_id: str
    contract_id: str
    partner_id: str = ""
    # what the job is expected to cost under the contract: the budget it holds while open
    estimated_cents: int = field(default=0, compare=False)


class Choice(StrEnum):
    """What became of the resident's choice of provider in a decision."""

    OFFERED = "offered"  # the chosen provider is offered the job first
    DECLINED = "declined"  # it declined: the others are ranked fairly
    LAPSED = "lapsed"  # it let the offer lapse: the others are ranked fairly
    NOT_ALLOWED = "not_allowed"  # it may not be offered the job under a voucher: ignored


@dataclass(frozen=True)
class VoucherChoice:
    """A provider a resident may choose for a job: eligible for it under a service voucher
    contract, with the contract's price terms and the resident's own share of the price of
    the category's estimated time."""

    provider_id: str
    contract_id: str
    pricing: str
    unit_price_cents: int
    voucher_cents: int
    estimated_minutes: int
    price_cents: int
    city_cents: int
    resident_cents: int
    rating: float | None = None


@dataclass(frozen=True)
class Candidate:
    """One provider as the policy saw it: excluded by a rule, or eligible with a score."""

    provider_id: str
    rule: str = ""  # a Rule when excluded
    reason: str = ""  # the sentence that goes with the rule
    rank: int = 0  # 1 for the best eligible provider; 0 when excluded
    preferred: bool = False
    chosen: bool = False  # the resident chose it under a service voucher
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
            "chosen": self.chosen,
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
    # What became of the resident's choice of provider ("" when there was none), and, when it
    # was not allowed, the rule that kept it out ("voucher": no voucher contract covers it).
    choice: str = ""
    choice_rule: str = ""

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


def _voucher_contracts(contracts: list[ContractBudget]) -> list[ContractBudget]:
    return [c for c in contracts if c.voucher_cents is not None]


def _choice_outcome(
    job: JobToMatch, providers: list[ProviderSlot], contracts: list[ContractBudget]
) -> tuple[str, str, ContractBudget | None]:
    """What becomes of the resident's choice: offered first under a voucher contract (with
    it), declined or lapsed earlier, or not allowed (with the rule)."""
    pid = job.chosen_provider_id
    if pid in job.declined:
        return Choice.DECLINED, "", None
    if pid in job.let_expire:
        return Choice.LAPSED, "", None
    provider = next((p for p in providers if p.provider_id == pid), None)
    if provider is None:
        return Choice.NOT_ALLOWED, "unknown", None
    outcome = _exclusion(job, provider, _voucher_contracts(contracts))
    if isinstance(outcome, ContractBudget):
        return Choice.OFFERED, "", outcome
    rule, _ = outcome
    return Choice.NOT_ALLOWED, "voucher" if rule == Rule.CONTRACT else rule.value, None


def voucher_choices(
    job: JobToMatch, providers: list[ProviderSlot], contracts: list[ContractBudget]
) -> list[VoucherChoice]:
    """The providers a resident may choose for ``job``: those eligible for it under a service
    voucher contract (every rule of ``choose_provider``, with only the voucher contracts), by
    provider id. Each comes with its terms and the resident's share of the estimated price."""
    vouchers = _voucher_contracts(contracts)
    found = []
    for provider in sorted(providers, key=lambda p: p.provider_id):
        contract = _exclusion(job, provider, vouchers)
        if not isinstance(contract, ContractBudget):
            continue
        price = price_for(contract.pricing, Money(contract.unit_price_cents), job.estimated_minutes)
        shares = shares_of(price, contract.voucher_cents)
        found.append(
            VoucherChoice(
                provider_id=provider.provider_id,
                contract_id=contract.contract_id,
                pricing=contract.pricing,
                unit_price_cents=contract.unit_price_cents,
                voucher_cents=contract.voucher_cents or 0,
                estimated_minutes=job.estimated_minutes,
                price_cents=price.cents,
                city_cents=shares.city.cents,
                resident_cents=shares.resident.cents,
                rating=None if provider.rating is None else round(provider.rating, 2),
            )
        )
    return found


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
    """The provider the resident chose under a voucher first, then the preferred provider of
    the series, then least recent work, then the better rating
    (unrated counts as NEUTRAL_RATING), then the nearer (unknown distance last), then id."""
    rating = NEUTRAL_RATING if candidate.rating is None else candidate.rating
    return (
        not candidate.chosen,
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
    that neither do the category nor work in the region are only counted.

    A provider the resident chose (``job.chosen_provider_id``) ranks first when it is eligible
    under a service voucher contract (and is offered under that contract); once it declined or
    let the offer lapse, or when it is not allowed, the others are ranked as ever and the
    decision says what became of the choice (``choice``, ``choice_rule``)."""
    excluded: list[Candidate] = []
    eligible: list[tuple[Candidate, ContractBudget]] = []
    unrelated = 0
    choice, choice_rule, chosen_contract = "", "", None
    if job.chosen_provider_id:
        choice, choice_rule, chosen_contract = _choice_outcome(job, providers, contracts)
    for provider in sorted(providers, key=lambda p: p.provider_id):
        if job.category not in provider.categories and job.region not in provider.regions:
            unrelated += 1
            continue
        outcome = _exclusion(job, provider, contracts)
        if isinstance(outcome, ContractBudget):
            candidate = _score(job, provider)
            if chosen_contract is not None and provider.provider_id == job.chosen_provider_id:
                candidate, outcome = replace(candidate, chosen=True), chosen_contract
            eligible.append((candidate, outcome))
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
            choice=choice,
            choice_rule=choice_rule,
        )
    if not providers:
        reason = "no provider is registered"
    elif not excluded:
        reason = "no provider does this category or works in this region"
    else:
        reason = "no eligible provider: " + "; ".join(sorted({c.reason for c in excluded}))
    return Decision(
        None,
        reason=reason,
        candidates=candidates,
        unrelated=unrelated,
        choice=choice,
        choice_rule=choice_rule,
    )
