"""Reads a service's event store directly, to check that a refused command stored nothing."""

from __future__ import annotations

import psycopg

from deploy.stack import Stack


def stored_events(stack: Stack, service: str) -> int:
    schema = f"{stack.namespace}_{service}"
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}"."{service}_events"').fetchone()
    return row[0]
