"""What matching takes from the others: requests and completions, providers, contracts."""

from __future__ import annotations

from contracts.events import (
    CompletionReportedV1,
    ContractActivatedV1,
    ContractChargedV1,
    ProviderRegisteredV1,
    ServiceRequestedV1,
)
from contracts.jetstream import Subscription
from services.matching.application import MatchingApplication, RosterChanges
from services.platform.inbound import tracked


def subscriptions(app: MatchingApplication) -> list[Subscription]:
    def service_requested(event: ServiceRequestedV1, changes: RosterChanges) -> None:
        app.open_job(
            changes, event.request_id, event.category, event.region, event.window_start.date()
        )

    def completion_reported(event: CompletionReportedV1, changes: RosterChanges) -> None:
        app.release_job(changes, event.provider_id)

    def provider_registered(event: ProviderRegisteredV1, changes: RosterChanges) -> None:
        app.enrol_provider(
            changes, event.provider_id, event.categories, event.regions, event.capacity
        )

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
        )

    def contract_charged(event: ContractChargedV1, changes: RosterChanges) -> None:
        app.update_budget(changes, event.contract_id, event.remaining_cents)

    return [
        Subscription(
            "requests",
            "matching",
            tracked(
                app,
                "requests",
                {
                    ServiceRequestedV1: service_requested,
                    CompletionReportedV1: completion_reported,
                },
            ),
        ),
        Subscription(
            "providers",
            "matching",
            tracked(app, "providers", {ProviderRegisteredV1: provider_registered}),
        ),
        Subscription(
            "partnerships",
            "matching",
            tracked(
                app,
                "partnerships",
                {
                    ContractActivatedV1: contract_activated,
                    ContractChargedV1: contract_charged,
                },
            ),
        ),
    ]
