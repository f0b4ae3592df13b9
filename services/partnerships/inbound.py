"""What partnerships takes from the requests service: confirmed work, to be charged; and a
dispute voided after the work was charged, whose charge is reversed. From the tables service:
a service programme a table funded, which becomes a contract with the table."""

from __future__ import annotations

from contracts.events import DisputeResolvedV1, ProgrammeFundedV1, RequestConfirmedV1
from contracts.jetstream import Subscription
from services.partnerships.application import PartnershipsApplication
from services.platform.inbound import tracked
from services.platform.store import Changes


def subscriptions(app: PartnershipsApplication) -> list[Subscription]:
    def request_confirmed(event: RequestConfirmedV1, changes: Changes) -> None:
        app.charge_confirmed_work(
            changes, event.contract_id, event.request_id, event.minutes, event.worked_on
        )

    def dispute_resolved(event: DisputeResolvedV1, changes: Changes) -> None:
        if event.outcome == "voided":
            app.reverse_voided_charge(changes, event.contract_id, event.request_id, event.note)

    def programme_funded(event: ProgrammeFundedV1, changes: Changes) -> None:
        app.contract_programme(changes, event)

    return [
        Subscription(
            "requests",
            "partnerships",
            tracked(
                app,
                "requests",
                {RequestConfirmedV1: request_confirmed, DisputeResolvedV1: dispute_resolved},
            ),
        ),
        Subscription(
            "tables",
            "partnerships",
            tracked(app, "tables", {ProgrammeFundedV1: programme_funded}),
        ),
    ]
