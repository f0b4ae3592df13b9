"""`talkoot check` on the session's Talkoot: after requests, offers and a charge under a
contract have flowed, every read model is as its events make it (exit 0); a board row changed,
a ledger entry deleted, a stray offer inserted and a sealed value moved behind the projector's
back are each named by model, table, key and column (exit 2), and a projector that cannot
catch up is said to be so (exit 3). Each change is undone afterwards.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg.types.json
import pytest

from tests.client import Talkoot
from tests.conftest import unused_scope


@pytest.fixture(scope="module")
def flowed(talkoot: Talkoot) -> dict[str, str]:
    """A request carried through to its charge under a contract, and another one offered."""
    return talkoot.charged_and_offered("resident-check")


@contextmanager
def read_models(talkoot: Talkoot) -> Iterator[tuple[psycopg.Connection, str]]:
    with psycopg.connect(talkoot.stack.database_url, autocommit=True) as conn:
        yield conn, f"{talkoot.stack.namespace}_read"


def line_of(out: str, model: str, table: str) -> str:
    return next(line for line in out.splitlines() if line.split()[:2] == [model, table])


def test_after_requests_offers_and_a_charge_every_read_model_is_as_its_events_make_it(
    talkoot: Talkoot, flowed: dict[str, str]
):
    code, out, errors = talkoot.check()
    assert code == 0, out + errors
    assert "All equal: 7 read models" in out
    for model, table in (
        ("board", "board"),
        ("ledger", "ledger_entries"),
        ("offers", "offers"),
        ("arrangements", "arrangements"),
        ("tables", "table_common_expenses"),
    ):
        assert line_of(out, model, table).endswith("OK")
    # the rows the events give: at least this module's two requests and one charge
    assert int(line_of(out, "board", "board").split()[2]) >= 2
    assert int(line_of(out, "ledger", "ledger_entries").split()[2]) >= 1
    # progress, per store, on standard error; no scratch schema is left behind
    assert "requests:" in errors and "events read" in errors
    with read_models(talkoot) as (conn, _):
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"{talkoot.stack.namespace}_check_%",),
        ).fetchall()
    assert left == []


def test_a_changed_a_deleted_and_a_stray_row_are_each_named(
    talkoot: Talkoot, flowed: dict[str, str]
):
    charged, offered = flowed["charged"], flowed["offered"]
    with read_models(talkoot) as (conn, s):
        board = conn.execute(f"SELECT status FROM {s}.board WHERE request_id = %s", (charged,))
        status = board.fetchone()[0]
        entry = conn.execute(
            f"SELECT position, to_jsonb(e) FROM {s}.ledger_entries e WHERE request_id = %s",
            (charged,),
        ).fetchone()
        assert entry is not None
        offer = conn.execute(
            f"SELECT * FROM {s}.offers WHERE request_id = %s", (offered,)
        ).fetchone()
        try:
            conn.execute(
                f"UPDATE {s}.board SET status = 'cancelled' WHERE request_id = %s", (charged,)
            )
            conn.execute(f"DELETE FROM {s}.ledger_entries WHERE position = %s", (entry[0],))
            placeholders = ", ".join(["%s"] * len(offer))
            conn.execute(
                f"INSERT INTO {s}.offers VALUES ({placeholders})",
                ("stray-offer", *offer[1:]),
            )
            code, out, errors = talkoot.check("--model", "board", "ledger", "offers")
        finally:
            conn.execute(
                f"UPDATE {s}.board SET status = %s WHERE request_id = %s", (status, charged)
            )
            conn.execute(
                f"INSERT INTO {s}.ledger_entries SELECT * FROM "
                f"jsonb_populate_record(NULL::{s}.ledger_entries, %s) ON CONFLICT DO NOTHING",
                (psycopg.types.json.Jsonb(entry[1]),),
            )
            conn.execute(f"DELETE FROM {s}.offers WHERE offer_id = 'stray-offer'")
    assert code == 2, out + errors
    assert line_of(out, "board", "board").endswith("DIFFERS: 1 changed")
    assert (
        f"changed  request_id={charged}: status 'cancelled' in the read model, "
        f"'{status}' from the events"
    ) in out
    assert line_of(out, "ledger", "ledger_entries").endswith("DIFFERS: 1 missing")
    assert f"missing  position={entry[0]}: the events give it" in out
    assert line_of(out, "offers", "offers").endswith("DIFFERS: 1 extra")
    assert "extra    offer_id=stray-offer: in the read model, no event gives it" in out
    assert "DIFFERENCES in 3 of 4 tables (board.board, ledger.ledger_entries, offers.offers)" in out

    code, out, errors = talkoot.check("--model", "board", "ledger", "offers")
    assert code == 0, out + errors


def test_sealed_personal_data_is_compared_opened_and_never_printed(
    talkoot: Talkoot, flowed: dict[str, str]
):
    charged, offered = flowed["charged"], flowed["offered"]
    with read_models(talkoot) as (conn, s):
        kept = conn.execute(
            f"SELECT request_sealed FROM {s}.board WHERE request_id = %s", (offered,)
        ).fetchone()[0]
        assert kept is not None
        try:
            # another request's sealed place and description: each seals with its own nonce,
            # so only opening them tells them apart
            conn.execute(
                f"""UPDATE {s}.board SET request_sealed =
                    (SELECT request_sealed FROM {s}.board WHERE request_id = %s)
                    WHERE request_id = %s""",
                (charged, offered),
            )
            code, out, errors = talkoot.check("--model", "board")
        finally:
            conn.execute(
                f"UPDATE {s}.board SET request_sealed = %s::jsonb WHERE request_id = %s",
                (psycopg.types.json.Jsonb(kept), offered),
            )
    assert code == 2, out + errors
    assert (
        f"changed  request_id={offered}: request_sealed (sealed personal data) opens differently"
    ) in out
    assert "Front yard" not in out + errors
    code, out, errors = talkoot.check("--model", "board")
    assert code == 0, out + errors


def test_a_projector_that_cannot_catch_up_is_said_so_and_nothing_is_compared(
    talkoot: Talkoot, flowed: dict[str, str]
):
    category, region = unused_scope()
    projector = talkoot.stack.pids()["projections"]
    os.kill(projector, signal.SIGSTOP)
    try:
        talkoot.submit(category, region, "resident-check")
        code, out, errors = talkoot.check("--model", "board", "--timeout", "1")
    finally:
        os.kill(projector, signal.SIGCONT)
    assert code == 3, out + errors
    assert "COULD NOT SETTLE within 1 s: board <- requests at position" in out
    assert "Read models in" not in out
    code, out, errors = talkoot.check("--model", "board", "--timeout", "20")
    assert code == 0, out + errors
