"""Residents' personal data on the real stack: never in clear in PostgreSQL or on NATS, shown
to those who may see it, erased on an admin's word (and then erased everywhere, while the
history still replays, the read models rebuild and the ledger balances), and handed to the
resident whole on asking."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import psycopg
import pytest
from psycopg import sql

from contracts.events import (
    PERSONAL,
    RequestRatedV1,
    ResidentErasedV1,
    SeriesEndedV1,
    ServiceRequestedV1,
    encode,
)
from contracts.personal import ERASED
from deploy.stack import Stack
from domain.requests import ServiceRequest
from projections import board, series
from projections.schema import ensure_read_models, read_schema
from services import registry
from services.matching.application import MatchingApplication
from services.platform.identity import Caller, Role
from services.platform.personal import open_event, open_rows
from services.platform.settings import Settings
from services.platform.store import ServiceApplication
from services.requests.application import RequestsApplication
from services.requests.commands import Erasure
from tests.client import Talkoot, eventually, published
from tests.conftest import BOUNDED_RING
from tests.integration.personal import keyring, opened
from tests.web import text_of

pytestmark = pytest.mark.slow


SERVICES = [service.name for service in registry.SERVICES]


def unique(words: str) -> str:
    """Words no other test writes, to look for in the raw bytes."""
    return f"{words} {uuid.uuid4().hex[:10]}"


def a_point() -> tuple[float, float]:
    """A point of its own in the tests' bounded region (no provider works there)."""
    (west, south), (east, north) = BOUNDED_RING[0], BOUNDED_RING[2]
    return (
        round(random.uniform(south + 0.01, north - 0.01), 7),
        round(random.uniform(west + 0.01, east - 0.01), 7),
    )


def window(days: int = 1) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(days=days)
    return {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
    }


# --- looking for words in every table of every schema ----------------------------------------


def tables_holding(stack: Stack, *needles: str) -> dict[str, list[str]]:
    """For each needle, the tables (``schema.table``) of the database where any row holds it:
    as text in any column (a row cast to text), or as UTF-8 bytes in a bytea column (the
    stored events)."""
    found: dict[str, list[str]] = {needle: [] for needle in needles}
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, kind in conn.execute(
            """SELECT c.table_schema, c.table_name, c.column_name, c.data_type
               FROM information_schema.columns c JOIN information_schema.tables t
                 ON t.table_schema = c.table_schema AND t.table_name = c.table_name
               WHERE t.table_type = 'BASE TABLE'
                 AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"""
        ).fetchall():
            columns.setdefault((schema, table), []).append((column, kind))
        for (schema, table), cols in sorted(columns.items()):
            name = sql.Identifier(schema, table)
            for needle in needles:
                conditions = [sql.SQL("r::text LIKE {}").format(sql.Literal(f"%{needle}%"))]
                conditions += [
                    sql.SQL("position({} in r.{}) > 0").format(
                        sql.Literal(needle.encode()), sql.Identifier(column)
                    )
                    for column, kind in cols
                    if kind == "bytea"
                ]
                query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} r WHERE {})").format(
                    name, sql.SQL(" OR ").join(conditions)
                )
                if conn.execute(query).fetchone()[0]:
                    found[needle].append(f"{schema}.{table}")
    return found


def stored_states(stack: Stack, schema: str) -> bytes:
    """Every stored event's (and snapshot's) bytes in a service's schema, as PostgreSQL
    holds them."""
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = %s AND column_name = 'state' AND data_type = 'bytea'",
                (schema,),
            ).fetchall()
        ]
        return b"".join(
            bytes(state)
            for table in tables
            for (state,) in conn.execute(
                sql.SQL("SELECT state FROM {}").format(sql.Identifier(schema, table))
            ).fetchall()
        )


def settings_of(stack: Stack, namespace: str | None = None) -> Settings:
    return Settings(
        database_url=stack.database_url,
        nats_url=stack.nats_url,
        namespace=namespace or stack.namespace,
        personal_data_key=stack.secrets["personal"],
    )


