"""What the providers service takes from the others: contracts that became active, so that it
knows which municipal partners may suspend and reinstate a provider."""

from __future__ import annotations

from contracts.events import ContractActivatedV1
from contracts.jetstream import Subscription
from services.platform.inbound import tracked
from services.platform.store import Changes
from services.providers.application import ProvidersApplication


def subscriptions(app: ProvidersApplication) -> list[Subscription]:
    def contract_activated(event: ContractActivatedV1, changes: Changes) -> None:
        app.record_contract(
            changes,
            event.provider_id,
            event.contract_id,
            event.partner_id,
            event.valid_from,
            event.valid_until,
        )

    return [
        Subscription(
            "partnerships",
            "providers",
            tracked(app, "partnerships", {ContractActivatedV1: contract_activated}),
        )
    ]
