"""Where a request is: a request or a series with a point and no region gets the region its
point lies in; a point outside every region, a request with neither region nor point, and a
point in another region than the one given are refused naming the field, storing nothing; and
the catalogue, with its regions' boundaries and its Finnish names, is public."""

from __future__ import annotations

import pytest

from services.platform.catalogue import load_catalogue
from tests.client import Talkoot
from tests.conftest import BOUNDED_REGION, BOUNDED_RING
from tests.integration.store import stored_events
from tests.support.places import HELSINKI, point_in

CATALOGUE = load_catalogue()
# No test registers a provider in the region with a boundary of the tests' own: what is
# placed there goes unmatched and disturbs nobody.
CATEGORY = "small-repairs"


def request_body(talkoot: Talkoot, point: tuple[float, float], region: str | None = None):
    body = talkoot.request_body(CATEGORY, region or "")
    if region is None:
        del body["region"]
    lat, long = point
    return {**body, "lat": lat, "long": long}


def series_body(point: tuple[float, float], region: str | None = None) -> dict:
    lat, long = point
    body = {"category": CATEGORY, "rule": "snowfall", "start_time": "07:00"}
    body |= {"lat": lat, "long": long}
    if region is not None:
        body["region"] = region
    return body


def names(error: dict) -> set[str]:
    return {item.get("key") for item in error.get("extra") or [] if isinstance(item, dict)}


def refused(talkoot: Talkoot, path: str, body: dict) -> dict:
    """The command is refused with 400 and stores nothing."""
    talkoot.wait_until_quiet()  # earlier tests' requests may still be getting offers
    before = stored_events(talkoot.stack, "requests")
    response = talkoot.post("requests", path, body, who=talkoot.resident())
    assert response.status_code == 400, response.text
    assert stored_events(talkoot.stack, "requests") == before, "a refused command stored events"
    return response.json()


# --- placed by its point -------------------------------------------------------------------


def test_a_request_with_only_a_point_gets_the_region_it_lies_in(talkoot: Talkoot):
    point = point_in(BOUNDED_REGION)
    submitted = talkoot.ok(
        talkoot.post("requests", "/requests", request_body(talkoot, point), who=talkoot.resident())
    )
    entry = talkoot.board_entry(submitted["id"], submitted["position"])
    assert entry["region"] == BOUNDED_REGION
    assert (entry["lat"], entry["long"]) == point
    public = talkoot.ok(talkoot.get("requests", f"/board/{submitted['id']}", who=None), 200)
    assert public["region"] == BOUNDED_REGION


def test_a_series_with_only_a_point_gets_the_region_it_lies_in(talkoot: Talkoot):
    resident = talkoot.resident()
    started = talkoot.ok(
        talkoot.post("requests", "/series", series_body(point_in(BOUNDED_REGION)), who=resident)
    )
    series = talkoot.ok(talkoot.get("requests", f"/series/{started['id']}", who=resident), 200)
    assert series["region"] == BOUNDED_REGION


def test_a_region_given_with_a_point_outside_every_region_is_kept(talkoot: Talkoot):
    """The boundaries are drawn roughly: a point just past them does not move the request."""
    body = request_body(talkoot, HELSINKI, region=BOUNDED_REGION)
    submitted = talkoot.ok(talkoot.post("requests", "/requests", body, who=talkoot.resident()))
    entry = talkoot.board_entry(submitted["id"], submitted["position"])
    assert (entry["region"], entry["lat"], entry["long"]) == (BOUNDED_REGION, *HELSINKI)


# --- refused -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/requests", "/series"])
def test_a_point_outside_every_region_is_refused_naming_lat(talkoot: Talkoot, path):
    body = request_body(talkoot, HELSINKI) if path == "/requests" else series_body(HELSINKI)
    error = refused(talkoot, path, body)
    assert names(error) == {"lat"}, error
    assert "outside the regions served" in error["detail"], error


@pytest.mark.parametrize("path", ["/requests", "/series"])
def test_neither_a_region_nor_a_point_is_refused_naming_region(talkoot: Talkoot, path):
    body = request_body(talkoot, HELSINKI) if path == "/requests" else series_body(HELSINKI)
    del body["lat"], body["long"]
    error = refused(talkoot, path, body)
    assert names(error) == {"region"}, error
    assert "region is required unless lat and long are given" in error["detail"]


@pytest.mark.parametrize("path", ["/requests", "/series"])
def test_a_point_in_another_region_than_the_one_given_is_refused(talkoot: Talkoot, path):
    centre = point_in("lahti-keskusta")
    if path == "/requests":
        body = request_body(talkoot, centre, region="hollola")
    else:
        body = series_body(centre, region="hollola")
    error = refused(talkoot, path, body)
    assert names(error) == {"region"}, error
    assert "lies in Lahti, Keskusta (lahti-keskusta), not in Hollola (hollola)" in error["detail"]


# --- the catalogue -------------------------------------------------------------------------


def test_the_catalogue_is_public_with_boundaries_and_finnish_names(talkoot: Talkoot):
    for who in (None, talkoot.resident(), talkoot.member("some-provider")):
        response = talkoot.get("requests", "/catalogue", who=who)
        assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == {"categories", "regions"}

    categories = {c["code"]: c for c in document["categories"]}
    assert list(categories) == list(CATALOGUE.categories)
    snow = categories["snow-clearing"]
    assert snow["names"] == {"fi": "Lumityöt", "en": "Snow clearing"}
    assert snow["name"] == "Snow clearing"
    assert snow["descriptions"]["fi"].startswith("Lumen luominen")
    assert snow["descriptions"]["en"] == snow["description"]
    assert (snow["estimated_minutes"], snow["group"], snow["public_matter"]) == (
        90,
        "outdoors",
        False,
    )
    assert categories["path-clearing"]["public_matter"] is True
    assert categories["yard-work"]["names"]["fi"] == "Pihatyöt"
    for category in categories.values():
        assert category["names"]["fi"] != category["names"]["en"], category

    regions = {r["code"]: r for r in document["regions"]}
    assert list(regions) == list(CATALOGUE.regions)
    centre = regions["lahti-keskusta"]
    assert centre["name"] == "Lahti, Keskusta"
    assert centre["names"] == {"fi": "Lahti, Keskusta", "en": "Lahti, Keskusta"}
    assert centre["boundary"]["type"] == "Polygon"
    [ring] = centre["boundary"]["coordinates"]
    assert [tuple(p) for p in ring] == list(CATALOGUE.regions["lahti-keskusta"].boundary)
    assert ring[0] == ring[-1] and len(ring) >= 4
    assert regions[BOUNDED_REGION]["boundary"]["coordinates"] == [[list(p) for p in BOUNDED_RING]]
    assert regions["test-01"]["boundary"] is None  # drawn without one
    for code in ("nastola", "hollola", "orimattila", "heinola", "asikkala"):
        assert regions[code]["boundary"] is not None


def test_the_catalogue_is_in_the_openapi_description(talkoot: Talkoot):
    document = talkoot.ok(talkoot.get("requests", "/schema/openapi.json"), 200)
    assert "/catalogue" in document["paths"]
    new_request = document["components"]["schemas"]["NewRequest"]
    assert "region" not in new_request.get("required", [])
