"""The matching service's use cases: open a job for each request, offer it, take the answers,
let unanswered offers lapse, and follow what happens to the request meanwhile.

Who may do what: a member of the provider an offer was made to answers it and reads it; an
officer of the partner whose contract an offer is under reads it, and the record of a request
that had an offer under its contracts; an admin reads everything. For anybody else an offer or
a request is not there (404).

The roster (providers, contracts, jobs held) is one aggregate that every decision reads and
most change. It is kept in memory and changed under a lock, so decisions in this process never
race each other. A command refused before it changed the roster (an offer already answered, a
caller who may not answer it) leaves the copy as it is; after a failure once the roster had
changed (also a save that lost a race with another process) the copy is dropped and read
again from the store, as it may hold changes that were not stored.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent, project_aggregate
from eventsourcing.domain import Snapshot
from litestar.exceptions import ValidationException

from contracts.events import ContractAmendedV1
from domain.errors import DomainError, InvalidValue
from domain.matching.job import Job, JobStatus
from domain.matching.offer import Offer, OfferStatus
from domain.matching.policy import JobToMatch, VoucherChoice
from domain.matching.roster import ROSTER_ID, HeldBudget, Roster
from services.matching.commands import Answer, Decline
from services.matching.explanation import explain_offer, explanation_of, explanation_values
from services.platform.catalogue import load_catalogue
from services.platform.errors import Conflict, InvalidField, NotFound
from services.platform.identity import Caller, check_sees
from services.platform.personal import Personal
from services.platform.settings import Settings
from services.platform.store import Changes, Receipt, ServiceApplication

log = logging.getLogger("talkoot.matching")


def sees_offer(caller: Caller, offer: Offer) -> bool:
    """A member of the offer's provider, an officer of its contract's partner, an admin."""
    return caller.is_member_of(offer.provider_id) or caller.is_officer_of(offer.partner_id or None)


def budgets_partner(caller: Caller, partner_id: str | None) -> str | None:
    """Whose contracts' held budgets ``caller`` reads: an officer their own partner's (another
    partner is not there for them); an admin the partner named, or every partner's (None)."""
    if caller.is_admin:
        return partner_id
    if partner_id is None:
        return caller.acting_partner
    check_sees(caller.is_officer_of(partner_id), "partner", partner_id)
    return partner_id


def inbox_provider(caller: Caller, provider_id: str | None) -> str:
    """Whose offers ``caller`` lists: a member their own provider's (another provider is not
    there for them); an admin the provider named."""
    if provider_id is None:
        if caller.is_admin and caller.provider_id is None:
            message = "an admin names the provider whose offers to list"
            raise ValidationException(
                f"{message}: ?provider_id=",
                extra=[{"message": message, "key": "provider_id", "source": "query"}],
            )
        return caller.acting_provider
    check_sees(caller.is_member_of(provider_id), "provider", provider_id)
    return provider_id


class RosterChanges(Changes):
    """Matching's unit of work: the aggregates a run changes, and the roster it reads."""

    def __init__(self, application: ServiceApplication, roster: Roster) -> None:
        super().__init__(application)
        self.roster = roster
        self.add(roster)


def retried_on_conflict(command: Callable[..., Receipt]) -> Callable[..., Receipt]:
    """An answer to an offer is tried again (with the roster read afresh) when another
    replica changed the roster at the same moment, at most ``CONFLICT_TRIES`` times."""

    @functools.wraps(command)
    def tried(application: MatchingApplication, *args, **kwargs) -> Receipt:
        # the resident's key looked up once: to read the offer and the job, and to seal
        with application.personal_batch():
            for _ in range(CONFLICT_TRIES - 1):
                with suppress(Conflict):
                    return command(application, *args, **kwargs)
            return command(application, *args, **kwargs)

    return tried


CONFLICT_TRIES = 3


