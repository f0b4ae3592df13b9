"""Consumers on a real PostgreSQL and NATS never stop on one bad event: it is set aside as a dead
letter after a few tries and the later events still flow; a failure that passes (a server away
for a moment) is waited out and never set aside; a replay applies a dead letter once; and a
consumer that makes no progress turns its service's /health to 503."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
import httpx
import psycopg
import pytest
from eventsourcing.domain import Aggregate

from contracts.connection import connect
from contracts.events import ProviderRegisteredV1, ServiceRequestedV1, encode
from contracts.jetstream import (
    Consumer,
    Policy,
    Subscription,
    dead_letters,
    ensure_streams,
    publish,
)
from contracts.streams import DEAD_LETTERS, replay_subject, stream_name
from deploy.stack import Stack, stream_report
from projections.__main__ import subscriptions as projector_subscriptions
from projections.schema import ensure_read_models, read_schema
from services import cli, registry
from services.platform.errors import NotFound
from services.platform.inbound import tracked
from services.platform.settings import Settings
from services.platform.store import Changes, ServiceApplication
from tests.conftest import another_talkoot
from tests.integration.messages import registered

# Quick tries, so that a test sees a dead letter within a second.
FAST = Policy(attempts=3, retry_pause=0.05, max_pause=0.5, stall_after=2)


class Note(Aggregate):
    """What the test's use case stores for each event: one note per provider."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"talkoot-test-note:{key}")

    def __init__(self, key: str) -> None:
        self.key = key


class NotesApplication(ServiceApplication):
    service = "notes"


def requested(n: int, region: str = "hollola") -> ServiceRequestedV1:
    """A request as it travels (its personal fields sealed, so none here), in ``region``:
    a region the board cannot store makes a bad event."""
    start = datetime.now(UTC) + timedelta(days=1)
    return ServiceRequestedV1(
        occurred_at=datetime.now(UTC),
        request_id=str(uuid.uuid4()),
        resident_id="resident-1",
        category="yard-work",
        region=region,
        description="",
        window_start=start,
        window_end=start + timedelta(hours=4),
    )


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


async def until(check, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def streams(stack: Stack, user: str):
    """A NATS connection as ``user`` (the service whose stream the test publishes to, which may
    also write dead letters) and a namespace of the test's own, with its streams; dropped after
    by the operator."""
    namespace = f"t{uuid.uuid4().hex[:8]}"
    nc = await connect(stack.nats_url, "test-dead-letters", **stack.nats_options(user))
    js = nc.jetstream()
    try:
        await ensure_streams(js, namespace, registry.STREAMS)
        yield nc, js, namespace
    finally:
        await nc.close()
        operator = await connect(stack.nats_url, "test-cleanup", **stack.nats_options())
        for stream in (*registry.STREAMS, DEAD_LETTERS):
            with contextlib.suppress(Exception):
                await operator.jetstream().delete_stream(stream_name(stream, namespace))
        await operator.close()


@contextlib.asynccontextmanager
async def running(consumer: Consumer):
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
def notes(stack: Stack):
    """A service Application of the test's own (its own schema), whose use case stores notes."""
    settings = Settings(stack.database_url, stack.nats_url, namespace=f"t{uuid.uuid4().hex[:8]}")
    app = NotesApplication(settings)
    yield app
    app.close()
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema("notes")}" CASCADE')


def note_of(app: NotesApplication, n: int) -> Note | None:
    try:
        return app.get(Note.create_id(f"p-{n}"))
    except NotFound:
        return None


def stored_events(app: NotesApplication) -> int:
    with app.process_recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            f'SELECT count(*) AS n FROM "{app.process_recorder.datastore.schema}".notes_events'
        )
        return curs.fetchone()["n"]


