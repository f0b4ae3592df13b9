"""How integration events travel on JetStream: the streams, publishing, and durable consumers.

Publishing sets ``Nats-Msg-Id`` to ``<service>:<position>`` so that JetStream drops a
re-publish inside its duplicate window, and ``Talkoot-Position`` so that a consumer can record
the upstream position it processed in the same transaction as its effects. A consumer acks a
message only after its effects are committed; on failure it stops, so events are applied in
order, and the same message comes again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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

Handler = Callable[[IntegrationEvent, int], Awaitable[None]]


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
    js: JetStreamContext, service: str, position: int, event: IntegrationEvent, namespace: str
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
    """Run a durable pull consumer until ``stop`` is set."""
    sub = await js.pull_subscribe(
        f"{subject_prefix(subscription.upstream, namespace)}.>",
        durable=subscription.durable,
        stream=stream_name(subscription.upstream, namespace),
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ack_wait,
            max_ack_pending=batch * 2,
        ),
    )
    failures = 0
    while not stop.is_set():
        try:
            messages = await sub.fetch(batch, timeout=0.5)
        except (TimeoutError, NatsTimeoutError):
            continue
        for index, message in enumerate(messages):
            try:
                position = int((message.headers or {})[POSITION_HEADER])
                event = decode(subscription.upstream, message.data)
            except (KeyError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as error:
                # Not an event this consumer knows (a newer version, say): nothing to apply.
                log.warning(
                    "%s: skipping message %s: %s", subscription.durable, message.subject, error
                )
                await message.term()
                continue
            try:
                await subscription.handle(event, position)
            except Exception:
                failures += 1
                log.exception(
                    "%s: failed on %s at position %s (attempt %s); will retry",
                    subscription.durable,
                    event_type(event),
                    position,
                    failures,
                )
                delay = min(0.2 * 2**failures, 10.0)
                for unprocessed in messages[index:]:
                    await unprocessed.nak(delay=delay)
                await asyncio.sleep(delay)
                break
            failures = 0
            await message.ack()
