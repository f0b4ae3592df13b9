"""The event transport on a real NATS: a re-publish is dropped by its Nats-Msg-Id, a consumer
whose handler fails, or whose delivery is lost, rewinds, so every event is applied once and in
order, and a consumer is sent only the kinds its handler names, on a durable that is bound
again, never made again.

They publish as the providers service would (its NATS identity), and the operator cleans up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.connection import connect
from contracts.events import ProviderSuspendedV1
from contracts.jetstream import (
    Subscription,
    ensure_streams,
    follow,
    last_published,
    publish,
    wrong_last_sequence,
)
from contracts.streams import stream_name
from deploy.stack import Stack
from services.registry import STREAMS
from tests.integration.messages import registered


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


async def as_providers(stack: Stack):
    return await connect(stack.nats_url, "tests-as-providers", **stack.nats_options("providers"))


async def drop_streams(stack: Stack, namespace: str) -> None:
    nc = await connect(stack.nats_url, "tests", **stack.nats_options())
    try:
        for stream in STREAMS:
            await nc.jetstream().delete_stream(stream_name(stream, namespace))
    finally:
        await nc.close()


@contextlib.asynccontextmanager
async def own_streams(stack: Stack, namespace: str):
    """JetStream as the providers service, on streams of ``namespace``'s own, dropped after."""
    nc = await as_providers(stack)
    js = nc.jetstream()
    try:
        await ensure_streams(js, namespace, STREAMS)
        yield js
    finally:
        await nc.close()
        await drop_streams(stack, namespace)


def test_a_republished_event_is_dropped_as_a_duplicate(stack: Stack):
    namespace = f"t{uuid.uuid4().hex[:8]}"

    async def scenario():
        async with own_streams(stack, namespace) as js:
            first = await (await publish(js, "providers", 7, registered(7), namespace))
            again = await (await publish(js, "providers", 7, registered(7), namespace))
            info = await js.stream_info(stream_name("providers", namespace))
            return bool(first.duplicate), bool(again.duplicate), info.state.messages

    assert run(scenario()) == (False, True, 1)


def test_a_publish_after_another_last_sequence_is_refused_and_changes_nothing(stack: Stack):
    """The relay's order: a message expecting the stream's last sequence is stored right after
    it; one expecting another is refused (the refusal arrives, rather than no answer), and so
    is every one counted after it, while those before it stay."""
    namespace = f"t{uuid.uuid4().hex[:8]}"

    async def scenario():
        async with own_streams(stack, namespace) as js:
            stored = [await (await publish(js, "providers", 1, registered(1), namespace, 0))]
            stored.append(await (await publish(js, "providers", 2, registered(2), namespace, 1)))
            # position 3 is lost on the way; 4 and 5, counted as if it had been stored, are
            # sent at once: both refused
            acks = [
                await publish(js, "providers", p, registered(p), namespace, p - 1) for p in (4, 5)
            ]
            answers = await asyncio.wait_for(asyncio.gather(*acks, return_exceptions=True), 5)
            refused = [wrong_last_sequence(answer) for answer in answers]
            where = await last_published(js, "providers", namespace)
            return [a.seq for a in stored], refused, where

    assert run(scenario()) == ([1, 2], [True, True], (2, 2))


def test_where_a_stream_stands_steps_over_messages_another_put_in(stack: Stack):
    namespace = f"t{uuid.uuid4().hex[:8]}"

    async def scenario():
        async with own_streams(stack, namespace) as js:
            empty = await last_published(js, "providers", namespace)
            for position in (1, 2, 3):
                await (await publish(js, "providers", position, registered(position), namespace))
            # another publisher, with a message id of its own, twice
            for n in range(2):
                await js.publish(
                    f"{namespace}.providers.ProviderRegisteredV1",
                    b"{}",
                    headers={"Nats-Msg-Id": f"tests:{n}", "Talkoot-Position": "99"},
                )
            return empty, await last_published(js, "providers", namespace)

    assert run(scenario()) == ((0, 0), (5, 3))


def test_a_failing_handler_rewinds_and_applies_each_event_once_in_order(stack: Stack):
    namespace = f"t{uuid.uuid4().hex[:8]}"
    applied: list[int] = []
    failed = False

    async def handle(events):
        nonlocal failed
        for position, _ in events:
            if position in applied:
                continue  # what a tracking record does for a real consumer
            if position == 4 and not failed:
                failed = True
                raise ConnectionError("the database went away for a moment")
            applied.append(position)

    async def scenario():
        nc = await as_providers(stack)
        js = nc.jetstream()
        stop = asyncio.Event()
        try:
            await ensure_streams(js, namespace, STREAMS)
            for position in range(1, 9):
                await (await publish(js, "providers", position, registered(position), namespace))
            task = asyncio.create_task(
                follow(js, Subscription("providers", "test", handle), namespace, stop)
            )
            while len(applied) < 8:
                await asyncio.sleep(0.05)
            stop.set()
            await task
        finally:
            await nc.close()
            await drop_streams(stack, namespace)

    run(scenario())
    assert failed
    assert applied == [1, 2, 3, 4, 5, 6, 7, 8]


