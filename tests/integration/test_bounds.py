"""What no service can use is refused where it enters: dates far off, text with control
characters, ids of any characters, numbers past what PostgreSQL holds, deep JSON. Each gets a
4xx naming the field, nothing is stored, and the consumers downstream keep working."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.calendar import local_today
from services import registry
from tests.client import Talkoot
from tests.integration.messages import contract_body
from tests.integration.store import stored_events
from tests.integration.test_bad_input import mentions, names
from tests.integration.test_open311 import BASE, errors_of, form
from tests.integration.test_open311 import post as open311_post

SERVICES = tuple(service.name for service in registry.SERVICES)
FAR = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-12:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59Z",
    (datetime.now(UTC) + timedelta(days=11 * 366)).isoformat(),
]
FAR_DAYS = ["0001-01-01", "9999-12-31", (local_today() + timedelta(days=11 * 366)).isoformat()]
CONTROLS = ["a\u0000b", "a\u0007b", "a\u001bb", "a\u007fb", "a\u0085b", "a\u009bb"]
BAD_IDS = ["a\u0000b", "x" * 10_000, "a/b", "a b", "äiti", "😀", "-a", "a\n"]
HUGE = [2**63, -(2**63) - 1, 10**30, 1e308, -1]
DEEP = 20_000  # far past what Python's decoder can recurse into, yet under the body limit


def counts(talkoot: Talkoot) -> dict[str, int]:
    return {service: stored_events(talkoot.stack, service) for service in SERVICES}


@pytest.fixture
def quiet(talkoot: Talkoot) -> dict[str, int]:
    """The event stores' rows once earlier tests' messages have all been handled."""
    talkoot.wait_until_quiet()
    return counts(talkoot)


def refused(response: httpx.Response, named: str) -> dict:
    """A 4xx whose body names ``named``: as its rule or key (``regions[0]`` names
    ``regions``, ``contact_person.phone`` names ``phone``) or in its message."""
    assert 400 <= response.status_code < 500, response.text
    error = response.json()
    keys = {part for key in names(error) for part in re.split(r"[.\[\]]", str(key))}
    assert named in keys or mentions(error, named) or named in error["detail"], error
    return error


def sender(talkoot: Talkoot, service: str, path: str) -> str:
    """Who sends a command to ``path``: a caller its rule lets through, so that what refuses
    the command is the body, not the caller (a body is refused before the request, provider
    or contract it names is looked for)."""
    if service == "requests":
        if path.endswith("/completion"):
            return talkoot.member("provider-x")
        if path.endswith("/resolution"):
            return talkoot.officer()
        if path.startswith("/snowfall-days"):
            return talkoot.admin()
        return talkoot.resident()
    if service == "providers":
        if path == "/providers":
            return talkoot.resident()  # a person founding a provider
        if path.endswith(("/suspension", "/reinstatement")):
            return talkoot.officer()
        return talkoot.member("provider-x")
    if service == "matching":
        return talkoot.member("provider-x")
    return talkoot.officer()  # partnerships: proposing, signing, charging


def post(talkoot: Talkoot, service: str, path: str, body) -> httpx.Response:
    return talkoot.post(service, path, body, who=sender(talkoot, service, path))


def raw(talkoot: Talkoot, service: str, path: str, content: bytes) -> httpx.Response:
    return talkoot.http.post(
        talkoot.url(service, path),
        content=content,
        headers={
            "content-type": "application/json",
            **talkoot.headers(sender(talkoot, service, path)),
        },
    )


def contract(**change) -> dict:
    """A contract the officer proposes: their own partner's, so the body names none."""
    body = contract_body(**change)
    body.pop("partner_id", None)
    return body


def request_body(**change) -> dict:
    start = datetime.now(UTC) + timedelta(days=1)
    return {
        "category": "yard-work",
        "region": "hollola",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
        **change,
    }


def provider_body(**change) -> dict:
    return {
        "name": "Laune Talkoot ry",
        "kind": "association",
        "business_id": "0737546-2",
        "categories": ["yard-work"],
        "regions": ["lahti-laune"],
        "capacity": 3,
        **change,
    }


def series_body(**change) -> dict:
    return {
        "category": "yard-work",
        "region": "hollola",
        "rule": "weekly",
        "weekday": "monday",
        "start_time": "09:00",
        **change,
    }


