"""The Open311 GeoReport v2 front, used as an Open311 client would, from the specification
(http://wiki.open311.org/GeoReport_v2): XML parsed with xml.etree, JSON, form-encoded posts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from services.platform.catalogue import load_catalogue
from services.platform.runtime import build_app
from services.platform.settings import Settings
from services.requests.__main__ import SPEC
from tests.client import Talkoot
from tests.conftest import BOUNDED_REGION
from tests.integration import scopes
from tests.integration.store import stored_events
from tests.support.places import HELSINKI, MARKET_SQUARE, point_in

BASE = "/open311/v2"
KEY = "talkoot-local"
JURISDICTION = "lahti.fi"
CATALOGUE = load_catalogue()

SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


# --- a small Open311 client ----------------------------------------------------------------


def url(talkoot: Talkoot, path: str) -> str:
    return talkoot.url("requests", path)


def fetch(talkoot: Talkoot, path: str, expect: int = 200, **params) -> httpx.Response:
    response = talkoot.http.get(url(talkoot, path), params=params)
    assert response.status_code == expect, response.text
    return response


def xml_of(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8", response.headers
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def json_of(response: httpx.Response):
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.json()


def children(element: ET.Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in element}


def form(category: str, region: str | None, **fields) -> dict[str, str]:
    """A complete post: key, jurisdiction, service, location (a point in the region), region
    and personal data."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    lat, long = point_in(region) if region else MARKET_SQUARE
    body = {
        "api_key": KEY,
        "jurisdiction_id": JURISDICTION,
        "service_code": category,
        "lat": str(lat),
        "long": str(long),
        "attribute[region]": region,
        "attribute[window_start]": start.isoformat(),
        "attribute[window_end]": (start + timedelta(hours=4)).isoformat(),
        "email": "Maija.Meikalainen@example.fi",
        "first_name": "Maija",
        "last_name": "Meikäläinen",
        "phone": "+358401234567",
        "description": "Lumet pois portailta",
        "device_id": "device-77",
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def post(talkoot: Talkoot, fields: dict, fmt: str = "json") -> httpx.Response:
    return talkoot.http.post(url(talkoot, f"{BASE}/requests.{fmt}"), data=fields)


def point_of(fields: dict) -> tuple[float, float]:
    return float(fields["lat"]), float(fields["long"])


def posted(talkoot: Talkoot, fields: dict) -> dict:
    response = post(talkoot, fields)
    assert response.status_code == 201, response.text
    [answer] = json_of(response)
    return answer


# --- discovery and the service list --------------------------------------------------------


@pytest.mark.parametrize("path", ["/open311/discovery", f"{BASE}/discovery"])
def test_discovery_names_the_georeport_v2_endpoint_in_both_formats(talkoot: Talkoot, path):
    document = json_of(fetch(talkoot, f"{path}.json"))
    assert set(document) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = document["endpoints"]
    assert set(endpoint) == {"specification", "url", "changeset", "type", "formats"}
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == url(talkoot, BASE)
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}

    root = xml_of(fetch(talkoot, f"{path}.xml"))
    assert root.tag == "discovery"
    assert root.findtext("changeset") == document["changeset"]
    assert root.findtext("key_service") == document["key_service"]
    [element] = root.findall("endpoints/endpoint")
    assert element.findtext("specification") == endpoint["specification"]
    assert element.findtext("url") == endpoint["url"]
    assert [f.text for f in element.findall("formats/format")] == endpoint["formats"]


def test_the_service_list_is_the_catalogue(talkoot: Talkoot):
    services = json_of(fetch(talkoot, f"{BASE}/services.json"))
    assert [s["service_code"] for s in services] == list(CATALOGUE.categories)
    for service in services:
        assert list(service) == SERVICE_FIELDS
        category = CATALOGUE.categories[service["service_code"]]
        assert service["service_name"] == category.name
        assert service["description"] == category.description
        assert service["metadata"] is True
        assert service["type"] == "realtime"
        assert service["group"] == category.group and category.group
        assert service["keywords"].split(", ") == list(category.keywords)

    root = xml_of(fetch(talkoot, f"{BASE}/services.xml", jurisdiction_id=JURISDICTION))
    assert root.tag == "services"
    elements = root.findall("service")
    assert len(elements) == len(services)
    for element, service in zip(elements, services, strict=True):
        fields = children(element)
        assert list(fields) == SERVICE_FIELDS
        assert fields["metadata"] == "true"
        assert fields["service_code"] == service["service_code"]
        assert fields["keywords"] == service["keywords"]


