"""How integration events travel on JetStream: the streams, publishing, and durable consumers.

Publishing sets ``Nats-Msg-Id`` to ``<service>:<position>`` so that JetStream drops a
re-publish inside its duplicate window, and ``Talkoot-Position`` so that a consumer can record
the upstream position it processed in the same transaction as its effects.

A consumer hands the events of each fetch to its handler as one run, in stream order, and acks
them only after the handler has committed their effects. Whenever it starts (and after any
failure, when it starts again) it moves its durable consumer back to the first message not
acknowledged, so that messages a crashed or failed run held in flight come again before any
later one: events are applied in order, and a redelivered one is recognised by its position and
changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

import msgspec
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.events import IntegrationEvent, decode, encode, event_type
from contracts.streams import (
    DUPLICATE_WINDOW_SECONDS,
    EVENT_HEADER,
    MSG_ID_HEADER,
    POSITION_HEADER,
    SERVICES,
    msg_id,
    stream_name,
    subject,
    subject_prefix,
)

log = logging.getLogger("talkoot.jetstream")

# handle(run): apply a run of (position, event) in stream order, all or nothing.
Handler = Callable[[list[tuple[int, IntegrationEvent]]], Awaitable[None]]


def stream_config(service: str, namespace: str) -> StreamConfig:
    return StreamConfig(
        name=stream_name(service, namespace),
        subjects=[f"{subject_prefix(service, namespace)}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


async def ensure_streams(js: JetStreamContext, namespace: str) -> None:
    """Create every service's stream that does not exist yet (all of them, so that a
    consumer can bind to a stream whose producer has not started)."""
    for service in SERVICES:
        config = stream_config(service, namespace)
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)


async def publish(
    js: JetStreamContext,
    service: str,
    position: int,
    event: IntegrationEvent,
    namespace: str,
) -> asyncio.Future:
    """Start publishing one event; the returned future resolves to the PubAck."""
    kind = event_type(event)
    return await js.publish_async(
        subject(service, kind, namespace),
        encode(event),
        headers={
            MSG_ID_HEADER: msg_id(service, position),
            POSITION_HEADER: str(position),
            EVENT_HEADER: kind,
        },
    )


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of ``upstream``'s stream, named ``durable``."""

    upstream: str
    durable: str
    handle: Handler


async def consume(
    js: JetStreamContext,
    subscription: Subscription,
    namespace: str,
    stop: asyncio.Event,
    *,
    batch: int = 100,
    ack_wait: float = 30.0,
) -> None:
    """Run a durable pull consumer until ``stop`` is set.

    A handler's exception ends the run (after logging); the caller starts it again, which
    rewinds to the first unacknowledged message. One process runs each durable consumer.
    """
    stream = stream_name(subscription.upstream, namespace)
    sub = await js.pull_subscribe(
        f"{subject_prefix(subscription.upstream, namespace)}.>",
        durable=subscription.durable,
        stream=stream,
        config=await _rewound(js, stream, subscription.durable, batch, ack_wait),
    )
    name = f"{subscription.durable} <- {subscription.upstream}"
    try:
        while not stop.is_set():
            try:
                messages = await sub.fetch(batch, timeout=0.5)
            except (TimeoutError, NatsTimeoutError):
                continue
            run = [
                read
                for message in messages
                if (read := _read(name, subscription.upstream, message)) is not None
            ]
            if run:
                try:
                    await subscription.handle(run)
                except Exception:
                    log.exception(
                        "%s: failed on positions %s to %s; rewinding", name, run[0][0], run[-1][0]
                    )
                    raise
            for message in messages:
                await message.ack()
    finally:
        with suppress(Exception):  # the connection may be closing already
            await sub.unsubscribe()


async def follow(
    js: JetStreamContext, subscription: Subscription, namespace: str, stop: asyncio.Event
) -> None:
    """``consume`` until ``stop``, starting it again after a failure (a handler's, or NATS
    going away for a moment), with a growing pause between attempts."""
    failures = 0
    while not stop.is_set():
        try:
            await consume(js, subscription, namespace, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.warning(
                "%s <- %s stopped (%s times); starting again",
                subscription.durable,
                subscription.upstream,
                failures,
                exc_info=failures == 1,
            )
            await asyncio.sleep(min(0.2 * failures, 5.0))
        else:
            return


async def _rewound(
    js: JetStreamContext, stream: str, durable: str, batch: int, ack_wait: float
) -> ConsumerConfig:
    """The durable consumer's configuration, starting after its last acknowledged message.

    JetStream cannot move a durable consumer back, so it is deleted and made again there;
    its messages stay in the stream.
    """
    start = 0
    try:
        info = await js.consumer_info(stream, durable)
        start = info.ack_floor.stream_seq + 1 if info.ack_floor else 0
        await js.delete_consumer(stream, durable)
    except NotFoundError:
        pass
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start > 1 else DeliverPolicy.ALL,
        opt_start_seq=start if start > 1 else None,
        ack_wait=ack_wait,
        max_ack_pending=batch * 2,
    )


def _read(name: str, upstream: str, message) -> tuple[int, IntegrationEvent] | None:
    """The position and event of a message, or None for one this consumer cannot read
    (a newer event version, say), which it acknowledges and leaves alone."""
    try:
        position = int((message.headers or {})[POSITION_HEADER])
        return position, decode(upstream, message.data)
    except (KeyError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as error:
        log.warning("%s: skipping %s: %s", name, message.subject, error)
        return None
