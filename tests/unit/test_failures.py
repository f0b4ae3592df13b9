"""Which handler failures a consumer waits out (transient) and which it sets aside (permanent)."""

from __future__ import annotations

import asyncpg.exceptions
import eventsourcing.persistence as es
import psycopg
import psycopg.errors
import pytest

from contracts.failures import Transient, is_transient


def caused(error: BaseException, by: BaseException) -> BaseException:
    error.__cause__ = by
    return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError("connection refused"),
        TimeoutError(),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        caused(es.OperationalError("lock timeout"), psycopg.errors.LockNotAvailable("lock")),
        es.InterfaceError("the connection is closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        caused(Transient("somebody else changed this"), es.IntegrityError("conflict")),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_server_away_or_a_lost_race_is_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("badly formed hexadecimal UUID string"),
        OverflowError("date value out of range"),
        asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence: 0x00"),
        psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        es.IntegrityError("duplicate key"),
        caused(es.OperationalError("index row too big"), psycopg.errors.ProgramLimitExceeded()),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_failure_the_message_itself_causes_is_permanent(error):
    assert not is_transient(error)
