"""The regions' outlines (GeoJSON polygons from the catalogue) drawn as SVG maps: no tiles and
no script needed to see them; a click on one (static/map.js) sets the point of a request.

The projection is Web Mercator, the one map tiles are cut in, so that a tile server
(``TALKOOT_MAP_TILES``), where one is configured, lies exactly under the outlines. Where some
regions are too small to tell apart on the map of the whole area (a city's districts beside
its neighbouring municipalities), a second, closer map shows them."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

WIDTH = 480.0
PAD = 8.0
LARGEST_LABEL = 11.0  # px: a label's font size where it fits
SMALLEST_LABEL = 7.0  # px: a region too small for a label this size has none on that map
MAX_TILES = 64
TALLEST = 1.2  # a map's height to its width at most: a taller area is shown wider
Point = tuple[float, float]


def _rings(boundary: Any) -> list[list[Point]]:
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


def mercator(lon: float, lat: float) -> Point:
    """(lon, lat) as Web Mercator's world coordinates: x and y from 0 to 1, y down."""
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return (lon + 180) / 360, y


def _centroid(ring: list[Point]) -> Point:
    """The centre of a ring's area (its vertices' mean where it has none)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-12:
        return sum(x for x, _ in ring) / len(ring), sum(y for _, y in ring) / len(ring)
    return cx / (3 * area), cy / (3 * area)


class _Shape:
    """A region's rings in world coordinates, and their box."""

    def __init__(self, region: dict, rings: list[list[Point]]) -> None:
        self.region = region
        self.rings = [[mercator(lon, lat) for lon, lat in ring] for ring in rings]
        xs = [x for ring in self.rings for x, _ in ring]
        ys = [y for ring in self.rings for _, y in ring]
        self.box = (min(xs), min(ys), max(xs), max(ys))
        largest = max(self.rings, key=lambda ring: _box_area(ring))
        self.centre = _centroid(largest)

    @property
    def name(self) -> str:
        return self.region.get("name") or self.region["code"]


def _box_area(ring: list[Point]) -> float:
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    return (max(xs) - min(xs)) * (max(ys) - min(ys))


def _label_size(shape: _Shape, scale: float) -> float | None:
    """The font size at which the region's name fits across it, or None when even the
    smallest would not."""
    width = (shape.box[2] - shape.box[0]) * scale * 0.9
    size = min(LARGEST_LABEL, width / (0.6 * max(len(shape.name), 1)))
    return round(size, 1) if size >= SMALLEST_LABEL else None


def _tiles(template: str, box: tuple[float, float, float, float], scale: float, at) -> list:
    """The tiles under the map: the zoom whose tiles are nearest 256 px at this scale (fewer
    tiles if that would need more than MAX_TILES), each with where it lies on the map (its
    margin too)."""
    margin = PAD / scale
    west, north, east, south = (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)
    zoom = max(0, min(19, round(math.log2(scale / 256))))
    while zoom > 0:
        n = 2**zoom
        across = int(east * n) - int(west * n) + 1
        down = int(south * n) - int(north * n) + 1
        if across * down <= MAX_TILES:
            break
        zoom -= 1
    n = 2**zoom
    size = scale / n
    placed = []
    for ty in range(int(north * n), int(south * n) + 1):
        for tx in range(int(west * n), int(east * n) + 1):
            x, y = at(tx / n, ty / n)
            href = template.replace("{z}", str(zoom)).replace("{x}", str(tx))
            placed.append({"href": href.replace("{y}", str(ty)), "x": x, "y": y, "size": size})
    return placed


