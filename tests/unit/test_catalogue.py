"""Where a point is: regions' boundaries, ray casting with points on edges and far away, the
checks of a boundary in the reference file, and the region a request gets from its point."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.catalogue import Catalogue, Region, check_ring, ring_contains
from domain.errors import InvalidValue
from services.platform.catalogue import DEFAULT_FILE, load_catalogue, region_of
from services.platform.errors import InvalidField

# The city's own file (the tests' session adds regions of its own to the one it uses).
CITY = load_catalogue(str(DEFAULT_FILE))
LAHTI = [code for code in CITY.regions if code.startswith("lahti-")]

SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0))


def box(west: float, south: float, east: float, north: float) -> tuple:
    return ((west, south), (east, south), (east, north), (west, north), (west, south))


# --- ray casting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [
        (0.5, 0.5, True),
        (0.0, 0.5, True),  # the west edge: the region is east of it
        (0.5, 0.0, True),  # the south edge: the region is north of it
        (0.0, 0.0, True),  # the south-west corner
        (1.0, 0.5, False),  # the east edge belongs to whatever lies east of it
        (0.5, 1.0, False),  # the north edge, to whatever lies north of it
        (1.0, 1.0, False),
        (1.0, 0.0, False),
        (0.0, 1.0, False),
        (-0.000001, 0.5, False),
        (0.999999, 0.999999, True),
        (1.5, 0.5, False),
        (0.5, -0.5, False),
    ],
)
def test_a_point_on_an_edge_is_in_the_region_east_or_north_of_it(lon, lat, inside):
    assert ring_contains(SQUARE, lon, lat) is inside


def test_a_concave_ring_leaves_out_its_notch():
    # a U open to the north: the notch between its arms is outside
    u = ((0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3), (0, 0))
    assert ring_contains(u, 0.5, 2.5) and ring_contains(u, 2.5, 2.5)
    assert ring_contains(u, 1.5, 0.5)
    assert not ring_contains(u, 1.5, 2.0)
    # a ray through the U's vertices at latitude 1 and 3 counts each crossing once
    assert ring_contains(u, 0.0, 1.0) and not ring_contains(u, 1.5, 1.0)
    assert not ring_contains(u, -1.0, 1.0) and not ring_contains(u, -1.0, 3.0)


def jittered_grid(columns: int, rows: int, west: float, south: float, size: float, jitter):
    """A tiling of a box by columns x rows quadrilaterals; the inner corners moved by
    ``jitter`` (fractions of a cell, |j| < 0.25, so that every cell stays simple)."""
    corners = {}
    for i, j in itertools.product(range(columns + 1), range(rows + 1)):
        dx = dy = 0.0
        if 0 < i < columns and 0 < j < rows:
            dx, dy = jitter[(i * (rows + 1) + j) % len(jitter)]
        corners[i, j] = (west + (i + dx) * size, south + (j + dy) * size)
    cells = [
        (corners[i, j], corners[i + 1, j], corners[i + 1, j + 1], corners[i, j + 1], corners[i, j])
        for i, j in itertools.product(range(columns), range(rows))
    ]
    return cells, corners


jitters = st.lists(
    st.tuples(st.floats(-0.24, 0.24), st.floats(-0.24, 0.24)), min_size=1, max_size=20
)
grids = st.tuples(
    st.integers(1, 4),
    st.integers(1, 4),
    st.floats(-170, 160),
    st.floats(-80, 70),
    st.sampled_from([0.001, 0.01, 0.1, 1.0, 2.5]),
    jitters,
)


@settings(max_examples=300, deadline=None)
@given(grids, st.floats(-0.5, 1.5), st.floats(-0.5, 1.5))
def test_every_point_of_a_tiling_is_in_exactly_one_tile(grid, u, v):
    columns, rows, west, south, size, jitter = grid
    cells, _ = jittered_grid(columns, rows, west, south, size, jitter)
    east, north = west + columns * size, south + rows * size
    lon, lat = west + u * (east - west), south + v * (north - south)
    holding = sum(ring_contains(cell, lon, lat) for cell in cells)
    assert holding == (1 if west <= lon < east and south <= lat < north else 0)


@settings(max_examples=200, deadline=None)
@given(grids)
def test_every_corner_of_a_tiling_is_in_exactly_one_tile_unless_on_its_east_or_north(grid):
    """Corners lie exactly on the edges of up to four tiles: the one east and north of each
    has it, and only the tiling's outer east and north edges are nobody's."""
    columns, rows, west, south, size, jitter = grid
    cells, corners = jittered_grid(columns, rows, west, south, size, jitter)
    for (i, j), (lon, lat) in corners.items():
        holding = sum(ring_contains(cell, lon, lat) for cell in cells)
        assert holding == (0 if i == columns or j == rows else 1), (i, j)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.2, 1.0), min_size=3, max_size=12),
    st.floats(-1.5, 1.5),
    st.floats(-1.5, 1.5),
    st.integers(0, 11),
)
def test_where_a_ring_starts_and_which_way_it_goes_change_nothing(radii, lon, lat, turn):
    """A star-shaped ring round (0, 0), started anywhere and gone round either way."""
    n = len(radii)
    points = [
        (r * math.cos(2 * math.pi * k / n), r * math.sin(2 * math.pi * k / n))
        for k, r in enumerate(radii)
    ]
    ring = (*points, points[0])
    turn %= n
    turned = (*points[turn:], *points[:turn], points[turn])
    backwards = tuple(reversed(ring))
    inside = ring_contains(ring, lon, lat)
    assert ring_contains(turned, lon, lat) is inside
    assert ring_contains(backwards, lon, lat) is inside
    assert ring_contains(ring, 0.0001, 0.0001)  # near its centre
    if math.hypot(lon, lat) > 1.0:
        assert not inside


@settings(max_examples=300, deadline=None)
@given(st.floats(-90, 90), st.floats(-180, 180))
def test_a_point_far_from_the_lahti_area_is_in_no_region(lat, long):
    assume(not (59.5 < lat < 62 and 24.5 < long < 27))
    assert CITY.region_at(lat, long) is None


# --- the city's regions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "long", "code"),
    [
        (60.9827, 25.6615, "lahti-keskusta"),  # the market square
        (61.0100, 25.6800, "lahti-mukkula"),
        (60.9600, 25.6650, "lahti-laune"),
        (60.9900, 25.7200, "lahti-kivimaa"),
        (60.9550, 25.7200, "lahti-ahtiala"),
        (60.9680, 25.6000, "lahti-liipola"),
        (60.9480, 25.9300, "nastola"),  # Nastola's centre
        (60.9880, 25.5100, "hollola"),  # Salpakangas
        (60.8050, 25.7300, "orimattila"),
        (61.2050, 26.0300, "heinola"),
        (61.1700, 25.5500, "asikkala"),  # Vääksy
        (60.1699, 24.9384, None),  # Helsinki
        (61.4978, 23.7610, None),  # Tampere
    ],
)
def test_places_of_the_lahti_area_are_in_their_regions(lat, long, code):
    found = CITY.region_at(lat, long)
    assert (found.code if found else None) == code


def test_every_region_of_the_city_has_a_boundary():
    assert [r.code for r in CITY.bounded()] == list(CITY.regions)


def test_the_lahti_districts_tile_the_city_and_the_neighbours_lie_round_it():
    for lat, long in itertools.product(
        [60.92 + k * 0.005 for k in range(26)], [25.55 + k * 0.005 for k in range(46)]
    ):
        found = CITY.region_at(lat, long)
        assert found is not None and found.code in LAHTI, (lat, long)

    def middle(code: str) -> tuple[float, float]:
        ring = CITY.regions[code].boundary
        return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))

    lahti = (25.66, 60.98)
    assert middle("nastola")[0] > lahti[0]  # east
    assert middle("hollola")[0] < lahti[0]  # west
    assert middle("orimattila")[1] < lahti[1]  # south
    assert middle("asikkala")[1] > lahti[1]  # north
    heinola = middle("heinola")
    assert heinola[0] > lahti[0] and heinola[1] > lahti[1]  # north-east


def test_no_two_regions_of_the_city_overlap():
    """Over the whole area, on a fine grid and at every corner of every boundary (which lie on
    the edges of their neighbours), a point is in one region at most."""
    points = [
        (lat, long)
        for lat, long in itertools.product(
            [60.60 + k * 0.01 for k in range(82)], [25.20 + k * 0.02 for k in range(62)]
        )
    ]
    points += [(lat, lon) for r in CITY.bounded() for lon, lat in r.boundary]
    for lat, long in points:
        holding = [r.code for r in CITY.bounded() if r.contains(lat, long)]
        assert len(holding) <= 1, (lat, long, holding)


@settings(max_examples=500, deadline=None)
@given(st.floats(60.5, 61.5), st.floats(25.1, 26.5))
def test_a_point_of_the_area_is_in_one_region_at_most(lat, long):
    assert sum(r.contains(lat, long) for r in CITY.bounded()) <= 1


def test_a_region_without_a_boundary_is_never_found_from_a_point():
    catalogue = Catalogue(regions={"somewhere": Region("somewhere", "Somewhere")})
    assert not catalogue.regions["somewhere"].contains(60.98, 25.66)
    assert catalogue.region_at(60.98, 25.66) is None
    assert catalogue.bounded() == []


def test_the_categories_have_finnish_names_and_descriptions():
    finnish = {c.code: c.name_fi for c in CITY.categories.values()}
    assert finnish["snow-clearing"] == "Lumityöt"
    assert finnish["yard-work"] == "Pihatyöt"
    for category in CITY.categories.values():
        assert category.name_fi and category.description_fi, category.code
        assert category.name_fi != category.name


# --- a boundary in the reference file ------------------------------------------------------


@pytest.mark.parametrize(
    ("boundary", "says"),
    [
        ("[[25.6, 60.9], [25.7, 60.9], [25.7, 61.0], [25.6, 61.0]]", "closed ring"),
        ("[[25.6, 60.9], [25.7, 60.9], [25.6, 60.9]]", "at least 4 positions"),
        ("[[25.6, 60.9], [25.7, 60.9], [25.7, 60.9], [25.6, 60.9]]", "3 different"),
        ("[[25.6, 60.9], [25.7, 60.9], [25.7, 91.0], [25.6, 60.9]]", "latitude 91.0"),
        ("[[25.6, 60.9], [185.0, 60.9], [25.7, 61.0], [25.6, 60.9]]", "longitude 185.0"),
        ("[[25.6, 60.9], [25.7], [25.7, 61.0], [25.6, 60.9]]", "position 2"),
        ("[[25.6, 60.9], [25.7, 'north'], [25.7, 61.0], [25.6, 60.9]]", "two numbers"),
        ("[[25.6, 60.9], [25.7, nan], [25.7, 61.0], [25.6, 60.9]]", "latitude nan"),
        ('"25.6 60.9, 25.7 60.9"', "list of [lon, lat]"),
    ],
)
def test_a_wrong_boundary_stops_the_service_naming_the_region(tmp_path, boundary, says):
    file = tmp_path / "catalogue.toml"
    file.write_text(
        '[regions.fine]\nname = "Fine"\nboundary = [[0, 0], [1, 0], [1, 1], [0, 0]]\n\n'
        f'[regions.lahti-vesijarvi]\nname = "Lahti, Vesijärvi"\nboundary = {boundary}\n'
    )
    with pytest.raises(SystemExit) as stopped:
        load_catalogue(str(file))
    message = str(stopped.value)
    assert "region lahti-vesijarvi" in message and says in message, message
    assert str(file) in message


def test_a_boundary_is_read_as_a_ring_of_lon_lat_positions(tmp_path):
    file = tmp_path / "catalogue.toml"
    file.write_text(
        '[regions.box]\nname = "Box"\nname_fi = "Laatikko"\n'
        "boundary = [[25, 60], [26, 60], [26, 61], [25, 61], [25, 60]]\n\n"
        '[regions.plain]\nname = "Plain"\n'
    )
    catalogue = load_catalogue(str(file))
    assert catalogue.regions["box"].boundary == box(25.0, 60.0, 26.0, 61.0)
    assert catalogue.regions["box"].name_fi == "Laatikko"
    assert catalogue.regions["plain"].boundary is None
    assert catalogue.region_at(60.5, 25.5).code == "box"


def test_check_ring_keeps_a_good_ring_as_it_is():
    assert check_ring([[0, 0], [1, 0], [0, 1], [0, 0]]) == ((0, 0), (1, 0), (0, 1), (0, 0))
    with pytest.raises(InvalidValue):
        check_ring([[0, 0], [1, 0], [0, 1], [True, 0]])


# --- the region a request gets ---------------------------------------------------------------

PLACES = Catalogue(
    regions={
        "west": Region("west", "West", boundary=box(25.0, 60.0, 25.5, 61.0)),
        "east": Region("east", "East", boundary=box(25.5, 60.0, 26.0, 61.0)),
        "village": Region("village", "Village"),  # drawn without a boundary
    }
)


@pytest.mark.parametrize(
    ("region", "lat", "long", "placed"),
    [
        ("west", None, None, "west"),  # a region alone, as it is
        ("village", None, None, "village"),
        (None, 60.5, 25.2, "west"),  # a point alone: its region
        (None, 60.5, 25.5, "east"),  # on the common edge: the region east of it
        ("west", 60.5, 25.2, "west"),  # both, agreeing
        ("west", 62.0, 25.2, "west"),  # a point just outside every boundary: as given
        ("village", 60.5, 25.2, "village"),  # a region with no boundary to disagree with
    ],
)
def test_a_request_is_placed_in_its_region(region, lat, long, placed):
    assert region_of(PLACES, region, lat, long) == placed


@pytest.mark.parametrize(
    ("region", "lat", "long", "field", "says"),
    [
        (None, None, None, "region", "region is required unless lat and long are given"),
        (None, 62.0, 25.2, "lat", "outside the regions served (West, East)"),
        ("west", 60.5, 25.7, "region", "lies in East (east), not in West (west)"),
    ],
)
def test_a_request_nowhere_or_in_two_places_is_refused_naming_the_field(
    region, lat, long, field, says
):
    with pytest.raises(InvalidField) as refused:
        region_of(PLACES, region, lat, long)
    assert refused.value.rule == field
    assert says in refused.value.message, refused.value.message


def test_a_point_alone_names_the_region_when_no_region_has_a_boundary():
    plain = Catalogue(regions={"village": Region("village", "Village")})
    with pytest.raises(InvalidField) as refused:
        region_of(plain, None, 60.5, 25.2)
    assert refused.value.rule == "region"


@pytest.mark.parametrize(
    ("region", "lat", "long", "rule"),
    [
        ("helsinki", None, None, "region"),  # not a region here: as before, 422
        (None, 60.5, None, "long"),  # half a point: the domain's rule, naming the missing one
        (None, 91.0, 25.2, "lat"),
    ],
)
def test_what_the_domain_refuses_stays_its_refusal(region, lat, long, rule):
    with pytest.raises(InvalidValue) as refused:
        region_of(PLACES, region, lat, long)
    assert refused.value.rule == rule
