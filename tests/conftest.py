"""The test session's Talkoot: real PostgreSQL and NATS, and the services as processes.

With TALKOOT_DATABASE_URL and TALKOOT_NATS_URL set, the tests use those servers; otherwise they
start an embedded PostgreSQL and nats-server of their own. Every session gets its own namespace,
so its schemas and streams start empty and never mix with a running `talkoot up`.

``--clock 2026-12-01T23:30:00Z`` (or TALKOOT_TEST_CLOCK) runs the session, and the services it
starts, at that moment and on from there: see tests/support/clock.py.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from deploy.stack import Stack, free_stack_ports
from domain.calendar import LOCAL_TIME
from services import registry
from services.platform.catalogue import catalogue_file, load_catalogue
from tests.client import Talkoot
from tests.support.clock import ENV as CLOCK_ENV
from tests.support.clock import Clock

CLOCK = pytest.StashKey[Clock]()

# The tests' services: quiet, quick to give up waiting for a read model, and without the
# commands' rate limit (tests send bursts; test_rate_limit runs a Talkoot with one).
TEST_SETTINGS = {
    "TALKOOT_LOG_LEVEL": "WARNING",
    "TALKOOT_READ_WAIT_SECONDS": "3",
    "TALKOOT_RATE_LIMIT": "off",
}
TRAVEL = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=os.environ.get(CLOCK_ENV) or None,
        help=f"run the suite from this moment on, e.g. 2026-12-01T23:30:00Z (or {CLOCK_ENV})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dates: depends on the calendar day; CI also runs these at other clocks"
    )
    if destination := config.getoption("clock"):
        # before collection, so that what a test module computes on import sees the clock too
        try:
            config.stash[CLOCK] = Clock.at(destination)
        except ValueError as error:
            raise pytest.UsageError(f"--clock {destination}: {error}") from None
        config.stash[TRAVEL] = config.stash[CLOCK].start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if TRAVEL in config.stash:
        config.stash[TRAVEL].stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    if CLOCK not in config.stash:
        return None
    start = config.stash[CLOCK].destination
    return f"clock: from {start.isoformat()}, in Lahti {start.astimezone(LOCAL_TIME).isoformat()}"


def launcher(config: pytest.Config) -> tuple[str, ...]:
    """What runs the service processes: at the session's clock, if it has one."""
    return config.stash[CLOCK].launcher() if CLOCK in config.stash else ()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Stack:
    data_dir = Path(os.environ.get("TALKOOT_TEST_DATA_DIR") or tmp_path_factory.mktemp("talkoot"))
    ports, nats_port = free_stack_ports(list(registry.PORTS))
    stack = Stack(
        data_dir=data_dir,
        namespace=f"test_{uuid.uuid4().hex[:8]}",
        database_url=os.environ.get("TALKOOT_DATABASE_URL") or None,
        nats_url=os.environ.get("TALKOOT_NATS_URL") or None,
        ports=ports,
        nats_port=nats_port,
        extra_env=TEST_SETTINGS,
        launcher=launcher(pytestconfig),
    )
    stack.start()
    yield stack
    stack.stop()
    if not stack.embedded:
        forget(stack)


def forget(stack: Stack) -> None:
    """Drop the session's schemas and streams from servers that outlive the session."""
    import asyncio

    from contracts.connection import connect
    from contracts.streams import DEAD_LETTERS, stream_name

    forget_schemas(stack)

    async def delete_streams() -> None:
        nc = await connect(stack.nats_url, "tests", **stack.nats_options())
        js = nc.jetstream()
        for stream in (*registry.STREAMS, DEAD_LETTERS):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream_name(stream, stack.namespace))
        await nc.close()

    asyncio.run(delete_streams())


def forget_schemas(stack: Stack) -> None:
    """Drop the stack's schemas from a PostgreSQL that outlives it."""
    import psycopg

    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{stack.namespace}_%",)
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


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
        ports=free_stack_ports(list(registry.PORTS))[0],
        extra_env={**TEST_SETTINGS, **settings},
        nats_passwords=stack.nats_passwords,
        launcher=stack.launcher,
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


def _tests_catalogue() -> None:
    """The session's catalogue: the city's, with regions of the tests' own added, so that each
    test that registers providers can have a (category, region) pair nobody else uses; and one
    with a boundary far from the city's, where no test registers providers, for requests that
    are placed by their point alone. The services the session starts read it too
    (TALKOOT_CATALOGUE is inherited)."""
    import atexit
    import shutil
    import tempfile

    base = catalogue_file().read_text()
    extra = "".join(
        f'\n[regions.test-{n:02}]\nname = "Test region {n}"\n' for n in range(1, TEST_REGIONS + 1)
    )
    extra += (
        f'\n[regions.{BOUNDED_REGION}]\nname = "Test region with a boundary"\n'
        f"boundary = {[list(p) for p in BOUNDED_RING]}\n"
    )
    folder = Path(tempfile.mkdtemp(prefix="talkoot-catalogue-"))
    (folder / "catalogue.toml").write_text(base + extra)
    atexit.register(shutil.rmtree, folder, True)
    os.environ["TALKOOT_CATALOGUE"] = str(folder / "catalogue.toml")
    load_catalogue.cache_clear()


TEST_REGIONS = 20
# South-east of Nastola, beside none of the city's regions (and near enough for the maps).
BOUNDED_REGION = "test-bounded"
BOUNDED_RING = ((26.1, 60.7), (26.2, 60.7), (26.2, 60.75), (26.1, 60.75), (26.1, 60.7))
_tests_catalogue()

_scopes = itertools.count()

# Every (category, region) pair of the catalogue, each for one test at most.
CATEGORIES = list(load_catalogue().categories)
REGIONS = [r for r in load_catalogue().regions if r != BOUNDED_REGION]


@pytest.fixture
def scope() -> tuple[str, str]:
    """A (category, region) pair no other test in the session uses, so that matching offers
    this test's requests to this test's providers only."""
    return unused_scope()


def unused_scope() -> tuple[str, str]:
    """What ``scope`` gives, for fixtures of a wider scope than one test."""
    n = next(_scopes)
    if n >= len(CATEGORIES) * len(REGIONS):
        pytest.fail("out of distinct (category, region) pairs for tests")
    return CATEGORIES[n % len(CATEGORIES)], REGIONS[n // len(CATEGORIES)]


@pytest.fixture(scope="session")
def web(stack: Stack):
    """The stack's web front, and its demo sign-in as anybody a test adds (tests/web.py)."""
    from tests.web import Web

    return Web(stack)