def test_a_service_definition_asks_for_the_region_and_the_wished_window(talkoot: Talkoot):
    definition = json_of(fetch(talkoot, f"{BASE}/services/snow-clearing.json"))
    assert definition["service_code"] == "snow-clearing"
    region, start, end = definition["attributes"]
    for attribute in (region, start, end):
        assert list(attribute) == ATTRIBUTE_FIELDS
        assert attribute["variable"] is True
    # Not required: a post with lat and long gets the region its point lies in.
    assert (region["code"], region["datatype"], region["required"]) == (
        "region",
        "singlevaluelist",
        False,
    )
    assert "Required only without lat and long" in region["description"]
    assert region["values"] == [{"key": r.code, "name": r.name} for r in CATALOGUE.regions.values()]
    assert [(a["code"], a["datatype"], a["required"]) for a in (start, end)] == [
        ("window_start", "datetime", False),
        ("window_end", "datetime", False),
    ]
    assert [a["order"] for a in (region, start, end)] == [1, 2, 3]

    root = xml_of(fetch(talkoot, f"{BASE}/services/snow-clearing.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "snow-clearing"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["region", "window_start", "window_end"]
    assert [a.tag for a in attributes[0]] == ATTRIBUTE_FIELDS
    assert attributes[0].findtext("required") == "false"
    assert [
        (v.findtext("key"), v.findtext("name")) for v in attributes[0].findall("values/value")
    ] == [(r.code, r.name) for r in CATALOGUE.regions.values()]


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        (f"{BASE}/services/chimney-sweeping", 404, "service_code"),
        (f"{BASE}/requests/no-such-request", 404, "no-such-request"),
        (f"{BASE}/tokens/no-such-token", 404, "token"),
        (f"{BASE}/reports", 404, "reports"),
    ],
)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_what_does_not_exist_is_404_in_the_error_format(talkoot: Talkoot, path, status, named, fmt):
    response = fetch(talkoot, f"{path}.{fmt}", status)
    [(code, description)] = errors_of(response, fmt)
    assert code == status and named in description, description


def errors_of(response: httpx.Response, fmt: str) -> list[tuple[int, str]]:
    """The (code, description) pairs of an Open311 error response, checking its shape."""
    if fmt == "json":
        body = json_of(response)
        assert all(set(error) == {"code", "description"} for error in body), body
        return [(error["code"], error["description"]) for error in body]
    root = xml_of(response)
    assert root.tag == "errors"
    pairs = []
    for error in root.findall("error"):
        assert [child.tag for child in error] == ["code", "description"]
        pairs.append((int(error.findtext("code")), error.findtext("description")))
    return pairs


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_jurisdiction_is_404_everywhere(talkoot: Talkoot, fmt):
    for path in ("services", "services/yard-work", "requests"):
        response = fetch(talkoot, f"{BASE}/{path}.{fmt}", 404, jurisdiction_id="helsinki.fi")
        [(code, description)] = errors_of(response, fmt)
        assert code == 404 and "jurisdiction_id" in description


# --- posting -------------------------------------------------------------------------------


@pytest.mark.dates
def test_a_posted_request_is_on_the_native_board_and_offered_to_a_provider(talkoot: Talkoot, scope):
    category, region = scope
    provider_id, _ = talkoot.ready_provider(category, region)
    fields = form(category, region)
    events_before = stored_events(talkoot.stack, "requests")
    response = post(talkoot, fields)
    assert response.status_code == 201, response.text
    [answer] = json_of(response)
    assert list(answer) == ["service_request_id", "service_notice", "account_id"]
    request_id = answer["service_request_id"]
    assert CATALOGUE.categories[category].name in answer["service_notice"]

    # An immediate GET finds it, with every field of the specification.
    [found] = json_of(fetch(talkoot, f"{BASE}/requests/{request_id}.json"))
    assert list(found) == REQUEST_FIELDS
    assert found["service_request_id"] == request_id
    assert found["status"] == "open"
    assert found["service_code"] == category
    assert found["service_name"] == CATALOGUE.categories[category].name
    # where and what are the resident's personal data: never in Open311's answers
    assert (found["description"], found["lat"], found["long"]) == (None, None, None)
    assert found["expected_datetime"] == w3(fields["attribute[window_end]"])
    assert datetime.fromisoformat(found["requested_datetime"]).tzinfo is not None

    # It is the native API's request, on the channel open311, and matching offers it.
    entry = talkoot.board_entry(request_id)
    assert entry["category"] == category and entry["region"] == region
    assert entry["resident_id"] == answer["account_id"]
    assert stored_events(talkoot.stack, "requests") > events_before
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == provider_id
    assert board_column(talkoot, request_id, "channel") == "open311"


