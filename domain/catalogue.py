"""The service catalogue and the regions: reference data a city edits, held as a value object."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str = ""
    estimated_minutes: int = 60
    # How a city's service list groups and finds it (Open311 GeoReport's group and keywords).
    group: str = ""
    keywords: tuple[str, ...] = ()
    # Work on common ground (a path, a park) rather than in a household: the public board and
    # Open311 show where it is and what is to be done. A private household's details never.
    public_matter: bool = False


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Catalogue:
    categories: dict[str, Category] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)

    def unknown_categories(self, codes: list[str] | tuple[str, ...]) -> list[str]:
        return [c for c in codes if c not in self.categories]

    def unknown_regions(self, codes: list[str] | tuple[str, ...]) -> list[str]:
        return [r for r in codes if r not in self.regions]

    def public_matters(self) -> list[str]:
        """The codes of the categories whose requests are public matters."""
        return [c.code for c in self.categories.values() if c.public_matter]
