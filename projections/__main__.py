"""``python -m projections``: the projector process that keeps the read models up to date.

It follows the requests stream into the request board, the partnerships stream into the
contract ledger and the providers stream into the provider directory, each with its own durable
consumer, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

import asyncpg

from contracts import connection
from contracts.jetstream import Subscription, ensure_streams, follow
from contracts.streams import DEFAULT_NAMESPACE
from projections import board, directory, ledger, series
from projections.schema import ensure_read_models, read_schema

log = logging.getLogger("talkoot.projections")


async def run() -> None:
    database_url = os.environ.get("TALKOOT_DATABASE_URL")
    nats_url = os.environ.get("TALKOOT_NATS_URL")
    if not database_url or not nats_url:
        sys.exit("TALKOOT_DATABASE_URL and TALKOOT_NATS_URL must be set")
    namespace = os.environ.get("TALKOOT_NAMESPACE", DEFAULT_NAMESPACE)
    schema = read_schema(namespace)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await ensure_read_models(pool, namespace)
    nc = await connection.connect(nats_url, "talkoot-projections")
    js = nc.jetstream()
    await ensure_streams(js, namespace)

    async def to_board(run):
        await board.apply(pool, schema, run)

    async def to_ledger(run):
        await ledger.apply(pool, schema, run)

    async def to_directory(run):
        await directory.apply(pool, schema, run)

    async def to_series(run):
        await series.apply(pool, schema, run)

    subscriptions = [
        Subscription(upstream=board.UPSTREAM, durable="projection-board", handle=to_board),
        Subscription(upstream=ledger.UPSTREAM, durable="projection-ledger", handle=to_ledger),
        Subscription(
            upstream=directory.UPSTREAM, durable="projection-directory", handle=to_directory
        ),
        Subscription(upstream=series.UPSTREAM, durable="projection-series", handle=to_series),
    ]
    log.info("projecting into schema %s", schema)
    tasks = [asyncio.create_task(follow(js, sub, namespace, stop)) for sub in subscriptions]
    await stop.wait()
    await asyncio.wait(tasks, timeout=5)
    # close, not drain: draining pull subscriptions waits out its whole timeout in nats-py
    await nc.close()
    await pool.close()


def main() -> None:
    argparse.ArgumentParser(
        prog="python -m projections",
        description="Keeps the request board, the contract ledger and the provider directory "
        "in PostgreSQL from the services' JetStream streams. Configured from the environment: "
        "TALKOOT_DATABASE_URL and TALKOOT_NATS_URL (required), TALKOOT_NAMESPACE, "
        f"TALKOOT_LOG_LEVEL. {connection.HELP}",
    ).parse_args()
    logging.basicConfig(
        level=os.environ.get("TALKOOT_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    asyncio.run(run())


if __name__ == "__main__":
    main()
