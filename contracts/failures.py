"""Which failures of a consumer's handler pass by themselves, and which come back every time.

A *transient* failure says that something the handler needs is away for a moment: PostgreSQL
or NATS down, restarting, out of connections or slow, or the transaction lost a race to another
one. The consumer tries the same messages again, with a growing pause, however long it takes,
and never sets them aside: the message is fine and will apply once the server is back.

Any other failure is *permanent*: the message itself is the trouble (text PostgreSQL refuses,
a date that overflows, a bug the event walks into), so trying it again gives the same answer.
After a few attempts the consumer sets that one message aside as a dead letter and goes on.

This module is the one place that decides. It imports none of the database libraries (contracts
import nothing of ours, and nothing heavy): it looks their error classes up in ``sys.modules``,
since an error of a library that is not loaded cannot have been raised. A handler that knows a
failure of its own passes (such as the event store's concurrent-change ``Conflict``) raises
``Transient`` from it.
"""

from __future__ import annotations

import sys

# (module, class, why a failure of this class passes by itself)
TRANSIENT: tuple[tuple[str, str, str], ...] = (
    (
        "builtins",
        "OSError",
        "a socket closed or a connection was refused (ConnectionError is "
        "one, and so is TimeoutError): a server is down or restarting",
    ),
    ("builtins", "TimeoutError", "a server did not answer in time"),
    ("nats.errors", "ConnectionClosedError", "NATS closed the connection"),
    ("nats.errors", "ConnectionReconnectingError", "NATS is reconnecting"),
    ("nats.errors", "ConnectionDrainingError", "the connection is draining"),
    ("nats.errors", "StaleConnectionError", "NATS stopped answering pings"),
    ("nats.errors", "NoServersError", "no NATS server is reachable"),
    ("nats.errors", "TimeoutError", "NATS did not answer in time"),
    ("nats.errors", "FlushTimeoutError", "NATS did not answer in time"),
    ("nats.errors", "OutboundBufferLimitError", "too much is waiting to go out to NATS"),
    ("nats.errors", "NoRespondersError", "JetStream is not answering yet"),
    ("nats.js.errors", "ServiceUnavailableError", "JetStream is not available for a moment"),
    (
        "psycopg",
        "OperationalError",
        "PostgreSQL is away, restarting, out of connections, or the "
        "transaction lost a serialization or deadlock race, or waited too long for a lock",
    ),
    ("psycopg", "InterfaceError", "the connection to PostgreSQL is closed"),
    ("eventsourcing.persistence", "OperationalError", "the event store's name for psycopg's"),
    ("eventsourcing.persistence", "InterfaceError", "the event store's name for psycopg's"),
    ("asyncpg.exceptions", "PostgresConnectionError", "the connection failed or went away"),
    ("asyncpg.exceptions", "InterfaceError", "the connection was closed under the handler"),
    ("asyncpg.exceptions", "CannotConnectNowError", "PostgreSQL is starting or stopping"),
    ("asyncpg.exceptions", "AdminShutdownError", "PostgreSQL is shutting down"),
    ("asyncpg.exceptions", "CrashShutdownError", "PostgreSQL is recovering from a crash"),
    ("asyncpg.exceptions", "TooManyConnectionsError", "PostgreSQL has no connection to spare"),
    (
        "asyncpg.exceptions",
        "TransactionRollbackError",
        "a serialization failure or deadlock: "
        "another transaction won, and this one will succeed when tried again",
    ),
    ("asyncpg.exceptions", "LockNotAvailableError", "another transaction held a lock too long"),
    ("asyncpg.exceptions", "QueryCanceledError", "a statement ran out of time"),
)

# Classes under a transient one above that nevertheless come back every time.
PERMANENT: tuple[tuple[str, str, str], ...] = (
    (
        "psycopg.errors",
        "ProgramLimitExceeded",
        "a value too big for an index or a row: psycopg "
        "files it under OperationalError, but the same value fails the same way again",
    ),
)


class Transient(Exception):
    """Raised by a handler (``raise Transient(...) from error``) for a failure that passes."""


def _classes(table: tuple[tuple[str, str, str], ...]) -> tuple[type, ...]:
    found = []
    for module, name, _ in table:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def transient_classes() -> tuple[type, ...]:
    """The transient error classes of the libraries loaded now (import them first)."""
    return _classes(TRANSIENT)


def is_transient(error: BaseException) -> bool:
    """True for a failure that passes by itself; see the module's docstring.

    The chain of explicit causes (``raise ... from``) counts: eventsourcing wraps psycopg's
    errors that way, and a permanent cause anywhere makes the failure permanent.
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__
    permanent, transient = _classes(PERMANENT), _classes(TRANSIENT)
    if any(isinstance(e, permanent) for e in chain):
        return False
    return any(isinstance(e, (Transient, *transient)) for e in chain)


def describe(error: BaseException, limit: int = 500) -> str:
    """``ValueError: ...`` on one line, short enough for a header."""
    text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
