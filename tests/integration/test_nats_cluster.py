"""A three-node NATS cluster on loopback, streams kept in three copies: the node that leads a
stream is killed (SIGKILL) while events are published and consumed, and the flow goes on,
with every event kept once and applied once, in order.

The nodes are nats-servers from PyPI, as `talkoot up` runs one, clustered as production runs
them (TALKOOT_NATS_URL naming every node, TALKOOT_STREAM_REPLICAS=3).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from contracts.connection import connect
from contracts.jetstream import Subscription, ensure_streams, follow, publish
from contracts.streams import stream_name
from deploy.stack import EmbeddedNatsCluster, free_port
from services.registry import STREAMS
from tests.integration.messages import registered

pytestmark = pytest.mark.slow

EVENTS = 300
KILLED_AFTER = 100  # events published before the stream's leader is lost


@pytest.fixture
def cluster(tmp_path):
    ports = [free_port() for _ in range(6)]
    nodes = EmbeddedNatsCluster(tmp_path / "nats", ports[:3], ports[3:])
    nodes.start()
    yield nodes
    nodes.stop()


async def until(condition, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not reached in time"
        await asyncio.sleep(0.2)


async def succeeds(attempt) -> bool:
    """Whether ``attempt()`` went through (a cluster electing a leader refuses a while)."""
    try:
        await attempt()
    except (NatsError, JetStreamError, TimeoutError):
        return False
    return True


def test_the_flow_goes_on_when_the_node_leading_a_stream_is_killed(cluster: EmbeddedNatsCluster):
    namespace = f"t{uuid.uuid4().hex[:8]}"
    name = stream_name("providers", namespace)
    applied: list[int] = []

    async def handle(events):
        for position, _ in events:
            if applied and position <= applied[-1]:
                continue  # delivered again after the loss: what a tracking record skips
            applied.append(position)

    async def publish_once(js, position: int) -> None:
        # Published again until acknowledged: the Nats-Msg-Id keeps a second copy out.
        async def attempt():
            await asyncio.wait_for(
                await publish(js, "providers", position, registered(position), namespace), 2
            )

        await until(lambda: succeeds(attempt), 30, f"event {position} acknowledged")

    async def scenario():
        options = {"user": "providers", "password": cluster.passwords["providers"]}
        nc = await connect(cluster.url, "tests-cluster", **options)
        js = nc.jetstream(timeout=2)
        stop = asyncio.Event()
        try:
            await until(
                lambda: succeeds(lambda: ensure_streams(js, namespace, STREAMS, replicas=3)),
                30,
                "streams made in three copies",
            )
            info = await js.stream_info(name)
            assert info.config.num_replicas == 3
            task = asyncio.create_task(
                follow(js, Subscription("providers", "test", handle), namespace, stop)
            )
            for position in range(1, KILLED_AFTER + 1):
                await publish_once(js, position)
            leader = (await js.stream_info(name)).cluster.leader
            cluster.node(leader).kill()
            for position in range(KILLED_AFTER + 1, EVENTS + 1):
                await publish_once(js, position)

            async def all_applied():
                return len(applied) >= EVENTS

            await until(all_applied, 60, "every event applied")
            stop.set()
            await asyncio.wait_for(task, 20)
            after = await js.stream_info(name)
            return leader, after.cluster.leader, after.state.messages
        finally:
            await nc.close()

    lost, leader, kept = asyncio.run(asyncio.wait_for(scenario(), 150))
    assert leader != lost  # another node took the lead
    assert kept == EVENTS  # nothing published twice, nothing lost
    assert applied == list(range(1, EVENTS + 1))