def test_personal_data_is_not_kept_and_the_resident_is_a_stable_pseudonym(talkoot: Talkoot):
    category, region = scopes.quiet()
    first = posted(talkoot, form(category, region, email="Resident.A@example.fi"))
    again = posted(talkoot, form(category, region, email=" resident.a@EXAMPLE.fi "))
    other = posted(talkoot, form(category, region, email="resident.b@example.fi"))
    assert first["account_id"] == again["account_id"] != other["account_id"]
    # account_id wins over email; the pseudonym given back names the same resident again.
    by_account = posted(talkoot, form(category, region, account_id="crm-4711"))
    assert by_account["account_id"] not in (first["account_id"], "crm-4711")
    reused = posted(talkoot, form(category, region, account_id=by_account["account_id"]))
    assert reused["account_id"] == by_account["account_id"]

    entry = talkoot.board_entry(first["service_request_id"])
    assert entry["resident_id"] == first["account_id"]
    text = str(entry) + str(json_of(fetch(talkoot, f"{BASE}/requests/{entry['request_id']}.json")))
    for personal in ("resident.a", "example.fi", "Maija", "Meikäläinen", "358401234567"):
        assert personal.lower() not in text.lower()


def test_the_pseudonym_is_keyed_with_the_servers_secret(talkoot: Talkoot):
    quiet = scopes.quiet()  # no provider works there
    email = "Aino.Virtanen@example.fi"
    first = posted(talkoot, form(*quiet, email=email, device_id=None))["account_id"]
    again = posted(talkoot, form(*quiet, email=" aino.virtanen@EXAMPLE.fi", device_id=None))

    assert again["account_id"] == first
    normalised = email.strip().lower()
    bare = {
        hashlib.sha256(text.encode()).hexdigest()[:24]
        for text in (email, normalised, f"email:{normalised}")
    }
    assert first.removeprefix("open311-") not in bare
    secret = talkoot.stack.secrets["pseudonyms"].encode()
    keyed = hmac.new(secret, f"email:{normalised}".encode(), "sha256").hexdigest()[:24]
    assert first == f"open311-{keyed}"


def test_the_requests_service_does_not_start_without_the_pseudonym_secret():
    settings = Settings(
        database_url="postgresql://nowhere/talkoot",
        nats_url="nats://nowhere:4222",
        jwt_secret="x" * 48,
    )
    with pytest.raises(SystemExit, match="TALKOOT_PSEUDONYM_SECRET is not set"):
        build_app(SPEC, settings)
    # nothing else is missing
    build_app(
        SPEC,
        replace(
            settings,
            pseudonym_secret="y" * 48,
            personal_data_key="k" * 48,
            audit_key=base64.b64encode(bytes(32)).decode(),
        ),
    )


