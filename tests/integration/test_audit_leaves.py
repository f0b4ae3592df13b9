"""The leaf hashes PostgreSQL computes from the stored rows (``Log.leaves_now``) are, byte for
byte, those of ``domain.audit.leaves``: for every kind of row eventsourcing can store (NULL
topic or state, an empty state, a topic outside ASCII, bytes of every value), from any place on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from deploy.bench_audit import create_events_table
from deploy.stack import Stack
from domain.audit.leaves import StoredEvent
from domain.audit.tamper import Leaf
from services.platform.audit import Log

ROWS = [
    ("domain.requests:Request.Submitted", b'{"a":1}'),
    (None, b"x"),
    ("domain.requests:Request.Closed", None),
    (None, None),
    ("domain.requests:Request.Rated", b""),
    ("domaini.pyyntö:Pyyntö.Äänestetty ✓", bytes(range(256)) * 5),
    ("", b"\x00\x00"),
]


@pytest.fixture
def log(stack: Stack) -> Iterator[tuple[psycopg.Connection, Log]]:
    schema = f"{stack.namespace}_leaves_{uuid.uuid4().hex[:6]}"
    log = Log("leaves", schema)
    with psycopg.connect(stack.database_url) as conn:
        try:  # all in one transaction, rolled back: nothing is left behind
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            create_events_table(conn, log)
            yield conn, log
        finally:
            conn.rollback()


def test_the_leaves_of_the_stored_rows_are_those_of_their_bytes(log):
    conn, log = log
    stored = []
    for n, (topic, state) in enumerate(ROWS):
        originator = uuid.uuid4()
        (nid,) = conn.execute(
            sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %b) RETURNING notification_id"
            ).format(log.events_table),
            (originator, n + 1, topic, state),
        ).fetchone()
        stored.append(StoredEvent(nid, originator, n + 1, topic, state))
    expected = [Leaf.of(index, event) for index, event in enumerate(stored)]

    assert list(log.leaves_now(conn)) == expected
    assert len({leaf.leaf_hash for leaf in expected}) == len(ROWS)  # no two rows alike
    # the leaves after a notification id, numbered on from a given leaf index
    after = stored[2].notification_id
    assert list(log.leaves_now(conn, after=after, first=3)) == expected[3:]
    assert list(log.leaves_now(conn, after=stored[-1].notification_id, first=7)) == []
