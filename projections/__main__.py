"""``python -m projections``: the projector process that keeps the read models up to date.

It follows each read model's upstream stream (``READ_MODELS``: the requests stream into the
request board and the recurring series, the partnerships stream into the contract ledger, the
providers stream into the provider directory, the matching stream into the providers' offers;
the requests, matching and partnerships streams into the partners' audit trail of
arrangements; the tables stream into the partnership tables'), each with its own durable
consumer, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import ModuleType

import asyncpg

from contracts import connection, database, logs
from contracts.jetstream import Consumer, Policy, Subscription, ensure_streams, stream_replicas
from contracts.lease import Lease, lead
from contracts.streams import DEFAULT_NAMESPACE
from projections import arrangements, board, directory, ledger, offers, series, tables
from projections.schema import ensure_read_models, read_schema

log = logging.getLogger("talkoot.projections")


# The read models the projector keeps. This list is the projector's own: projections may not
# import services, so services.registry names these (PROJECTOR.read_models, and the streams
# they follow) for the stack and the CLI, and tests/unit/test_registry.py keeps both the same.
# A read model follows one stream (``UPSTREAM``), or several (``UPSTREAMS``, with a handler
# for each from ``read_models``).
READ_MODELS = (board, ledger, directory, series, offers, arrangements, tables)


def upstreams_of(model: ModuleType) -> tuple[str, ...]:
    return getattr(model, "UPSTREAMS", None) or (model.UPSTREAM,)


def upstreams() -> list[str]:
    """The streams the read models follow: the ones the projector ensures before it binds."""
    return sorted({upstream for model in READ_MODELS for upstream in upstreams_of(model)})


def subscriptions(
    pool: asyncpg.Pool, schema: str, pseudonym_secret: str | None = None
) -> list[Subscription]:
    """The projector's durable consumers, one per read model and stream it follows:
    ``projection-<name>``. The audit trail's (its residents are pseudonyms keyed with
    ``pseudonym_secret``) only when a secret is given."""
    handlers = []
    for model in READ_MODELS:
        if hasattr(model, "read_models"):
            if pseudonym_secret:
                handlers += [(model, h) for h in model.read_models(pool, schema, pseudonym_secret)]
        else:
            handlers.append((model, model.read_model(pool, schema)))
    return [
        Subscription(
            upstream=handler.upstream, durable=f"projection-{model.PROJECTION}", handle=handler
        )
        for model, handler in handlers
    ]


# Where the projector says it is alive: the file is touched whenever every read model makes
# progress (or has nothing to do), and `python -m projections --alive` tells from its age.
HEARTBEAT_VARIABLE = "TALKOOT_HEARTBEAT_FILE"


async def watch(
    consumers: list[Consumer], policy: Policy, stop: asyncio.Event, heartbeat: Path | None = None
) -> None:
    """Say in the log when a read model makes no progress, and touch ``heartbeat`` while none
    is stalled: the projector has no /health (`talkoot status` sees it from NATS, and a
    container's probe from the heartbeat's age)."""
    while not stop.is_set():
        if heartbeat is not None and not any(
            c.state.stalled(policy.stall_after) for c in consumers
        ):
            with contextlib.suppress(OSError):
                heartbeat.touch()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), policy.stall_after)
        for consumer in consumers:
            if not stop.is_set() and (why := consumer.state.stalled(policy.stall_after)):
                log.warning("%s is stalled: %s", consumer.name, why)


def alive(heartbeat: Path, policy: Policy) -> bool:
    """Whether the projector touched ``heartbeat`` lately: within two of its rounds (each
    ``stall_after`` long) and a little more."""
    try:
        age = time.time() - heartbeat.stat().st_mtime
    except OSError:
        return False
    return age <= 2 * policy.stall_after + 5


async def run() -> None:
    database_url = os.environ.get("TALKOOT_DATABASE_URL")
    nats_url = os.environ.get("TALKOOT_NATS_URL")
    if not database_url or not nats_url:
        sys.exit("TALKOOT_DATABASE_URL and TALKOOT_NATS_URL must be set")
    pseudonym_secret = os.environ.get("TALKOOT_PSEUDONYM_SECRET")
    if not pseudonym_secret:
        sys.exit("TALKOOT_PSEUDONYM_SECRET must be set: it keys the residents' pseudonyms")
    try:
        dsn = database.asyncpg_dsn(database_url)
    except database.UnusableDatabaseURL as error:
        sys.exit(str(error))
    namespace = os.environ.get("TALKOOT_NAMESPACE", DEFAULT_NAMESPACE)
    schema = read_schema(namespace)
    replicas = stream_replicas()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, reset=database.keep_session)
    await ensure_read_models(pool, namespace)
    nc = await connection.connect(nats_url, "talkoot-projections")
    js = nc.jetstream()
    await ensure_streams(js, namespace, upstreams(), replicas)

    policy = Policy.from_env()

    # The read models' consumers of this replica's term as the lease's holder (none while it
    # stands by: it is alive all the same, and its heartbeat says so).
    consumers: list[Consumer] = []

    def work(term: asyncio.Event) -> list[asyncio.Task]:
        """Projecting, while this replica holds the projector's lease."""
        consumers[:] = [
            Consumer(js, sub, namespace, policy)
            for sub in subscriptions(pool, schema, pseudonym_secret)
        ]
        log.info("projecting into schema %s", schema)

        async def standing_by() -> None:  # at the term's end: no consumers to watch
            await term.wait()
            consumers.clear()

        tasks = [asyncio.create_task(consumer.run(term)) for consumer in consumers]
        return [*tasks, asyncio.create_task(standing_by())]

    heartbeat = os.environ.get(HEARTBEAT_VARIABLE)
    watching = asyncio.create_task(
        watch(consumers, policy, stop, Path(heartbeat) if heartbeat else None)
    )
    # Several replicas may run: the one holding the lease projects, the others stand by.
    await lead(Lease(database_url, f"{namespace}.projections"), work, stop)
    await asyncio.wait([watching], timeout=5)
    # close, not drain: draining pull subscriptions waits out its whole timeout in nats-py
    await nc.close()
    await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m projections",
        description="Keeps the request board, the contract ledger, the provider directory and "
        "the providers' offers and the partners' audit trail of arrangements in PostgreSQL from "
        "the services' JetStream streams. Configured from the environment: "
        "TALKOOT_DATABASE_URL, TALKOOT_NATS_URL and TALKOOT_PSEUDONYM_SECRET (required), "
        "TALKOOT_NAMESPACE, "
        "TALKOOT_DEAD_LETTER_ATTEMPTS (tries of an event that fails before it is set aside as "
        f"a dead letter, default 3), TALKOOT_STALL_SECONDS (no progress for that long is a "
        f"stall, default 30), {HEARTBEAT_VARIABLE} (a file touched while no read model is "
        f"stalled), TALKOOT_LOG_LEVEL. {connection.HELP}",
    )
    parser.add_argument(
        "--alive",
        action="store_true",
        help=f"only tell, by its exit status, whether the running projector touched "
        f"{HEARTBEAT_VARIABLE} lately (a container's liveness probe)",
    )
    if parser.parse_args().alive:
        heartbeat = os.environ.get(HEARTBEAT_VARIABLE)
        if not heartbeat:
            sys.exit(f"{HEARTBEAT_VARIABLE} is not set")
        sys.exit(0 if alive(Path(heartbeat), Policy.from_env()) else 1)
    logs.configure()
    try:
        import uvloop  # the services' loop too (uvicorn's), where there is one
    except ImportError:
        asyncio.run(run())
    else:
        uvloop.run(run())


if __name__ == "__main__":
    main()