def test_open311_shows_nobodys_personal_data_not_even_of_public_matters(talkoot: Talkoot):
    """What Open311 hands out is copied into other systems, where an erasure cannot reach
    it: no address, point, description or photo of anybody's request. The request board
    shows a public matter's where and what (and erased once the resident is)."""
    (private, private_region), (public, public_region) = scopes.quiet(), scopes.public_matter()
    photo = "https://example.fi/photos/birch.jpg"
    private_form = form(private, private_region, media_url=photo)
    public_form = form(public, public_region, media_url=photo)
    household, common = posted(talkoot, private_form), posted(talkoot, public_form)
    ids = f"{household['service_request_id']},{common['service_request_id']}"
    talkoot.wait_until_quiet()  # matching has answered: the two reads below see one state

    by_id = {
        r["service_request_id"]: r
        for r in json_of(fetch(talkoot, f"{BASE}/requests.json", service_request_id=ids))
    }
    shown, hidden = by_id[common["service_request_id"]], by_id[household["service_request_id"]]
    for entry in (shown, hidden):
        assert (entry["description"], entry["lat"], entry["long"], entry["media_url"]) == (
            None,
            None,
            None,
            None,
        )
        assert entry["address"] is None
    on_board = talkoot.ok(talkoot.get("requests", f"/board/{common['service_request_id']}"), 200)
    assert (on_board["description"], on_board["lat"], on_board["long"]) == (
        "Lumet pois portailta",
        *point_of(public_form),
    )
    assert hidden["service_code"] == private and hidden["status"] == "open"
    listed = json_of(fetch(talkoot, f"{BASE}/requests.json", service_code=private))
    [found] = [r for r in listed if r["service_request_id"] == household["service_request_id"]]
    assert found == hidden
    text = fetch(talkoot, f"{BASE}/requests/{household['service_request_id']}.xml").text
    assert "Lumet" not in text and private_form["lat"] not in text and "birch" not in text
    assert household["account_id"] not in str(listed) + text


@pytest.mark.dates
def test_a_post_in_xml_with_an_address_and_no_window(talkoot: Talkoot):
    category, region = scopes.quiet()  # a household's own: Open311 shows not where
    fields = form(
        category,
        region,
        lat=None,
        long=None,
        address_string="Aleksanterinkatu 18, Lahti",
        media_url="https://example.fi/photos/steps.jpg",
        **{"attribute[window_start]": None, "attribute[window_end]": None},
    )
    before = datetime.now(UTC).replace(microsecond=0)
    response = post(talkoot, fields, "xml")
    assert response.status_code == 201, response.text
    root = xml_of(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [child.tag for child in request] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    request_id = request.findtext("service_request_id")

    [element] = xml_of(fetch(talkoot, f"{BASE}/requests/{request_id}.xml")).findall("request")
    fields = children(element)
    assert list(fields) == REQUEST_FIELDS
    assert fields["lat"] is None and fields["long"] is None
    assert fields["address"] is None and fields["media_url"] is None
    assert fields["status"] == "open"
    # Without a wished window the work is asked for within a week from the post; the whole
    # entry, to those it concerns, has where it is.
    entry = talkoot.board_entry(request_id)
    assert entry["address"] == "Aleksanterinkatu 18, Lahti"
    assert entry["media_url"] == "https://example.fi/photos/steps.jpg"
    start = datetime.fromisoformat(entry["window_start"])
    end = datetime.fromisoformat(entry["window_end"])
    assert before <= start <= datetime.now(UTC)
    assert end - start == timedelta(days=7)


def test_a_post_with_only_a_point_gets_the_region_the_point_lies_in(talkoot: Talkoot):
    """As most Open311 clients post: lat and long, no attribute[region]."""
    lat, long = point_in(BOUNDED_REGION)  # no provider works there
    for fmt in ("json", "xml"):
        fields = form("yard-work", None, lat=str(lat), long=str(long))
        assert "attribute[region]" not in fields
        response = post(talkoot, fields, fmt)
        assert response.status_code == 201, response.text
        if fmt == "json":
            [answer] = json_of(response)
            request_id, notice = answer["service_request_id"], answer["service_notice"]
        else:
            [element] = xml_of(response).findall("request")
            request_id = element.findtext("service_request_id")
            notice = element.findtext("service_notice")
        assert CATALOGUE.regions[BOUNDED_REGION].name in notice
        entry = talkoot.board_entry(request_id)
        assert entry["region"] == BOUNDED_REGION
        assert (entry["lat"], entry["long"]) == (lat, long)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_post_with_a_point_outside_every_region_is_refused(talkoot: Talkoot, fmt):
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "requests")
    fields = form("yard-work", None, lat=str(HELSINKI[0]), long=str(HELSINKI[1]))
    response = post(talkoot, fields, fmt)
    assert response.status_code == 400, response.text
    [(code, description)] = errors_of(response, fmt)
    assert code == 400 and description.startswith("lat:"), description
    assert "outside the regions served" in description
    assert stored_events(talkoot.stack, "requests") == before