# --- dates and times -----------------------------------------------------------------------


@pytest.mark.parametrize("moment", FAR)
@pytest.mark.parametrize("field", ["window_start", "window_end"])
def test_a_wished_window_far_off_is_refused_in_any_zone(talkoot: Talkoot, quiet, field, moment):
    refused(post(talkoot, "requests", "/requests", request_body(**{field: moment})), field)
    rescheduled = post(
        talkoot,
        "requests",
        f"/requests/{uuid.uuid4()}/reschedule",
        {
            key: value
            for key, value in request_body(**{field: moment}).items()
            if key in ("window_start", "window_end")
        },
    )
    # the body is wrong before the request is looked for
    assert rescheduled.status_code == 400, rescheduled.text
    refused(rescheduled, field)
    assert counts(talkoot) == quiet


@pytest.mark.parametrize("day", FAR_DAYS)
def test_series_pauses_snowfall_days_and_contracts_far_off_are_refused(
    talkoot: Talkoot, quiet, day
):
    some = uuid.uuid4()
    for service, path, body, field in [
        ("requests", "/series", series_body(starts_on=day), "starts_on"),
        ("requests", "/series", series_body(ends_on=day), "ends_on"),
        ("requests", f"/series/{some}/pause", {"until": day}, "until"),
        ("requests", "/snowfall-days", {"day": day}, "day"),
        ("providers", f"/providers/{some}/pauses", {"starts": day, "reason": "x"}, "starts"),
        (
            "providers",
            f"/providers/{some}/pauses",
            {"starts": local_today().isoformat(), "ends": day, "reason": "x"},
            "ends",
        ),
        ("partnerships", "/contracts", contract(valid_from=day), "valid_from"),
        ("partnerships", "/contracts", contract(valid_until=day), "valid_until"),
    ]:
        response = post(talkoot, service, path, body)
        assert response.status_code == 400, (path, response.text)
        refused(response, field)
    refused(talkoot.get("requests", "/snowfall-days", since=day), "since")
    assert counts(talkoot) == quiet


# --- text ----------------------------------------------------------------------------------

# (service, path, body with a {} where the text goes, field); each kind of text field
TEXT_FIELDS = [
    ("requests", "/requests", lambda v: request_body(description=v), "description"),
    ("requests", "/requests", lambda v: request_body(address=v), "address"),
    ("requests", "/requests", lambda v: request_body(media_url=v), "media_url"),
    ("requests", "/series", lambda v: series_body(description=v), "description"),
    ("requests", "/series", lambda v: series_body(start_time=v), "start_time"),
    ("requests", "/series/{id}/end", lambda v: {"reason": v}, "reason"),
    (
        "requests",
        "/requests/{id}/resolution",
        lambda v: {"outcome": "upheld", "note": v},
        "note",
    ),
    ("requests", "/requests/{id}/rating", lambda v: {"stars": 5, "comment": v}, "comment"),
    ("requests", "/requests/{id}/dispute", lambda v: {"reason": v}, "reason"),
    ("providers", "/providers", lambda v: provider_body(name=v), "name"),
    ("providers", "/providers", lambda v: provider_body(contact=v), "contact"),
    ("providers", "/providers", lambda v: provider_body(business_id=v), "business_id"),
    (
        "providers",
        "/providers",
        lambda v: provider_body(
            kind="village_group", business_id=None, contact_person={"name": "Aino", "phone": v}
        ),
        "phone",
    ),
    ("providers", "/providers/{id}/members", lambda v: {"name": "Aino", "role": v}, "role"),
    ("providers", "/providers/{id}/suspension", lambda v: {"reason": v}, "reason"),
    ("matching", "/offers/{id}/decline", lambda v: {"reason": v}, "reason"),
]


@pytest.mark.parametrize(("service", "path", "body", "field"), TEXT_FIELDS)
def test_text_with_control_characters_is_refused(
    talkoot: Talkoot, quiet, service, path, body, field
):
    for value in CONTROLS:
        response = post(talkoot, service, path.format(id=uuid.uuid4()), body(value))
        assert response.status_code == 400, (value, response.text)
        refused(response, field)
    assert counts(talkoot) == quiet