def drop_requests_store(stack: Stack, settings: Settings) -> None:
    """Drop the requests store and the residents' keys a test made under its own namespace."""
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        for schema in (settings.schema("requests"), settings.schema("personal_keys")):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# --- a new request leaves its address and description nowhere in clear ---------------------


def test_a_new_requests_address_and_description_are_in_no_table_in_clear(talkoot: Talkoot):
    resident = f"resident-pd-{uuid.uuid4().hex[:8]}"
    address, description = unique("Kuusikatu 7 B 12"), unique("Avain on ruukun alla")
    lat, long = a_point()
    body = {
        "category": "yard-work",
        "address": address,
        "description": description,
        "lat": lat,
        "long": long,
        **window(),
    }
    made = talkoot.ok(talkoot.post("requests", "/requests", body, who=talkoot.resident(resident)))
    entry = talkoot.board_entry(made["id"], made["position"])
    assert (entry["address"], entry["description"], entry["lat"]) == (address, description, lat)
    talkoot.wait_until_quiet()  # matching opened its job, every read model has it

    found = tables_holding(talkoot.stack, address, description, str(lat), resident)
    assert found[address] == [] and found[description] == [] and found[str(lat)] == []
    # the search finds what is there in clear: the resident's pseudonymous id is
    assert f"{talkoot.stack.namespace}_read.board" in found[resident]
    assert f"{talkoot.stack.namespace}_requests.requests_events" in found[resident]


def test_what_travels_on_nats_is_sealed_for_the_resident(talkoot: Talkoot):
    resident = f"resident-pd-{uuid.uuid4().hex[:8]}"
    address, description = unique("Koivukuja 3"), unique("Portti jumittaa")
    body = {
        "category": "yard-work",
        "region": "test-bounded",
        "address": address,
        "description": description,
        **window(),
    }
    made = talkoot.ok(talkoot.post("requests", "/requests", body, who=talkoot.resident(resident)))
    talkoot.wait_until_quiet()
    messages = published(talkoot.stack, "requests")
    [event] = [e for _, e in messages if getattr(e, "request_id", None) == made["id"][:36]][:1]
    assert isinstance(event, ServiceRequestedV1)
    assert (event.address, event.description, event.lat, event.long) == ("", "", None, None)
    assert event.sealed is not None and event.sealed.resident_id == resident
    assert address.encode() not in encode(event) and description.encode() not in encode(event)
    assert opened(talkoot.stack, event)["address"] == address
    assert opened(talkoot.stack, event)["description"] == description


# --- erasure ------------------------------------------------------------------------------


@dataclass
class World:
    """A resident with requests (one rated, one disputed and ruled on, one cancelled, a public
    matter with its point) and a series, erased by an admin; what was seen before."""

    resident: str
    provider_id: str = ""
    contract_id: str = ""
    words: dict[str, str] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)  # name -> request id
    series_id: str = ""
    point: tuple[float, float] = (0.0, 0.0)
    ledger_before: dict = field(default_factory=dict)
    export_before: dict = field(default_factory=dict)
    erasure: dict = field(default_factory=dict)


def submit(talkoot: Talkoot, world: World, name: str, **body: Any) -> str:
    made = talkoot.ok(
        talkoot.post(
            "requests", "/requests", {**body, **window()}, who=talkoot.resident(world.resident)
        )
    )
    world.requests[name] = made["id"]
    return made["id"]


def assigned(talkoot: Talkoot, world: World, request_id: str) -> None:
    offered = talkoot.wait_for_status(request_id, "offered")
    assert offered["provider_id"] == world.provider_id
    talkoot.ok(talkoot.accept(offered["offer_id"], world.provider_id))
    talkoot.wait_for_status(request_id, "assigned")


def completed(talkoot: Talkoot, world: World, request_id: str, hours: float) -> None:
    assigned(talkoot, world, request_id)
    member = talkoot.member(world.provider_id)
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": hours}, who=member))
    talkoot.wait_for_status(request_id, "completed")