def test_a_post_whose_point_lies_in_another_region_is_refused(talkoot: Talkoot):
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "requests")
    fields = form("yard-work", "hollola")
    fields["lat"], fields["long"] = (str(v) for v in point_in("lahti-keskusta"))
    response = post(talkoot, fields)
    assert response.status_code == 400, response.text
    [(code, description)] = errors_of(response, "json")
    assert code == 400 and description.startswith("attribute[region]:"), description
    assert "lies in Lahti, Keskusta (lahti-keskusta), not in Hollola (hollola)" in description
    assert stored_events(talkoot.stack, "requests") == before


def test_a_token_is_the_request_id(talkoot: Talkoot):
    answer = posted(talkoot, form(*scopes.quiet()))
    request_id = answer["service_request_id"]
    assert json_of(fetch(talkoot, f"{BASE}/tokens/{request_id}.json")) == [
        {"service_request_id": request_id, "token": request_id}
    ]
    [element] = xml_of(fetch(talkoot, f"{BASE}/tokens/{request_id}.xml")).findall("request")
    assert children(element) == {"service_request_id": request_id, "token": request_id}


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "guessed"}, 403, "api_key"),
        ({"jurisdiction_id": "helsinki.fi"}, 404, "jurisdiction_id"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "chimney-sweeping"}, 404, "service_code"),
        ({"lat": None, "long": None}, 400, "location"),
        ({"long": None}, 400, "long"),
        ({"lat": "north"}, 400, "lat"),
        ({"lat": "95"}, 400, "lat"),
        # with a point, the region is the point's; without one, it is required
        (
            {"attribute[region]": None, "lat": None, "long": None, "address_string": "Kirkkotie"},
            400,
            "attribute[region]",
        ),
        (
            {"lat": str(HELSINKI[0]), "long": str(HELSINKI[1]), "attribute[region]": None},
            400,
            "outside the regions served",
        ),
        ({"lat": str(MARKET_SQUARE[0]), "long": str(MARKET_SQUARE[1])}, 400, "attribute[region]"),
        ({"attribute[region]": "helsinki"}, 400, "attribute[region]"),
        ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
        ({"attribute[window_start]": "tomorrow"}, 400, "attribute[window_start]"),
        ({"attribute[window_end]": "2027-05-03T09:00:00"}, 400, "attribute[window_end]"),
        ({"attribute[window_end]": "2020-01-01T00:00:00Z"}, 400, "attribute[window_start]"),
        ({"description": "x" * 4001}, 400, "description"),
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),
    ],
)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_bad_post_is_refused_in_the_error_format_and_stores_nothing(
    talkoot: Talkoot, change, status, named, fmt
):
    talkoot.wait_until_quiet()  # earlier tests' requests may still be getting offers
    before = stored_events(talkoot.stack, "requests")
    response = post(talkoot, form("yard-work", "hollola", **change), fmt)
    assert response.status_code == status, response.text
    [(code, description)] = errors_of(response, fmt)
    assert code == status
    assert named in description, description
    assert stored_events(talkoot.stack, "requests") == before


def test_a_post_that_is_not_form_encoded_is_refused(talkoot: Talkoot):
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "requests")
    response = talkoot.http.post(
        url(talkoot, f"{BASE}/requests.json"), json=form("yard-work", "hollola")
    )
    assert response.status_code == 415
    [(code, description)] = errors_of(response, "json")
    assert code == 415 and "form-encoded" in description
    assert stored_events(talkoot.stack, "requests") == before


# --- following requests --------------------------------------------------------------------


