"""The matching service's use cases: open a job for each request, offer it, take the answers.

The roster (providers, contracts, jobs held) is one aggregate that every decision reads and
most change. It is kept in memory and changed under a lock, so decisions in this process never
race each other; after any failure the in-memory copy is dropped and read again from the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.errors import InvalidValue
from domain.matching import ROSTER_ID, Job, Offer, Roster
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication


class RosterChanges(Changes):
    """Matching's unit of work: the aggregates a run changes, and the roster it reads."""

    def __init__(self, application: ServiceApplication, roster: Roster) -> None:
        super().__init__(application)
        self.roster = roster
        self.add(roster)


class MatchingApplication(ServiceApplication):
    service = "matching"
    snapshotting_intervals = {Roster: 500}

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._roster_lock = threading.Lock()
        self._roster: Roster | None = None

    @contextmanager
    def roster(self) -> Iterator[Roster]:
        with self._roster_lock:
            if self._roster is None:
                try:
                    self._roster = self.repository.get(ROSTER_ID)
                except AggregateNotFoundError:
                    self._roster = Roster()
            try:
                yield self._roster
            except BaseException:
                self._roster = None  # it may hold changes that were not stored
                raise

    @contextmanager
    def changes(self) -> Iterator[RosterChanges]:
        """A unit of work that holds the roster for the whole run of events."""
        with self.roster() as roster:
            changes = RosterChanges(self, roster)
            yield changes

    # --- what the other services tell us (a run of events, stored together) --------------

    def enrol_provider(
        self,
        changes: RosterChanges,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
    ) -> None:
        changes.roster.enrol_provider(provider_id, categories, regions, capacity)

    def add_contract(
        self,
        changes: RosterChanges,
        contract_id: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        budget_cents: int,
        valid_from: date,
        valid_until: date,
    ) -> None:
        changes.roster.add_contract(
            contract_id,
            provider_id,
            categories,
            regions,
            budget_cents,
            valid_from.isoformat(),
            valid_until.isoformat(),
        )

    def update_budget(self, changes: RosterChanges, contract_id: str, remaining_cents: int) -> None:
        changes.roster.update_budget(contract_id, remaining_cents)

    def open_job(
        self, changes: RosterChanges, request_id: str, category: str, region: str, on: date
    ) -> None:
        job = Job(id=UUID(request_id), category=category, region=region, on=on)
        changes.add(job, self._offer_next(job, changes.roster))

    def release_job(self, changes: RosterChanges, provider_id: str) -> None:
        changes.roster.release_job(provider_id)

    # --- providers answer ----------------------------------------------------------------

    def accept(self, offer_id: str, provider_id: str) -> Receipt:
        offer = self.get_offer(offer_id)
        offer.accept(provider_id)
        job = self.get(offer.request_id, "job")
        job.record_taken(offer_id=str(offer.id), provider_id=provider_id)
        return Receipt(str(offer.id), self.commit(offer, job))

    def decline(self, offer_id: str, provider_id: str, reason: str) -> Receipt:
        with self.roster() as roster:
            offer = self.get_offer(offer_id)
            offer.decline(provider_id, reason)
            job = self.get(offer.request_id, "job")
            job.record_decline(str(offer.id), provider_id)
            roster.release_job(provider_id)
            next_offer = self._offer_next(job, roster)
            return Receipt(str(offer.id), self.commit(offer, job, roster, next_offer))

    def get_offer(self, offer_id: str) -> Offer:
        offer = self.get(offer_id, "offer")
        if not isinstance(offer, Offer):
            raise InvalidValue(f"{offer_id} is not an offer", rule="offer_id")
        return offer

    # --- the decision --------------------------------------------------------------------

    @staticmethod
    def _offer_next(job: Job, roster: Roster) -> Offer | None:
        decision = roster.decide(job.to_match())
        if decision.match is None:
            job.record_no_provider(reason=decision.reason)
            return None
        offer = Offer(
            request_id=str(job.id),
            provider_id=decision.match.provider_id,
            contract_id=decision.match.contract_id,
            category=job.category,
            region=job.region,
            declined_by=list(job.declined_by),
        )
        job.record_offer(offer_id=str(offer.id), provider_id=offer.provider_id)
        roster.take_job(offer.provider_id)
        return offer
