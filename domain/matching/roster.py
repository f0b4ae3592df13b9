"""The roster: matching's one record of the providers, contracts, jobs held, open and recent
offers and budget commitments, which eligibility and ranking read."""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.matching.policy import (
    ContractBudget,
    Decision,
    JobToMatch,
    ProviderSlot,
    VoucherChoice,
    choose_provider,
    voucher_choices,
)

ROSTER_ID: UUID = uuid5(NAMESPACE_URL, "talkoot:matching:roster")


def stamp(at: datetime | None) -> str:
    """A time as the roster keeps it: UTC ISO text with microseconds, so that text order is
    time order; empty for no time."""
    return "" if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class HeldBudget:
    """What matching holds of one contract's budget: the estimated cost of the ``jobs``
    offered or taken under it and not yet charged (``held_cents``). A charge replaces a job's
    estimate with the real amount, which then counts in the contract's charged sum instead."""

    contract_id: str
    partner_id: str
    provider_id: str
    held_cents: int
    jobs: int


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

    What a decision reads costs the same however long the history: each contract's committed
    total is kept as commitments come and go (not summed again), and the offers made to each
    provider are kept in time order, so those within the window are counted by bisection and
    the older ones cut off at the front.
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
        # provider id -> ISO times of the offers made to it within the fairness window, in
        # time order (stamps compare in time order as text)
        self.offered: dict[str, list[str]] = {}
        # contract id -> {request id -> cents}: the estimated cost of each job offered or
        # taken under the contract, held against its budget until it is charged
        self.held: dict[str, dict[str, int]] = {}
        # contract id -> the sum of its ``held`` cents, kept as they change
        self.held_cents: dict[str, int] = {}
        # request id -> the open offer that committed its budget: declined, lapsed or
        # withdrawn, that offer gives the commitment back; accepted, it leaves it held
        self.committing: dict[str, str] = {}

    # Snapshots record this number (eventsourcing writes it into their state from version 2
    # on) and are upcast on restore from the version that took them to this one. The events
    # need no versions: each attribute added to one since has a default in its method, which
    # eventsourcing calls with the attributes stored.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 is every snapshot taken before the roster counted its versions. The oldest
        lack the open offers, the offers made lately and the budget commitments, and records of
        providers and contracts made before a field existed lack that field: each gets the
        value a new roster or record starts with. A later version 1 snapshot has them all and
        keeps its values."""
        state.setdefault("open_offers", {})
        state.setdefault("offered", {})
        state.setdefault("commitments", {})
        for slot in state["providers"].values():
            for key, value in _empty_provider().items():
                slot.setdefault(key, value)
        for contract in state["contracts"].values():
            # the defaults of add_contract, which a contract added before them replays with
            contract.setdefault("unit_price_cents", 0)
            contract.setdefault("partner_id", "")

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version 2 kept each commitment by request (``commitments``: request id ->
        contract, cents and the offer that made it) and the offers made in the order they
        were recorded. Version 3 keeps them by contract with each contract's total, and only
        the links of commitments to offers still open (an offer no longer open can give back
        nothing); the offers made are put in time order."""
        held: dict[str, dict[str, int]] = state.setdefault("held", {})
        held_cents: dict[str, int] = state.setdefault("held_cents", {})
        committing: dict[str, str] = state.setdefault("committing", {})
        open_offers = state["open_offers"]
        for request_id, commitment in state.pop("commitments", {}).items():
            contract_id, cents = commitment["contract_id"], commitment["cents"]
            held.setdefault(contract_id, {})[request_id] = cents
            held_cents[contract_id] = held_cents.get(contract_id, 0) + cents
            offer = open_offers.get(commitment.get("offer_id", ""))
            if offer is not None and offer["request_id"] == request_id:
                committing[request_id] = commitment["offer_id"]
        for times in state["offered"].values():
            times.sort()

    def _provider(self, provider_id: str) -> dict:
        return self.providers.setdefault(provider_id, _empty_provider())

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
        pricing: str = "hour",  # contracts added before these terms: per hour, no voucher
        voucher_cents: int | None = None,
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
            "pricing": pricing,
            "voucher_cents": voucher_cents,
        }

    def amend_contract(
        self,
        contract_id: str,
        version: int,
        effective_from: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        valid_from: str,
        valid_until: str,
        remaining_cents: int,
        pricing: str = "hour",
        voucher_cents: int | None = None,
    ) -> None:
        """The contract's next version, in force from ``effective_from`` (ISO dates)."""
        if contract_id in self.contracts:
            self._contract_amended(
                contract_id=contract_id,
                version=version,
                effective_from=effective_from,
                categories=categories,
                regions=regions,
                unit_price_cents=unit_price_cents,
                valid_from=valid_from,
                valid_until=valid_until,
                remaining_cents=remaining_cents,
                pricing=pricing,
                voucher_cents=voucher_cents,
            )

    @event("ContractAmended")
    def _contract_amended(
        self,
        contract_id: str,
        version: int,
        effective_from: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        valid_from: str,
        valid_until: str,
        remaining_cents: int,
        pricing: str = "hour",  # amendments recorded before these terms: per hour, no voucher
        voucher_cents: int | None = None,
    ) -> None:
        contract = self.contracts[contract_id]
        versions = contract.setdefault("versions", [_first_version(contract)])
        versions.append(
            {
                "version": version,
                "effective_from": effective_from,
                "categories": categories,
                "regions": regions,
                "unit_price_cents": unit_price_cents,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "pricing": pricing,
                "voucher_cents": voucher_cents,
            }
        )
        contract.update(
            categories=categories,
            regions=regions,
            unit_price_cents=unit_price_cents,
            valid_from=valid_from,
            valid_until=valid_until,
            remaining_cents=remaining_cents,
            pricing=pricing,
            voucher_cents=voucher_cents,
        )

    def set_contract_status(self, contract_id: str, status: str, since: str = "") -> None:
        """The contract is ``suspended`` (no new work), ``active`` again, or ``terminated``
        (no work from ``since``, an ISO date)."""
        if contract_id in self.contracts:
            self._contract_status(contract_id=contract_id, status=status, since=since)

    @event("ContractStatusChanged")
    def _contract_status(self, contract_id: str, status: str, since: str) -> None:
        self.contracts[contract_id]["status"] = status
        if status == "terminated":
            self.contracts[contract_id]["terminated_on"] = since

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
            self._drop_commitment(request_id)
            self.held.setdefault(contract_id, {})[request_id] = estimated_cents
            self.held_cents[contract_id] = self.held_cents.get(contract_id, 0) + estimated_cents
            if offer_id:
                self.committing[request_id] = offer_id
        if offered_at:
            # in time order even when an offer made a moment earlier is recorded later
            insort(self.offered.setdefault(provider_id, []), offered_at)
        if forget_before:
            # stamps (UTC, microseconds) compare in time order as text
            for pid, times in list(self.offered.items()):
                if not times or times[0] < forget_before:
                    cut = bisect_left(times, forget_before)
                    if cut < len(times):
                        del times[:cut]
                    else:
                        del self.offered[pid]

    def settle_offer(self, offer_id: str) -> None:
        """The offer was accepted: it is no longer open, and its place stays held."""
        if offer_id in self.open_offers:
            self._offer_settled(offer_id=offer_id)

    @event("OfferSettled")
    def _offer_settled(self, offer_id: str) -> None:
        request_id = self.open_offers.pop(offer_id)["request_id"]
        if self.committing.get(request_id) == offer_id:
            del self.committing[request_id]  # accepted: held until the charge

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
        if offer is not None and self.committing.get(offer["request_id"]) == offer_id:
            self._drop_commitment(offer["request_id"])

    def release_commitment(self, request_id: str) -> None:
        """The request no longer holds the budget its offer committed: it was charged (the
        remaining budget now counts the real amount), refused a charge, voided, cancelled,
        expired, or is matched again."""
        if self.commitment(request_id) is not None:
            self._commitment_released(request_id=request_id)

    @event("CommitmentReleased")
    def _commitment_released(self, request_id: str) -> None:
        self._drop_commitment(request_id)

    def _drop_commitment(self, request_id: str) -> None:
        """The request holds nothing of any contract's budget any longer."""
        self.committing.pop(request_id, None)
        held = self.commitment(request_id)
        if held is None:
            return
        contract_id, cents = held
        requests = self.held[contract_id]
        del requests[request_id]
        if requests:
            self.held_cents[contract_id] -= cents
        else:
            del self.held[contract_id], self.held_cents[contract_id]

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
        times = self.offered.get(provider_id, [])
        return len(times) - bisect_left(times, stamp(since))

    def commitment(self, request_id: str) -> tuple[str, int] | None:
        """The contract whose budget ``request_id`` holds, and how many cents of it; None
        when it holds none. As many steps as there are contracts with commitments."""
        for contract_id, requests in self.held.items():
            cents = requests.get(request_id)
            if cents is not None:
                return contract_id, cents
        return None

    def commitments(self) -> dict[str, tuple[str, int]]:
        """Request id -> (contract id, cents) of every commitment: for reading them all, not
        for a decision, which reads each contract's total."""
        return {
            request_id: (contract_id, cents)
            for contract_id, requests in self.held.items()
            for request_id, cents in requests.items()
        }

    def provider_slots(self, since: datetime | None = None) -> list[ProviderSlot]:
        """The providers as the policy reads them; offers made from ``since`` count as recent
        work (all the history kept when it is None)."""
        slots = []
        start = stamp(since)
        for pid, p in self.providers.items():
            times = self.offered.get(pid, [])
            ratings = p["ratings"]
            pauses = p["pauses"].values()
            slots.append(
                ProviderSlot(
                    provider_id=pid,
                    categories=frozenset(p["categories"]),
                    regions=frozenset(p["regions"]),
                    capacity=p["capacity"],
                    jobs=p["jobs"],
                    suspended=p["suspended"],
                    pauses=tuple(
                        (date.fromisoformat(s), date.fromisoformat(e) if e else None)
                        for s, e in pauses
                    ),
                    lat=p["lat"],
                    long=p["long"],
                    rating=p["stars"] / ratings if ratings else None,
                    recent_offers=len(times) - bisect_left(times, start),
                )
            )
        return slots

    def provider_names(self) -> dict[str, str]:
        """Provider id -> name, for explanations a person reads (empty when not known)."""
        return {pid: p["name"] for pid, p in self.providers.items()}

    def _committed(self, but: str = "") -> dict[str, tuple[int, int]]:
        """Contract id -> (cents, jobs) the requests not yet charged hold of its budget, all
        but request ``but``: read from the totals kept, in as many steps as there are
        contracts."""
        committed = {
            contract_id: (self.held_cents[contract_id], len(requests))
            for contract_id, requests in self.held.items()
        }
        mine = self.commitment(but) if but else None
        if mine is not None:
            contract_id, cents = mine
            total, jobs = committed[contract_id]
            committed[contract_id] = (total - cents, jobs - 1)
        return committed

    def held_budgets(
        self, partner_id: str | None = None, provider_id: str | None = None
    ) -> list[HeldBudget]:
        """What is held of each contract's budget, by contract id: the contracts of
        ``partner_id`` and ``provider_id`` (every one where they are None), also those that
        hold nothing."""
        committed = self._committed()
        return [
            HeldBudget(
                contract_id=cid,
                partner_id=c["partner_id"],
                provider_id=c["provider_id"],
                held_cents=committed.get(cid, (0, 0))[0],
                jobs=committed.get(cid, (0, 0))[1],
            )
            for cid, c in sorted(self.contracts.items())
            if (partner_id is None or c["partner_id"] == partner_id)
            and (provider_id is None or c["provider_id"] == provider_id)
        ]

    def contract_budgets(self, request_id: str = "") -> list[ContractBudget]:
        """The contracts as the policy reads them when matching ``request_id``: what is left
        of each budget less what the other jobs not yet charged have committed of it (a job
        matched again does not count its own earlier commitment)."""
        committed = {cid: cents for cid, (cents, _) in self._committed(request_id).items()}
        return [
            ContractBudget(
                contract_id=cid,
                provider_id=c["provider_id"],
                categories=frozenset(version["categories"]),
                regions=frozenset(version["regions"]),
                remaining_cents=c["remaining_cents"] - committed.get(cid, 0),
                valid_from=first,
                valid_until=last,
                unit_price_cents=version["unit_price_cents"],
                partner_id=c["partner_id"],
                pricing=version.get("pricing", "hour"),
                voucher_cents=version.get("voucher_cents"),
            )
            for cid, c in self.contracts.items()
            if c.get("status", "active") != "suspended"
            for version, first, last in _in_force(c)
        ]

    def decide(self, job: JobToMatch, since: datetime | None = None) -> Decision:
        return choose_provider(
            job, self.provider_slots(since), self.contract_budgets(job.request_id)
        )

    def choices(self, job: JobToMatch, since: datetime | None = None) -> list[VoucherChoice]:
        """The providers a resident may choose for ``job`` under a service voucher."""
        return voucher_choices(
            job, self.provider_slots(since), self.contract_budgets(job.request_id)
        )


