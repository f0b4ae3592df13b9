"""What the requests service takes from matching: offers, assignments, and no-match verdicts."""

from __future__ import annotations

import msgspec

from contracts.events import NoProviderFoundV1, OfferAcceptedV1, OfferMadeV1
from contracts.jetstream import Subscription
from services.platform.inbound import tracked
from services.platform.store import Changes
from services.requests.application import RequestsApplication


def subscriptions(app: RequestsApplication) -> list[Subscription]:
    def offer_made(event: OfferMadeV1, changes: Changes) -> None:
        app.record_offer(
            changes,
            event.request_id,
            event.offer_id,
            event.provider_id,
            event.why,
            msgspec.to_builtins(event.explanation),  # stored as plain values
        )

    def offer_accepted(event: OfferAcceptedV1, changes: Changes) -> None:
        app.assign(
            changes,
            event.request_id,
            event.offer_id,
            event.provider_id,
            event.contract_id,
            event.partner_id,
        )

    def no_provider_found(event: NoProviderFoundV1, changes: Changes) -> None:
        app.record_unmatched(changes, event.request_id, event.reason)

    handlers = {
        OfferMadeV1: offer_made,
        OfferAcceptedV1: offer_accepted,
        NoProviderFoundV1: no_provider_found,
    }
    return [Subscription("matching", "requests", tracked(app, "matching", handlers))]
