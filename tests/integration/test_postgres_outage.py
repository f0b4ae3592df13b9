"""While PostgreSQL is away a command fails at once with 503 and Retry-After, is never applied
behind the client's back when PostgreSQL returns, and the services recover by themselves.

The Talkoot here has an embedded PostgreSQL of its own, so that stopping it touches nobody
else; it shares the session's nats-server.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from deploy.stack import EmbeddedPostgres, Stack
from tests.client import Talkoot, eventually
from tests.conftest import another_talkoot
from tests.integration.store import requests_created_for


@pytest.fixture
def own_database(tmp_path: Path):
    postgres = EmbeddedPostgres(tmp_path / "postgres")
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.stop()


def healthy(talkoot: Talkoot, service: str) -> bool:
    try:
        return talkoot.get(service, "/health").status_code == 200
    except httpx.HTTPError:
        return False


def refused_while_away(talkoot: Talkoot, body: dict, the_key: str, who: str) -> None:
    for service, path, command in [
        ("requests", "/requests", body),  # the key is claimed first: asyncpg meets the outage
        ("requests", "/requests", body | {"description": "no key"}),  # the store meets it
        ("providers", "/providers", {"name": "Osuuskunta", "kind": "cooperative"}),
    ]:
        started = time.monotonic()
        if "no key" in str(command):
            refused = talkoot.http.post(
                talkoot.url(service, path), json=command, headers=talkoot.headers(who)
            )
        else:
            refused = talkoot.post(service, path, command, the_key, who=who)
        took = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert refused.json()["extra"]["rule"] == "store_unavailable"
        assert int(refused.headers["Retry-After"]) > 0
        assert took < 3.5, f"{service} took {took:.1f} s to refuse"


def test_a_command_during_an_outage_fails_fast_and_is_not_applied_later(
    stack: Stack, tmp_path: Path, own_database: EmbeddedPostgres
) -> None:
    url = own_database.server.get_uri()
    with another_talkoot(stack, tmp_path / "talkoot", database_url=url) as talkoot:
        category, region = "snow-clearing", "lahti-keskusta"
        talkoot.submit(category, region)  # the services work, and hold connections
        resident = f"resident-{uuid.uuid4().hex[:8]}"
        who = talkoot.resident(resident)
        body = talkoot.request_body(category, region)
        the_key = f"outage-{uuid.uuid4()}"

        own_database.stop()
        try:
            refused_while_away(talkoot, body, the_key, who)
        finally:
            assert own_database.start() == url
        eventually(
            lambda: all(healthy(talkoot, name) for name in talkoot.stack.ports),
            bool,
            30,
            "the services to reach PostgreSQL again",
        )
        time.sleep(3)  # time enough for a queued command to go through, if one were queued
        assert requests_created_for(talkoot.stack, resident) == 0
        board = talkoot.ok(talkoot.get("requests", "/requests/", limit=1000), 200)
        assert [r for r in board if r["resident_id"] == resident] == []

        # The key was released with the 503: the client's retry is applied now, once.
        retried = talkoot.post("requests", "/requests", body, the_key, who=who)
        assert "Idempotency-Replayed" not in retried.headers
        entry = talkoot.board_entry(talkoot.ok(retried)["id"], retried.json()["position"])
        assert entry["resident_id"] == resident
        assert requests_created_for(talkoot.stack, resident) == 1
        talkoot.wait_until_quiet()
        talkoot.assert_read_models_right()