@pytest.fixture(scope="module")
def world(talkoot: Talkoot) -> World:
    from tests.conftest import unused_scope

    category, region = unused_scope()
    world = World(resident=f"resident-erased-{uuid.uuid4().hex[:8]}")
    world.provider_id, world.contract_id = talkoot.ready_provider(category, region)
    me = talkoot.resident(world.resident)
    w = world.words
    for name in ("rated", "disputed", "cancelled", "public"):
        w[f"{name} address"] = unique(f"Mäkitie {len(w) + 1}")
        w[f"{name} description"] = unique(f"Ovikoodi {len(w) + 1}")
    w["comment"], w["dispute"] = unique("Kiitos Aino"), unique("Vain puolet tehtiin")
    w["cancel"], w["series description"] = unique("Muutan pois"), unique("Portaat joka viikko")
    w["series address"] = unique("Lehtokatu 9")

    def place(name: str) -> dict[str, str]:
        return {"address": w[f"{name} address"], "description": w[f"{name} description"]}

    rated = submit(talkoot, world, "rated", category=category, region=region, **place("rated"))
    completed(talkoot, world, rated, 2.0)
    talkoot.ok(talkoot.on_request(rated, "confirmation", {}, who=me))
    talkoot.wait_for_status(rated, "confirmed")
    rating = {"stars": 4, "comment": w["comment"]}
    talkoot.ok(talkoot.on_request(rated, "rating", rating, who=me))

    disputed = submit(
        talkoot, world, "disputed", category=category, region=region, **place("disputed")
    )
    completed(talkoot, world, disputed, 3.0)
    talkoot.ok(talkoot.on_request(disputed, "dispute", {"reason": w["dispute"]}, who=me))
    talkoot.wait_for_status(disputed, "disputed")
    ruling = {"outcome": "adjusted", "hours": 1.5, "note": "Checked on site"}
    talkoot.ok(talkoot.on_request(disputed, "resolution", ruling, who=talkoot.officer()))
    talkoot.wait_for_status(disputed, "confirmed")

    cancelled = submit(
        talkoot, world, "cancelled", category=category, region=region, **place("cancelled")
    )
    talkoot.wait_for_status(cancelled, "offered")
    talkoot.ok(talkoot.on_request(cancelled, "cancellation", {"reason": w["cancel"]}, who=me))

    world.point = a_point()
    lat, long = world.point
    submit(
        talkoot, world, "public", category="path-clearing", lat=lat, long=long, **place("public")
    )

    day = (datetime.now(UTC) + timedelta(days=30)).date()
    started = talkoot.ok(
        talkoot.post(
            "requests",
            "/series",
            {
                "category": category,
                "region": region,
                "rule": "weekly",
                "weekday": day.strftime("%A").lower(),
                "start_time": "08:00",
                "starts_on": day.isoformat(),
                "description": w["series description"],
                "address": w["series address"],
            },
            who=me,
        )
    )
    world.series_id = started["id"]
    talkoot.wait_until_quiet()

    world.ledger_before = talkoot.ledger(world.contract_id)
    world.export_before = talkoot.ok(talkoot.get("requests", "/residents/me/data", who=me), 200)

    erased = talkoot.post(
        "requests",
        f"/residents/{world.resident}/erasure",
        {"reason": "case 2026-042"},
        who=talkoot.admin(),
    )
    world.erasure = talkoot.ok(erased)
    talkoot.wait_until_quiet()
    return world


def personal_words(world: World) -> list[str]:
    return list(world.words.values())


