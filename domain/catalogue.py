"""The service catalogue and the regions: reference data a city edits, held as a value object.

A region may have a boundary: one closed ring of (lon, lat) positions in WGS84, in GeoJSON's
order, drawn roughly. ``Catalogue.region_at`` finds the region a point lies in; a region drawn
without a boundary is never found from a point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise

from domain.errors import InvalidValue

# (lon, lat): longitude first, as GeoJSON has it.
Position = tuple[float, float]
Ring = tuple[Position, ...]


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
    # In Finnish; ``name`` and ``description`` are in English. Empty: not translated.
    name_fi: str = ""
    description_fi: str = ""


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_fi: str = ""
    # Its outline (see check_ring), or None: drawn without one, never found from a point.
    boundary: Ring | None = None

    def contains(self, lat: float, long: float) -> bool:
        return self.boundary is not None and ring_contains(self.boundary, long, lat)


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

    def region_at(self, lat: float, long: float) -> Region | None:
        """The region whose boundary the point lies in, or None: outside every boundary.

        A point on an edge two regions share lies in exactly one of them (see ring_contains).
        Boundaries should not overlap; where they do, the first region listed wins."""
        for region in self.regions.values():
            if region.contains(lat, long):
                return region
        return None

    def bounded(self) -> list[Region]:
        """The regions with a boundary: those a point can be found in."""
        return [r for r in self.regions.values() if r.boundary is not None]


def ring_contains(ring: Sequence[Position], lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies inside the closed ``ring``, by ray casting: a ray from the point
    due east crosses the ring an odd number of times from inside.

    Each edge is tested with exact arithmetic and a half-open rule (an edge spans the latitudes
    from its southern end up to, not including, its northern end; a point exactly on an edge
    counts as east of it). So a point on an edge lies in the region east of it, or north of it
    for an edge running east-west: on an edge two rings share, in exactly one of them. The
    plane is taken flat in degrees, which is close enough for regions of a few tens of km."""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if y1 > y2:
            x1, y1, x2, y2 = x2, y2, x1, y1
        if y1 <= lat < y2 and _west_of(lon, lat, x1, y1, x2, y2):
            inside = not inside
    return inside


def _west_of(x: float, y: float, x1: float, y1: float, x2: float, y2: float) -> bool:
    """Whether (x, y) lies strictly west of the edge going north from (x1, y1) to (x2, y2),
    computed exactly (a float cross product could say "on it" or the wrong side near it)."""
    ax, ay = Fraction(x1), Fraction(y1)
    cross = (Fraction(x2) - ax) * (Fraction(y) - ay) - (Fraction(x) - ax) * (Fraction(y2) - ay)
    return cross > 0


def check_ring(positions: object) -> Ring:
    """A boundary as the catalogue gives it: a list of [lon, lat] positions, the first and the
    last the same (a closed ring), at least four positions and three different ones, each
    longitude within -180..180 and latitude within -90..90. InvalidValue says what is wrong."""
    if not isinstance(positions, list | tuple):
        raise InvalidValue(
            f"a boundary is a list of [lon, lat] positions, got {type(positions).__name__}",
            rule="boundary",
        )
    ring = tuple(_position(n, p) for n, p in enumerate(positions, 1))
    if len(ring) < 4:
        raise InvalidValue(
            f"a boundary has at least 4 positions (a triangle and its first position again), "
            f"got {len(ring)}",
            rule="boundary",
        )
    if ring[0] != ring[-1]:
        raise InvalidValue(
            f"a boundary is a closed ring: its last position {list(ring[-1])} must repeat its "
            f"first {list(ring[0])}",
            rule="boundary",
        )
    if len(set(ring)) < 3:
        raise InvalidValue(
            "a boundary has at least 3 different positions: it encloses no area", rule="boundary"
        )
    return ring


def _position(n: int, position: object) -> Position:
    if (
        not isinstance(position, list | tuple)
        or len(position) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
    ):
        raise InvalidValue(
            f"position {n} of the boundary must be [lon, lat], two numbers; got {position!r}",
            rule="boundary",
        )
    lon, lat = float(position[0]), float(position[1])
    if not -180 <= lon <= 180:
        raise InvalidValue(
            f"position {n} of the boundary: longitude {position[0]} is not within -180..180 "
            "(positions are [lon, lat], longitude first)",
            rule="boundary",
        )
    if not -90 <= lat <= 90:
        raise InvalidValue(
            f"position {n} of the boundary: latitude {position[1]} is not within -90..90 "
            "(positions are [lon, lat], longitude first)",
            rule="boundary",
        )
    return (lon, lat)
