"""Runs a service's handlers for other services' integration events, exactly once each.

A handler is a synchronous use case of the Application that receives the event and the
``Tracking`` of its upstream position and passes that tracking to ``commit``: the effects and the
position are stored in one transaction. A redelivered event is recognised and skipped. Events
no handler wants are acknowledged without touching the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from anyio import to_thread
from eventsourcing.persistence import Tracking

from contracts.events import IntegrationEvent, event_type
from contracts.jetstream import Handler
from domain.errors import DomainError
from services.platform.errors import Conflict
from services.platform.store import ServiceApplication

log = logging.getLogger("talkoot.inbound")

UseCase = Callable[[IntegrationEvent, Tracking], None]


class Inbound:
    """The use cases a service runs for one upstream stream, each event applied once.

    The consumer of a stream runs in this process only, so the last position it applied is
    kept in memory between events, read from the store when the consumer (re)starts.
    """

    def __init__(
        self, application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
    ) -> None:
        self.application = application
        self.upstream = upstream
        self.handlers = handlers
        self.applied: int | None = None

    def apply_once(self, event: IntegrationEvent, position: int) -> None:
        handler = self.handlers.get(type(event))
        if handler is None:
            return  # not for this service
        if self.applied is None:
            self.applied = self.application.process_recorder.max_tracking_id(self.upstream) or 0
        if position <= self.applied:
            return  # a redelivery: it was applied already
        tracking = Tracking(self.upstream, position)
        try:
            handler(event, tracking)
        except Conflict:
            self.applied = None  # read it again: a racing run may have applied it
            raise  # the consumer rewinds and the event comes again
        except DomainError as error:
            # The event no longer applies (say, the request was already assigned). Record that
            # it was seen, so that it is not retried for ever, and say so in the log.
            log.warning(
                "%s ignored %s at %s:%s: %s",
                self.application.service,
                event_type(event),
                self.upstream,
                position,
                error.message,
            )
            self.application.commit(tracking=tracking)
        except BaseException:
            self.applied = None
            raise
        self.applied = position


def tracked(
    application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
) -> Handler:
    """An async consumer handler that applies ``handlers`` once each, in a worker thread."""
    inbound = Inbound(application, upstream, handlers)

    async def handle(event: IntegrationEvent, position: int) -> None:
        await to_thread.run_sync(inbound.apply_once, event, position)

    return handle
