"""`talkoot rebuild` on the session's Talkoot, the projector running: read models whose rows
were deleted (one with its tracking row too, one with a table dropped) are made again from the
event stores, and `talkoot check` then finds every read model as its events make it; a rebuild
while residents keep submitting requests loses no event and applies none twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.client import Talkoot
from tests.conftest import unused_scope


@pytest.fixture(scope="module")
def flowed(talkoot: Talkoot) -> dict[str, str]:
    """A request carried through to its charge under a contract, and another one offered."""
    return talkoot.charged_and_offered("resident-rebuild")


@contextmanager
def read_models(talkoot: Talkoot) -> Iterator[tuple[psycopg.Connection, str]]:
    with psycopg.connect(talkoot.stack.database_url, autocommit=True) as conn:
        yield conn, f"{talkoot.stack.namespace}_read"


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def rows_of(out: str, model: str, table: str) -> int:
    line = next(line for line in out.splitlines() if line.split()[:2] == [model, table])
    return int("".join(line.split()[2:]))


def test_read_models_dropped_are_rebuilt_from_the_events_while_the_projector_runs(
    talkoot: Talkoot, flowed: dict[str, str]
):
    with read_models(talkoot) as (conn, s):
        before = {t: count(conn, f"{s}.{t}") for t in ("board", "offers", "ledger_entries")}
        assert before["board"] >= 2 and before["ledger_entries"] >= 1
        conn.execute(f"DELETE FROM {s}.board")
        conn.execute(f"DELETE FROM {s}.offers")
        code, out, errors = talkoot.check("--model", "board", "offers")
        assert code == 2, out + errors
        assert "board.board" in out and "offers.offers" in out
        # the ledger dropped entirely, its tracking row too; a table of the series gone
        conn.execute(f"DELETE FROM {s}.ledger")
        conn.execute(f"DELETE FROM {s}.ledger_entries")
        conn.execute(f"DELETE FROM {s}.tracking WHERE projection = 'ledger'")
        conn.execute(f"DROP TABLE {s}.snowfall_days")

    code, out, errors = talkoot.rebuild("board", "offers", "ledger", "series")
    assert code == 0, out + errors
    assert "Rebuilt in" in out and "events/s" in out
    assert rows_of(out, "board", "board") >= before["board"]
    assert rows_of(out, "ledger", "ledger_entries") >= before["ledger_entries"]
    assert "ledger <- partnerships now at position" in out
    # progress, per store, on standard error; no scratch schema is left behind
    assert "requests:" in errors and "events read" in errors
    with read_models(talkoot) as (conn, s):
        assert count(conn, f"{s}.board") >= before["board"]
        assert count(conn, f"{s}.offers") >= before["offers"]
        assert count(conn, f"{s}.ledger_entries") >= before["ledger_entries"]
        assert conn.execute(f"SELECT 1 FROM {s}.tracking WHERE projection = 'ledger'").fetchone()
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"{talkoot.stack.namespace}_rebuild_%",),
        ).fetchall()
    assert left == []
    talkoot.assert_read_models_right()

    # the board serves the requests again, and the projector goes on from where it is
    assert talkoot.board_entry(flowed["charged"])["status"] == "confirmed"
    assert talkoot.board_entry(flowed["offered"])["status"] == "offered"
    charged = talkoot.ledger(flowed["contract"])
    assert charged["charges"] == 1
    later = talkoot.submit(flowed["category"], flowed["region"], "resident-rebuild")["id"]
    talkoot.wait_for_status(later, "offered")
    talkoot.wait_until_quiet()
    talkoot.assert_read_models_right()


def test_a_rebuild_while_requests_are_submitted_loses_no_event_and_applies_none_twice(
    talkoot: Talkoot, flowed: dict[str, str]
):
    category, region = unused_scope()
    submitted: list[tuple[float, str]] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def submitting() -> None:
        with Talkoot(talkoot.stack) as resident:
            while not stop.is_set():
                try:
                    request_id = resident.submit(category, region, "resident-rebuilding")["id"]
                except BaseException as error:  # said in the test, not lost in the thread
                    failures.append(error)
                    return
                submitted.append((time.monotonic(), request_id))

    thread = threading.Thread(target=submitting)
    thread.start()
    try:
        while not submitted and thread.is_alive():
            time.sleep(0.05)
        started = time.monotonic()
        code, out, errors = talkoot.rebuild("board", "series", "arrangements")
        ended = time.monotonic()
    finally:
        stop.set()
        thread.join(30)
    assert not failures, failures
    assert code == 0, out + errors
    during = [r for at, r in submitted if started <= at <= ended]
    assert during, "no request was submitted while the rebuild ran"

    talkoot.wait_until_quiet()
    for _, request_id in submitted:
        assert talkoot.board_entry(request_id)["status"] in ("submitted", "unmatched", "offered")
    talkoot.assert_read_models_right()
