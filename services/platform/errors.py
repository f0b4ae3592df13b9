"""Errors raised by application services that are not rules of the domain."""

from __future__ import annotations

# Loaded here so that STORE_ERRORS finds their classes.
import asyncpg  # noqa: F401
import eventsourcing.persistence  # noqa: F401
import psycopg.errors  # noqa: F401

from contracts.failures import transient_classes
from domain.errors import DomainError


class NotFound(DomainError):
    rule = "not_found"

    @classmethod
    def of(cls, kind: str, id: object) -> NotFound:
        """The answer for a ``kind`` (offer, provider...) with ``id`` that is not there, or
        not there for the caller: the same words either way."""
        return cls(f"no {kind} with id {id}")


class InvalidField(DomainError):
    """A field's value the edge could not judge alone, because it takes the reference data (a
    point outside every region, say): answered as a field that failed validation is, 400
    naming the field (the ``rule``)."""

    rule = "invalid_field"

    def __init__(self, message: str, *, rule: str | None = None, source: str = "body") -> None:
        super().__init__(message, rule=rule)
        self.source = source  # where the field is: the body, or the query (``?position=``)


class Conflict(DomainError):
    """Somebody else changed the same thing at the same moment; nothing of this was stored."""

    rule = "concurrent_change"


class NotYetVisible(DomainError):
    """A read asked for a position its read model has not reached within the wait."""

    rule = "not_yet_visible"


class AlreadyApplied(DomainError):
    """A command's idempotency key is in the store already: an earlier attempt applied it."""

    rule = "idempotency_key_applied"


# What a request meets while PostgreSQL (or NATS) is away: the failures that pass by
# themselves, as the consumers tell them (contracts.failures), of the libraries loaded above.
STORE_ERRORS: tuple[type[BaseException], ...] = transient_classes()
UNAVAILABLE_RULE = "store_unavailable"
UNAVAILABLE = (
    "the service's database is unreachable just now; try again shortly (with the same "
    "Idempotency-Key, so that a command which did get through is not applied twice)"
)