def _first_version(contract: dict) -> dict:
    """A contract's terms as first signed, for one known before its versions were."""
    return {
        "version": 1,
        "effective_from": contract["valid_from"],
        **{
            key: contract[key]
            for key in ("categories", "regions", "unit_price_cents", "valid_from", "valid_until")
        },
        # known before these terms: per hour, no voucher
        "pricing": contract.get("pricing", "hour"),
        "voucher_cents": contract.get("voucher_cents"),
    }


def _in_force(contract: dict) -> list[tuple[dict, date, date]]:
    """Each version of the contract with the days it is in force: from its first day (or the
    validity's, if later) to the day before the next version's, within its validity and
    before the termination day."""
    versions = contract.get("versions") or [_first_version(contract)]
    ended = contract.get("terminated_on")
    found = []
    for n, version in enumerate(versions):
        first = max(
            date.fromisoformat(version["effective_from"]),
            date.fromisoformat(version["valid_from"]),
        )
        last = date.fromisoformat(version["valid_until"])
        if n + 1 < len(versions):
            last = min(
                last, date.fromisoformat(versions[n + 1]["effective_from"]) - timedelta(days=1)
            )
        if ended:
            last = min(last, date.fromisoformat(ended) - timedelta(days=1))
        if first <= last:
            found.append((version, first, last))
    return found


# Events and snapshots stored before matching became a package name the roster by its old
# module path (``domain.matching:Roster``, ``domain.matching:Roster.JobTaken``). eventsourcing
# resolves a nested event's topic through the topic registered for its class, so this covers
# the snapshots and every event of the roster.
register_topic("domain.matching:Roster", Roster)
