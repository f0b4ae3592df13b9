"""Errors raised by application services that are not rules of the domain."""

import asyncpg
import psycopg
from eventsourcing import persistence

from domain.errors import DomainError


class NotFound(DomainError):
    rule = "not_found"


class Conflict(DomainError):
    """Somebody else changed the same thing at the same moment; nothing of this was stored."""

    rule = "concurrent_change"


class NotYetVisible(DomainError):
    """A read asked for a position its read model has not reached within the wait."""

    rule = "not_yet_visible"


class AlreadyApplied(DomainError):
    """A command's idempotency key is in the store already: an earlier attempt applied it."""

    rule = "idempotency_key_applied"


# What a request meets while PostgreSQL is away, from psycopg (eventsourcing) or asyncpg.
STORE_ERRORS: tuple[type[BaseException], ...] = (
    persistence.OperationalError,
    persistence.InterfaceError,
    psycopg.OperationalError,  # psycopg_pool.PoolTimeout too
    psycopg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, or a query timed out
    OSError,  # asyncpg's socket: refused, or gone with the server (FileNotFoundError)
    TimeoutError,  # asyncpg's connect and acquire timeouts
)
UNAVAILABLE_RULE = "store_unavailable"
UNAVAILABLE = (
    "the service's database is unreachable just now; try again shortly (with the same "
    "Idempotency-Key, so that a command which did get through is not applied twice)"
)
