"""Both drivers connect with TALKOOT_DATABASE_URL as contracts/database.py reads it: here, to
the session's real PostgreSQL, past a first host where no server listens."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
from eventsourcing.utils import Environment
from psycopg.conninfo import make_conninfo

from contracts import database
from deploy.stack import free_port
from services.platform.settings import Settings
from services.platform.store import Persistence, store_env


def test_every_driver_passes_over_a_host_where_no_server_listens_to_the_next(stack, tmp_path):
    parts = database.parts(stack.database_url)
    port = parts.get("port", "5432")
    if parts["host"].startswith("/"):  # the embedded PostgreSQL: a socket directory
        nobody = (str(tmp_path), port)  # an empty directory: no socket in it
    else:
        nobody = ("127.0.0.1", str(free_port()))
    url = make_conninfo(**{**parts, "host": f"{nobody[0]},{parts['host']}"}) + (
        f" port={nobody[1]},{port}"
    )

    with psycopg.connect(database.conninfo(url), connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    async def read() -> int:
        conn = await asyncpg.connect(database.asyncpg_dsn(url), timeout=5)
        try:
            return await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    assert asyncio.run(read()) == 1

    factory = Persistence(Environment(env=store_env(Settings(url, ""), "requests")))
    try:
        with factory.datastore.get_connection() as conn:
            assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1
    finally:
        factory.close()
