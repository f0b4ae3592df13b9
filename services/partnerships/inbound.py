"""What partnerships takes from the requests service: confirmed work, to be charged."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from contracts.events import RequestConfirmedV1
from contracts.jetstream import Subscription
from services.partnerships.application import PartnershipsApplication
from services.platform.inbound import tracked


def subscriptions(app: PartnershipsApplication) -> list[Subscription]:
    def request_confirmed(event: RequestConfirmedV1, tracking: Tracking) -> None:
        app.charge(event.contract_id, event.request_id, event.minutes, tracking)

    return [
        Subscription(
            "requests",
            "partnerships",
            tracked(app, "requests", {RequestConfirmedV1: request_confirmed}),
        )
    ]
