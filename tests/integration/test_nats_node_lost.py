"""A whole Talkoot on a three-node NATS cluster, every stream in three copies, as `talkoot up
--nats-nodes 3` runs one: the node leading the requests stream stops answering and is then
killed (SIGKILL) while residents submit requests, and the flow goes on. Every acknowledged
request is offered, and assigned once accepted, nothing is published twice nor out of order
(the relays publish with an expected last sequence); the node is started again, catches up,
and `talkoot check` finds every read model as the event stores make it.

The node hangs before it dies, as a machine does that loses its power or its network: what was
published to it meanwhile is never acknowledged, and is published again."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from contracts.events import OfferMadeV1, ServiceRequestedV1
from deploy.stack import Stack, free_stack_ports, stream_report
from services import registry
from tests.client import Talkoot, eventually, published, submit_many
from tests.conftest import CATEGORIES, REGIONS, TEST_SETTINGS, forget_schemas, launcher

pytestmark = pytest.mark.slow

SUBMITTED = 60
ACCEPTED = 10
HANGS = 1.0  # seconds the node takes events and answers nothing, before it is killed


@pytest.fixture
def clustered(tmp_path, pytestconfig) -> Iterator[Talkoot]:
    """A Talkoot of its own on an embedded three-node cluster (and its own PostgreSQL, or the
    session's in a namespace of its own)."""
    ports, nats_port = free_stack_ports(list(registry.PORTS))
    stack = Stack(
        data_dir=tmp_path,
        namespace=f"test_{uuid.uuid4().hex[:8]}",
        database_url=os.environ.get("TALKOOT_DATABASE_URL") or None,
        ports=ports,
        nats_port=nats_port,
        nats_nodes=3,
        extra_env=TEST_SETTINGS,
        launcher=launcher(pytestconfig),
    )
    stack.start()
    try:
        with Talkoot(stack) as talkoot:
            yield talkoot
    finally:
        stack.stop()
        if stack.postgres is None:
            forget_schemas(stack)


def copies(stack: Stack) -> dict[str, dict]:
    """Each service stream's copies as `talkoot status` reports them: how many, the node that
    leads it, the nodes behind; empty while the cluster cannot say (electing a leader)."""
    try:
        report = asyncio.run(stream_report(stack.nats_url, stack.namespace, **stack.nats_options()))
    except (NatsError, JetStreamError, TimeoutError):
        return {}
    return {s["upstream"]: s for s in report}


def test_the_flow_goes_on_when_the_node_leading_the_requests_stream_is_killed(
    clustered: Talkoot,
):
    talkoot, stack = clustered, clustered.stack
    nodes = {f"nats-server n{i}" for i in (1, 2, 3)}
    assert nodes <= set(stack.pids())
    # a Talkoot of its own: any category and region are this test's alone
    category, region = CATEGORIES[0], REGIONS[0]
    # every open offer holds its estimate of the budget: enough for all the requests
    provider_id, _ = talkoot.ready_provider(category, region, capacity=100, budget_cents=1_000_000)
    before = copies(stack)
    for upstream in registry.STREAMS:
        assert before[upstream]["replicas"] == 3, before[upstream]
        assert before[upstream]["behind"] == [], before[upstream]
    lost = before["requests"]["leader"]
    led = sorted(upstream for upstream, s in before.items() if s.get("leader") == lost)

    acknowledged: list[str] = []
    submitting = threading.Thread(
        target=lambda: acknowledged.extend(submit_many(talkoot, category, region, SUBMITTED))
    )
    submitting.start()
    time.sleep(0.5)
    node = stack.nats.node(lost)
    os.kill(node.process.pid, signal.SIGSTOP)
    time.sleep(HANGS)
    node.kill()
    submitting.join()
    # A request is acknowledged once stored: the relay publishes it when the stream can take it.
    assert len(acknowledged) == SUBMITTED

    # Another node leads the requests stream, and the lost one is behind on every stream.
    during = eventually(
        lambda: copies(stack),
        lambda now: (
            bool(now)
            and now["requests"]["leader"] not in (None, lost)
            and all(lost in now[upstream]["behind"] for upstream in registry.STREAMS)
        ),
        20,
        f"another leader than {lost} (which led {', '.join(led)})",
    )
    for request_id in acknowledged:
        offered = talkoot.wait_for_status(request_id, "offered", timeout=40)
        assert offered["provider_id"] == provider_id
    for request_id in acknowledged[:ACCEPTED]:
        offer_id = talkoot.board_entry(request_id)["offer_id"]
        talkoot.ok(talkoot.accept(offer_id, provider_id))
    for request_id in acknowledged[:ACCEPTED]:
        talkoot.wait_for_status(request_id, "assigned", timeout=30)
    talkoot.wait_until_quiet(timeout=30)

    # Nothing published twice: each position once in every stream, each request submitted and
    # offered once.
    events = {upstream: published(stack, upstream) for upstream in registry.STREAMS}
    for upstream, stream in events.items():
        twice = {p: n for p, n in Counter(p for p, _ in stream).items() if n > 1}
        assert twice == {}, f"published twice to {upstream}: {twice}"
        positions = [p for p, _ in stream]
        assert positions == sorted(positions), f"{upstream}'s stream is out of order"
    submitted = Counter(
        e.request_id for _, e in events["requests"] if isinstance(e, ServiceRequestedV1)
    )
    offers = Counter(e.request_id for _, e in events["matching"] if isinstance(e, OfferMadeV1))
    assert all(submitted[r] == 1 for r in acknowledged), submitted
    assert all(offers[r] == 1 for r in acknowledged), offers

    # The node is started again on its port and data, and catches up on every stream.
    assert stack.supervise() == [f"nats-server {lost}"], "something else died on the way"
    eventually(
        lambda: copies(stack),
        lambda now: bool(now) and all(now[u]["behind"] == [] for u in registry.STREAMS),
        30,
        f"{lost} to catch up on every stream",
    )
    assert during["requests"]["leader"] != lost
    after = talkoot.submit(category, region)["id"]
    assert talkoot.wait_for_status(after, "offered")["provider_id"] == provider_id
    talkoot.wait_until_quiet(timeout=30)
    # a delivery the lost node made and never passed on is noticed by its gap, and comes again
    # before anything later is applied
    code, out, _ = talkoot.check()
    assert code == 0, out
