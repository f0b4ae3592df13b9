"""What partnerships takes from the requests service: confirmed work, to be charged."""

from __future__ import annotations

from contracts.events import RequestConfirmedV1
from contracts.jetstream import Subscription
from services.partnerships.application import PartnershipsApplication
from services.platform.inbound import tracked
from services.platform.store import Changes


def subscriptions(app: PartnershipsApplication) -> list[Subscription]:
    def request_confirmed(event: RequestConfirmedV1, changes: Changes) -> None:
        app.charge_confirmed_work(
            changes, event.contract_id, event.request_id, event.minutes, event.worked_on
        )

    return [
        Subscription(
            "requests",
            "partnerships",
            tracked(app, "requests", {RequestConfirmedV1: request_confirmed}),
        )
    ]
