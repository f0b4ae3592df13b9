"""Queries served from a read replica (TALKOOT_READ_DATABASE_URL): a command's position read
back there is there, a replica that has not replayed it yet answers "not yet visible" rather
than a stale row, and commands go on while the replica is away.

The Talkoot here has an embedded PostgreSQL of its own and a streaming hot standby of it
(tests/integration/replica.py); it shares the session's nats-server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from deploy.stack import EmbeddedPostgres, Stack
from projections import board
from projections.schema import read_schema
from tests.client import Talkoot, eventually
from tests.conftest import another_talkoot
from tests.integration import scopes
from tests.integration.replica import EmbeddedPostgresReplica
from tests.integration.test_open311 import form
from tests.integration.test_open311 import post as open311_post

WAIT_SECONDS = 2


class Servers:
    def __init__(self, primary: EmbeddedPostgres, replica: EmbeddedPostgresReplica) -> None:
        self.primary, self.replica = primary, replica


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("replicated")
    primary = EmbeddedPostgres(folder / "primary")
    primary.start()
    replica = EmbeddedPostgresReplica(primary, folder / "replica")
    try:
        replica.start()
        yield Servers(primary, replica)
    finally:
        replica.stop()
        primary.stop()


@pytest.fixture(scope="module")
def talkoot(
    stack: Stack, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Talkoot]:
    with another_talkoot(
        stack,
        tmp_path_factory.mktemp("talkoot"),
        database_url=servers.primary.server.get_uri(),
        TALKOOT_READ_DATABASE_URL=servers.replica.url,
        TALKOOT_READ_WAIT_SECONDS=str(WAIT_SECONDS),
    ) as talkoot:
        yield talkoot


def sessions(url: str) -> set[str]:
    """The application names of the sessions connected to the server at ``url``."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
    return {name for (name,) in rows}


def board_position_on(url: str, talkoot: Talkoot) -> int:
    """How far the board has applied the requests stream, as the server at ``url`` has it."""
    schema = read_schema(talkoot.stack.namespace)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT position FROM {schema}.tracking WHERE projection = %s AND upstream = %s",
            (board.PROJECTION, board.UPSTREAM),
        ).fetchone()
    return row[0] if row else 0


def test_a_commands_position_is_read_back_from_the_replica(talkoot: Talkoot, servers: Servers):
    submitted = talkoot.submit(*scopes.quiet())
    entry = talkoot.board_entry(submitted["id"], submitted["position"])
    assert entry["request_id"] == submitted["id"]
    # the query came over the requests service's pool on the replica; the primary has none
    assert "talkoot-requests-reads" in sessions(servers.replica.url)
    on_primary = sessions(servers.primary.server.get_uri())
    assert "talkoot-requests" in on_primary
    assert not {name for name in on_primary if name.endswith("-reads")}
    [(in_recovery,)] = servers.replica.execute("SELECT pg_is_in_recovery()")
    assert in_recovery
    health = talkoot.ok(talkoot.get("requests", "/health"), 200)
    assert health["read_replica"] == "ok"


def test_a_position_the_replica_has_not_replayed_is_not_yet_visible_then_there(
    talkoot: Talkoot, servers: Servers
):
    talkoot.submit(*scopes.quiet())
    servers.replica.caught_up()
    servers.replica.execute("SELECT pg_wal_replay_pause()")
    try:
        submitted = talkoot.submit(*scopes.quiet())  # the command goes to the primary
        primary_url = servers.primary.server.get_uri()
        eventually(
            lambda: board_position_on(primary_url, talkoot) >= submitted["position"],
            bool,
            20,
            "the board on the primary to apply the request",
        )
        path = f"/requests/{submitted['id']}"
        started = time.monotonic()
        waiting = talkoot.get("requests", path, position=submitted["position"])
        waited = time.monotonic() - started
        assert waiting.status_code == 503, waiting.text
        assert waiting.json()["extra"]["rule"] == "not_yet_visible"
        assert waiting.headers["retry-after"] == "1"
        assert WAIT_SECONDS <= waited < WAIT_SECONDS + 3
        # the replica has neither the row nor the position: both wait for the same replay
        assert board_position_on(servers.replica.url, talkoot) < submitted["position"]
        schema = read_schema(talkoot.stack.namespace)
        assert (
            servers.replica.execute(
                f"SELECT 1 FROM {schema}.board WHERE request_id = '{submitted['id']}'"
            )
            == []
        )
    finally:
        servers.replica.execute("SELECT pg_wal_replay_resume()")
    entry = talkoot.board_entry(submitted["id"], submitted["position"])
    assert entry["request_id"] == submitted["id"]


def test_commands_go_on_while_the_replica_is_away(talkoot: Talkoot, servers: Servers):
    category, region = scopes.quiet()
    servers.replica.stop()
    try:
        started = time.monotonic()
        submitted = talkoot.submit(category, region)
        # Open311's post waits for the board to show the request: on the replica, in vain
        posted = open311_post(talkoot, form(category, region))
        assert posted.status_code == 201, posted.text
        # proposing a contract consults the provider directory: on the primary
        provider_id = talkoot.register_provider(category, region)
        proposed = talkoot.contract(provider_id, category, region, sign=False)
        assert proposed["id"]
        took = time.monotonic() - started
        assert took < 10, f"the commands took {took:.1f} s"

        health = talkoot.get("requests", "/health")
        assert health.status_code == 200, health.text
        assert health.json()["read_replica"].startswith("unreachable")
        # what is read from the replica waits for it, as for any server away
        query = talkoot.get("requests", f"/requests/{submitted['id']}")
        assert query.status_code == 503
        assert query.json()["extra"]["rule"] == "store_unavailable"
    finally:
        servers.replica.start()
    entry = eventually(
        lambda: talkoot.get(
            "requests", f"/requests/{submitted['id']}", position=submitted["position"]
        ),
        lambda response: response.status_code == 200,
        30,
        "the replica to answer again",
    )
    assert entry.json()["request_id"] == submitted["id"]
    ledger = talkoot.ledger(proposed["id"], proposed["position"])
    assert ledger["status"] == "proposed"
