"""Points to send with a request in a region, so that its point and its region agree."""

from __future__ import annotations

from services.platform.catalogue import load_catalogue

# Lahti's market square: in lahti-keskusta, and good for any region drawn without a boundary
# (a point never contradicts such a region).
MARKET_SQUARE = (60.9827, 25.6615)
# Far from every region of the catalogue.
HELSINKI = (60.1699, 24.9384)


def point_in(region: str) -> tuple[float, float]:
    """(lat, long) of a point inside ``region``'s boundary: the middle of the box round it if
    that is inside (it is, for the catalogue's rough outlines), else the first of a grid over
    the box that is; the market square for a region without a boundary."""
    found = load_catalogue().regions[region]
    if found.boundary is None:
        return MARKET_SQUARE
    lons = [lon for lon, _ in found.boundary]
    lats = [lat for _, lat in found.boundary]
    steps = 20
    candidates = [(0.5, 0.5)] + [
        (i / steps, j / steps) for i in range(1, steps) for j in range(1, steps)
    ]
    for u, v in candidates:
        lat = round(min(lats) + v * (max(lats) - min(lats)), 4)
        long = round(min(lons) + u * (max(lons) - min(lons)), 4)
        if found.contains(lat, long):
            return lat, long
    raise AssertionError(f"no point found inside {region}'s boundary")