def test_before_erasure_the_resident_had_it_all_in_their_copy(world: World):
    data = world.export_before
    assert data["resident_id"] == world.resident
    by_id = {r["request_id"]: r for r in data["requests"]}
    assert set(by_id) == set(world.requests.values())
    rated = by_id[world.requests["rated"]]
    assert (rated["address"], rated["description"]) == (
        world.words["rated address"],
        world.words["rated description"],
    )
    assert rated["rating"] == 4 and rated["rating_comment"] == world.words["comment"]
    assert [e["what"] for e in rated["events"]][:1] == ["submitted"]
    assert all(datetime.fromisoformat(e["at"]).tzinfo for e in rated["events"])
    assert [(r["stars"], r["comment"]) for r in data["ratings"]] == [(4, world.words["comment"])]
    assert [d["reason"] for d in data["disputes"]] == [world.words["dispute"]]
    public = by_id[world.requests["public"]]
    assert (public["lat"], public["long"]) == world.point
    [series_copy] = data["series"]
    assert series_copy["description"] == world.words["series description"]
    assert series_copy["address"] == world.words["series address"]
    assert series_copy["events"][0]["what"] == "started"
    assert data["erasures"] == [] and data["erased"] == ERASED


def test_after_erasure_every_answer_reads_erased(talkoot: Talkoot, world: World):
    for name, request_id in world.requests.items():
        for who in (talkoot.resident(world.resident), talkoot.admin()):
            entry = talkoot.ok(talkoot.get("requests", f"/requests/{request_id}", who=who), 200)
            assert (entry["address"], entry["description"], entry["media_url"]) == (
                ERASED,
                ERASED,
                ERASED,
            ), name
            assert (entry["lat"], entry["long"]) == (None, None)
        history = talkoot.ok(talkoot.get("requests", f"/requests/{request_id}/history"), 200)
        assert history[0]["what"] == "submitted"  # the aggregate still loads, whole
    rated = talkoot.board_entry(world.requests["rated"])
    assert (rated["status"], rated["rating"], rated["rating_comment"]) == ("confirmed", 4, ERASED)
    disputed = talkoot.get("requests", f"/requests/{world.requests['disputed']}/history").json()
    assert [e.get("reason") for e in disputed if e["what"] == "disputed"] == [ERASED]
    assert talkoot.board_entry(world.requests["cancelled"])["reason"] == ERASED
    # the public board shows the public matter's place and what was asked: erased
    shown = talkoot.ok(talkoot.get("requests", f"/board/{world.requests['public']}", who=None), 200)
    assert (shown["address"], shown["description"], shown["lat"]) == (ERASED, ERASED, None)
    # the series: its view from the store, its entry in the list, ended by the erasure
    me = talkoot.resident(world.resident)
    one = talkoot.ok(talkoot.get("requests", f"/series/{world.series_id}", who=me), 200)
    assert (one["description"], one["address"], one["status"]) == (ERASED, ERASED, "ended")
    assert one["ended_reason"] == ERASED
    [listed] = talkoot.ok(talkoot.get("requests", "/series/", who=me), 200)
    assert (listed["description"], listed["ended_reason"]) == (ERASED, ERASED)
    # the provider's view of its job
    member = talkoot.member(world.provider_id)
    job = talkoot.ok(
        talkoot.get("requests", f"/requests/{world.requests['rated']}", who=member), 200
    )
    assert job["address"] == ERASED


def test_after_erasure_the_stored_events_hold_none_of_it(talkoot: Talkoot, world: World):
    namespace = talkoot.stack.namespace
    stored = b"".join(stored_states(talkoot.stack, f"{namespace}_{s}") for s in SERVICES)
    for words in personal_words(world):
        assert words.encode() not in stored, words
    found = tables_holding(talkoot.stack, *personal_words(world), str(world.point[0]))
    assert all(tables == [] for tables in found.values()), found


