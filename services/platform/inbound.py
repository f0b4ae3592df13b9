"""Runs a service's use cases for other services' integration events, exactly once each.

The consumer hands over the events it fetched as one run. The use cases for them change
aggregates through one ``Changes`` unit of work, which is stored in one transaction with the
position of the last event (its tracking record): effects and position commit together, and a
redelivered event is recognised by its position and skipped. The consumer is sent only the
event kinds that have a use case; one that comes all the same is acknowledged without touching
the store.

An event the consumer sets aside as a dead letter is *skipped*: its position alone is stored
(a tracking record with no events). Replaying it later runs its use case once, stored with a
tracking record of its own, ``deadletter:<upstream>:<seq>``, so that a second replay of the same
dead letter finds that record and changes nothing. A concurrent change to the same aggregates
(``Conflict``) passes when tried again, so it is raised as ``Transient``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from anyio import to_thread
from eventsourcing.persistence import Tracking

from contracts.events import IntegrationEvent, event_type
from contracts.failures import Transient
from domain.errors import DomainError
from services.platform.errors import Conflict
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

    def _position(self) -> int:
        if self.applied is None:
            self.applied = self.application.process_recorder.max_tracking_id(self.upstream) or 0
        return self.applied

    def apply(self, run: list[tuple[int, IntegrationEvent]]) -> None:
        applied = self._position()
        todo = [(p, e) for p, e in run if p > applied and type(e) in self.handlers]
        if not todo:
            return
        last = todo[-1][0]
        try:
            # each resident's key looked up once for the run: read, and sealed with again
            with self.application.personal_batch(), self.application.changes() as changes:
                for position, event in todo:
                    self._run(position, event, changes)
                self._commit(changes, Tracking(self.upstream, last))
        except BaseException:
            self.applied = None  # read it again: the run may have been applied by another
            raise  # the consumer rewinds and the events come again
        self.applied = last

    def skip(self, position: int) -> None:
        """Record ``position`` as processed without running its use case."""
        if position <= self._position():
            return
        try:
            self._commit(Changes(self.application), Tracking(self.upstream, position))
        except BaseException:
            self.applied = None
            raise
        self.applied = position

    def replay(self, position: int, event: IntegrationEvent, seq: int) -> bool:
        """Run the use case of dead letter ``seq`` once; False if it was replayed before."""
        marker = f"deadletter:{self.upstream}:{seq}"
        if self.application.process_recorder.max_tracking_id(marker) is not None:
            return False
        with self.application.changes() as changes:
            if type(event) in self.handlers:
                self._run(position, event, changes)
            self._commit(changes, Tracking(marker, seq))
        return True

    def _run(self, position: int, event: IntegrationEvent, changes: Changes) -> None:
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

    def _commit(self, changes: Changes, tracking: Tracking) -> None:
        try:
            self.application.commit(*changes.aggregates.values(), tracking=tracking)
        except Conflict as error:
            raise Transient(error.message) from error


class Tracked:
    """An async consumer handler that applies ``handlers`` once each, in a worker thread,
    with the ``skip`` and ``replay`` the consumer runner uses for dead letters, and the
    event kinds it handles (the only ones its consumer is sent)."""

    def __init__(
        self, application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
    ) -> None:
        self.inbound = Inbound(application, upstream, handlers)
        self.kinds = frozenset(kind.__name__ for kind in handlers)

    async def __call__(self, run: list[tuple[int, IntegrationEvent]]) -> None:
        await to_thread.run_sync(self.inbound.apply, run)

    async def skip(self, position: int) -> None:
        await to_thread.run_sync(self.inbound.skip, position)

    async def replay(self, position: int, event: IntegrationEvent, seq: int) -> bool:
        return await to_thread.run_sync(self.inbound.replay, position, event, seq)


def tracked(
    application: ServiceApplication, upstream: str, handlers: dict[type, UseCase]
) -> Tracked:
    """An async consumer handler that applies ``handlers`` once each, in a worker thread."""
    return Tracked(application, upstream, handlers)