@pytest.mark.dates
def test_get_requests_filters_by_id_service_status_and_dates(talkoot: Talkoot):
    category, region = scopes.quiet()
    ids = [posted(talkoot, form(category, region))["service_request_id"] for _ in range(3)]

    def listed(fmt: str = "json", **params) -> list[str]:
        response = fetch(talkoot, f"{BASE}/requests.{fmt}", **params)
        if fmt == "xml":
            return [r.findtext("service_request_id") for r in xml_of(response).findall("request")]
        return [r["service_request_id"] for r in json_of(response)]

    # By id, comma delimited: that overrides every other filter.
    assert listed(service_request_id=f"{ids[0]},{ids[2]}", status="closed") == [ids[2], ids[0]]
    assert listed("xml", service_request_id=ids[1]) == [ids[1]]
    # By service and status; newest first; all three are open.
    mine = [i for i in listed(service_code=category) if i in ids]
    assert mine == ids[::-1]
    assert set(ids) <= set(listed(service_code=category, status="open"))
    assert not set(ids) & set(listed(service_code=category, status="closed"))
    assert set(ids) <= set(listed(service_code=f"{category},yard-work", status="open,closed"))
    other = next(c for c in CATALOGUE.categories if c != category)
    assert not set(ids) & set(listed(service_code=other))
    # By the time they were requested.
    now = datetime.now(UTC)
    hour_ago, in_an_hour = now - timedelta(hours=1), now + timedelta(hours=1)
    assert set(ids) <= set(listed(start_date=w3(hour_ago), end_date=w3(in_an_hour)))
    assert set(ids) <= set(listed("xml", start_date=hour_ago.isoformat()))
    assert not set(ids) & set(listed(end_date=w3(hour_ago)))
    assert not set(ids) & set(listed(start_date=w3(in_an_hour)))


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"status": "pending"}, "status"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-01-01T00:00:00"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "end_date"),
        ({"service_code": "chimney-sweeping"}, "service_code"),
    ],
)
def test_a_bad_query_is_400_naming_the_parameter(talkoot: Talkoot, params, named):
    for fmt in ("xml", "json"):
        response = fetch(talkoot, f"{BASE}/requests.{fmt}", 400, **params)
        [(code, description)] = errors_of(response, fmt)
        assert code == 400 and named in description, description


def test_a_confirmed_request_is_closed_and_names_its_provider(talkoot: Talkoot, scope):
    category, region = scope
    provider_id, _ = talkoot.ready_provider(category, region)
    request_id = posted(talkoot, form(category, region, account_id="crm-1"))["service_request_id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    [while_offered] = json_of(fetch(talkoot, f"{BASE}/requests/{request_id}.json"))
    assert while_offered["status"] == "open"
    assert while_offered["agency_responsible"] == f"Talkoot, {JURISDICTION}"
    assert "Offered" in while_offered["status_notes"]

    talkoot.ok(talkoot.accept(offered["offer_id"], provider_id))
    talkoot.wait_for_status(request_id, "assigned")
    [assigned] = json_of(fetch(talkoot, f"{BASE}/requests/{request_id}.json"))
    assert assigned["status"] == "open"
    assert assigned["agency_responsible"] == "Testiosuuskunta"
    assert "Testiosuuskunta" in assigned["status_notes"]

    resident_id = talkoot.board_entry(request_id)["resident_id"]
    member, resident = talkoot.member(provider_id), talkoot.resident(resident_id)
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 1.5}, who=member))
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))
    entry = talkoot.wait_for_status(request_id, "confirmed")
    [element] = xml_of(fetch(talkoot, f"{BASE}/requests/{request_id}.xml")).findall("request")
    closed = children(element)
    assert closed["status"] == "closed"
    assert closed["agency_responsible"] == "Testiosuuskunta"
    assert closed["updated_datetime"] == w3(entry["updated_at"])
    assert closed["status_notes"]
    assert request_id in listed_ids(talkoot, service_code=category, status="closed")
    assert request_id not in listed_ids(talkoot, service_code=category, status="open")


def listed_ids(talkoot: Talkoot, **params) -> list[str]:
    response = fetch(talkoot, f"{BASE}/requests.json", **params)
    return [r["service_request_id"] for r in json_of(response)]


def board_column(talkoot: Talkoot, request_id: str, column: str):
    """One column of the native request board, read from its table."""
    with psycopg.connect(talkoot.stack.database_url, autocommit=True) as conn:
        row = conn.execute(
            f'SELECT "{column}" FROM "{talkoot.stack.namespace}_read".board WHERE request_id = %s',
            (request_id,),
        ).fetchone()
    return row[0]


def w3(moment: str | datetime) -> str:
    """A moment as the W3C datetime in UTC the answers carry."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