def test_after_erasure_every_aggregate_loads_and_reads_erased(talkoot: Talkoot, world: World):
    stack = talkoot.stack
    app = RequestsApplication(settings_of(stack))
    matching = MatchingApplication(settings_of(stack))
    try:
        for service, application in (("requests", app), ("matching", matching)):
            with psycopg.connect(stack.database_url, autocommit=True) as conn:
                ids = [
                    row[0]
                    for row in conn.execute(
                        sql.SQL("SELECT DISTINCT originator_id FROM {}").format(
                            sql.Identifier(f"{stack.namespace}_{service}", f"{service}_events")
                        )
                    ).fetchall()
                ]
            assert ids
            for aggregate_id in ids:  # every aggregate of the store replays
                application.repository.get(aggregate_id)
        for name, request_id in world.requests.items():
            request = app.get_request(request_id)
            assert isinstance(request, ServiceRequest)
            assert (request.address, request.description, request.lat) == (ERASED, ERASED, None)
            assert request.resident_id == world.resident, name
        assert app.get_request(world.requests["rated"]).rating_comment == ERASED
        job = matching.repository.get(uuid.UUID(world.requests["public"]))
        assert (job.lat, job.long) == (None, None)
    finally:
        app.close()
        matching.close()


def test_after_erasure_the_ledger_is_as_it_was(talkoot: Talkoot, world: World):
    after = talkoot.ledger(world.contract_id)
    assert after == world.ledger_before
    assert after["charged_cents"] == (2.0 + 1.5) * 3000  # both jobs, the ruling's hours
    assert len(after["entries"]) == 2


def test_after_erasure_what_is_on_nats_opens_as_erased(talkoot: Talkoot, world: World):
    stack = talkoot.stack
    messages = [e for _, e in published(stack, "requests")]
    ours = set(world.requests.values()) | {world.series_id}
    sealed = [
        e
        for e in messages
        if type(e) in PERSONAL and (getattr(e, "request_id", None) or e.series_id) in ours
    ]
    assert {type(e).__name__ for e in sealed} >= {
        "ServiceRequestedV1",
        "RequestRatedV1",
        "RequestDisputedV1",
        "RequestCancelledV1",
        "SeriesStartedV1",
        "SeriesEndedV1",
    }
    text = b"".join(encode(e) for e in messages)
    for words in personal_words(world):
        assert words.encode() not in text, words
    for event in sealed:
        # sealed when it was published, or (published after the erasure) as erased
        assert event.sealed is not None, event
        values = opened(stack, event)
        assert set(values.values()) <= {ERASED, None}, (type(event).__name__, values)
    # published after the erasure: the series it ended, and the erasure itself
    [ended] = [e for e in sealed if isinstance(e, SeriesEndedV1)]
    [erasure] = [
        e for e in messages if isinstance(e, ResidentErasedV1) and e.resident_id == world.resident
    ]
    assert ended.occurred_at >= erasure.occurred_at - timedelta(seconds=1)
    assert (erasure.erased_by, erasure.reason, erasure.keys) == ("admin-1", "case 2026-042", 1)
    assert any(isinstance(e, RequestRatedV1) for e in sealed)


def test_the_read_models_rebuilt_from_the_streams_read_erased(talkoot: Talkoot, world: World):
    """The projector's read models of the requests stream, built again from its first
    message into a schema of their own: the same rows as the live ones, and erased."""
    stack = talkoot.stack
    run = published(stack, "requests")
    scratch = f"rebuilt_{uuid.uuid4().hex[:8]}"
    live, again = read_schema(stack.namespace), read_schema(scratch)
    keys = keyring(stack)

    async def rebuild() -> tuple[list[dict], list[dict], list[dict]]:
        pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
        try:
            await ensure_read_models(pool, scratch)
            await board.read_model(pool, again)(run)
            await series.read_model(pool, again)(run)
            ids = list(world.requests.values())
            query = f"SELECT {board.COLUMNS} FROM {{}}.board WHERE request_id = ANY($1) ORDER BY 1"
            rebuilt = [dict(r) for r in await pool.fetch(query.format(again), ids)]
            kept = [dict(r) for r in await pool.fetch(query.format(live), ids)]
            opened_rows = await open_rows(keys, pool, [dict(r) for r in rebuilt], board.SEALED)
            return rebuilt, kept, opened_rows
        finally:
            async with pool.acquire() as conn:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{again}" CASCADE')
            await pool.close()

    rebuilt, kept, opened_rows = asyncio.run(rebuild())
    assert len(rebuilt) == len(world.requests)
    assert rebuilt == kept
    for row in opened_rows:
        assert (row["address"], row["description"], row["lat"]) == (ERASED, ERASED, None)


