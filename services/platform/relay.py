"""The outbox relay: follows a service's notification log and publishes it to JetStream.

The log is the outbox. Each event goes out as its integration event with
``Nats-Msg-Id = <service>:<notification id>``; once JetStream has acknowledged a batch, the relay
records how far it got under the ``outbox`` tracking name (when idle, and every second under
load). After a crash it resumes from there and re-publishes at most that last second's events,
which JetStream drops as duplicates (its duplicate window is far longer). A batch not wholly
acknowledged within ACK_TIMEOUT_SECONDS is published again the same way: an acknowledgement
lost with a NATS node (the stream's leader, or the one the relay was connected to) never comes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress

from anyio import to_thread
from eventsourcing.persistence import Tracking
from nats.js import JetStreamContext

from contracts.events import IntegrationEvent
from contracts.jetstream import publish
from services.platform.outbound import Outbound
from services.platform.store import OUTBOX, ServiceApplication

log = logging.getLogger("talkoot.relay")

BATCH = 500
RECORD_EVERY_SECONDS = 1.0
COALESCE_SECONDS = 0.005
IDLE_POLL_SECONDS = 0.5
ACK_TIMEOUT_SECONDS = 10.0


class Relay:
    def __init__(
        self,
        application: ServiceApplication,
        js: JetStreamContext,
        outbound: Outbound,
        namespace: str,
    ) -> None:
        self.application = application
        self.js = js
        self.outbound = outbound
        self.namespace = namespace
        self.published = 0  # the last notification handled (published, or nothing to publish)
        self._recorded = 0
        self._recorded_at = time.monotonic()
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Saves happen in worker threads; wake the relay from there without polling hard.
        application.on_new_events(lambda: loop.call_soon_threadsafe(self._wake.set))

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; a failure (PostgreSQL or NATS away) is retried with a pause."""
        recorder = self.application.process_recorder
        started = False
        failures = 0
        while not stop.is_set():
            try:
                if not started:
                    self.published = await to_thread.run_sync(recorder.max_tracking_id, OUTBOX) or 0
                    self._recorded, started = self.published, True
                sent = await self.publish_next_batch()
            except Exception:
                failures += 1
                log.exception("relay of %s failed (attempt %s); retrying", self.service, failures)
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
        acks: list[asyncio.Future] = []
        try:
            for notification, event in zip(notifications, events, strict=True):
                if event is not None:
                    acks.append(
                        await publish(self.js, self.service, notification.id, event, self.namespace)
                    )
        except BaseException:
            for ack in acks:  # a publish that failed half-way: the batch goes out again
                ack.cancel()
            raise
        try:
            # On a timeout the acknowledgements still awaited are cancelled (which frees their
            # places among the connection's pending publishes) and the batch goes out again.
            await asyncio.wait_for(asyncio.gather(*acks), ACK_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TimeoutError(
                f"JetStream acknowledged positions {notifications[0].id} to "
                f"{notifications[-1].id} not within {ACK_TIMEOUT_SECONDS:g} s"
            ) from None
        last = notifications[-1].id
        self.published = last
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
    with application.personal_batch():
        return [
            outbound(application.mapper.to_domain_event(n), application.keyring)
            for n in notifications
        ]
