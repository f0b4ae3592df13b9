"""Who may call what, route by route, for every route the services serve.

The routes come from the services themselves: each service's app is built in-process from its
SPEC (never started), and every route must declare exactly one access rule. Then every route
is called by every kind of caller on a small world of the running services (one resident's
request assigned to provider P under partner X's contract, with its offer, a series, a pause,
a member), and what each caller gets is derived from the route's declared rule and from who is
concerned with the resource its path names:

- no token, or a token that cannot be verified: 401 (a public route needs none, but verifies
  one that is sent);
- a role the rule does not let through: 403;
- the role, but not concerned with the resource (someone else's request, provider, contract):
  404, exactly as a resource that is not there;
- let through: a read answers 200; a command with a body is sent one it cannot accept, and
  answers 400, which shows that access let it through without acting (a command with no body,
  or a public one, is not sent by those it lets through: it would act).

A refused call stores nothing: every service's stored events are counted before and after.
"""

from __future__ import annotations

import base64
import importlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar.handlers import HTTPRouteHandler

from domain.calendar import local_today
from services import registry
from services.platform.identity import Access, Caller, Role, is_litestars_options, rule_of
from services.platform.runtime import build_app
from services.platform.settings import Settings
from tests.client import Talkoot, eventually
from tests.conftest import unused_scope
from tests.integration.store import stored_events
from tests.integration.tokens import broken_tokens

SERVICES = tuple(service.name for service in registry.SERVICES)