def test_after_erasure_the_residents_copy_reads_erased_and_names_the_erasure(
    talkoot: Talkoot, world: World
):
    me = talkoot.resident(world.resident)
    data = talkoot.ok(talkoot.get("requests", "/residents/me/data", who=me), 200)
    by_id = {r["request_id"]: r for r in data["requests"]}
    assert set(by_id) == set(world.requests.values())
    assert {r["address"] for r in by_id.values()} == {ERASED}
    assert [r["comment"] for r in data["ratings"]] == [ERASED]
    assert [d["reason"] for d in data["disputes"]] == [ERASED]
    [erasure] = data["erasures"]
    assert (erasure["erased_by"], erasure["reason"], erasure["keys"]) == (
        "admin-1",
        "case 2026-042",
        1,
    )
    by_admin = talkoot.ok(talkoot.get("requests", f"/residents/{world.resident}/data"), 200)
    assert by_admin["requests"] == data["requests"]


def test_erasing_again_with_nothing_stored_since_is_refused(talkoot: Talkoot, world: World):
    again = talkoot.post(
        "requests", f"/residents/{world.resident}/erasure", {"reason": "twice"}, who=talkoot.admin()
    )
    assert again.status_code == 409, again.text
    assert again.json()["extra"]["rule"] == "already_erased"


def test_what_the_resident_stores_after_an_erasure_is_theirs_and_erasable(
    talkoot: Talkoot, world: World
):
    fresh = unique("Uusi osoite 1")
    made = talkoot.ok(
        talkoot.post(
            "requests",
            "/requests",
            {"category": "yard-work", "region": "test-bounded", "address": fresh, **window()},
            who=talkoot.resident(world.resident),
        )
    )
    assert talkoot.board_entry(made["id"], made["position"])["address"] == fresh
    assert talkoot.board_entry(world.requests["rated"])["address"] == ERASED
    again = talkoot.post(
        "requests",
        f"/residents/{world.resident}/erasure",
        {"reason": "case 2026-043"},
        who=talkoot.admin(),
    )
    assert again.status_code == 201, again.text
    entry = eventually(
        lambda: talkoot.board_entry(made["id"]),
        lambda e: e["address"] == ERASED,
        10,
        "the new request erased",
    )
    assert entry["status"] in ("submitted", "unmatched")


@pytest.mark.parametrize(
    ("body", "who", "status", "named"),
    [
        ({}, "admin", 400, "reason"),
        ({"reason": "   "}, "admin", 400, "reason"),
        ({"reason": "x" * 1001}, "admin", 400, "reason"),
        ({"reason": "case 1", "resident_id": "someone"}, "admin", 400, "resident_id"),
        ({"reason": "case 1"}, "resident", 403, ""),
        ({"reason": "case 1"}, "officer", 403, ""),
        ({"reason": "case 1"}, None, 401, ""),
    ],
)
def test_a_refused_erasure_says_why_and_erases_nothing(
    talkoot: Talkoot, body: dict, who: str | None, status: int, named: str
):
    resident = f"resident-kept-{uuid.uuid4().hex[:8]}"
    address = unique("Pysyvä tie 2")
    made = talkoot.ok(
        talkoot.post(
            "requests",
            "/requests",
            {"category": "yard-work", "region": "test-bounded", "address": address, **window()},
            who=talkoot.resident(resident),
        )
    )
    tokens = {
        "admin": talkoot.admin(),
        "resident": talkoot.resident(resident),
        "officer": talkoot.officer(),
        None: None,
    }
    refused = talkoot.post("requests", f"/residents/{resident}/erasure", body, who=tokens[who])
    assert refused.status_code == status, refused.text
    if named:
        assert named in refused.text
    assert talkoot.board_entry(made["id"], made["position"])["address"] == address