class MatchingApplication(ServiceApplication):
    service = "matching"
    # The roster's snapshots are taken from the copy in memory, which is what the store holds
    # once its events are saved (eventsourcing's own would read the roster back first), and
    # the more a snapshot holds the more events apart they are: writing one costs about the
    # same per event however long the history. A roster read again from the store gets a
    # snapshot at its first save, so what a restart replays stays bounded too.
    is_snapshotting_enabled = True
    roster_snapshot_every = 500  # events, at least
    roster_snapshot_bytes_per_event = 500
    # The point of a job is the resident's (where their home is): kept sealed for them.
    personal = {
        Job.Opened: Personal("resident_id", ("lat", "long")),
        Job: Personal("resident_id", ("lat", "long")),
    }

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._roster_lock = threading.Lock()
        self._roster: Roster | None = None
        self._roster_snapshot_at = 0  # the version of the last snapshot this process took
        self._roster_snapshot_gap = self.roster_snapshot_every

    @contextmanager
    def roster(self) -> Iterator[Roster]:
        with self._roster_lock:
            if self._roster is None:
                try:
                    self._roster = self.repository.get(ROSTER_ID)
                except AggregateNotFoundError:
                    self._roster = Roster()
                self._roster_snapshot_at = 0  # how far back the store's last one is: unknown
                self._roster_snapshot_gap = self.roster_snapshot_every
            else:
                # Another replica may have changed it since: its new events are applied first
                # (one read, nothing when there are none).
                new = self.repository.event_store.get(ROSTER_ID, gt=self._roster.version)
                self._roster = project_aggregate(self._roster, new)
            roster = self._roster
            # Every change to the roster is an event, which moves its version on: the same
            # version after a failure means the copy is still what the store holds.
            version = roster.version
            try:
                yield roster
            except BaseException:
                if roster.version != version:
                    self._roster = None  # it may hold changes that were not stored
                raise

    def _take_snapshots(self, processing: ProcessingEvent) -> None:
        super()._take_snapshots(processing)
        roster = processing.aggregates.get(ROSTER_ID)
        if roster is None or roster.version - self._roster_snapshot_at < self._roster_snapshot_gap:
            return
        assert self.snapshots is not None
        stored = self.snapshots.mapper.to_stored_event(Snapshot.take(roster))
        self.store_snapshot(stored)  # or another process took this one
        self._roster_snapshot_at = roster.version
        self._roster_snapshot_gap = max(
            self.roster_snapshot_every, len(stored.state) // self.roster_snapshot_bytes_per_event
        )

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
        lat: float | None = None,
        long: float | None = None,
        name: str = "",
    ) -> None:
        changes.roster.enrol_provider(provider_id, categories, regions, capacity, lat, long, name)

    def provider_names(self) -> dict[str, str]:
        with self.roster() as roster:
            return roster.provider_names()

    def change_capabilities(
        self,
        changes: RosterChanges,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
    ) -> None:
        changes.roster.change_capabilities(provider_id, categories, regions, capacity)

    def pause_provider(
        self,
        changes: RosterChanges,
        provider_id: str,
        pause_id: str,
        starts: date,
        ends: date | None,
    ) -> None:
        changes.roster.pause(
            provider_id, pause_id, starts.isoformat(), ends.isoformat() if ends else None
        )

    def end_pause(self, changes: RosterChanges, provider_id: str, pause_id: str) -> None:
        changes.roster.end_pause(provider_id, pause_id)

    def suspend_provider(self, changes: RosterChanges, provider_id: str) -> None:
        """A suspended provider gets no offers: those it has open are withdrawn and their
        jobs offered to the next candidate."""
        changes.roster.suspend(provider_id)
        for offer_id, entry in list(changes.roster.open_offers.items()):
            if entry["provider_id"] != provider_id:
                continue
            job = changes.get(entry["request_id"], "job")
            if job.status != JobStatus.OFFERED or job.offer_id != offer_id:
                continue
            offer = self._withdraw_open_offer(changes, job, "the provider was suspended")
            changes.add(offer, self._offer_next(job, changes.roster))

    def reinstate_provider(self, changes: RosterChanges, provider_id: str) -> None:
        changes.roster.reinstate(provider_id)

    def rate_provider(self, changes: RosterChanges, provider_id: str, stars: int) -> None:
        changes.roster.rate(provider_id, stars)

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
        unit_price_cents: int = 0,
        partner_id: str = "",
        pricing: str = "hour",
        voucher_cents: int | None = None,
    ) -> None:
        changes.roster.add_contract(
            contract_id,
            provider_id,
            categories,
            regions,
            budget_cents,
            valid_from.isoformat(),
            valid_until.isoformat(),
            unit_price_cents,
            partner_id,
            pricing,
            voucher_cents,
        )

    def amend_contract(self, changes: RosterChanges, amended: ContractAmendedV1) -> None:
        """The contract's next version, and what is left of its budget under it."""
        changes.roster.amend_contract(
            amended.contract_id,
            amended.version,
            amended.effective_from.isoformat(),
            amended.categories,
            amended.regions,
            amended.unit_price_cents,
            amended.valid_from.isoformat(),
            amended.valid_until.isoformat(),
            amended.remaining_cents,
            amended.pricing,
            amended.voucher_cents,
        )

    def charge_job(
        self, changes: RosterChanges, contract_id: str, request_id: str, remaining_cents: int
    ) -> None:
        """The request was charged: the remaining budget now counts the real amount, so the
        estimate committed for it is given back."""
        changes.roster.update_budget(contract_id, remaining_cents)
        changes.roster.release_commitment(request_id)

    def release_commitment(self, changes: RosterChanges, request_id: str) -> None:
        """The request will not be charged (the charge was refused, or a dispute voided it):
        the budget committed for it is free again."""
        changes.roster.release_commitment(request_id)

    def open_job(
        self,
        changes: RosterChanges,
        request_id: str,
        category: str,
        region: str,
        on: date,
        lat: float | None = None,
        long: float | None = None,
        preferred_provider_id: str | None = None,
        resident_id: str = "",
        chosen_provider_id: str | None = None,
    ) -> None:
        job = Job(
            id=UUID(request_id),
            category=category,
            region=region,
            on=on,
            lat=lat,
            long=long,
            preferred_provider_id=preferred_provider_id,
            resident_id=resident_id,
            chosen_provider_id=chosen_provider_id,
        )
        changes.add(job, self._offer_next(job, changes.roster))

    def complete_job(self, changes: RosterChanges, request_id: str, provider_id: str) -> None:
        """The provider reported the work: the place it held is free again."""
        try:
            job = changes.get(request_id, "job")
        except NotFound:
            log.warning("completion of request %s, which matching never saw", request_id)
            return  # matching holds no place for it
        job.record_completion()
        changes.roster.release_job(provider_id)

    def reschedule_job(self, changes: RosterChanges, request_id: str, on: date) -> None:
        """The request moved to another day: an open offer is withdrawn and the job is matched
        again for the new day (also when nobody could be found before)."""
        job = changes.get(request_id, "job")
        if job.status == JobStatus.TAKEN:
            # Accepted for the old day just before the move reached matching; the request
            # refuses that acceptance, so the provider's place and the budget are freed.
            changes.roster.release_job(job.provider_id)
            changes.roster.release_commitment(request_id)
        offer = self._withdraw_open_offer(changes, job, "the request was rescheduled")
        job.reschedule(on)  # refuses a job that is done or closed, naming its state
        changes.add(offer, self._offer_next(job, changes.roster))

    def close_job(self, changes: RosterChanges, request_id: str, reason: str) -> None:
        """The request was cancelled or expired: an open offer is withdrawn, the place an
        accepted one holds and the budget committed for it are freed, and nothing more is
        offered."""
        job = changes.get(request_id, "job")
        if job.status == JobStatus.CLOSED:
            return
        offer = self._withdraw_open_offer(changes, job, reason)
        if job.status == JobStatus.TAKEN:
            changes.roster.release_job(job.provider_id)
        changes.roster.release_commitment(request_id)
        job.close(reason)
        changes.add(offer)

    def _withdraw_open_offer(self, changes: RosterChanges, job: Job, reason: str) -> Offer | None:
        if job.status != JobStatus.OFFERED:
            return None
        offer = changes.get(job.offer_id, "offer")
        offer.withdraw(reason)
        job.record_withdrawal(str(offer.id))
        changes.roster.release_job(offer.provider_id, str(offer.id))
        return offer

    # --- providers answer ----------------------------------------------------------------

    def _offered_to_caller(self, caller: Caller, offer_id: str) -> tuple[Offer, str]:
        """The offer and the provider that answers it: the caller's, if the offer was made
        to it (else 404). An admin gets the offer; the domain then checks the provider."""
        offer = self.get_offer(offer_id)
        check_sees(caller.is_member_of(offer.provider_id), "offer", offer_id)
        return offer, caller.acting_provider

    @retried_on_conflict
    def accept(self, caller: Caller, offer_id: str, command: Answer) -> Receipt:
        with self.roster() as roster:
            offer, provider_id = self._offered_to_caller(caller, offer_id)
            offer.accept(provider_id, datetime.now(UTC))
            job = self.get(offer.request_id, "job")
            job.record_taken(offer_id=str(offer.id), provider_id=provider_id)
            roster.settle_offer(str(offer.id))
            # the offer's event last: its position is one the inbox and the board reach
            return Receipt(str(offer.id), self.commit(roster, job, offer))

    @retried_on_conflict
    def decline(self, caller: Caller, offer_id: str, command: Decline) -> Receipt:
        with self.roster() as roster:
            offer, provider_id = self._offered_to_caller(caller, offer_id)
            offer.decline(provider_id, command.reason, datetime.now(UTC))
            job = self.get(offer.request_id, "job")
            job.record_decline(str(offer.id), provider_id)
            roster.release_job(provider_id, str(offer.id))
            next_offer = self._offer_next(job, roster)
            return Receipt(str(offer.id), self.commit(roster, job, offer, next_offer))

    # --- time passes ---------------------------------------------------------------------

    def expire_offers(self, now: datetime | None = None, most: int = 100) -> int:
        """Open offers past their time lapse, at most ``most`` a round; each job goes to the
        next candidate, or becomes unmatched. Each offer is its own unit of work, so one
        that fails holds up neither the others nor, for long, the roster's lock. Returns how
        many lapsed."""
        now = now or datetime.now(UTC)
        with self.roster() as roster:
            due = roster.due_offers(now)[:most]
        lapsed = 0
        for offer_id in due:
            try:
                lapsed += self._expire_offer(offer_id, now)
            except DomainError as error:  # changed at the same moment: next round
                log.info("offer %s did not lapse now: %s", offer_id, error.message)
            except Exception:
                log.exception("could not let offer %s lapse", offer_id)
        return lapsed

    def _expire_offer(self, offer_id: str, now: datetime) -> int:
        with self.roster() as roster:
            offer = self.get_offer(offer_id)
            if offer.status == OfferStatus.ACCEPTED:
                roster.settle_offer(offer_id)  # its place stays held
                self.commit(roster)
                return 0
            if offer.status != OfferStatus.OPEN:
                roster.release_job(offer.provider_id, offer_id)
                self.commit(roster)
                return 0
            offer.expire(now)
            roster.release_job(offer.provider_id, offer_id)
            job = self.get(offer.request_id, "job")
            if job.status == JobStatus.OFFERED and job.offer_id == offer_id:
                job.record_expiry(offer_id, offer.provider_id)
                next_offer = self._offer_next(job, roster, now)
                self.commit(offer, job, roster, next_offer)
            else:  # the job moved on without this offer; it lapses all the same
                self.commit(offer, roster)
            return 1

    # --- reading -------------------------------------------------------------------------

    def get_offer(self, offer_id: str) -> Offer:
        offer = self.get(offer_id, "offer")
        if not isinstance(offer, Offer):
            raise InvalidValue(f"{offer_id} is not an offer", rule="offer_id")
        return offer

    def get_job(self, request_id: str) -> tuple[Job, list[Offer]]:
        job = self.get(request_id, "job")
        if not isinstance(job, Job):
            raise InvalidValue(f"{request_id} is not a request", rule="request_id")
        return job, [self.get_offer(offer_id) for offer_id in job.offers]

    def offer_for(self, caller: Caller, offer_id: str) -> Offer:
        """The offer, if ``caller`` may read it (see ``sees_offer``), else 404."""
        offer = self.get_offer(offer_id)
        check_sees(sees_offer(caller, offer), "offer", offer_id)
        return offer

    def held_budgets(
        self, caller: Caller, partner_id: str | None = None, provider_id: str | None = None
    ) -> list[HeldBudget]:
        """What matching holds of the budgets of the contracts ``caller`` may read (see
        ``budgets_partner``), narrowed to ``provider_id``'s when given."""
        whose = budgets_partner(caller, partner_id)
        with self.roster() as roster:
            return roster.held_budgets(whose, provider_id)

    def job_for(self, caller: Caller, request_id: str) -> tuple[Job, list[Offer]]:
        """Matching's record of a request, for an officer of a partner under whose contract
        one of its offers was made (an admin: any), else 404."""
        job, offers = self.get_job(request_id)
        check_sees(
            caller.is_admin or any(caller.is_officer_of(o.partner_id or None) for o in offers),
            "job",
            request_id,
        )
        return job, offers

    def choices(
        self, category: str, region: str, on: date, request_id: str = ""
    ) -> tuple[list[VoucherChoice], dict[str, str], int]:
        """The providers a resident may choose for a request of ``category`` in ``region`` on
        ``on`` (see ``voucher_choices``), the providers' names, and the category's estimated
        minutes. Current at once: the roster is matching's own record."""
        catalogue = load_catalogue().categories
        if category not in catalogue:
            raise InvalidField(f"{category!r} is not a category of the catalogue", rule="category")
        minutes = catalogue[category].estimated_minutes
        job = JobToMatch(request_id, category, region, on, estimated_minutes=minutes)
        since = datetime.now(UTC) - self.settings.fairness_window
        with self.roster() as roster:
            return roster.choices(job, since), roster.provider_names(), minutes

    # --- the decision --------------------------------------------------------------------

    def _offer_next(self, job: Job, roster: Roster, now: datetime | None = None) -> Offer | None:
        now = now or datetime.now(UTC)
        since = now - self.settings.fairness_window
        category = load_catalogue().categories.get(job.category)
        minutes = category.estimated_minutes if category else 60
        decision = roster.decide(job.to_match(minutes), since)
        candidates = [c.as_dict() for c in decision.candidates]
        if decision.match is None:
            job.record_no_provider(
                reason=decision.reason, candidates=candidates, unrelated=decision.unrelated
            )
            return None
        chosen = decision.chosen
        expires_at = now + self.settings.offer_expires_after
        decided = (
            decision.match.provider_id,
            candidates,
            decision.unrelated,
            self.settings.fairness_window,
            roster.provider_names(),
            (job.chosen_provider_id or "", decision.choice, decision.choice_rule),
        )
        offer = Offer(
            request_id=str(job.id),
            provider_id=decision.match.provider_id,
            contract_id=decision.match.contract_id,
            partner_id=decision.match.partner_id,
            category=job.category,
            region=job.region,
            declined_by=list(job.declined_by),
            expires_at=expires_at,
            candidates=candidates,
            score=chosen.as_dict() if chosen else {},
            unrelated=decision.unrelated,
            why=explain_offer(*decided),
            explanation=explanation_values(explanation_of(*decided)),
        )
        job.record_offer(offer_id=str(offer.id), provider_id=offer.provider_id)
        roster.take_job(
            offer.provider_id,
            offer_id=str(offer.id),
            request_id=str(job.id),
            offered_at=now,
            expires_at=expires_at,
            forget_before=since,
            contract_id=offer.contract_id,
            estimated_cents=decision.match.estimated_cents,
        )
        return offer
