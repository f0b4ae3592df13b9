"""The HTTP edge of every service: media types and body size, request ids, unhandled errors,
and OpenAPI documents that list every status an operation answers."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from projections.schema import read_schema
from tests.client import Talkoot, eventually
from tests.conftest import another_talkoot
from tests.integration.store import stored_events

SERVICES = ("requests", "providers", "matching", "partnerships")
# A body each service would store, were it sent as JSON by the person ``sender`` names.
COMMANDS = {
    "requests": ("/requests", None),  # filled from the client's own request body
    "providers": (
        "/providers",
        {
            "name": "Mediatyyppi ry",
            "kind": "association",
            "business_id": "0737546-2",
            "categories": ["yard-work"],
            "regions": ["lahti-laune"],
            "capacity": 1,
        },
    ),
    "partnerships": (
        "/contracts",
        {
            "provider_id": "provider-x",
            "categories": ["yard-work"],
            "regions": ["lahti-laune"],
            "unit_price_cents": 3000,
            "budget_cents": 10000,
            "valid_from": "2026-01-01",
            "valid_until": "2030-12-31",
        },
    ),
}
ERROR_SCHEMAS = {"ErrorBody", "Open311Problem", "HealthReport"}


def command(talkoot: Talkoot, service: str) -> tuple[str, bytes]:
    path, body = COMMANDS[service]
    if body is None:
        body = talkoot.request_body("yard-work", "lahti-laune")
    return path, httpx.Request("POST", "http://x", json=body).content


def sender(talkoot: Talkoot, service: str) -> dict[str, str]:
    """The Authorization header of who sends ``service``'s command: a resident submits a
    request or founds a provider, an officer proposes a contract."""
    who = talkoot.officer() if service == "partnerships" else talkoot.resident()
    return talkoot.headers(who)


@pytest.mark.parametrize("service", sorted(COMMANDS))
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", None],
)
def test_a_json_body_sent_as_another_media_type_is_refused_with_415_and_nothing_stored(
    talkoot: Talkoot, service: str, content_type: str | None
):
    path, body = command(talkoot, service)
    before = stored_events(talkoot.stack, service)
    headers = {"content-type": content_type} if content_type else {}
    response = talkoot.http.post(
        talkoot.url(service, path), content=body, headers={**headers, **sender(talkoot, service)}
    )
    assert response.status_code == 415, response.text
    error = response.json()
    assert error["status_code"] == 415
    assert error["extra"] == {"rule": "content_type"}
    assert "application/json" in error["detail"]
    assert stored_events(talkoot.stack, service) == before


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_a_json_body_may_name_its_charset_or_a_json_suffix(talkoot: Talkoot, content_type: str):
    path, body = command(talkoot, "providers")
    response = talkoot.http.post(
        talkoot.url("providers", path),
        content=body,
        headers={"content-type": content_type, **sender(talkoot, "providers")},
    )
    assert response.status_code == 201, response.text


def test_an_open311_post_that_is_not_form_encoded_is_refused_in_open311s_format(
    talkoot: Talkoot,
):
    before = stored_events(talkoot.stack, "requests")
    response = talkoot.http.post(
        talkoot.url("requests", "/open311/v2/requests.json"),
        content=b"api_key=talkoot-local&service_code=yard-work&attribute[region]=lahti-laune&lat=60.9&long=25.6",
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 415, response.text
    [error] = response.json()
    assert error["code"] == 415 and "form-encoded" in error["description"]
    assert stored_events(talkoot.stack, "requests") == before


@pytest.mark.parametrize(
    "path",
    ["/open311/v2/requests.json?service_request_id=a%00b", "/open311/v2/requests/a%00b.json"],
)
def test_an_open311_id_with_a_nul_character_is_400_not_a_server_error(talkoot: Talkoot, path):
    response = talkoot.http.get(talkoot.url("requests", path))
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert "is no id" in error["description"]


def test_a_body_over_the_size_limit_is_refused_with_413(talkoot: Talkoot):
    before = stored_events(talkoot.stack, "requests")
    body = talkoot.request_body("yard-work", "lahti-laune")
    body["description"] = "x" * 300_000
    response = talkoot.post("requests", "/requests", body, who=talkoot.resident())
    assert response.status_code == 413, response.text
    assert response.json()["status_code"] == 413
    assert stored_events(talkoot.stack, "requests") == before


# --- request ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/health", 200), ("/requests/no-such-request", 404), ("/requests?limit=0", 400)],
)
def test_a_sane_request_id_is_echoed_and_a_missing_one_is_made(
    talkoot: Talkoot, path: str, status: int
):
    given = f"client-{uuid.uuid4().hex}"
    signed_in = talkoot.headers(talkoot.admin())
    echoed = talkoot.http.get(
        talkoot.url("requests", path), headers={"X-Request-Id": given, **signed_in}
    )
    assert echoed.status_code == status
    assert echoed.headers["x-request-id"] == given
    made = talkoot.http.get(talkoot.url("requests", path), headers=signed_in)
    assert made.status_code == status
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


def test_a_call_without_its_token_is_401_with_a_request_id(talkoot: Talkoot):
    given = f"client-{uuid.uuid4().hex}"
    response = talkoot.http.get(
        talkoot.url("requests", "/requests/no-such-request"), headers={"X-Request-Id": given}
    )
    assert response.status_code == 401, response.text
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("insane", ["a" * 129, "two words", "semi;colon", "-leading-dash", "ä"])
def test_an_insane_request_id_is_replaced_by_a_new_one(talkoot: Talkoot, insane: str):
    response = talkoot.http.get(
        talkoot.url("providers", "/health"), headers={"X-Request-Id": insane.encode("utf-8")}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_an_answer_to_no_route_at_all_carries_a_request_id(talkoot: Talkoot):
    response = talkoot.http.get(talkoot.url("matching", "/no/such/route"))
    assert response.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


@pytest.fixture(scope="module")
def broken_board(stack, tmp_path_factory: pytest.TempPathFactory) -> Talkoot:
    """A Talkoot of its own whose requests service has lost its board table, so that every
    read of the board fails in a way no handler expects."""
    with another_talkoot(stack, tmp_path_factory.mktemp("broken")) as other:
        schema = read_schema(other.stack.namespace)
        with psycopg.connect(other.stack.database_url, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE {schema}.board RENAME TO board_gone")
        yield other


def test_an_unhandled_error_is_500_with_the_request_id_and_no_internals(broken_board: Talkoot):
    given = f"fault-{uuid.uuid4().hex}"
    response = broken_board.http.get(
        broken_board.url("requests", "/requests/any-id"),
        headers={"X-Request-Id": given, **broken_board.headers(broken_board.admin())},
    )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == given
    body = response.json()
    assert body["status_code"] == 500
    assert body["extra"] == {"rule": "internal_error", "request_id": given}
    assert given in body["detail"]
    for internal in ("board", "Traceback", "asyncpg", "relation", "SELECT"):
        assert internal not in response.text


def test_an_unhandled_error_is_logged_with_its_traceback_and_request_id(broken_board: Talkoot):
    given = f"fault-{uuid.uuid4().hex}"
    response = broken_board.http.get(
        broken_board.url("requests", "/requests"),
        headers={"X-Request-Id": given, **broken_board.headers(broken_board.admin())},
    )
    assert response.status_code == 500
    log: Path = broken_board.stack.processes["requests"].log_path

    def logged() -> str:
        text = log.read_text(errors="replace")
        # from the start of the line that names the request id
        return text[text.rfind("\n", 0, text.find(given)) + 1 :] if given in text else ""

    entry = eventually(logged, bool, 5, f"request id {given} in {log}")
    assert "unhandled error" in entry.splitlines()[0]
    assert "Traceback (most recent call last)" in entry
    assert "UndefinedTableError" in entry


# --- the OpenAPI documents -------------------------------------------------------------------


@pytest.fixture(scope="module")
def documents(talkoot: Talkoot) -> dict[str, dict]:
    # public, like /health: read without a token
    return {s: talkoot.ok(talkoot.get(s, "/schema/openapi.json", who=None), 200) for s in SERVICES}


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def schema_names(response: dict) -> set[str]:
    """The component schemas a response's content refers to, directly or as array items."""
    names = set()
    for media_type, media in response.get("content", {}).items():
        if media_type == "text/xml":
            continue  # Open311's XML, described in words
        schema = media.get("schema", {})
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
        names.add(ref.rsplit("/", 1)[-1])
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_lists_the_statuses_it_can_answer(documents, service: str):
    document = documents[service]
    seen = 0
    for path, method, operation in operations(document):
        seen += 1
        where = f"{service}: {method.upper()} {path}"
        statuses = {int(s) for s in operation["responses"]}
        assert {500, 503} <= statuses, where
        takes_json = "application/json" in operation.get("requestBody", {}).get("content", {})
        is_open311 = path.startswith("/open311/")
        has_params = bool(operation.get("parameters")) or "requestBody" in operation
        if "{" in path:
            assert 404 in statuses, where
        if has_params and not is_open311:
            assert 400 in statuses, where
        if method != "get" and not is_open311:
            assert {403, 409, 422, 429} <= statuses, where
        if takes_json:
            assert {413, 415} <= statuses, where
        if is_open311 and method == "post":
            assert {400, 403, 404, 413, 415} <= statuses, where
            assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert response.get("content"), f"{where} {status} has no body"
            if set(response["content"]) != {"text/xml"}:
                assert schema_names(response) <= ERROR_SCHEMAS, f"{where} {status}: {response}"
    assert seen > 3


