"""Runs a service's handlers for other services' integration events, exactly once each.

A handler is a synchronous use case of the Application that receives the event and the
``Tracking`` of its upstream position and passes that tracking to ``commit``: the effects and the
position are stored in one transaction. A redelivered event is recognised and skipped; one that
comes before its predecessor has been applied is refused, to come again in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from anyio import to_thread
from eventsourcing.persistence import Tracking

from contracts.events import IntegrationEvent, event_type
from contracts.jetstream import Handler, OutOfOrder
from domain.errors import DomainError
from services.platform.errors import Conflict
from services.platform.store import ServiceApplication

log = logging.getLogger("talkoot.inbound")

UseCase = Callable[[IntegrationEvent, Tracking], None]


def apply_once(
    application: ServiceApplication,
    upstream: str,
    handlers: dict[type, UseCase],
    event: IntegrationEvent | None,
    position: int,
    previous: int,
) -> None:
    applied = application.process_recorder.max_tracking_id(upstream) or 0
    if position <= applied:
        return  # a redelivery: it was applied already
    if previous > applied:
        raise OutOfOrder(f"{upstream}:{position} came before {upstream}:{previous}")
    tracking = Tracking(upstream, position)
    handler = handlers.get(type(event))
    try:
        if handler is None:
            # Not for us; remember the position so a restart does not look at it again.
            application.commit(tracking=tracking)
            return
        handler(event, tracking)
    except Conflict:
        raise  # a concurrent change: the consumer naks and the event comes again
    except DomainError as error:
        # The event no longer applies (say, the request was already assigned). Record that we
        # saw it, so it is not retried for ever, and say so in the log.
        log.warning(
            "%s ignored %s at %s:%s: %s",
            application.service,
            event_type(event),
            upstream,
            position,
            error.message,
        )
        application.commit(tracking=tracking)


def tracked(
    application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
) -> Handler:
    """An async consumer handler that applies ``handlers`` once each, in a worker thread."""

    async def handle(event: IntegrationEvent | None, position: int, previous: int) -> None:
        await to_thread.run_sync(
            apply_once, application, upstream, handlers, event, position, previous
        )

    return handle