def test_a_delivery_lost_on_its_way_comes_again_before_any_later_one(stack: Stack):
    """A delivery that never reaches the consumer (a node leading it went away with it) is
    noticed by the gap in the delivery sequence: the consumer starts again from it, at once,
    rather than applying what comes after and getting it only after the ack wait."""
    namespace = f"t{uuid.uuid4().hex[:8]}"
    stream = stream_name("providers", namespace)
    applied: list[int] = []
    at_three, release = asyncio.Event(), asyncio.Event()

    async def handle(events):
        for position, _ in events:
            if position in applied:
                continue  # what a tracking record does for a real consumer
            applied.append(position)
            if position == 3:
                at_three.set()
                await release.wait()

    async def scenario():
        async with own_streams(stack, namespace) as js:
            stop = asyncio.Event()
            for position in range(1, 4):
                await (await publish(js, "providers", position, registered(position), namespace))
            task = asyncio.create_task(
                follow(js, Subscription("providers", "test", handle), namespace, stop)
            )
            await asyncio.wait_for(at_three.wait(), 10)
            await asyncio.sleep(0.7)  # the consumer's own pull requests have expired
            await (await publish(js, "providers", 4, registered(4), namespace))
            # position 4 is delivered, and lost on its way: nobody acknowledges it
            lost = await js.pull_subscribe_bind(durable="test", stream=stream)
            (message,) = await lost.fetch(1, timeout=5)
            await lost.unsubscribe()
            for position in (5, 6):
                await (await publish(js, "providers", position, registered(position), namespace))
            release.set()
            await until(lambda: len(applied) >= 6)
            stop.set()
            await task
            return message.metadata.sequence.consumer

    assert run(scenario()) == 4  # the lost one was the fourth delivery
    assert applied == [1, 2, 3, 4, 5, 6]


class Collecting:
    """A handler of ``kinds`` only, as a service's tracked inbound is."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.seen: list[tuple[int, str]] = []

    async def __call__(self, events) -> None:
        self.seen += [(position, type(event).__name__) for position, event in events]


def suspended(n: int) -> ProviderSuspendedV1:
    return ProviderSuspendedV1(
        occurred_at=datetime.now(UTC), provider_id=f"p-{n}", partner_id="city", reason="test"
    )


async def until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


def test_a_consumer_is_sent_only_the_kinds_its_handler_names_and_keeps_its_durable(stack: Stack):
    namespace = f"t{uuid.uuid4().hex[:8]}"
    handler = Collecting(frozenset({"ProviderRegisteredV1"}))
    stream = stream_name("providers", namespace)

    async def follow_until(js, count: int) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            follow(js, Subscription("providers", "test", handler), namespace, stop)
        )
        await until(lambda: len(handler.seen) >= count)
        await asyncio.sleep(0.3)  # anything more would come now
        stop.set()
        await task

    async def scenario():
        async with own_streams(stack, namespace) as js:
            for position in range(1, 7):
                event = registered(position) if position % 2 else suspended(position)
                await (await publish(js, "providers", position, event, namespace))
            await follow_until(js, 3)
            first = await js.consumer_info(stream, "test")
            for position in range(7, 9):
                await (await publish(js, "providers", position, registered(position), namespace))
            await follow_until(js, 5)
            again = await js.consumer_info(stream, "test")
            return first, again

    first, again = run(scenario())
    assert handler.seen == [(p, "ProviderRegisteredV1") for p in (1, 3, 5, 7, 8)]
    assert again.created == first.created  # bound again, not made again
    assert again.config.filter_subject == f"{namespace}.providers.ProviderRegisteredV1"


def test_a_durable_made_by_an_earlier_version_keeps_its_start_and_gets_the_new_filter(
    stack: Stack,
):
    """Durables used to be made again at each start, from the first message not acknowledged,
    on every subject of the stream: bound now, such a one is updated in place."""
    namespace = f"t{uuid.uuid4().hex[:8]}"
    handler = Collecting(frozenset({"ProviderRegisteredV1", "ProviderSuspendedV1"}))
    stream = stream_name("providers", namespace)

    async def scenario():
        nc = await as_providers(stack)
        js = nc.jetstream()
        stop = asyncio.Event()
        try:
            await ensure_streams(js, namespace, STREAMS)
            for position in range(1, 7):
                event = registered(position) if position % 2 else suspended(position)
                await (await publish(js, "providers", position, event, namespace))
            await js.add_consumer(
                stream,
                ConsumerConfig(
                    name="test",
                    durable_name="test",
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=4,
                    filter_subject=f"{namespace}.providers.>",
                    ack_wait=30,
                    max_ack_pending=200,
                ),
            )
            task = asyncio.create_task(
                follow(js, Subscription("providers", "test", handler), namespace, stop)
            )
            await until(lambda: len(handler.seen) >= 3)
            stop.set()
            await task
            return await js.consumer_info(stream, "test")
        finally:
            await nc.close()
            await drop_streams(stack, namespace)

    info = run(scenario())
    assert [position for position, _ in handler.seen] == [4, 5, 6]
    assert info.config.opt_start_seq == 4
    assert sorted(info.config.filter_subjects) == [
        f"{namespace}.providers.ProviderRegisteredV1",
        f"{namespace}.providers.ProviderSuspendedV1",
    ]
