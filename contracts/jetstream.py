"""How integration events travel on JetStream: the streams, publishing, and durable consumers.

Publishing sets ``Nats-Msg-Id`` to ``<service>:<position>`` so that JetStream drops a
re-publish inside its duplicate window, ``Talkoot-Position`` so that a consumer can record
the upstream position it processed in the same transaction as its effects, and
``Talkoot-Previous``, the position published before it, so that a consumer can tell when a
message comes too early (its predecessor was in flight to a consumer that crashed).

A consumer acks a message only after its effects are committed; on failure or a message that
came too early it stops and naks the rest, so events are applied once each and in order.
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
    PREVIOUS_HEADER,
    SERVICES,
    msg_id,
    stream_name,
    subject,
    subject_prefix,
)

log = logging.getLogger("talkoot.jetstream")

# handle(event, position, previous): ``event`` is None for a message this consumer cannot read
# (a newer event version, say); the handler must still record its position.
Handler = Callable[[IntegrationEvent | None, int, int], Awaitable[None]]


class OutOfOrder(Exception):
    """A message came before its predecessor was applied; it will come again later."""


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
    previous: int,
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
            PREVIOUS_HEADER: str(previous),
            EVENT_HEADER: kind,
        },
    )


async def last_published(js: JetStreamContext, service: str, namespace: str) -> int:
    """The position of the newest message in ``service``'s stream, 0 if it is empty."""
    name = stream_name(service, namespace)
    info = await js.stream_info(name)
    if not info.state.last_seq or not info.state.messages:
        return 0
    message = await js.get_msg(name, seq=info.state.last_seq)
    return int((message.headers or {}).get(POSITION_HEADER, 0))


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
    ack_wait: float = 10.0,
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
    sub_name = f"{subscription.durable}<-{subscription.upstream}"
    failures = 0
    while not stop.is_set():
        try:
            messages = await sub.fetch(batch, timeout=0.5)
        except (TimeoutError, NatsTimeoutError):
            continue
        for index, message in enumerate(messages):
            headers = message.headers or {}
            try:
                position = int(headers[POSITION_HEADER])
                previous = int(headers.get(PREVIOUS_HEADER, 0))
            except (KeyError, ValueError):
                log.warning("%s: a message without a position on %s", sub_name, message.subject)
                await message.term()
                continue
            try:
                event = decode(subscription.upstream, message.data)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                # Not an event this consumer knows (a newer version, say): only its position
                # is recorded, so that the ones after it still follow in order.
                log.warning("%s: cannot read %s: %s", sub_name, message.subject, error)
                event = None
            try:
                await subscription.handle(event, position, previous)
            except OutOfOrder:
                # Its predecessor is in flight elsewhere (a consumer that died holding it);
                # JetStream redelivers that one after ack_wait, then these again.
                for unprocessed in messages[index:]:
                    await unprocessed.nak(delay=0.5)
                await asyncio.sleep(0.5)
                break
            except Exception:
                failures += 1
                log.exception(
                    "%s: failed at position %s (attempt %s); will retry",
                    sub_name,
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
