"""A community provider: who it is, what it does, where, and how many jobs it takes at once."""

from __future__ import annotations

from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue


class ProviderKind(StrEnum):
    COOPERATIVE = "cooperative"
    ASSOCIATION = "association"
    VILLAGE_GROUP = "village_group"
    SOCIAL_ENTERPRISE = "social_enterprise"


MAX_CAPACITY = 1000


class Provider(Aggregate):
    @event("Registered")
    def __init__(
        self,
        name: str,
        kind: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
        contact: str,
    ) -> None:
        self.name = name
        self.kind = kind
        self.categories = categories
        self.regions = regions
        self.capacity = capacity
        self.contact = contact

    @classmethod
    def register(
        cls,
        *,
        name: str,
        kind: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
        contact: str = "",
    ) -> Provider:
        if not name.strip():
            raise InvalidValue("a provider needs a name", rule="name")
        if kind not in set(ProviderKind):
            raise InvalidValue(
                f"kind must be one of {', '.join(ProviderKind)}, got {kind!r}", rule="kind"
            )
        if not categories:
            raise InvalidValue("a provider declares at least one category", rule="categories")
        if not regions:
            raise InvalidValue("a provider declares at least one region", rule="regions")
        if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
            raise InvalidValue(
                f"capacity is the number of jobs at once, 1 to {MAX_CAPACITY}", rule="capacity"
            )
        return cls(
            name=name.strip(),
            kind=kind,
            categories=sorted(set(categories)),
            regions=sorted(set(regions)),
            capacity=capacity,
            contact=contact.strip(),
        )
