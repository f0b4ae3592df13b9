"""The local stack supervises its embedded PostgreSQL and nats-server as it does the services:
killed, each is started again on the same port, socket and data, the services reconnect by
themselves, and stopping the stack afterwards leaves no process behind."""

from __future__ import annotations

import os
import signal
import time
import uuid

import httpx
import psutil
import pytest

from deploy.stack import Stack, free_stack_ports
from services.registry import PORTS
from tests.client import Talkoot, eventually
from tests.conftest import CATEGORIES, REGIONS

pytestmark = pytest.mark.slow


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def until_it_works(command, timeout: float = 20) -> httpx.Response:
    """Send ``command`` until it is answered with a success, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = command()
            if response.status_code < 300 or time.monotonic() > deadline:
                return response
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_killed_nats_server_and_postgres_are_started_again_and_stop_leaves_nothing(tmp_path):
    ports, nats_port = free_stack_ports(list(PORTS))
    stack = Stack(
        data_dir=tmp_path,
        namespace=f"supervised_{uuid.uuid4().hex[:6]}",
        ports=ports,
        nats_port=nats_port,
        extra_env={"TALKOOT_LOG_LEVEL": "WARNING", "TALKOOT_READ_WAIT_SECONDS": "3"},
    )
    said: list[str] = []
    everything: set[int] = set()
    stack.start()
    try:
        with Talkoot(stack) as talkoot:
            # a Talkoot of its own: any category and region are this test's alone
            category, region = CATEGORIES[0], REGIONS[0]
            provider_id, _ = talkoot.ready_provider(category, region, capacity=10)
            nats_port, database_url = stack.nats.port, stack.database_url
            everything |= set(stack.pids().values())

            # nats-server dies; a request submitted meanwhile waits in its service's outbox.
            os.kill(stack.nats.process.pid, signal.SIGKILL)
            eventually(lambda: stack.nats.running(), lambda up: not up, 5, "nats-server to die")
            during = talkoot.submit(category, region)["id"]
            assert stack.supervise(said.append) == ["nats-server"]
            assert any("nats-server exited" in line for line in said), said
            assert stack.nats.port == nats_port and stack.nats.running()
            everything |= set(stack.pids().values())
            after = talkoot.submit(category, region)["id"]
            for request_id in (during, after):
                offered = talkoot.wait_for_status(request_id, "offered", timeout=30)
                assert offered["provider_id"] == provider_id

            # PostgreSQL dies: a command fails until it is back, then works again.
            postmaster = psutil.Process(stack.postgres.server.get_pid())
            everything |= {p.pid for p in postmaster.children()}
            os.kill(postmaster.pid, signal.SIGKILL)
            eventually(lambda: stack.postgres.running(), lambda up: not up, 5, "PostgreSQL to die")
            started = time.monotonic()
            assert stack.supervise(said.append) == ["postgres"]
            assert any("PostgreSQL has stopped" in line for line in said), said
            assert stack.database_url == database_url and stack.postgres.running()
            body = talkoot.request_body(category, region)
            resident = talkoot.resident()
            response = until_it_works(
                lambda: talkoot.post("requests", "/requests", body, who=resident)
            )
            assert response.status_code == 201, response.text
            assert time.monotonic() - started < 20
            offered = talkoot.wait_for_status(response.json()["id"], "offered", timeout=30)
            assert offered["provider_id"] == provider_id
            assert stack.supervise(said.append) == []  # nothing else died on the way
            everything |= set(stack.pids().values())
            backends = psutil.Process(stack.postgres.server.get_pid()).children()
            everything |= {p.pid for p in backends}
    finally:
        stack.stop()

    assert len(everything) >= 8  # 5 processes, nats-server twice, postgres twice, backends
    left = sorted(pid for pid in everything if not gone(pid))
    assert left == [], [psutil.Process(pid).cmdline() for pid in left]