# Enough to build each app; nothing is started, so nothing is reached.
BUILD_SETTINGS = Settings(
    database_url="postgresql://127.0.0.1:1/unused",
    nats_url="nats://127.0.0.1:1",
    jwt_secret="b" * 40,
    pseudonym_secret="p" * 40,
    audit_key=base64.b64encode(bytes(32)).decode(),
    personal_data_key="k" * 40,
)


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # with each parameter as {name}
    handler: HTTPRouteHandler

    @property
    def id(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def rule(self) -> Access | None:
        return rule_of(self.handler)

    @property
    def is_read(self) -> bool:
        return self.method in ("GET", "HEAD")

    @property
    def params(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]

    @property
    def body_type(self) -> Any:
        data = self.handler.parsed_fn_signature.parameters.get("data")
        return None if data is None else data.annotation


def declared_routes(service: str) -> list[Route]:
    spec = importlib.import_module(f"services.{service}.__main__").SPEC
    app = build_app(spec, BUILD_SETTINGS)
    found = []
    for route in app.routes:
        for handler in route.route_handlers:
            if is_litestars_options(handler):
                continue
            for method in sorted(handler.http_methods):
                found.append(Route(service, method, route.path_format, handler))
    return sorted(found, key=lambda r: (r.path, r.method))


ROUTES = {service: declared_routes(service) for service in SERVICES}
ALL_ROUTES = [route for service in SERVICES for route in ROUTES[service]]


# --- (a) every route declares its rule ------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_declares_exactly_one_access_rule(service: str):
    undeclared = [route.id for route in ROUTES[service] if route.rule is None]
    assert not undeclared, "routes that declare no access rule (or more than one):\n" + "\n".join(
        undeclared
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_documents_and_health_are_public(service: str):
    public = [r for r in ROUTES[service] if r.path == "/health" or r.path.startswith("/schema")]
    assert {r.path for r in public} >= {"/health", "/schema/openapi.json"}
    assert [r.id for r in public if r.rule is None or not r.rule.public] == []


# The audit routes every service serves about its own log, and their rules: the checkpoints
# and their key are public, as a transparency log's are; making one now is an admin's.
AUDIT_RULES = {
    ("GET", "/audit/checkpoint"): "public",
    ("GET", "/audit/checkpoints"): "public",
    ("GET", "/audit/key"): "public",
    ("POST", "/audit/checkpoints"): "admin",
}


# The partners' audit of arrangements, which partnerships serves beside its log's: an
# officer's (their own partner's) and an admin's.
ARRANGEMENT_RULES = {
    ("GET", "/audit/arrangements"): "officer",
    ("GET", "/audit/arrangements/{request_id}"): "officer",
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_serves_its_logs_audit_routes_with_their_rules(service: str):
    rules = {
        (r.method, r.path): r.rule.name if r.rule else None
        for r in ROUTES[service]
        if r.path.startswith("/audit")
    }
    extra = ARRANGEMENT_RULES if service == "partnerships" else {}
    assert rules == {**AUDIT_RULES, **extra}


# Rules the matrix holds some routes to by name, beyond what each route declares.
PINNED = {
    ("requests", "POST", "/residents/{resident_id}/erasure"): "admin",
    ("requests", "GET", "/residents/{resident_id}/data"): "admin",
    ("requests", "GET", "/residents/me/data"): "resident",
    # settlement statements: an officer's of their own partner, a table coordinator's of
    # their table's programmes, an admin's of every one
    ("partnerships", "GET", "/settlements"): "officer or coordinator",
    # freedom of choice: the providers a resident may choose under a service voucher
    ("matching", "GET", "/choices"): "resident",
}


def test_a_residents_personal_data_and_the_settlements_are_seen_by_these_rules():
    """Erasing a resident and reading anybody's copy are an admin's; one's own copy is the
    resident's (an admin passes every rule, and gets their own: none); the settlement
    statements are an officer's (and an admin's)."""
    rules = {(r.service, r.method, r.path): r.rule.name for r in ALL_ROUTES if r.rule}
    assert {route: rules.get(route) for route in PINNED} == PINNED


# Fields that name who sends a command: that is the caller's token, never the body.
CALLER_FIELDS = {"resident_id", "signed_by", "declared_by"}
ACTING_FIELDS = {Role.PROVIDER: "provider_id", Role.OFFICER: "partner_id"}


def is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def caller_fields(route: Route) -> set[str]:
    names = {f.encode_name for f in msgspec.structs.fields(route.body_type)}
    found = names & CALLER_FIELDS
    rule = route.rule
    for role, name in ACTING_FIELDS.items():
        if rule is not None and rule.roles == {role} and name in names:
            found.add(name)
    return found


COMMANDS_WITH_BODIES = [r for r in ALL_ROUTES if not r.is_read and is_struct(r.body_type)]


@pytest.mark.parametrize("route", COMMANDS_WITH_BODIES, ids=[r.id for r in COMMANDS_WITH_BODIES])
def test_no_command_body_names_its_caller(route: Route):
    assert caller_fields(route) == set(), (
        f"{route.id}: who sends it comes from the token, not from {sorted(caller_fields(route))}"
    )


# --- (b) the matrix ---------------------------------------------------------------------------

# The callers: nobody signed in, people concerned with the world's resources or not, an admin,
# and tokens that cannot be verified.
CALLERS = [
    "nobody",
    "owner",  # the resident who made the request and the series
    "other resident",
    "member",  # of provider P, whose request and offer these are
    "other member",  # of provider Q
    "signer",  # an officer of partner X, whose contract with P the request is under
    "officer",  # of partner X, without the right to sign
    "other officer",  # of another partner, with the right to sign
    "admin",
    "expired",
    "other key",
    "wrong audience",
]
BROKEN = {"expired", "other key", "wrong audience"}

# Who is concerned with the resource a path parameter names (an admin is with every one).
CONCERNED = {
    "request_id": {"owner", "member", "signer", "officer"},
    "offer_id": {"member", "signer", "officer"},  # the offer's provider, its contract's partner
    "series_id": {"owner"},
    "provider_id": {"member", "signer", "officer"},
    "contract_id": {"member", "signer", "officer"},
}
# What a public read answers, where it is not 200.
PUBLIC_ANSWERS = {"/open311/v2/{document}": 404, "/schema/{path}": 404}
# Query parameters an admin must give (others' are their token's).
ADMIN_QUERIES = {("GET", "/offers"): {"provider_id": "provider_id"}}
# Reads that need a query to answer 200, for every caller: the world's values it names.
READ_QUERIES = {("GET", "/choices"): {"category": "category", "region": "region"}}
# A body no command takes: a command that answers 400 to it got past its access rule.
PROBE = {"probe-field-no-command-has": 1}

UNAUTHORIZED, FORBIDDEN, NOT_FOUND = 401, 403, 404
LET_THROUGH = "let through"


def resource_of(route: Route) -> str | None:
    return next((p for p in route.params if p in CONCERNED), None)


def expectation(route: Route, name: str, caller: Caller | None) -> int | str:
    """What ``name`` gets from ``route``, from the route's rule and the table above."""
    rule = route.rule
    assert rule is not None
    if name in BROKEN:
        return UNAUTHORIZED
    if rule.public:
        return LET_THROUGH
    if caller is None:
        return UNAUTHORIZED
    if not rule.allows(caller):
        return FORBIDDEN
    resource = resource_of(route)
    if resource is None or caller.is_admin or name in CONCERNED[resource]:
        return LET_THROUGH
    return NOT_FOUND


@dataclass
class World:
    talkoot: Talkoot
    category: str
    region: str
    ids: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # what could not be made, and why
    tokens: dict[str, str | None] = field(default_factory=dict)
    callers: dict[str, Caller | None] = field(default_factory=dict)

    def person(self, name: str, subject: str, role: Role, **claims: Any) -> None:
        self.tokens[name] = self.talkoot.token(subject, role.value, **claims)
        self.callers[name] = Caller(
            subject,
            frozenset({role}),
            provider_id=claims.get("provider"),
            partner_id=claims.get("partner"),
            may_sign=claims.get("may_sign", False),
        )

    def made(self, name: str, response: httpx.Response | None, key: str = "id") -> None:
        if response is not None and response.status_code in (200, 201):
            self.ids[name] = response.json()[key]
        elif response is not None:
            self.missing[name] = f"{response.status_code} {response.text[:300]}"

    def value(self, param: str) -> str:
        if param in self.ids:
            return self.ids[param]
        if param == "service_file":
            return f"{self.category}.json"
        if param in ("request_file", "token_file"):
            return f"{self.value('request_id')}.json"
        if param in ("document", "path"):
            return "nothing-here.json"
        if param == "year":
            return str(local_today().year)
        if param == "chart":  # the impact report's charts
            return "budget.svg"
        if param in ("category", "region"):
            return getattr(self, param)
        if param == "resident_id":
            # the erasure and the copy of a resident's data are an admin's: a resident who
            # has stored nothing, so that a caller let through wrongly would erase nothing
            return "resident-other"
        if param in self.missing:
            pytest.fail(f"the world has no {param}: making it answered {self.missing[param]}")
        pytest.fail(f"the matrix has no value for the path parameter {param}; add one")

    def url(self, route: Route) -> str:
        path = route.path
        for param in route.params:
            path = path.replace(f"{{{param}}}", self.value(param))
        return self.talkoot.url(route.service, path)


def step(world: World, name: str, make: Any, key: str = "id") -> None:
    """One step of making the world: what fails is noted, and the routes that need it say so."""
    try:
        world.made(name, make(), key)
    except Exception as error:  # a service that cannot do it yet
        world.missing[name] = f"{error.__class__.__name__}: {error}"


def post(world: World, name: str, service: str, path: str, body: Any, who: str) -> None:
    step(world, name, lambda: world.talkoot.post(service, path, body, who=who))


@pytest.fixture(scope="module")
def world(talkoot: Talkoot) -> World:
    category, region = unused_scope()
    world = World(talkoot, category, region)
    for name, founder in (("provider_id", "founder-p"), ("other_provider", "founder-q")):
        body = provider_body(world)
        post(world, name, "providers", "/providers", body, talkoot.token(founder, "resident"))
    provider = world.ids.get("provider_id", "no-provider")
    other = world.ids.get("other_provider", "no-provider")
    world.person("owner", "resident-owner", Role.RESIDENT)
    world.person("other resident", "resident-other", Role.RESIDENT)
    world.person("member", f"member-of-{provider}", Role.PROVIDER, provider=provider)
    world.person("other member", f"member-of-{other}", Role.PROVIDER, provider=other)
    world.person("signer", "officer-x", Role.OFFICER, partner="lahti-city", may_sign=True)
    world.person("officer", "officer-x-no-signing", Role.OFFICER, partner="lahti-city")
    world.person("other officer", "officer-y", Role.OFFICER, partner="other-city", may_sign=True)
    world.person("admin", "admin-matrix", Role.ADMIN)
    world.tokens["nobody"], world.callers["nobody"] = None, None
    broken = broken_tokens(talkoot)
    for name in BROKEN:
        world.tokens[name], world.callers[name] = broken[name], None

    owner, member = world.tokens["owner"], world.tokens["member"]
    step(world, "contract_id", lambda: contract(world))
    talkoot.wait_until_quiet()
    wish = talkoot.request_body(category, region)
    post(world, "request_id", "requests", "/requests", wish, owner)
    step(world, "offer_id", lambda: accepted_offer(world))
    post(world, "series_id", "requests", "/series", series_body(world), owner)
    step(world, "occurrence", lambda: first_occurrence(world))
    pause = {"starts": (local_today() + timedelta(days=60)).isoformat(), "reason": "Loma"}
    post(world, "pause_id", "providers", f"/providers/{provider}/pauses", pause, member)
    joining = {"name": "Toinen Jäsen"}
    post(world, "member_id", "providers", f"/providers/{provider}/members", joining, member)
    admin = world.tokens["admin"]
    unit = {"partner_id": f"matrix-unit-{uuid.uuid4().hex[:8]}", "name": "Matriisin toimiala"}
    post(world, "partner_id", "partnerships", "/partners", unit, admin)
    appointment = {"subject": "matrix-officer", "may_sign": True}
    partner_id = world.ids.get("partner_id", "no-partner")
    post(world, "subject", "partnerships", f"/partners/{partner_id}/officers", appointment, admin)
    if "subject" in world.ids:
        world.ids["subject"] = "matrix-officer"  # the receipt names the partner
    partnership_table(world, admin)
    talkoot.wait_until_quiet()
    return world


def partnership_table(world: World, admin: str) -> None:
    """A table of the world's region, founded a month ago, with a member, a meeting held and
    its fees paid (payout 1), an event, an initiative, and a round with a proposal: all made
    by an admin, who may do what a coordinator does."""
    table_id = f"matrix-{uuid.uuid4().hex[:8]}"
    month_ago = (local_today() - timedelta(days=30)).isoformat()
    founding = {
        "table_id": table_id,
        "name": "Matriisin alueraati",
        "regions": [world.region],
        "coordinator": "matrix-coordinator",
        "founded_on": month_ago,
    }
    post(world, "table_id", "tables", "/tables", founding, admin)
    tables = f"/tables/{table_id}"
    joining = {"member_id": "matrix-table-member", "name": "Jäsen", "on": month_ago}
    post(world, "table_member", "tables", f"{tables}/members", joining, admin)
    post(world, "meeting_id", "tables", f"{tables}/meetings", {"on": month_ago}, admin)
    record = {"attendees": ["matrix-table-member"]}
    meeting = world.ids.get("meeting_id", "no-meeting")
    post(world, "held", "tables", f"{tables}/meetings/{meeting}/record", record, admin)
    post(world, "payout", "tables", f"{tables}/payouts", {"until": month_ago}, admin)
    if "payout" in world.ids:
        world.ids["payout_file"] = f"{world.ids['payout']}.csv"
    gathering = {"title": "Sano sanasi", "on": month_ago, "kind": "speak_out"}
    post(world, "event_id", "tables", f"{tables}/events", gathering, admin)
    raised = {"title": "Matriisin aloite", "origin": "city"}
    post(world, "initiative_id", "tables", f"{tables}/initiatives", raised, admin)
    opening = {
        "title": "Matriisin kierros",
        "year": local_today().year,
        "budget_cents": 10_000,
        "rule": "at_least",
        "minimum": 1,
    }
    post(world, "round_id", "tables", f"{tables}/rounds", opening, admin)
    proposal = {"title": "Penkki", "cost_cents": 1000}
    round_id = world.ids.get("round_id", "no-round")
    post(world, "proposal_id", "tables", f"/rounds/{round_id}/proposals", proposal, admin)


def provider_body(world: World) -> dict[str, Any]:
    return {
        "name": "Matriisi osuuskunta",
        "kind": "cooperative",
        "business_id": "0737546-2",
        "categories": [world.category],
        "regions": [world.region],
        "capacity": 5,
    }


def contract(world: World) -> httpx.Response:
    """Partner X's contract with P, proposed and signed by both."""
    t, provider = world.talkoot, world.ids["provider_id"]
    signed = t.contract(provider, world.category, world.region)  # lahti-city's
    return httpx.Response(201, json=signed)


def accepted_offer(world: World) -> httpx.Response:
    t, request_id = world.talkoot, world.ids["request_id"]
    offered = t.wait_for_status(request_id, "offered")
    t.ok(t.accept(offered["offer_id"], world.ids["provider_id"]))
    t.wait_for_status(request_id, "assigned")
    return httpx.Response(200, json={"id": offered["offer_id"]})


def series_body(world: World) -> dict[str, Any]:
    in_two_days = local_today() + timedelta(days=2)  # well within the series' horizon
    return {
        "category": world.category,
        "region": world.region,
        "rule": "weekly",
        "weekday": in_two_days.strftime("%A").lower(),
        "start_time": "08:00",
    }


def first_occurrence(world: World) -> httpx.Response:
    """The series' first request, which its sweep creates a moment later: made before the
    matrix counts stored events."""
    t, series_id = world.talkoot, world.ids["series_id"]
    series = eventually(
        lambda: t.get("requests", f"/series/{series_id}", who=world.tokens["owner"]).json(),
        lambda seen: bool(seen.get("occurrences")),
        20,
        "the series' first occurrence",
    )
    return httpx.Response(200, json={"id": series["occurrences"][0]["request_id"]})


# --- the bodies -----------------------------------------------------------------------------


def field_values(world: World) -> dict[str, Any]:
    """A value each command's field can take in this world."""
    today = local_today()
    start = datetime.now(UTC) + timedelta(days=2)
    return {
        "category": world.category,
        "region": world.region,
        "categories": [world.category],
        "regions": [world.region],
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
        "hours": 2.0,
        "reason": "Checking who may do this",
        "note": "Checking who may do this",
        "outcome": "upheld",
        "stars": 4,
        "rule": "weekly",
        "weekday": "monday",
        "start_time": "08:00",
        "day": today.isoformat(),
        "name": "Matriisi Oy",
        "kind": "cooperative",
        "business_id": "0737546-2",
        "capacity": 3,
        "starts": (today + timedelta(days=90)).isoformat(),
        "provider_id": world.ids.get("provider_id", "no-provider"),
        "request_id": world.ids.get("request_id", "no-request"),
        "unit_price_cents": 3000,
        "budget_cents": 100_000,
        "valid_from": (today - timedelta(days=30)).isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "party": "partner",
        "partner_id": f"matrix-unit-{uuid.uuid4().hex[:8]}",  # a partner not registered yet
        "subject": "matrix-officer-new",
        "second_signature_above_cents": 1_000_000,
        "effective_from": (today + timedelta(days=10)).isoformat(),
        # the partnership tables'
        "table_id": f"matrix-{uuid.uuid4().hex[:8]}",
        "coordinator": "matrix-coordinator",
        "member_id": "matrix-member-new",
        "on": today.isoformat(),
        "until": today.isoformat(),
        "attendees": [],
        "attendance": 10,
        "title": "Matriisin otsikko",
        "statement": "Matriisin lausunto",
        "answer": "accepted",
        "year": today.year,
        "cost_cents": 1000,
        "amount_cents": 1000,
        "purpose": "other",
        "phase": "reviewing",
        "feasible": True,
        "proposals": [],
        "voter": "resident-owner",
    }


# Optional fields a command needs to be one its service would carry out.
WANTED = {"weekday", "business_id"}


def valid_body(route: Route, world: World) -> Any:
    """A body the route's command would accept, built from its Struct."""
    body_type = route.body_type
    if not is_struct(body_type):
        return None
    values = field_values(world)
    body = {}
    for f in msgspec.structs.fields(body_type):
        if f.encode_name in values and (f.required or f.encode_name in WANTED):
            body[f.encode_name] = values[f.encode_name]
        elif f.required:
            pytest.fail(f"{route.id}: the matrix has no value for the body field {f.encode_name}")
    try:
        msgspec.json.decode(msgspec.json.encode(body), type=body_type)
    except msgspec.ValidationError as error:
        pytest.fail(f"{route.id}: the matrix's body {body} is not valid: {error}")
    return body


# --- calling ----------------------------------------------------------------------------------


def call(world: World, route: Route, name: str, body: Any) -> httpx.Response:
    t = world.talkoot
    headers = t.headers(world.tokens[name])
    queries = READ_QUERIES.get((route.method, route.path), {})
    params = {key: world.value(param) for key, param in queries.items()}
    if name == "admin" and (route.method, route.path) in ADMIN_QUERIES:
        queries = ADMIN_QUERIES[route.method, route.path]
        params = {key: world.value(param) for key, param in queries.items()}
    if route.is_read:
        return t.http.request(route.method, world.url(route), headers=headers, params=params)
    headers["Idempotency-Key"] = uuid.uuid4().hex
    return t.http.request(route.method, world.url(route), json=body, headers=headers)


def every_store(world: World) -> dict[str, int]:
    return {service: stored_events(world.talkoot.stack, service) for service in SERVICES}


def answer(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    return f"{response.status_code} {str(detail)[:160]}"


@pytest.mark.parametrize("route", ALL_ROUTES, ids=[r.id for r in ALL_ROUTES])
def test_each_caller_gets_what_the_route_rule_says(world: World, route: Route):
    if route.rule is None:
        pytest.fail(f"{route.id} declares no access rule")
    expected = {name: expectation(route, name, world.callers[name]) for name in CALLERS}
    refused = [n for n in CALLERS if expected[n] in (UNAUTHORIZED, FORBIDDEN, NOT_FOUND)]
    body = valid_body(route, world)
    wrong: list[str] = []

    world.talkoot.wait_until_quiet()
    before = every_store(world)
    for name in refused:
        response = call(world, route, name, body)
        if response.status_code != expected[name]:
            wrong.append(f"{name}: expected {expected[name]}, got {answer(response)}")
        if response.status_code == UNAUTHORIZED and "www-authenticate" not in response.headers:
            wrong.append(f"{name}: a 401 without WWW-Authenticate")
    stored = every_store(world)
    if stored != before:
        wrong.append(f"refused calls stored events: {before} -> {stored}")

    for name in CALLERS:
        if expected[name] != LET_THROUGH:
            continue
        if route.is_read:
            response = call(world, route, name, None)
            wanted = {PUBLIC_ANSWERS.get(route.path, 200)}
        elif route.rule.public or body is None:
            continue  # it would act: a public command, or one without a body
        else:
            response = call(world, route, name, PROBE)
            wanted = {400}
        if response.status_code not in wanted:
            shown = " or ".join(map(str, sorted(wanted)))
            wrong.append(f"{name} (let through): expected {shown}, got {answer(response)}")
    if every_store(world) != stored:
        wrong.append("the probes of callers let through stored events")

    assert not wrong, f"{route.id} (rule: {route.rule.name}):\n  " + "\n  ".join(wrong)


# --- lists: each caller's own ---------------------------------------------------------------

# The lists of resources, the resource each lists, and what narrows them to this world's
# (filters of the world's values, so that other tests' resources do not crowd them out).
LISTS = {
    ("requests", "/requests"): ("request_id", {"category": "category", "region": "region"}),
    ("requests", "/series"): ("series_id", {}),
    ("matching", "/offers"): ("offer_id", {}),
    ("partnerships", "/ledger"): ("contract_id", {"provider_id": "provider_id"}),
    ("matching", "/budgets"): ("contract_id", {"provider_id": "provider_id"}),
    ("partnerships", "/audit/arrangements"): ("request_id", {"provider_id": "provider_id"}),
}


@pytest.mark.parametrize(("service", "path"), list(LISTS), ids=[" ".join(k) for k in LISTS])
def test_a_list_shows_each_caller_only_their_own(world: World, service: str, path: str):
    route = next((r for r in ROUTES[service] if r.method == "GET" and r.path == path), None)
    assert route is not None, f"{service} has no GET {path}"
    assert route.rule is not None, f"{route.id} declares no access rule"
    resource, narrowing = LISTS[service, path]
    wanted = world.value(resource)
    wrong = []
    for name in CALLERS:
        caller = world.callers[name]
        if name in BROKEN or not route.rule.allows(caller):
            continue  # the matrix checks their refusals
        params = {key: world.value(value) for key, value in narrowing.items()}
        if name == "admin":
            queries = ADMIN_QUERIES.get(("GET", path), {})
            params |= {key: world.value(value) for key, value in queries.items()}
        response = world.talkoot.http.get(
            world.talkoot.url(service, path),
            params=params,
            headers=world.talkoot.headers(world.tokens[name]),
        )
        if response.status_code != 200:
            wrong.append(f"{name}: expected 200, got {answer(response)}")
            continue
        own = name == "admin" or name in CONCERNED[resource]
        if (wanted in response.text) is not own:
            wrong.append(f"{name}: {'does not see' if own else 'sees'} the world's {resource}")
    assert not wrong, f"{route.id} (rule: {route.rule.name}):\n  " + "\n  ".join(wrong)
