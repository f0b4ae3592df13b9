"""The event transport on a real NATS: a re-publish is dropped by its Nats-Msg-Id, and a
consumer whose handler fails rewinds, so every event is applied once and in order.

They publish as the providers service would (its NATS identity), and the operator cleans up.
"""

from __future__ import annotations

import asyncio
import uuid

from contracts.connection import connect
from contracts.jetstream import Subscription, ensure_streams, follow, publish
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


def test_a_republished_event_is_dropped_as_a_duplicate(stack: Stack):
    namespace = f"t{uuid.uuid4().hex[:8]}"

    async def scenario():
        nc = await as_providers(stack)
        js = nc.jetstream()
        try:
            await ensure_streams(js, namespace, STREAMS)
            first = await (await publish(js, "providers", 7, registered(7), namespace))
            again = await (await publish(js, "providers", 7, registered(7), namespace))
            info = await js.stream_info(stream_name("providers", namespace))
            return bool(first.duplicate), bool(again.duplicate), info.state.messages
        finally:
            await nc.close()
            await drop_streams(stack, namespace)

    assert run(scenario()) == (False, True, 1)


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
