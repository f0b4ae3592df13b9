"""Matching: who may be offered a job (a pure policy), the offers themselves, and the roster.

The roster is matching's own record of what it has learnt from the other services: the
providers and their capacity, the active contracts and their budgets, and the jobs each
provider holds now. Eligibility reads it and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotAllowed, WrongState

# --- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobToMatch:
    request_id: str
    category: str
    region: str
    on: date
    excluded_providers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProviderSlot:
    provider_id: str
    categories: frozenset[str]
    regions: frozenset[str]
    capacity: int
    jobs: int

    @property
    def free(self) -> int:
        return self.capacity - self.jobs


@dataclass(frozen=True)
class ContractBudget:
    contract_id: str
    provider_id: str
    categories: frozenset[str]
    regions: frozenset[str]
    remaining_cents: int
    valid_from: date
    valid_until: date

    def covers(self, job: JobToMatch) -> bool:
        return (
            job.category in self.categories
            and job.region in self.regions
            and self.valid_from <= job.on <= self.valid_until
        )


@dataclass(frozen=True)
class Match:
    provider_id: str
    contract_id: str


@dataclass(frozen=True)
class Decision:
    """The outcome of the policy: a match, or the reason there is none."""

    match: Match | None
    reason: str = ""
    excluded: dict[str, str] = field(default_factory=dict)


def choose_provider(
    job: JobToMatch, providers: list[ProviderSlot], contracts: list[ContractBudget]
) -> Decision:
    """Pick the first eligible provider, in a stable order, or say why there is none.

    Eligible: does the category in the region, has free capacity, has not declined this job,
    and holds an active contract covering the category and region on the day, with budget left.
    """
    excluded: dict[str, str] = {}
    for provider in sorted(providers, key=lambda p: p.provider_id):
        pid = provider.provider_id
        if pid in job.excluded_providers:
            excluded[pid] = "declined this request"
            continue
        if job.category not in provider.categories:
            excluded[pid] = "does not do this category"
            continue
        if job.region not in provider.regions:
            excluded[pid] = "does not work in this region"
            continue
        if provider.free <= 0:
            excluded[pid] = "no free capacity"
            continue
        covering = sorted(
            (c for c in contracts if c.provider_id == pid and c.covers(job)),
            key=lambda c: c.contract_id,
        )
        if not covering:
            excluded[pid] = "no active contract covers this category and region"
            continue
        funded = [c for c in covering if c.remaining_cents > 0]
        if not funded:
            excluded[pid] = "contract budget used up"
            continue
        return Decision(Match(pid, funded[0].contract_id), excluded=excluded)
    if not providers:
        reason = "no provider is registered"
    elif not excluded:
        reason = "no eligible provider"
    else:
        reason = "no eligible provider: " + "; ".join(sorted(set(excluded.values())))
    return Decision(None, reason=reason, excluded=excluded)


# --- offers ------------------------------------------------------------------------------


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Offer(Aggregate):
    """A job offered to one provider under one contract, answered once."""

    @event("Made")
    def __init__(
        self,
        request_id: str,
        provider_id: str,
        contract_id: str,
        category: str,
        region: str,
        declined_by: list[str],
    ) -> None:
        self.request_id = request_id
        self.provider_id = provider_id
        self.contract_id = contract_id
        self.category = category
        self.region = region
        self.declined_by = declined_by
        self.status = OfferStatus.OPEN

    def check_answerable_by(self, provider_id: str) -> None:
        if provider_id != self.provider_id:
            raise NotAllowed(
                "only the provider this job was offered to can answer the offer",
                rule="provider_id",
            )
        if self.status != OfferStatus.OPEN:
            raise WrongState(f"this offer has already been {self.status}")

    # The answers repeat who and what, so that each event reads as a whole fact in the audit.

    def accept(self, provider_id: str) -> None:
        self.check_answerable_by(provider_id)
        self._accepted(
            request_id=self.request_id, provider_id=provider_id, contract_id=self.contract_id
        )

    @event("Accepted")
    def _accepted(self, request_id: str, provider_id: str, contract_id: str) -> None:
        self.status = OfferStatus.ACCEPTED

    def decline(self, provider_id: str, reason: str) -> None:
        self.check_answerable_by(provider_id)
        self._declined(request_id=self.request_id, provider_id=provider_id, reason=reason)

    @event("Declined")
    def _declined(self, request_id: str, provider_id: str, reason: str) -> None:
        self.status = OfferStatus.DECLINED


# --- jobs --------------------------------------------------------------------------------


class JobStatus(StrEnum):
    OPEN = "open"
    OFFERED = "offered"
    TAKEN = "taken"
    UNMATCHED = "unmatched"


class Job(Aggregate):
    """Matching's record of one service request: the offers made for it and how it ended.

    Its id is the request's id, so a redelivered ``ServiceRequested`` cannot open it twice.
    """

    @event("Opened")
    def __init__(self, id: UUID, category: str, region: str, on: date) -> None:
        self.category = category
        self.region = region
        self.on = on
        self.offer_id: str | None = None
        self.provider_id: str | None = None
        self.declined_by: list[str] = []
        self.status = JobStatus.OPEN
        self.reason = ""

    def to_match(self) -> JobToMatch:
        return JobToMatch(
            request_id=str(self.id),
            category=self.category,
            region=self.region,
            on=self.on,
            excluded_providers=frozenset(self.declined_by),
        )

    def record_offer(self, offer_id: str, provider_id: str) -> None:
        if self.status != JobStatus.OPEN:
            raise WrongState(f"the job is {self.status}; it cannot be offered again")
        self._offer_recorded(offer_id=offer_id, provider_id=provider_id)

    @event("OfferRecorded")
    def _offer_recorded(self, offer_id: str, provider_id: str) -> None:
        self.offer_id = offer_id
        self.provider_id = provider_id
        self.status = JobStatus.OFFERED

    def record_decline(self, offer_id: str, provider_id: str) -> None:
        if self.status != JobStatus.OFFERED or offer_id != self.offer_id:
            raise WrongState("this offer is no longer the job's current offer")
        self._declined(provider_id=provider_id)

    @event("Declined")
    def _declined(self, provider_id: str) -> None:
        self.declined_by.append(provider_id)
        self.offer_id = None
        self.provider_id = None
        self.status = JobStatus.OPEN

    def record_taken(self, offer_id: str, provider_id: str) -> None:
        if self.status != JobStatus.OFFERED or offer_id != self.offer_id:
            raise WrongState("this offer is no longer the job's current offer")
        self._taken(offer_id=offer_id, provider_id=provider_id)

    @event("Taken")
    def _taken(self, offer_id: str, provider_id: str) -> None:
        self.status = JobStatus.TAKEN

    @event("NoProviderFound")
    def record_no_provider(self, reason: str) -> None:
        self.status = JobStatus.UNMATCHED
        self.reason = reason


# --- the roster --------------------------------------------------------------------------


ROSTER_ID: UUID = uuid5(NAMESPACE_URL, "talkoot:matching:roster")


class Roster(Aggregate):
    """Matching's view of providers, contracts and current jobs: one per installation."""

    @staticmethod
    def create_id() -> UUID:
        return ROSTER_ID

    @event("Opened")
    def __init__(self) -> None:
        self.providers: dict[str, dict] = {}
        self.contracts: dict[str, dict] = {}

    @event("ProviderEnrolled")
    def enrol_provider(
        self, provider_id: str, categories: list[str], regions: list[str], capacity: int
    ) -> None:
        jobs = self.providers.get(provider_id, {}).get("jobs", 0)
        self.providers[provider_id] = {
            "categories": categories,
            "regions": regions,
            "capacity": capacity,
            "jobs": jobs,
        }

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
    ) -> None:
        self.contracts[contract_id] = {
            "provider_id": provider_id,
            "categories": categories,
            "regions": regions,
            "remaining_cents": remaining_cents,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }

    def update_budget(self, contract_id: str, remaining_cents: int) -> None:
        if contract_id in self.contracts:
            self._budget_updated(contract_id=contract_id, remaining_cents=remaining_cents)

    @event("BudgetUpdated")
    def _budget_updated(self, contract_id: str, remaining_cents: int) -> None:
        self.contracts[contract_id]["remaining_cents"] = remaining_cents

    @event("JobTaken")
    def take_job(self, provider_id: str) -> None:
        slot = self.providers.setdefault(
            provider_id, {"categories": [], "regions": [], "capacity": 0, "jobs": 0}
        )
        slot["jobs"] += 1

    def release_job(self, provider_id: str) -> None:
        if self.providers.get(provider_id, {}).get("jobs", 0) > 0:
            self._job_released(provider_id=provider_id)

    @event("JobReleased")
    def _job_released(self, provider_id: str) -> None:
        self.providers[provider_id]["jobs"] -= 1

    def provider_slots(self) -> list[ProviderSlot]:
        return [
            ProviderSlot(
                provider_id=pid,
                categories=frozenset(p["categories"]),
                regions=frozenset(p["regions"]),
                capacity=p["capacity"],
                jobs=p["jobs"],
            )
            for pid, p in self.providers.items()
        ]

    def contract_budgets(self) -> list[ContractBudget]:
        return [
            ContractBudget(
                contract_id=cid,
                provider_id=c["provider_id"],
                categories=frozenset(c["categories"]),
                regions=frozenset(c["regions"]),
                remaining_cents=c["remaining_cents"],
                valid_from=date.fromisoformat(c["valid_from"]),
                valid_until=date.fromisoformat(c["valid_until"]),
            )
            for cid, c in self.contracts.items()
        ]

    def decide(self, job: JobToMatch) -> Decision:
        return choose_provider(job, self.provider_slots(), self.contract_budgets())
