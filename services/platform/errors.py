"""Errors raised by application services that are not rules of the domain."""

from domain.errors import DomainError


class NotFound(DomainError):
    rule = "not_found"


class Conflict(DomainError):
    """Somebody else changed the same thing at the same moment; nothing of this was stored."""

    rule = "concurrent_change"


class NotYetVisible(DomainError):
    """A read asked for a position its read model has not reached within the wait."""

    rule = "not_yet_visible"
