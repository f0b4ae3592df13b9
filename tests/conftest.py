"""The test session's Talkoot: real PostgreSQL and NATS, and the services as processes.

With TALKOOT_DATABASE_URL and TALKOOT_NATS_URL set, the tests use those servers; otherwise they
start an embedded PostgreSQL and nats-server of their own. Every session gets its own namespace,
so its schemas and streams start empty and never mix with a running `talkoot up`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.stack import Stack, free_port
from services.platform.catalogue import load_catalogue
from services.platform.settings import SERVICE_PORTS
from tests.client import Talkoot


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    data_dir = Path(os.environ.get("TALKOOT_TEST_DATA_DIR") or tmp_path_factory.mktemp("talkoot"))
    stack = Stack(
        data_dir=data_dir,
        namespace=f"test_{uuid.uuid4().hex[:8]}",
        database_url=os.environ.get("TALKOOT_DATABASE_URL") or None,
        nats_url=os.environ.get("TALKOOT_NATS_URL") or None,
        ports={name: free_port() for name in SERVICE_PORTS},
        nats_port=free_port(),
        extra_env={"TALKOOT_LOG_LEVEL": "WARNING", "TALKOOT_READ_WAIT_SECONDS": "3"},
    )
    stack.start()
    yield stack
    stack.stop()
    if not stack.embedded:
        forget(stack)


def forget(stack: Stack) -> None:
    """Drop the session's schemas and streams from servers that outlive the session."""
    import asyncio

    import psycopg

    from contracts.connection import connect
    from contracts.streams import DEAD_LETTERS, SERVICES, stream_name

    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{stack.namespace}_%",)
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    async def delete_streams() -> None:
        nc = await connect(stack.nats_url, "tests", **stack.nats_options())
        js = nc.jetstream()
        for service in (*SERVICES, DEAD_LETTERS):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream_name(service, stack.namespace))
        await nc.close()

    asyncio.run(delete_streams())


@contextlib.contextmanager
def another_talkoot(
    stack: Stack, data_dir: Path, database_url: str | None = None, **settings: str
) -> Iterator[Talkoot]:
    """A second Talkoot on the session's servers (or on a PostgreSQL of its own), in a
    namespace of its own, with other settings (``TALKOOT_*`` variables, such as timings of
    seconds); dropped afterwards."""
    other = Stack(
        data_dir=data_dir,
        namespace=f"test_{uuid.uuid4().hex[:8]}",
        database_url=database_url or stack.database_url,
        nats_url=stack.nats_url,
        ports={name: free_port() for name in SERVICE_PORTS},
        extra_env={"TALKOOT_LOG_LEVEL": "WARNING", "TALKOOT_READ_WAIT_SECONDS": "3", **settings},
        nats_passwords=stack.nats_passwords,
    )
    other.start()
    try:
        with Talkoot(other) as client:
            yield client
    finally:
        other.stop()
        forget(other)


@pytest.fixture(scope="session")
def talkoot(stack: Stack) -> Talkoot:
    with Talkoot(stack) as client:
        yield client


_scopes = itertools.count()

# Every (category, region) pair of the catalogue, each for one test at most.
CATEGORIES = list(load_catalogue().categories)
REGIONS = list(load_catalogue().regions)


@pytest.fixture
def scope() -> tuple[str, str]:
    """A (category, region) pair no other test in the session uses, so that matching offers
    this test's requests to this test's providers only."""
    n = next(_scopes)
    if n >= len(CATEGORIES) * len(REGIONS):
        pytest.fail("out of distinct (category, region) pairs for tests")
    return CATEGORIES[n % len(CATEGORIES)], REGIONS[n // len(CATEGORIES)]
