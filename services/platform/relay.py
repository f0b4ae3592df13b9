"""The outbox relay: follows a service's notification log and publishes it to JetStream.

The log is the outbox. Each event goes out as its integration event with
``Nats-Msg-Id = <service>:<notification id>`` and ``Nats-Expected-Last-Sequence``: the relay
counts the stream sequences its messages take, and the stream stores a message only right after
the one before it. Whatever is lost or late on the way (an acknowledgement lost with a NATS node,
a publish that reached a stream leader on its way out), the stream holds the events in the
log's order, and each once: a read model applies them in that order.

After any failure, and at its start, the relay asks the stream where it stands (its last
sequence, and the newest of the service's own positions in it) and goes on from there. Once
JetStream has acknowledged a batch, the relay records how far it got under the ``outbox``
tracking name (when idle, and every second under load): with NATS away, that is where it
starts. It publishes one message at a time, each once the one before it is stored; one not
acknowledged within ACK_TIMEOUT_SECONDS counts as failed.

The relay runs in the replica that holds the service's lease, and wakes as soon as that replica
stores events. Events another replica stores (a command it served) wake it through PostgreSQL:
that replica sends a notification on the outbox's channel (``pg_notify``) once they are
committed, and the relay listens on a connection of its own. Should the notification be lost
(PostgreSQL away a moment), the relay still looks at the log every IDLE_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from anyio import to_thread
from eventsourcing.persistence import Tracking
from nats.js import JetStreamContext

from contracts.events import IntegrationEvent
from contracts.jetstream import last_published, publish, wrong_last_sequence
from services.platform.outbound import Outbound
from services.platform.store import OUTBOX, ServiceApplication

log = logging.getLogger("talkoot.relay")

BATCH = 500
RECORD_EVERY_SECONDS = 1.0
COALESCE_SECONDS = 0.005
IDLE_POLL_SECONDS = 0.5
ACK_TIMEOUT_SECONDS = 10.0
LISTEN_RETRY_SECONDS = 5.0  # how often a relay that lost its listening connection tries again


class Relay:
    def __init__(
        self,
        application: ServiceApplication,
        js: JetStreamContext,
        outbound: Outbound,
        namespace: str,
        pool: Any = None,
        listen: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """``pool`` (asyncpg) sends the notification that this replica stored events while
        another relays; ``listen`` opens the relay's own connection that hears them."""
        self.application = application
        self.js = js
        self.outbound = outbound
        self.namespace = namespace
        self.pool = pool
        self.listen = listen
        self.channel = f"{namespace}.{application.service}.outbox"
        self.running = False  # this replica relays: its own saves wake it directly
        self._listener: Any = None  # the connection listening on the channel, while relaying
        self._notifying: asyncio.Task | None = None
        self._notify_again = False
        self._listen_tried_at = -LISTEN_RETRY_SECONDS
        self.published = 0  # the last notification handled (published, or nothing to publish)
        self._sequence: int | None = None  # the stream's last sequence; None: ask the stream
        self._recorded = 0
        self._recorded_at = time.monotonic()
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Saves happen in worker threads; wake the relay from there without polling hard.
        application.on_new_events(lambda: loop.call_soon_threadsafe(self._saved))

    def _saved(self) -> None:
        """This replica stored events: wake its relay, or the one another replica runs."""
        self._wake.set()
        if self.running or self.pool is None:
            return
        if self._notifying is not None and not self._notifying.done():
            self._notify_again = True  # once more when the one on its way is sent
            return
        self._notifying = asyncio.ensure_future(self._notify())

    async def _notify(self) -> None:
        while True:
            self._notify_again = False
            try:
                await self.pool.execute("SELECT pg_notify($1, '')", self.channel)
            except Exception as error:  # the relay's poll finds the events all the same
                log.debug("%s: could not notify the relay: %s", self.service, error)
            if not self._notify_again:
                return

    async def _hear(self) -> None:
        """Listen on the outbox's channel (again, after the connection was lost)."""
        if self.listen is None or (self._listener is not None and not self._listener.is_closed()):
            return
        if time.monotonic() - self._listen_tried_at < LISTEN_RETRY_SECONDS:
            return
        self._listen_tried_at = time.monotonic()
        await self._stop_listening()
        try:
            connection = await self.listen()
            await connection.add_listener(self.channel, lambda *_: self._wake.set())
        except Exception as error:
            log.debug("%s relay cannot listen for other replicas' events: %s", self.service, error)
            return
        self._listener = connection

    async def _stop_listening(self) -> None:
        connection, self._listener = self._listener, None
        if connection is not None:
            with suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; a failure (PostgreSQL or NATS away) is retried with a pause."""
        self.running = True
        try:
            await self._run(stop)
        finally:
            self.running = False
            await self._stop_listening()

    async def _run(self, stop: asyncio.Event) -> None:
        recorder = self.application.process_recorder
        started = False
        failures = 0
        while not stop.is_set():
            await self._hear()
            try:
                if not started:
                    self.published = await to_thread.run_sync(recorder.max_tracking_id, OUTBOX) or 0
                    self._recorded, started = self.published, True
                if self._sequence is None:
                    await self.find_place()
                sent = await self.publish_next_batch()
            except Exception as error:
                self._sequence = None
                failures += 1
                if wrong_last_sequence(error):  # what was lost or late on the way came after all
                    log.warning(
                        "%s: the stream holds other messages than the relay counted (%s); "
                        "going on from where it stands",
                        self.service,
                        error.description,
                    )
                else:
                    log.exception(
                        "relay of %s failed (attempt %s); retrying", self.service, failures
                    )
                await asyncio.sleep(min(0.2 * 2**failures, 10.0))
                continue
            failures = 0
            if sent:
                continue
            if self._recorded < self.published:
                with suppress(Exception):  # tried again when next idle
                    await self.record_position()
            self._wake.clear()
            stop_waiter = asyncio.ensure_future(stop.wait())
            wake_waiter = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait(
                [stop_waiter, wake_waiter],
                timeout=IDLE_POLL_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
            stop_waiter.cancel()
            wake_waiter.cancel()
            if self._wake.is_set():
                # Saves come in bursts: a moment's pause lets one select and one flush to NATS
                # carry several events instead of one each.
                await asyncio.sleep(COALESCE_SECONDS)
        if self._recorded < self.published:
            try:
                await self.record_position()
            except Exception:  # the next start re-publishes from the older position instead
                log.warning("%s relay could not record its position on the way out", self.service)

    async def record_position(self) -> None:
        """Store how far the relay has published. Done when idle and at most every
        RECORD_EVERY_SECONDS under load, not per batch: after a crash the relay re-publishes
        from here, and JetStream drops what it has seen."""
        published = self.published
        await to_thread.run_sync(
            self.application.process_recorder.insert_tracking, Tracking(OUTBOX, published)
        )
        self._recorded, self._recorded_at = published, time.monotonic()

    async def find_place(self) -> None:
        """Go on after the newest of the service's events the stream holds (the tracked position
        may be a moment behind it, or, with messages lost, ahead)."""
        sequence, position = await last_published(self.js, self.service, self.namespace)
        if position:
            self.published = position
        self._sequence = sequence

    @property
    def service(self) -> str:
        return self.application.service

    async def publish_next_batch(self) -> int:
        recorder = self.application.process_recorder
        notifications = await to_thread.run_sync(
            lambda: recorder.select_notifications(self.published, BATCH, inclusive_of_start=False)
        )
        if not notifications:
            return 0
        # In a worker thread: reading personal data and sealing it again looks up keys.
        events = await to_thread.run_sync(self.integration_events, notifications)
        # One at a time: each message is published only once the one before it is stored.
        # Pipelined, a message refused (another's message took its place in the stream)
        # could be followed by the next one, whose expected sequence is then the stream's
        # last: it would be stored, and the refused one never after it.
        for notification, event in zip(notifications, events, strict=True):
            if event is None:
                continue
            ack = await publish(
                self.js, self.service, notification.id, event, self.namespace, self._sequence
            )
            try:
                answer = await asyncio.wait_for(ack, ACK_TIMEOUT_SECONDS)
            except TimeoutError:
                raise TimeoutError(
                    f"JetStream acknowledged position {notification.id} not within "
                    f"{ACK_TIMEOUT_SECONDS:g} s"
                ) from None
            finally:
                ack.cancel()  # given up on, if it was not answered
            self._sequence = answer.seq
        self.published = notifications[-1].id
        if time.monotonic() - self._recorded_at >= RECORD_EVERY_SECONDS:
            await self.record_position()
        return len(notifications)

    def integration_events(self, notifications: list) -> list:
        return integration_events(self.application, self.outbound, notifications)

    async def lag(self) -> int:
        """How many stored events have not been published yet."""
        newest = await to_thread.run_sync(self.application.process_recorder.max_notification_id)
        return max(0, (newest or 0) - self.published)


def integration_events(
    application: ServiceApplication, outbound: Outbound, notifications: list
) -> list[IntegrationEvent | None]:
    """Each notification's integration event (None for one that stays inside), with a
    resident's personal data sealed for them: what the relay publishes, and what
    `talkoot check` replays."""
    with application.personal_batch(reading=notifications):
        return [
            outbound(application.mapper.to_domain_event(n), application.keyring)
            for n in notifications
        ]