@pytest.mark.parametrize("field", ["address", "media_url"])
def test_a_single_line_field_holds_no_line_break(talkoot: Talkoot, quiet, field):
    value = "https://example.fi/a\n" if field == "media_url" else "Mäkikatu 3\nB 4"
    refused(post(talkoot, "requests", "/requests", request_body(**{field: value})), field)
    assert counts(talkoot) == quiet


def test_a_refused_character_is_explained_in_words_not_as_a_regex(talkoot: Talkoot, quiet):
    cases = [
        ("description", "a\x00b", "description may not hold control characters other than tabs"),
        ("address", "Mäkikatu\t3", "address may not hold control characters (NUL, a tab"),
        ("category", "yard work", "category is no id: an id has letters"),
    ]
    for field, value, sentence in cases:
        response = post(talkoot, "requests", "/requests", request_body(**{field: value}))
        [problem] = refused(response, field)["extra"]
        assert problem["message"].startswith(sentence), problem
        assert "regex" not in problem["message"]
    assert counts(talkoot) == quiet


def test_a_lone_surrogate_escaped_in_json_is_refused(talkoot: Talkoot, quiet):
    body = msgspec_json(request_body(description="REPLACE"))
    for escape in (b"\\ud800", b"\\udfff", b"a\\ud800\\u0041"):
        response = raw(talkoot, "requests", "/requests", body.replace(b"REPLACE", escape))
        assert response.status_code == 400, response.text
    assert counts(talkoot) == quiet


def test_free_text_keeps_its_line_breaks_and_tabs(talkoot: Talkoot, scope):
    category, region = scope
    description = "Portaat ja piha:\n\t- lumet pois\r\n\t- hiekkaa"
    body = request_body(category=category, region=region, description=description)
    answer = talkoot.ok(post(talkoot, "requests", "/requests", body))
    assert talkoot.board_entry(answer["id"], answer["position"])["description"] == description


# --- ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_IDS, ids=lambda v: repr(v[:20]))
def test_a_bad_id_in_a_body_is_refused(talkoot: Talkoot, quiet, value):
    some = uuid.uuid4()
    for service, path, body, field in [
        ("requests", "/requests", request_body(region=value), "region"),
        ("requests", "/requests", request_body(category=value), "category"),
        ("requests", "/series", series_body(category=value), "category"),
        (
            "requests",
            "/snowfall-days",
            {"day": local_today().isoformat(), "regions": [value]},
            "regions",
        ),
        ("providers", "/providers", provider_body(regions=[value]), "regions"),
        (
            "providers",
            f"/providers/{some}/capabilities",
            {"categories": [value], "regions": ["lahti-laune"], "capacity": 3},
            "categories",
        ),
        ("partnerships", "/contracts", contract(provider_id=value), "provider_id"),
        (
            "partnerships",
            f"/contracts/{some}/charges",
            {"request_id": value, "hours": 1},
            "request_id",
        ),
    ]:
        response = post(talkoot, service, path, body)
        assert response.status_code == 400, (path, response.text)
        refused(response, field)
    assert counts(talkoot) == quiet


PATH_IDS = ["%00", "a%00b", "x" * 10_000, "a%20b", "%C3%A4iti", "%F0%9F%98%80", "a%0A", "..%2F.."]


@pytest.mark.parametrize("value", PATH_IDS, ids=lambda v: v[:20])
def test_a_bad_id_in_a_path_is_400_or_404_never_500(talkoot: Talkoot, quiet, value):
    for service, method, path in [
        ("requests", "GET", "/requests/{}"),
        ("requests", "POST", "/requests/{}/confirmation"),
        ("requests", "GET", "/series/{}"),
        ("requests", "POST", "/series/{}/resume"),
        ("providers", "GET", "/providers/{}"),
        ("providers", "DELETE", "/providers/{}/members/{}"),
        ("providers", "POST", "/providers/{}/pauses/{}/end"),
        ("matching", "GET", "/offers/{}"),
        ("matching", "POST", "/offers/{}/decline"),
        ("matching", "GET", "/jobs/{}"),
        ("partnerships", "GET", "/contracts/{}"),
        ("partnerships", "POST", "/contracts/{}/charges"),
        ("requests", "GET", BASE + "/requests/{}.json"),
        ("requests", "GET", BASE + "/tokens/{}.xml"),
    ]:
        path = path.replace("{}", value)
        # a caller the route lets through: an admin reads, the right person sends
        who = talkoot.admin() if method == "GET" else sender(talkoot, service, path)
        body = {"request_id": "r", "hours": 1}
        response = talkoot.http.request(
            method,
            httpx.URL(talkoot.url(service, path)),
            json=body if method == "POST" else None,
            headers=talkoot.headers(who),
        )
        assert response.status_code in (400, 404), (method, path, response.text)
    assert counts(talkoot) == quiet


