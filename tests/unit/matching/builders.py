"""Builders shared by matching's tests: a job to match, provider slots and contract budgets for
the policy, a roster with providers and contracts, and replaying an aggregate's events."""

from datetime import UTC, date, datetime, timedelta

from domain.matching.policy import ContractBudget, JobToMatch, ProviderSlot
from domain.matching.roster import Roster

DAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 9, 12, tzinfo=UTC)

NO_BUDGET = "has no contract budget left for the estimated cost of 30.00 €"
NO_CONTRACT = "has no active contract covering this category and region that day"

COST = 3000  # an hour at the contract's 30.00 € (job() estimates 60 minutes)


def job(**overrides) -> JobToMatch:
    fields = {"request_id": "request-1", "category": "snow", "region": "north", "on": DAY}
    fields.update(overrides)
    return JobToMatch(**fields)


def slot(provider_id: str, **overrides) -> ProviderSlot:
    fields = {
        "provider_id": provider_id,
        "categories": frozenset({"snow"}),
        "regions": frozenset({"north"}),
        "capacity": 2,
        "jobs": 0,
    }
    fields.update(overrides)
    return ProviderSlot(**fields)


def budget(contract_id: str, provider_id: str, **overrides) -> ContractBudget:
    fields = {
        "contract_id": contract_id,
        "provider_id": provider_id,
        "categories": frozenset({"snow"}),
        "regions": frozenset({"north"}),
        "remaining_cents": 50_000,
        "valid_from": date(2025, 1, 1),
        "valid_until": date(2025, 12, 31),
        "unit_price_cents": 3000,
        "partner_id": "lahti-city",
    }
    fields.update(overrides)
    return ContractBudget(**fields)


def replay(events):
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def event_names(aggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


def new_roster() -> Roster:
    roster = Roster()
    roster.collect_events()
    return roster


def enrol(roster: Roster, provider_id: str, capacity: int = 2) -> None:
    roster.enrol_provider(provider_id, ["snow"], ["north"], capacity)


def add_contract(roster: Roster, contract_id: str, provider_id: str, remaining: int = 50_000):
    roster.add_contract(
        contract_id,
        provider_id,
        ["snow"],
        ["north"],
        remaining,
        "2025-01-01",
        "2025-12-31",
        3000,
        "lahti-city",
    )


def one_job_of_budget() -> Roster:
    """p1 with room for many jobs and a contract with budget for one."""
    roster = new_roster()
    enrol(roster, "p1", capacity=5)
    add_contract(roster, "c1", "p1", remaining=COST)
    roster.collect_events()
    return roster


def offer_under_c1(roster: Roster, offer_id: str = "offer-1", request_id: str = "request-1"):
    roster.take_job(
        "p1",
        offer_id,
        request_id,
        offered_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        contract_id="c1",
        estimated_cents=COST,
    )
