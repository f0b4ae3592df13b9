"""The read models' tables as every process makes sure of them at its start: made when one is
missing, altered when the DDL is another, and otherwise left alone, taking no lock on them (a
start under load must not hold up the queries and the projector)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from deploy.stack import Stack
from projections.schema import APPLIED, ensure_read_models, read_schema


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