def _draw(
    shapes: list[_Shape],
    box: tuple[float, float, float, float],
    chosen: str,
    pin: Point | None,
    tiles: str,
    name: str,
) -> dict:
    """One map of ``box`` (world coordinates: west, north, east, south), widened where it
    would be taller than wide."""
    west, north, east, south = box
    if (wider := (south - north) / TALLEST - (east - west)) > 0:
        west, east = west - wider / 2, east + wider / 2
    box = west, north, east, south
    scale = (WIDTH - 2 * PAD) / ((east - west) or 1)
    height = (south - north) * scale + 2 * PAD

    def at(x: float, y: float) -> Point:
        return PAD + (x - west) * scale, PAD + (y - north) * scale

    def inside(x: float, y: float) -> bool:
        return west <= x <= east and north <= y <= south

    drawn = []
    for shape in shapes:
        x0, y0, x1, y1 = shape.box
        if x1 < west or x0 > east or y1 < north or y0 > south:
            continue  # not on this map
        label_x, label_y = at(*shape.centre)
        drawn.append(
            {
                "code": shape.region["code"],
                "name": shape.name,
                "path": " ".join(
                    "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (at(*p) for p in ring)) + " Z"
                    for ring in shape.rings
                ),
                "x": round(label_x, 1),
                "y": round(label_y, 1),
                "label": _label_size(shape, scale) if inside(*shape.centre) else None,
                "chosen": shape.region["code"] == chosen,
            }
        )
    return {
        "name": name,
        "width": WIDTH,
        "height": round(height, 1),
        "regions": drawn,
        "pin": at(*pin) if pin is not None and inside(*pin) else None,
        "bounds": {"west": west, "north": north, "scale": scale, "pad": PAD},
        "tiles": _tiles(tiles, box, scale, at) if tiles else [],
        "box": box,
        "at": at,
        "inset": None,
    }


def _largest_cluster(shapes: list[_Shape]) -> list[_Shape]:
    """The most regions of ``shapes`` that lie together (each box touching, or nearly, another
    of them): the district of a city, not a small region far from it."""
    if not shapes:
        return []
    near = 0.01 * max(max(s.box[2] for s in shapes) - min(s.box[0] for s in shapes), 1e-9)

    def touch(a: _Shape, b: _Shape) -> bool:
        return not (
            a.box[2] + near < b.box[0]
            or b.box[2] + near < a.box[0]
            or a.box[3] + near < b.box[1]
            or b.box[3] + near < a.box[1]
        )

    clusters: list[list[_Shape]] = []
    for shape in shapes:
        joined = [c for c in clusters if any(touch(shape, other) for other in c)]
        merged = [shape, *(s for c in joined for s in c)]
        clusters = [c for c in clusters if c not in joined] + [merged]
    return max(clusters, key=len)


def _padded(shapes: list[_Shape], share: float) -> tuple[float, float, float, float]:
    west = min(s.box[0] for s in shapes)
    north = min(s.box[1] for s in shapes)
    east = max(s.box[2] for s in shapes)
    south = max(s.box[3] for s in shapes)
    dx, dy = (east - west) * share, (south - north) * share
    return west - dx, north - dy, east + dx, south + dy


def region_maps(
    regions: list[dict],
    chosen: str = "",
    lat: Any = None,
    long: Any = None,
    tiles: str = "",
    closer: str = "",
) -> list[dict]:
    """What templates/parts/map.html draws: the map of every region with a boundary, and,
    where some of them get no label there for want of room, a closer map of those (named
    ``closer``). Each map has its regions' paths and labels, the point chosen and the
    projection's bounds (for map.js to turn a click back into lon/lat). No maps when no region
    has a boundary."""
    shapes = [_Shape(r, rings) for r in regions if (rings := _rings(r.get("boundary")))]
    if not shapes:
        return []
    pin = None
    try:
        if lat not in (None, "") and long not in (None, ""):
            pin = mercator(float(long), float(lat))
    except (TypeError, ValueError):
        pin = None
    whole = _draw(shapes, _padded(shapes, 0), chosen, pin, tiles, "")
    unlabelled = {r["code"] for r in whole["regions"] if r["label"] is None}
    small = _largest_cluster([s for s in shapes if s.region["code"] in unlabelled])
    if len(small) < 2:
        return [whole]
    near = _draw(shapes, _padded(small, 0.08), chosen, pin, tiles, closer)
    west, north, east, south = near["box"]
    (x0, y0), (x1, y1) = whole["at"](west, north), whole["at"](east, south)
    whole["inset"] = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}  # where ``near`` is
    return [whole, near]


def tile_origin(template: str) -> str:
    """The scheme and host of a tile server's URL template (for the pages' content policy)."""
    parts = urlsplit(template)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