def test_an_event_the_board_cannot_store_is_dead_lettered_and_later_events_still_reach_it(
    stack: Stack,
):
    async def scenario():
        pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
        async with streams(stack, "requests") as (_, js, namespace):
            schema = read_schema(namespace)
            await ensure_read_models(pool, namespace)
            try:
                (board,) = [
                    s
                    for s in projector_subscriptions(pool, schema)
                    if s.durable == "projection-board"
                ]
                events = [
                    requested(1),
                    requested(2, "PostgreSQL refuses a NUL: \x00"),
                    requested(3),
                ]
                for position, event in enumerate(events, start=1):
                    await (await publish(js, "requests", position, event, namespace))
                async with running(Consumer(js, board, namespace, FAST)) as consumer:

                    async def tracked_position():
                        return (
                            await pool.fetchval(
                                f"SELECT position FROM {schema}.tracking WHERE projection = 'board'"
                            )
                            == 3
                        )

                    await until(tracked_position, what="the board to be past position 3")
                    ids = {
                        r["request_id"]
                        for r in await pool.fetch(f"SELECT request_id FROM {schema}.board")
                    }
                    letters = await dead_letters(js, namespace)
                    operator = await connect(stack.nats_url, "test", **stack.nats_options())
                    try:
                        answer = await operator.request(
                            replay_subject("projection-board", namespace),
                            str(letters[0]["seq"]).encode(),
                            timeout=10,
                        )
                    finally:
                        await operator.close()
                    kept = await dead_letters(js, namespace)
                    state = consumer.state.report(FAST.stall_after)
                    report = await stream_report(
                        stack.nats_url, namespace, dead_letters=True, **stack.nats_options()
                    )
                (board_consumer,) = [
                    c
                    for stream in report
                    if stream["upstream"] == "requests"
                    for c in stream["consumers"]
                ]
                return events, ids, letters, json.loads(answer.data), kept, state, board_consumer
            finally:
                await pool.execute(f"DROP SCHEMA {schema} CASCADE")
                await pool.close()

    events, ids, letters, answer, kept, state, board_consumer = run(scenario())
    assert ids == {events[0].request_id, events[2].request_id}
    assert len(letters) == 1
    letter = letters[0]
    assert letter["data"] == encode(events[1])
    assert letter["consumer"] == "projection-board"
    assert letter["upstream"] == "requests"
    assert letter["position"] == "2"
    assert letter["event"] == "ServiceRequestedV1"
    assert letter["attempts"] == "3"
    assert letter["stream_seq"] == "2"
    assert letter["subject"].endswith(".requests.ServiceRequestedV1")
    assert "CharacterNotInRepertoire" in letter["reason"]
    # Replayed while the event is still bad: the reason comes back and the dead letter stays.
    assert answer["ok"] is False and "CharacterNotInRepertoire" in answer["detail"]
    assert [k["seq"] for k in kept] == [letter["seq"]]
    assert state["dead_letters"] == 1 and state["position"] == 3 and state["stalled"] is None
    # what `talkoot status` shows for it
    assert board_consumer["name"] == "projection-board"
    assert board_consumer["dead_letters"] == 1 and board_consumer["pending"] == 0


def test_a_consumer_with_messages_waiting_that_acknowledges_none_shows_stalled_in_the_stream_report(
    stack: Stack,
):
    """How `talkoot status` finds a stalled projector consumer, which has no /health."""

    release = asyncio.Event()

    async def hang(run):
        await release.wait()  # as a handler waiting on a lock does

    async def applied(run):
        pass

    async def scenario():
        async with streams(stack, "providers") as (_, js, namespace):
            for position in (1, 2):
                await (await publish(js, "providers", position, registered(position), namespace))
            stuck = Consumer(
                js, Subscription("providers", "projection-stuck", hang), namespace, FAST
            )
            fine = Consumer(
                js, Subscription("providers", "projection-fine", applied), namespace, FAST
            )
            async with running(fine), running(stuck):
                await until(
                    lambda: asyncio.sleep(0, stuck.state.busy_since is not None),
                    what="the stuck handler to start",
                )
                await until(lambda: asyncio.sleep(0, fine.state.position == 2), what="position 2")
                report = await stream_report(
                    stack.nats_url, namespace, sample_after=1.0, **stack.nats_options()
                )
                health = stuck.state.report(FAST.stall_after)
                await asyncio.sleep(FAST.stall_after + 0.5)
                later = stuck.state.report(FAST.stall_after)
                release.set()
            (providers,) = [s for s in report if s["upstream"] == "providers"]
            return {c["name"]: c["stalled"] for c in providers["consumers"]}, health, later

    stalled, health, later = run(scenario())
    assert stalled == {"projection-fine": False, "projection-stuck": True}
    assert health["stalled"] is None  # not yet stall_after seconds
    assert later["stalled"].startswith("one run has taken")