def test_erasing_a_resident_of_whom_nothing_is_held_is_not_found(talkoot: Talkoot):
    nobody = f"resident-never-{uuid.uuid4().hex[:8]}"
    answer = talkoot.post(
        "requests", f"/residents/{nobody}/erasure", {"reason": "case 7"}, who=talkoot.admin()
    )
    assert answer.status_code == 404, answer.text
    assert nobody in answer.json()["detail"]


# --- the web front ------------------------------------------------------------------------


def test_the_resident_pages_say_erased_in_the_pages_language(web, world: World):
    request_id = world.requests["rated"]
    for lang, word in (("fi", "poistettu"), ("en", "erased")):
        browser = web.signed_in("resident", world.resident, lang=lang)
        page = browser.get(f"/my/requests/{request_id}")
        assert page.status_code == 200, page.text
        words = text_of(page.text)
        assert f"{word}" in words and ERASED not in words
        assert world.words["rated address"] not in page.text
        series_page = browser.get("/my/series")
        assert word in text_of(series_page.text) and ERASED not in series_page.text


def test_the_providers_job_card_says_erased(web, world: World):
    browser = web.signed_in(
        "provider", f"member-of-{world.provider_id}", acts_for=world.provider_id, lang="fi"
    )
    page = browser.get("/provider/jobs")
    assert page.status_code == 200, page.text
    assert "poistettu" in text_of(page.text) and ERASED not in page.text


# --- access -------------------------------------------------------------------------------


def test_a_resident_downloads_their_data_from_the_front(web, talkoot: Talkoot):
    resident = f"resident-copy-{uuid.uuid4().hex[:8]}"
    address, description = unique("Rantatie 4"), unique("Kissa ei saa karata")
    made = talkoot.ok(
        talkoot.post(
            "requests",
            "/requests",
            {
                "category": "yard-work",
                "region": "test-bounded",
                "address": address,
                "description": description,
                **window(),
            },
            who=talkoot.resident(resident),
        )
    )
    talkoot.board_entry(made["id"], made["position"])
    browser = web.signed_in("resident", resident, lang="fi")
    listing = browser.get("/my/requests")
    assert 'href="/my/data"' in listing.text and "Lataa tietoni" in listing.text
    assert 'href="/my/data"' in browser.get("/my/series").text
    download = browser.get("/my/data")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    data = download.json()
    [mine] = data["requests"]
    assert (mine["request_id"], mine["address"], mine["description"]) == (
        made["id"],
        address,
        description,
    )
    # another resident's copy has none of it; an admin fetches anybody's
    other = talkoot.get("requests", "/residents/me/data", who=talkoot.resident("resident-2"))
    assert address not in other.text
    by_admin = talkoot.ok(talkoot.get("requests", f"/residents/{resident}/data"), 200)
    assert by_admin["requests"][0]["address"] == address
    not_admin = talkoot.get(
        "requests", f"/residents/{resident}/data", who=talkoot.resident("resident-2")
    )
    assert not_admin.status_code == 403


# --- events stored in plain text before personal data was sealed ------------------------


class PlainRequests(ServiceApplication):
    """The requests service's store as it was before: personal fields in plain text."""

    service = "requests"


def test_events_stored_in_plain_text_before_still_read_and_erase(stack: Stack):
    namespace = f"test_plain_{uuid.uuid4().hex[:8]}"
    settings = settings_of(stack, namespace)
    resident, address = "resident-old", unique("Vanha katu 1")
    start = datetime.now(UTC) + timedelta(days=2)
    old = PlainRequests(settings)
    request = ServiceRequest.submit(
        resident_id=resident,
        category="yard-work",
        region="hollola",
        description="Vanha kuvaus",
        window_start=start,
        window_end=start + timedelta(hours=2),
        address=address,
    )
    try:
        old.commit(request)
        old.close()
        assert address.encode() in stored_states(stack, settings.schema("requests"))
        app = RequestsApplication(settings)
        try:
            found = app.get_request(str(request.id))
            assert (found.address, found.description) == (address, "Vanha kuvaus")
            admin = Caller("admin-1", frozenset({Role.ADMIN}))
            app.erase_resident(admin, resident, Erasure(reason="case old"), [str(request.id)], [])
            found = app.get_request(str(request.id))
            assert (found.address, found.description) == (ERASED, ERASED)
        finally:
            app.close()
    finally:
        drop_requests_store(stack, settings)


