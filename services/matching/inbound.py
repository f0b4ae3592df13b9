"""What matching takes from the others: requests and completions, providers, contracts."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from contracts.events import (
    CompletionReportedV1,
    ContractActivatedV1,
    ContractChargedV1,
    ProviderRegisteredV1,
    ServiceRequestedV1,
)
from contracts.jetstream import Subscription
from services.matching.application import MatchingApplication
from services.platform.inbound import tracked


def subscriptions(app: MatchingApplication) -> list[Subscription]:
    def service_requested(event: ServiceRequestedV1, tracking: Tracking) -> None:
        app.open_job(
            event.request_id, event.category, event.region, event.window_start.date(), tracking
        )

    def completion_reported(event: CompletionReportedV1, tracking: Tracking) -> None:
        app.release_job(event.provider_id, tracking)

    def provider_registered(event: ProviderRegisteredV1, tracking: Tracking) -> None:
        app.enrol_provider(
            event.provider_id, event.categories, event.regions, event.capacity, tracking
        )

    def contract_activated(event: ContractActivatedV1, tracking: Tracking) -> None:
        app.add_contract(
            event.contract_id,
            event.provider_id,
            event.categories,
            event.regions,
            event.budget_cents,
            event.valid_from,
            event.valid_until,
            tracking,
        )

    def contract_charged(event: ContractChargedV1, tracking: Tracking) -> None:
        app.update_budget(event.contract_id, event.remaining_cents, tracking)

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
