"""What matching takes from the others: requests and what becomes of them, providers and their
availability, contracts and their budgets."""

from __future__ import annotations

from contracts.events import (
    ChargeRefusedV1,
    CompletionReportedV1,
    ContractActivatedV1,
    ContractAmendedV1,
    ContractChargedV1,
    ContractChargeReversedV1,
    ContractResumedV1,
    ContractSuspendedV1,
    ContractTerminatedV1,
    DisputeResolvedV1,
    ProviderCapabilitiesChangedV1,
    ProviderPausedV1,
    ProviderPauseEndedV1,
    ProviderRegisteredV1,
    ProviderReinstatedV1,
    ProviderSuspendedV1,
    RequestCancelledV1,
    RequestExpiredV1,
    RequestRatedV1,
    RequestRescheduledV1,
    ServiceRequestedV1,
)
from contracts.jetstream import Subscription
from domain.calendar import local_day
from services.matching.application import MatchingApplication, RosterChanges
from services.platform.inbound import tracked
from services.platform.personal import open_event


def subscriptions(app: MatchingApplication) -> list[Subscription]:
    # --- requests ---

    def service_requested(event: ServiceRequestedV1, changes: RosterChanges) -> None:
        # The point travels sealed for the resident (in clear only in events published
        # before personal data was sealed); matching opens it to find the nearest provider.
        point = open_event(app.keyring, event, ("lat", "long"))
        app.open_job(
            changes,
            event.request_id,
            event.category,
            event.region,
            local_day(event.window_start),
            lat=point["lat"],
            long=point["long"],
            preferred_provider_id=event.preferred_provider_id,
            resident_id=event.resident_id,
            chosen_provider_id=event.chosen_provider_id,
        )

    def request_rescheduled(event: RequestRescheduledV1, changes: RosterChanges) -> None:
        app.reschedule_job(changes, event.request_id, local_day(event.window_start))

    def request_cancelled(event: RequestCancelledV1, changes: RosterChanges) -> None:
        reason = "the resident cancelled the request"
        app.close_job(
            changes, event.request_id, f"{reason}: {event.reason}" if event.reason else reason
        )

    def request_expired(event: RequestExpiredV1, changes: RosterChanges) -> None:
        app.close_job(changes, event.request_id, f"the request expired: {event.reason}")

    def completion_reported(event: CompletionReportedV1, changes: RosterChanges) -> None:
        app.complete_job(changes, event.request_id, event.provider_id)

    def dispute_resolved(event: DisputeResolvedV1, changes: RosterChanges) -> None:
        if event.outcome == "voided":  # nothing will be charged for it
            app.release_commitment(changes, event.request_id)

    def request_rated(event: RequestRatedV1, changes: RosterChanges) -> None:
        app.rate_provider(changes, event.provider_id, event.stars)

    # --- providers ---

    def provider_registered(event: ProviderRegisteredV1, changes: RosterChanges) -> None:
        app.enrol_provider(
            changes,
            event.provider_id,
            event.categories,
            event.regions,
            event.capacity,
            lat=event.lat,
            long=event.long,
            name=event.name,
        )

    def capabilities_changed(event: ProviderCapabilitiesChangedV1, changes: RosterChanges) -> None:
        app.change_capabilities(
            changes, event.provider_id, event.categories, event.regions, event.capacity
        )

    def provider_paused(event: ProviderPausedV1, changes: RosterChanges) -> None:
        app.pause_provider(changes, event.provider_id, event.pause_id, event.starts, event.ends)

    def pause_ended(event: ProviderPauseEndedV1, changes: RosterChanges) -> None:
        app.end_pause(changes, event.provider_id, event.pause_id)

    def provider_suspended(event: ProviderSuspendedV1, changes: RosterChanges) -> None:
        app.suspend_provider(changes, event.provider_id)

    def provider_reinstated(event: ProviderReinstatedV1, changes: RosterChanges) -> None:
        app.reinstate_provider(changes, event.provider_id)

    # --- partnerships ---

    def contract_activated(event: ContractActivatedV1, changes: RosterChanges) -> None:
        app.add_contract(
            changes,
            event.contract_id,
            event.provider_id,
            event.categories,
            event.regions,
            event.budget_cents,
            event.valid_from,
            event.valid_until,
            unit_price_cents=event.unit_price_cents,
            partner_id=event.partner_id,
            pricing=event.pricing,
            voucher_cents=event.voucher_cents,
        )

    def contract_amended(event: ContractAmendedV1, changes: RosterChanges) -> None:
        app.amend_contract(changes, event)

    def contract_suspended(event: ContractSuspendedV1, changes: RosterChanges) -> None:
        changes.roster.set_contract_status(event.contract_id, "suspended")

    def contract_resumed(event: ContractResumedV1, changes: RosterChanges) -> None:
        changes.roster.set_contract_status(event.contract_id, "active")

    def contract_terminated(event: ContractTerminatedV1, changes: RosterChanges) -> None:
        changes.roster.set_contract_status(event.contract_id, "terminated", event.on.isoformat())

    def contract_charged(event: ContractChargedV1, changes: RosterChanges) -> None:
        app.charge_job(changes, event.contract_id, event.request_id, event.remaining_cents)

    def charge_reversed(event: ContractChargeReversedV1, changes: RosterChanges) -> None:
        # a voided dispute gave the charge back: the remaining budget grows by it
        changes.roster.update_budget(event.contract_id, event.remaining_cents)

    def charge_refused(event: ChargeRefusedV1, changes: RosterChanges) -> None:
        app.release_commitment(changes, event.request_id)

    return [
        Subscription(
            "requests",
            "matching",
            tracked(
                app,
                "requests",
                {
                    ServiceRequestedV1: service_requested,
                    RequestRescheduledV1: request_rescheduled,
                    RequestCancelledV1: request_cancelled,
                    RequestExpiredV1: request_expired,
                    CompletionReportedV1: completion_reported,
                    DisputeResolvedV1: dispute_resolved,
                    RequestRatedV1: request_rated,
                },
            ),
        ),
        Subscription(
            "providers",
            "matching",
            tracked(
                app,
                "providers",
                {
                    ProviderRegisteredV1: provider_registered,
                    ProviderCapabilitiesChangedV1: capabilities_changed,
                    ProviderPausedV1: provider_paused,
                    ProviderPauseEndedV1: pause_ended,
                    ProviderSuspendedV1: provider_suspended,
                    ProviderReinstatedV1: provider_reinstated,
                },
            ),
        ),
        Subscription(
            "partnerships",
            "matching",
            tracked(
                app,
                "partnerships",
                {
                    ContractActivatedV1: contract_activated,
                    ContractAmendedV1: contract_amended,
                    ContractSuspendedV1: contract_suspended,
                    ContractResumedV1: contract_resumed,
                    ContractTerminatedV1: contract_terminated,
                    ContractChargedV1: contract_charged,
                    ChargeRefusedV1: charge_refused,
                    ContractChargeReversedV1: charge_reversed,
                },
            ),
        ),
    ]
