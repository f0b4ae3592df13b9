"""Which one of a process's replicas does its background work: the relay of its outbox, its
consumers, its timed work. Every replica serves HTTP; one at a time holds the lease and works.

The lease is a PostgreSQL advisory lock on a connection of its own (the database every replica
already shares): held while that session lives, so a replica that dies (SIGKILL, its machine
gone) lets go of it as its connection closes, and another takes it within a few seconds.
A holder that cannot reach the database any more stops its work at once: it no longer knows
that it is the only one. Order and exactly-once still rest on the consumers' tracking rows in
the same database; the lease keeps two replicas from racing each other over them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from contextlib import suppress

import asyncpg

from contracts.database import asyncpg_dsn

log = logging.getLogger("talkoot.lease")

CHECK_SECONDS = 1.0  # how often the holder makes sure its session is still there
RETRY_SECONDS = 1.0  # how often a replica without the lease asks for it again
# A replica's machine lost without a goodbye: the server notices its silent connection after
# about idle + interval * count seconds (TCP keepalives; a Unix socket needs none).
KEEPALIVE = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


def lock_key(name: str) -> int:
    """The advisory lock's 64-bit key for ``name`` (``talkoot.requests``)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class Lease:
    """The lease called ``name`` among the replicas connected to ``database_url``."""

    def __init__(self, database_url: str, name: str) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.name = name
        self.key = lock_key(name)
        self.held = False
        self._conn: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; False (never an error) if somebody does or the
        database cannot be reached."""
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self.dsn, timeout=2, server_settings=KEEPALIVE)
            self.held = bool(
                await asyncio.wait_for(
                    self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key), 2
                )
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            log.debug("lease %s: cannot ask for it: %r", self.name, error)
            await self._drop()
        return self.held

    async def still_held(self) -> bool:
        """Whether the session holding the lease is still there."""
        if not self.held or self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), 2)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            await self._drop()
        return self.held

    async def release(self) -> None:
        if self.held and self._conn is not None and not self._conn.is_closed():
            with suppress(Exception):
                await asyncio.wait_for(
                    self._conn.fetchval("SELECT pg_advisory_unlock($1)", self.key), 2
                )
        await self._drop()

    async def _drop(self) -> None:
        self.held = False
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


async def lead(
    lease: Lease,
    work: Callable[[asyncio.Event], list[asyncio.Task]],
    stop: asyncio.Event,
) -> None:
    """Until ``stop``: wait for ``lease``, then run ``work`` (it starts its tasks, which end
    when the event it is given is set) for as long as the lease is held; a term that ends
    stops the work before the lease is asked for again."""
    while not stop.is_set():
        if not await lease.try_acquire():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
            continue
        log.info("lease %s taken: this replica does the background work", lease.name)
        term = asyncio.Event()
        tasks: list[asyncio.Task] = []
        try:
            tasks = work(term)
            while not stop.is_set() and await lease.still_held():
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), CHECK_SECONDS)
        except Exception:
            # Work that cannot start must not keep the lease from a replica whose can.
            log.exception("lease %s: the background work failed; letting go of it", lease.name)
            failed = True
        else:
            failed = False
        finally:
            term.set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=5)
                for task in pending:
                    task.cancel()
            if not stop.is_set():
                log.warning(
                    "lease %s lost: background work stopped until it is taken again", lease.name
                )
            await lease.release()
        if failed:  # another replica's turn first, if there is one
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
