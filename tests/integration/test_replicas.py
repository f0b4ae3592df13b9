"""Two replicas of every service and of the projector at once: both serve HTTP, the one that
holds the process's lease relays, consumes and sweeps. The replicas that hold the leases are
killed (SIGKILL) under load and the others take over: nothing acknowledged is lost, nothing is
published, offered or assigned twice, and every request goes through."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import psycopg
import pytest
from psycopg import sql

from contracts.events import OfferMadeV1, RequestAssignedV1, ServiceRequestedV1
from deploy.stack import ServiceProcess, free_port
from services import registry
from tests.client import Talkoot, eventually, published

pytestmark = pytest.mark.slow

KILLED = ("requests", "matching", "projections")


def health(process: ServiceProcess) -> dict:
    return httpx.get(f"{process.url}/health", timeout=2).json()


def leading(process: ServiceProcess) -> bool:
    try:
        return process.running() and health(process).get("leading") is True
    except (httpx.HTTPError, ValueError):
        return False


def submit(talkoot: Talkoot, url: str, category: str, region: str, count: int) -> list[str]:
    """Submit ``count`` requests to ``url``; the ids acknowledged (201)."""
    acknowledged = []
    with httpx.Client(timeout=5, headers=talkoot.headers(talkoot.resident())) as http:
        for _ in range(count):
            try:
                response = http.post(f"{url}/requests", json=talkoot.request_body(category, region))
            except httpx.HTTPError:
                continue
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])
    return acknowledged


def entry(talkoot: Talkoot, url: str, request_id: str, *statuses: str) -> dict:
    admin = talkoot.headers(talkoot.token("replicas-admin", "admin"))

    def read() -> dict | None:
        try:
            response = httpx.get(f"{url}/requests/{request_id}", headers=admin, timeout=5)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    return eventually(
        read,
        lambda row: row is not None and row["status"] in statuses,
        60,
        f"request {request_id} {' or '.join(statuses)}",
    )


def accept_all(talkoot: Talkoot, url: str, requests_url: str, ids: list[str], provider: str):
    member = talkoot.headers(talkoot.member(provider))
    for request_id in ids:
        offer_id = entry(talkoot, requests_url, request_id, "offered", "assigned")["offer_id"]
        response = httpx.post(
            f"{url}/offers/{offer_id}/acceptance", json={}, headers=member, timeout=10
        )
        assert response.status_code in (200, 201), response.text


def test_replicas_share_the_work_and_take_over_when_the_leaders_are_killed(talkoot: Talkoot, scope):
    category, region = scope
    provider, _ = talkoot.ready_provider(category, region, capacity=200, budget_cents=10**7)
    stack = talkoot.stack
    names = [p.name for p in registry.PROCESSES if p.stream or p.consumes]
    replicas = {
        name: stack.replica(name, free_port() if registry.named(name).port else None)
        for name in names
    }
    for replica in replicas.values():
        replica.start()
    try:
        for replica in replicas.values():
            replica.wait_healthy()
        # The stack's own processes hold the leases: the replicas serve HTTP and stand by.
        for name, replica in replicas.items():
            if replica.url:
                assert not leading(replica), name
                assert leading(stack.processes[name]), name
        requests_url, matching_url = replicas["requests"].url, replicas["matching"].url

        # What a replica stores wakes the leader's relay through PostgreSQL: the leader
        # listens on the outbox's channel, and the replica notifies it once it has committed.
        channel = f"{stack.namespace}.requests.outbox"
        with psycopg.connect(stack.database_url, autocommit=True) as listening:
            listeners = listening.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query = %s",
                (f'LISTEN "{channel}"',),
            ).fetchone()[0]
            listening.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            assert len(submit(talkoot, requests_url, category, region, 1)) == 1
            heard = [n.channel for n in listening.notifies(timeout=5, stop_after=1)]
        assert listeners == 1, "the leader's relay is not listening"
        assert heard == [channel], "the replica did not notify the relay"

        # Written through replicas that do no background work: relayed by the leaders, and
        # accepted on a replica whose roster the leader changes meanwhile.
        first = submit(talkoot, requests_url, category, region, 15)
        assert len(first) == 15
        accept_all(talkoot, matching_url, requests_url, first, provider)

        # Under load, the leaders of requests, matching and the projector are killed.
        later: list[str] = []
        load = threading.Thread(
            target=lambda: later.extend(submit(talkoot, requests_url, category, region, 45))
        )
        load.start()
        time.sleep(0.5)
        for name in KILLED:
            stack.processes[name].kill()
        load.join()
        assert len(later) == 45  # the replica that served them was never down
        for name in ("requests", "matching"):
            eventually(lambda n=name: leading(replicas[n]), bool, 30, f"{name} replica leads")
        accept_all(talkoot, matching_url, requests_url, later, provider)
        ids = first + later
        for request_id in ids:
            entry(talkoot, requests_url, request_id, "assigned")
    finally:
        # The stack as it was: its own processes back (standing by), the replicas stopped,
        # so the leases come home.
        for name in KILLED:
            if not stack.processes[name].running():
                stack.processes[name].start()
        for name in KILLED:
            stack.processes[name].wait_healthy()
        for replica in replicas.values():
            replica.stop()
    for name in names:
        if stack.processes[name].url:
            eventually(lambda n=name: leading(stack.processes[n]), bool, 30, f"{name} leads")
    talkoot.wait_until_quiet(timeout=60)

    def count(service: str, kind: type) -> Counter:
        return Counter(e.request_id for _, e in published(stack, service) if isinstance(e, kind))

    submitted = count("requests", ServiceRequestedV1)
    offered = count("matching", OfferMadeV1)
    assigned = count("requests", RequestAssignedV1)
    assert all(submitted[r] == 1 for r in ids), submitted
    assert all(offered[r] == 1 for r in ids), offered
    assert all(assigned[r] == 1 for r in ids), assigned
    talkoot.assert_read_models_right()
