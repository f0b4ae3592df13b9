"""The regions' outlines (GeoJSON polygons from the catalogue) drawn as an SVG map: no tiles
and no script needed to see it; a click on it (static/map.js) sets the point of a request."""

from __future__ import annotations

import math
from typing import Any

WIDTH = 400.0
PAD = 8.0


def _rings(boundary: Any) -> list[list[tuple[float, float]]]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon, as (lon, lat) pairs."""
    if not isinstance(boundary, dict):
        return []
    coordinates = boundary.get("coordinates") or []
    if boundary.get("type") == "Polygon":
        polygons = [coordinates]
    elif boundary.get("type") == "MultiPolygon":
        polygons = coordinates
    else:
        return []
    return [
        [(float(lon), float(lat)) for lon, lat, *_ in polygon[0]] for polygon in polygons if polygon
    ]


def region_map(
    regions: list[dict], chosen: str = "", lat: Any = None, long: Any = None
) -> dict | None:
    """What templates/parts/map.html draws: each region's path and label, the point chosen,
    and the projection's bounds (for map.js to turn a click back into lon/lat). None when no
    region has a boundary."""
    shapes = [(r, _rings(r.get("boundary"))) for r in regions]
    shapes = [(r, rings) for r, rings in shapes if rings]
    if not shapes:
        return None
    lons = [lon for _, rings in shapes for ring in rings for lon, _ in ring]
    lats = [lat_ for _, rings in shapes for ring in rings for _, lat_ in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    # equirectangular, squeezed by the cosine of the middle latitude: near enough at a city's scale
    squeeze = math.cos(math.radians((north + south) / 2))
    scale = (WIDTH - 2 * PAD) / ((east - west) * squeeze or 1)
    height = (north - south) * scale + 2 * PAD

    def xy(lon: float, lat_: float) -> tuple[float, float]:
        return PAD + (lon - west) * squeeze * scale, PAD + (north - lat_) * scale

    drawn = []
    for region, rings in shapes:
        points = [xy(lon, lat_) for ring in rings for lon, lat_ in ring]
        path = " ".join(
            "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (xy(lo, la) for lo, la in ring)) + " Z"
            for ring in rings
        )
        drawn.append(
            {
                "code": region["code"],
                "name": region.get("name", region["code"]),
                "path": path,
                "x": sum(x for x, _ in points) / len(points),
                "y": sum(y for _, y in points) / len(points),
                "chosen": region["code"] == chosen,
            }
        )
    pin = None
    try:
        if lat not in (None, "") and long not in (None, ""):
            pin = xy(float(long), float(lat))
    except (TypeError, ValueError):
        pin = None
    return {
        "width": WIDTH,
        "height": round(height, 1),
        "regions": drawn,
        "pin": pin,
        "bounds": {"west": west, "north": north, "scale": scale, "squeeze": squeeze, "pad": PAD},
    }