@pytest.mark.parametrize("service", SERVICES)
def test_the_error_body_schema_allows_a_rule_or_the_fields_that_failed(documents, service: str):
    schemas = documents[service]["components"]["schemas"]
    body = schemas["ErrorBody"]
    assert set(body["required"]) == {"status_code", "detail"}
    variants = body["properties"]["extra"]["oneOf"]
    refs = {v.get("$ref") or v.get("items", {}).get("$ref") for v in variants}
    assert {"#/components/schemas/Rule", "#/components/schemas/Problem"} <= refs
    assert schemas["Rule"]["required"] == ["rule"]
    assert schemas["Problem"]["required"] == ["message"]


def test_open311_answers_are_documented_as_xml_or_json_after_their_suffix(documents):
    paths = documents["requests"]["paths"]
    xml = paths["/open311/v2/requests.xml"]["get"]["responses"]
    json = paths["/open311/v2/requests.json"]["get"]["responses"]
    assert set(xml["200"]["content"]) == {"text/xml"}
    assert set(json["200"]["content"]) == {"application/json"}
    assert "Open311Problem" in schema_names(json["400"])
    either = paths["/open311/v2/requests/{request_file}"]["get"]["responses"]["404"]
    assert set(either["content"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_documents_say_calls_carry_a_bearer_token(documents, service: str):
    document = documents[service]
    schemes = document["components"]["securitySchemes"]
    assert [(s["type"], s["scheme"].lower(), s["bearerFormat"]) for s in schemes.values()] == [
        ("http", "bearer", "JWT")
    ]
    assert document["security"] == [{name: []} for name in schemes]


def test_health_is_documented_with_its_report(documents):
    health = documents["providers"]["paths"]["/health"]["get"]["responses"]
    assert schema_names(health["200"]) == {"HealthReport"}
    assert schema_names(health["503"]) == {"HealthReport"}