QUERIES = [
    ("requests", "/requests", ["status", "region", "category", "provider_id", "series_id"]),
    ("requests", "/series", ["resident_id", "status"]),
    ("providers", "/providers", ["category", "region", "kind"]),
    ("partnerships", "/ledger", ["partner_id", "provider_id"]),
]


@pytest.mark.parametrize("value", BAD_IDS, ids=lambda v: repr(v[:20]))
@pytest.mark.parametrize(("service", "path", "params"), QUERIES, ids=lambda q: str(q))
def test_a_bad_id_in_a_query_is_refused_naming_the_parameter(
    talkoot: Talkoot, service, path, params, value
):
    for param in params:
        response = talkoot.get(service, path, **{param: value})
        assert response.status_code == 400, (param, response.text)
        refused(response, param)


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", HUGE, ids=str)
def test_numbers_past_what_the_stores_hold_are_refused(talkoot: Talkoot, quiet, number):
    some = uuid.uuid4()
    places = (
        []
        if number == -1
        else [  # -1 is a place on earth
            ("requests", "/requests", request_body(lat=number, long=25.6), "lat"),
            ("requests", "/requests", request_body(lat=60.9, long=number), "long"),
            ("requests", "/series", series_body(lat=number, long=25.6), "lat"),
            ("providers", "/providers", provider_body(lat=60.9, long=number), "long"),
        ]
    )
    for service, path, body, field in [
        *places,
        ("requests", f"/requests/{some}/rating", {"stars": number}, "stars"),
        ("requests", f"/requests/{some}/completion", {"hours": number}, "hours"),
        ("requests", "/series", series_body(duration_minutes=number), "duration_minutes"),
        (
            "requests",
            "/series",
            series_body(rule="monthly", weekday=None, day_of_month=number),
            "day_of_month",
        ),
        ("providers", "/providers", provider_body(capacity=number), "capacity"),
        ("partnerships", "/contracts", contract(unit_price_cents=number), "unit_price_cents"),
        ("partnerships", "/contracts", contract(budget_cents=number), "budget_cents"),
        (
            "partnerships",
            f"/contracts/{some}/charges",
            {"request_id": "r", "hours": number},
            "hours",
        ),
    ]:
        refused(post(talkoot, service, path, body), field)
    assert counts(talkoot) == quiet


@pytest.mark.parametrize("number", [2**63, 2**64, 10**30, 10_000_001, -1])
@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("requests", "/requests"),
        ("requests", "/series"),
        ("providers", "/providers"),
        ("partnerships", "/ledger"),
    ],
)
def test_a_huge_offset_limit_or_position_is_refused(talkoot: Talkoot, service, path, number):
    for param in ("offset", "limit", "position"):
        # a position within bounds that no event is stored at is refused too, at once
        response = talkoot.get(service, path, **{param: number})
        assert response.status_code == 400, (param, response.text)
        refused(response, param)
    refused(talkoot.get("requests", "/snowfall-days", limit=2**63), "limit")


# --- nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "path", "field"),
    [
        ("requests", "/requests", "description"),
        ("requests", "/snowfall-days", "regions"),
        ("providers", "/providers", "categories"),
        ("partnerships", "/contracts", "regions"),
    ],
)
def test_deeply_nested_json_is_refused(talkoot: Talkoot, quiet, service, path, field):
    nested = b"[" * DEEP + b"]" * DEEP
    in_a_field = b'{"' + field.encode() + b'": ' + nested + b"}"
    for body in (nested, in_a_field, b'{"a": ' * DEEP + b"1" + b"}" * DEEP):
        response = raw(talkoot, service, path, body)
        assert response.status_code == 400, response.text
    assert counts(talkoot) == quiet


