"""The read models' tables as every process makes sure of them at its start: made when one is
missing, altered when the DDL is another, and otherwise left alone, taking no lock on them (a
start under load must not hold up the queries and the projector); and the connection their
handlers apply events on, which sends alike statements together."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest

from deploy.stack import Stack
from projections.schema import (
    APPLIED,
    Changed,
    Deferring,
    Inserted,
    apply_rows,
    ensure_read_models,
    read_schema,
)


async def _fresh(stack: Stack) -> tuple[asyncpg.Pool, str, str]:
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=3)
    namespace = f"test_shape_{uuid.uuid4().hex[:8]}"
    return pool, namespace, read_schema(namespace)


def test_a_start_with_the_tables_in_shape_waits_for_no_reader(stack: Stack):
    async def scenario():
        pool, namespace, schema = await _fresh(stack)
        try:
            await ensure_read_models(pool, namespace)
            async with pool.acquire() as reader, reader.transaction():
                # a query in progress on the board, as under load: an ALTER TABLE waits for it
                await reader.execute(f"LOCK TABLE {schema}.board IN ACCESS SHARE MODE")
                await asyncio.wait_for(ensure_read_models(pool, namespace), timeout=5)
                # and what it would wait for, it does once its DDL is not the one run last
                await pool.execute(f"UPDATE {schema}.{APPLIED} SET digest = 'an older one'")
                altering = asyncio.ensure_future(ensure_read_models(pool, namespace))
                await asyncio.sleep(1.0)
                assert not altering.done(), "the DDL ran without waiting for the reader"
            await asyncio.wait_for(altering, timeout=10)
            assert await pool.fetchval(f"SELECT digest FROM {schema}.{APPLIED}") != "an older one"
        finally:
            await pool.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await pool.close()

    asyncio.run(scenario())


def test_a_dropped_table_is_made_again_at_the_next_start(stack: Stack):
    async def scenario():
        pool, namespace, schema = await _fresh(stack)
        try:
            await ensure_read_models(pool, namespace)
            await pool.execute(f"DROP TABLE {schema}.ledger_entries")
            await pool.execute(f"DROP TABLE {schema}.{APPLIED}")
            await ensure_read_models(pool, namespace)
            found = await pool.fetchval(
                "SELECT count(*) FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
                [f"{schema}.ledger_entries", f"{schema}.{APPLIED}", f"{schema}.board"],
            )
            assert found == 3
        finally:
            await pool.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await pool.close()

    asyncio.run(scenario())


class Counting:
    """A connection that counts what is sent on it (the real one does the work)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn, self.sent = conn, []

    async def execute(self, query: str, *args):
        self.sent.append(("execute", query.split()[0]))
        return await self.conn.execute(query, *args)

    async def executemany(self, query: str, args):
        self.sent.append(("executemany", query.split()[0], len(args)))
        return await self.conn.executemany(query, args)

    async def fetchval(self, query: str, *args):
        self.sent.append(("fetchval", query.split()[0]))
        return await self.conn.fetchval(query, *args)


def test_a_handlers_statements_run_in_their_order_the_alike_in_one_round_trip(stack: Stack):
    async def scenario():
        conn = await asyncpg.connect(stack.database_url)
        try:
            async with conn.transaction():
                await conn.execute("CREATE TEMP TABLE t (k int PRIMARY KEY, v int NOT NULL)")
                counting = Counting(conn)
                deferring = Deferring(counting)
                insert = "INSERT INTO t (k, v) VALUES ($1, $2)"
                double = "UPDATE t SET v = v * 2 WHERE k = $1"
                for k in (1, 2, 3):
                    await deferring.execute(insert, k, 10 * k)
                await deferring.execute(double, 1)
                await deferring.execute(double, 3)
                assert counting.sent == [("executemany", "INSERT", 3)]  # the updates held
                # a read sees every statement made before it, in their order
                assert await deferring.fetchval("SELECT sum(v) FROM t") == 20 + 20 + 60
                await deferring.execute(insert, 4, 1)
                await deferring.flush()
                await deferring.flush()  # nothing held: nothing sent
                assert counting.sent[1:] == [
                    ("executemany", "UPDATE", 2),
                    ("fetchval", "SELECT"),
                    ("execute", "INSERT"),
                ]
                # a held statement's error is raised when it is sent, before what follows
                await deferring.execute(insert, 5, 1)
                await deferring.execute(insert, 1, 1)  # k = 1 is there
                with pytest.raises(asyncpg.UniqueViolationError):
                    await deferring.fetchval("SELECT count(*) FROM t")
        finally:
            await conn.close()

    asyncio.run(scenario())


def test_a_run_applied_as_a_set_leaves_the_rows_as_one_event_after_another_does(stack: Stack):
    """apply_rows merges a row's consecutive changes and sends the rows' statements in rounds:
    for any run of makes and changes over a few rows (some there before, some made twice,
    some changed before they are made), the table ends as applying each in turn leaves it."""
    rng = random.Random(7)
    columns = ("a", "b", "c")

    def effects(table: str) -> list:
        made = []
        for position in range(1, rng.randint(1, 30)):
            key = rng.choice("pqrs")
            if rng.random() < 0.3:
                statement = (
                    f"INSERT INTO {table} (k, a, b, c, updated_at, position) "
                    f"VALUES ($1, $2, 0, 0, $3, $4) ON CONFLICT (k) DO NOTHING"
                )
                made.append(Inserted(key, statement, (key, position * 10, position, position)))
            else:
                picked = rng.sample(columns, rng.randint(1, 3))
                values = {c: rng.choice([None, position, -position]) for c in picked}
                made.append(Changed(key, position, position, values))
        return made

    async def one_after_another(conn, table: str, run: list) -> None:
        for effect in run:
            if isinstance(effect, Inserted):
                await conn.execute(effect.statement, *effect.args)
            else:
                await apply_rows(conn, table, "k", [effect])

    async def scenario():
        conn = await asyncpg.connect(stack.database_url)
        try:
            for case in range(150):
                async with conn.transaction():
                    for name in ("one", "set"):
                        await conn.execute(
                            f"CREATE TEMP TABLE {name} (k text PRIMARY KEY, a int, b int, c int,"
                            " updated_at int NOT NULL, position int NOT NULL) ON COMMIT DROP"
                        )
                        await conn.execute(
                            f"INSERT INTO {name} VALUES ('q', 1, 1, 1, 0, 0)"
                        )  # one row there before the run
                    run = effects("{table}")
                    bound = {
                        name: [
                            e._replace(statement=e.statement.format(table=name))
                            if isinstance(e, Inserted)
                            else e
                            for e in run
                        ]
                        for name in ("one", "set")
                    }
                    await one_after_another(conn, "one", bound["one"])
                    deferring = Deferring(conn)
                    await apply_rows(deferring, "set", "k", bound["set"])
                    await deferring.flush()
                    one = await conn.fetch("SELECT * FROM one ORDER BY k")
                    together = await conn.fetch("SELECT * FROM set ORDER BY k")
                    assert [dict(r) for r in together] == [dict(r) for r in one], (case, run)
        finally:
            await conn.close()

    asyncio.run(scenario())