def test_a_use_case_failing_on_one_event_sets_it_aside_and_a_replay_after_the_fix_applies_it_once(
    stack: Stack, notes: NotesApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    broken = True

    def note(event: ProviderRegisteredV1, changes: Changes) -> None:
        if broken and "broken" in event.name:
            raise ValueError(f"cannot note {event.name}")
        changes.add(Note(event.provider_id))

    handler = tracked(notes, "providers", {ProviderRegisteredV1: note})

    def talkoot(*args: str) -> tuple[int, str]:
        output = tmp_path / "out.txt"
        with output.open("w") as out, contextlib.redirect_stdout(out):
            code = cli.main(["--data-dir", str(tmp_path), "dead-letters", *args])
        return code, output.read_text()

    async def scenario():
        nonlocal broken
        async with streams(stack, "providers") as (_, js, namespace):
            monkeypatch.setenv("TALKOOT_NATS_URL", stack.nats_url)
            monkeypatch.setenv("TALKOOT_NAMESPACE", namespace)
            for name, value in stack.nats_environment().items():  # as the operator
                monkeypatch.setenv(name, value)
            sub = Subscription("providers", "notes", handler)
            for position in range(1, 5):
                name = "the broken one" if position == 3 else ""
                await (
                    await publish(js, "providers", position, registered(position, name), namespace)
                )
            async with running(Consumer(js, sub, namespace, FAST)) as consumer:
                await until(
                    lambda: asyncio.to_thread(notes.process_recorder.max_tracking_id, "providers"),
                    what="the tracking record",
                )
                await until(
                    lambda: asyncio.to_thread(
                        lambda: notes.process_recorder.max_tracking_id("providers") == 4
                    ),
                    what="position 4",
                )
                before = [note_of(notes, n) is not None for n in range(1, 5)]
                (letter,) = await dead_letters(js, namespace)
                listed = await asyncio.to_thread(talkoot)
                broken = False  # the fix is deployed
                first = await asyncio.to_thread(talkoot, "replay", str(letter["seq"]))
                second = await asyncio.to_thread(talkoot, "replay", str(letter["seq"]))
                again = await handler.replay(3, registered(3, "the broken one"), letter["seq"])
                left = await dead_letters(js, namespace)
                dead = consumer.state.dead_letters
            return before, letter, listed, first, second, again, left, dead

    before, letter, listed, first, second, again, left, dead = run(scenario())
    assert before == [True, True, False, True]
    assert letter["consumer"] == "notes" and letter["position"] == "3"
    assert "ValueError: cannot note the broken one" in letter["reason"]
    assert dead == 1
    code, text = listed
    assert code == 0
    assert "notes" in text and "ProviderRegisteredV1" in text and "ValueError" in text
    assert first[0] == 0 and "applied" in first[1]
    assert second[0] == 1 and f"no dead letter {letter['seq']}" in second[1]
    assert again is False  # the marker of the first replay is there: nothing is applied twice
    assert left == []
    assert note_of(notes, 3) is not None
    assert stored_events(notes) == 4  # one note each, none twice


def test_a_failure_that_passes_is_retried_until_it_applies_once_and_never_dead_lettered(
    stack: Stack, notes: NotesApplication
):
    failures = 0

    def note(event: ProviderRegisteredV1, changes: Changes) -> None:
        nonlocal failures
        if event.provider_id == "p-2" and failures < 6:  # twice as many as the attempts
            failures += 1
            raise ConnectionError("PostgreSQL went away for a moment")
        changes.add(Note(event.provider_id))

    handler = tracked(notes, "providers", {ProviderRegisteredV1: note})

    async def scenario():
        async with streams(stack, "providers") as (_, js, namespace):
            sub = Subscription("providers", "notes", handler)
            for position in range(1, 4):
                await (await publish(js, "providers", position, registered(position), namespace))
            async with running(Consumer(js, sub, namespace, FAST)) as consumer:
                await until(
                    lambda: asyncio.to_thread(
                        lambda: notes.process_recorder.max_tracking_id("providers") == 3
                    ),
                    what="position 3",
                )
                return await dead_letters(js, namespace), consumer.state.dead_letters

    letters, dead = run(scenario())
    assert failures == 6
    assert letters == [] and dead == 0
    assert [note_of(notes, n) is not None for n in (1, 2, 3)] == [True, True, True]
    assert stored_events(notes) == 3


def test_a_consumer_that_makes_no_progress_turns_its_services_health_to_503_naming_it(
    stack: Stack, tmp_path: Path
):
    """Matching's consumer of requests waits on a lock the test holds on its tracking table:
    no progress for longer than TALKOOT_STALL_SECONDS. Released, it applies the event."""
    with another_talkoot(stack, tmp_path, TALKOOT_STALL_SECONDS="2") as other:
        health = f"{other.stack.url('matching')}/health"
        assert httpx.get(health, timeout=5).status_code == 200
        schema = f"{other.stack.namespace}_matching"
        with psycopg.connect(stack.database_url) as lock:
            lock.execute(f'LOCK TABLE "{schema}".matching_tracking IN EXCLUSIVE MODE')

            async def publish_one():
                nc = await connect(stack.nats_url, "test", **stack.nats_options("requests"))
                try:
                    js = nc.jetstream()
                    event = requested(1)
                    await (await publish(js, "requests", 10**6, event, other.stack.namespace))
                finally:
                    await nc.close()

            run(publish_one())
            deadline = time.monotonic() + 30
            while (response := httpx.get(health, timeout=10)).status_code == 200:
                assert time.monotonic() < deadline, "health stayed 200"
                time.sleep(0.3)
            report = response.json()
            lock.rollback()
        assert response.status_code == 503
        assert "matching <- requests" in report["stalled"]
        (consumer,) = [c for c in report["consumers"] if c["name"] == "matching <- requests"]
        assert consumer["running"] is True
        deadline = time.monotonic() + 30
        while (response := httpx.get(health, timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, f"health stayed 503: {response.text}"
            time.sleep(0.3)
        (consumer,) = [
            c for c in response.json()["consumers"] if c["name"] == "matching <- requests"
        ]
        assert consumer["position"] == 10**6 and consumer["dead_letters"] == 0
