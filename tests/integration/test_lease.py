"""The lease that decides which replica of a process does its background work, on a real
PostgreSQL: one holder at a time, handed on when the holder lets go or its session ends, and
let go of by a holder whose work cannot start."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts import lease as leases
from contracts.lease import Lease, lead
from deploy.stack import Stack


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_one_replica_holds_the_lease_until_it_lets_go_or_its_session_ends(stack: Stack):
    name = f"t{uuid.uuid4().hex[:8]}.requests"

    async def scenario():
        first, second = Lease(stack.database_url, name), Lease(stack.database_url, name)
        other = Lease(stack.database_url, f"{name}-other")
        try:
            taken = [await first.try_acquire(), await second.try_acquire()]
            unrelated = await other.try_acquire()  # another process's lease is its own
            held = await first.still_held()
            await first.release()
            handed_on = await second.try_acquire()
            second._conn.terminate()  # its session ends, as when its replica is killed
            noticed = await second.still_held()
            # the server lets go of the lock once it has seen the session end
            for _ in range(50):
                if after_death := await first.try_acquire():
                    break
                await asyncio.sleep(0.1)
            return taken, unrelated, held, handed_on, noticed, after_death
        finally:
            for lease in (first, second, other):
                await lease.release()

    assert run(scenario()) == ([True, False], True, True, True, False, True)


def test_a_holder_whose_work_cannot_start_lets_go_and_tries_again(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(leases, "RETRY_SECONDS", 0.1)
    monkeypatch.setattr(leases, "CHECK_SECONDS", 0.1)
    name = f"t{uuid.uuid4().hex[:8]}.matching"
    started: list[int] = []

    def work(term: asyncio.Event) -> list[asyncio.Task]:
        started.append(1)
        if len(started) < 3:
            raise RuntimeError("the consumers could not be made")
        return [asyncio.create_task(term.wait())]

    async def scenario():
        stop = asyncio.Event()
        leading = asyncio.create_task(lead(Lease(stack.database_url, name), work, stop))
        while len(started) < 3:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        other = Lease(stack.database_url, name)
        try:
            while_working = await other.try_acquire()
            stop.set()
            await leading
            after_stop = await other.try_acquire()
        finally:
            await other.release()
        return while_working, after_stop

    assert run(scenario()) == (False, True)
    assert len(started) == 3  # held once it started, not asked for again
