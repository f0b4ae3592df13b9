"""Runs a service's use cases for other services' integration events, exactly once each.

The consumer hands over the events it fetched as one run. The use cases for them change
aggregates through one ``Changes`` unit of work, which is stored in one transaction with the
position of the last event (its tracking record): effects and position commit together, and a
redelivered event is recognised by its position and skipped. Events no use case wants are
acknowledged without touching the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from anyio import to_thread
from eventsourcing.persistence import Tracking

from contracts.events import IntegrationEvent, event_type
from contracts.jetstream import Handler
from domain.errors import DomainError
from services.platform.store import Changes, ServiceApplication

log = logging.getLogger("talkoot.inbound")

UseCase = Callable[[IntegrationEvent, Changes], None]


class Inbound:
    """The use cases a service runs for one upstream stream.

    The consumer of a stream runs in this process only, so the last position it applied is
    kept in memory between runs, read from the store when the consumer (re)starts.
    """

    def __init__(
        self, application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
    ) -> None:
        self.application = application
        self.upstream = upstream
        self.handlers = handlers
        self.applied: int | None = None

    def apply(self, run: list[tuple[int, IntegrationEvent]]) -> None:
        if self.applied is None:
            self.applied = self.application.process_recorder.max_tracking_id(self.upstream) or 0
        todo = [(p, e) for p, e in run if p > self.applied and type(e) in self.handlers]
        if not todo:
            return
        last = todo[-1][0]
        try:
            with self.application.changes() as changes:
                for position, event in todo:
                    try:
                        self.handlers[type(event)](event, changes)
                    except DomainError as error:
                        # The event no longer applies (say, the request was assigned already);
                        # use cases check before they change anything, so skipping is safe.
                        log.warning(
                            "%s ignored %s at %s:%s: %s",
                            self.application.service,
                            event_type(event),
                            self.upstream,
                            position,
                            error.message,
                        )
                self.application.commit(
                    *changes.aggregates.values(), tracking=Tracking(self.upstream, last)
                )
        except BaseException:
            self.applied = None  # read it again: the run may have been applied by another
            raise  # the consumer rewinds and the events come again
        self.applied = last


def tracked(
    application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
) -> Handler:
    """An async consumer handler that applies ``handlers`` once each, in a worker thread."""
    inbound = Inbound(application, upstream, handlers)

    async def handle(run: list[tuple[int, IntegrationEvent]]) -> None:
        await to_thread.run_sync(inbound.apply, run)

    return handle