# --- Open311 -------------------------------------------------------------------------------

OPEN311_TEXT = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "attribute[region]",
    "attribute[window_start]",
    "email",
    "first_name",
    "last_name",
    "phone",
    "description",
    "address_string",
    "address_id",
    "media_url",
    "device_id",
    "account_id",
]


@pytest.mark.parametrize("field", OPEN311_TEXT)
def test_an_open311_post_with_control_characters_in_any_field_is_refused(
    talkoot: Talkoot, quiet, field
):
    for value, fmt in [(v, "json") for v in CONTROLS] + [("x" * 5000, "xml")]:
        response = open311_post(talkoot, form("yard-work", "hollola", **{field: value}), fmt)
        assert response.status_code == 400, response.text
        [(code, description)] = errors_of(response, fmt)
        assert code == 400 and field in description, description
    assert counts(talkoot) == quiet


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_open311_post_with_a_line_break_in_a_line_or_a_bad_number_is_refused(
    talkoot: Talkoot, quiet, fmt
):
    for change, field in [
        ({"address_string": "Mäkikatu 3\nB 4"}, "address_string"),
        ({"email": "maija@example.fi\r\nBcc: x@example.fi"}, "email"),
        ({"lat": "nan"}, "lat"),
        ({"lat": "inf"}, "lat"),
        ({"long": "1e308"}, "long"),
        ({"lat": "-1e400"}, "lat"),
    ]:
        response = open311_post(talkoot, form("yard-work", "hollola", **change), fmt)
        assert response.status_code == 400, response.text
        [(code, description)] = errors_of(response, fmt)
        assert code == 400 and field in description, description
    assert counts(talkoot) == quiet


@pytest.mark.parametrize("moment", FAR)
@pytest.mark.parametrize("field", ["attribute[window_start]", "attribute[window_end]"])
def test_an_open311_window_far_off_is_refused(talkoot: Talkoot, quiet, field, moment):
    response = open311_post(talkoot, form("yard-work", "hollola", **{field: moment}), "xml")
    assert response.status_code == 400, response.text
    [(code, description)] = errors_of(response, "xml")
    assert code == 400 and field in description, description
    assert counts(talkoot) == quiet


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "0001-01-01T00:00:00+14:00"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "9999-12-31T23:59:59-12:00"},
        {"end_date": "9999-12-31T23:59:59Z"},
        {"service_request_id": "a\u0000b"},
        {"service_request_id": "x" * 10_000},
        {"service_request_id": "ok-1,a b"},
    ],
    ids=lambda p: repr(p)[:40],
)
def test_an_open311_query_far_off_or_with_a_bad_id_is_400(talkoot: Talkoot, params):
    for fmt in ("xml", "json"):
        response = talkoot.http.get(
            talkoot.url("requests", f"{BASE}/requests.{fmt}"), params=params
        )
        assert response.status_code == 400, response.text
        [(code, description)] = errors_of(response, fmt)
        assert code == 400 and next(iter(params)) in description, description


# --- and afterwards ------------------------------------------------------------------------


def test_after_all_that_a_good_request_is_still_offered(talkoot: Talkoot, scope):
    """The bad input above never reached a consumer: the board and matching still run."""
    category, region = scope
    provider_id, _ = talkoot.ready_provider(category, region)
    before = counts(talkoot)
    bad = request_body(category=category, region=region, window_end="9999-12-31T23:59:59-12:00")
    assert post(talkoot, "requests", "/requests", bad).status_code == 400
    bad = request_body(category=category, region=region, description="a\u0000b")
    assert post(talkoot, "requests", "/requests", bad).status_code == 400
    bad = form(category, region, description="a\u0000b")
    assert open311_post(talkoot, bad).status_code == 400
    assert counts(talkoot) == before
    request_id = talkoot.submit(category, region)["id"]
    assert talkoot.wait_for_status(request_id, "offered")["provider_id"] == provider_id
    posted = open311_post(talkoot, form(category, region, description="Kiitos!\nTerveisin"))
    assert posted.status_code == 201, posted.text
    [answer] = posted.json()
    assert talkoot.wait_for_status(answer["service_request_id"], "offered", "assigned")


def msgspec_json(body: dict) -> bytes:
    import msgspec

    return msgspec.json.encode(body)