class SnapshottingRequests(RequestsApplication):
    is_snapshotting_enabled = True


def test_a_snapshot_keeps_the_residents_data_sealed_too(stack: Stack):
    namespace = f"test_snap_{uuid.uuid4().hex[:8]}"
    settings = settings_of(stack, namespace)
    resident, address = "resident-snap", unique("Tilannekuvakatu 5")
    start = datetime.now(UTC) + timedelta(days=2)
    app = SnapshottingRequests(settings)
    try:
        made = app.submit_request(
            resident_id=resident,
            category="yard-work",
            region="hollola",
            description="Kuvaus",
            window_start=start,
            window_end=start + timedelta(hours=2),
            address=address,
        )
        request_id = uuid.UUID(made.id)
        app.take_snapshot(request_id)
        assert address.encode() not in stored_states(stack, settings.schema("requests"))
        [snapshot] = app.snapshots.get(request_id)
        assert (snapshot.state["address"], snapshot.state["description"]) == (address, "Kuvaus")
        assert app.get_request(made.id).address == address  # loaded from the snapshot
        app.keyring.erase(resident)
        [snapshot] = app.snapshots.get(request_id)
        assert (snapshot.state["address"], snapshot.state["lat"]) == (ERASED, None)
        assert app.get_request(made.id).address == ERASED
    finally:
        app.close()
        drop_requests_store(stack, settings)


def test_a_page_of_stored_events_looks_its_residents_keys_up_in_one_query(stack: Stack):
    """The relay and `talkoot check` read stored events a page at a time: the keys of all the
    page's residents come in one query, not one each, and the events read the same."""
    from services.platform.relay import integration_events
    from services.requests.__main__ import SPEC

    settings = settings_of(stack, f"test_keys_{uuid.uuid4().hex[:8]}")
    app = RequestsApplication(settings)
    start = datetime.now(UTC) + timedelta(days=2)
    residents = [f"resident-page-{n}" for n in range(4)]
    try:
        for resident in residents:
            app.submit_request(
                resident_id=resident,
                category="yard-work",
                region="hollola",
                description=f"Kuvaus {resident}",
                window_start=start,
                window_end=start + timedelta(hours=2),
                address=unique("Sivukatu 3"),
            )
        app.keyring.erase(residents[0])
        page = app.process_recorder.select_notifications(1, 100)
        assert len(page) == len(residents)
        lookups = []
        transaction, statement = app.keyring._transaction, app.keyring._statement

        def counted(way):
            def use():
                lookups.append(1)
                return way()

            return use

        app.keyring._transaction, app.keyring._statement = counted(transaction), counted(statement)
        events = integration_events(app, SPEC.outbound, page)
        assert len(lookups) == 1, f"{len(lookups)} key lookups for a page of four residents"
        app.keyring._transaction, app.keyring._statement = transaction, statement

        def clear(event: Any) -> dict[str, Any]:
            return open_event(app.keyring, event, PERSONAL[type(event)])

        read = [clear(e) for e in events]
        one_at_a_time = [
            clear(e) for n in page for e in integration_events(app, SPEC.outbound, [n])
        ]
        assert read == one_at_a_time
        assert read[0]["description"] == ERASED
        assert [r["description"] for r in read[1:]] == [f"Kuvaus {r}" for r in residents[1:]]
    finally:
        app.close()
        drop_requests_store(stack, settings)
