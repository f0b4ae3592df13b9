"""Reads a service's event store directly, to check that a refused command stored nothing."""

from __future__ import annotations

import psycopg

from deploy.stack import Stack


def stored_events(stack: Stack, service: str) -> int:
    schema = f"{stack.namespace}_{service}"
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}"."{service}_events"').fetchone()
    return row[0]


def requests_created_for(stack: Stack, resident_id: str) -> int:
    """The events that created requests of one resident, in the requests service's store."""
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{stack.namespace}_requests"."requests_events" '
            "WHERE originator_version = 1 AND position(%s in convert_from(state, 'UTF8')) > 0",
            (resident_id,),
        ).fetchone()
    return row[0]
