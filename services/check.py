"""``talkoot check``: every read model rebuilt from the event stores beside the live one, and
the two compared row by row.

Each service's stored events are read in notification order through its Application's own
mapper, turned into the integration events the relay publishes (``relay.integration_events``,
the service's outbound map), encoded and decoded as they travel, and applied with the
projector's own ReadModel handlers to a scratch schema that the check makes and drops. The
live read models are read in one snapshot (a repeatable-read transaction), and each is
replayed up to the positions its tracking rows hold in that snapshot, so that a live projector
still working is not taken for a difference. Before that the check waits (``timeout``) until
every read model has tracked its store's last published event; if one does not, it could not
settle, and nothing is compared.

Each table of a read model is compared both ways by its primary key: a row the events give
that the read model lacks (missing), one the read model has that no event gives (extra), and
the columns of a row that differ. A resident's sealed personal data is sealed afresh each time
(a new nonce), so sealed values are compared opened, and never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

# Exit statuses: equal, a difference, could not settle; and could not run at all.
EQUAL, DIFFERENT, UNSETTLED, CANNOT = 0, 2, 3, 1
# The differences shown per table; the rest are counted.
SHOWN = 10
PAGE = 500
# Pages being mapped (in threads) while the read models apply the one before.
MAPPING_AHEAD = 4
PROGRESS_EVERY = 2000


class Failed(Exception):
    """The check cannot run: the message says why."""


class NotSettled(Exception):
    """A read model did not reach its store's head within the time given."""


def model_names() -> list[str]:
    """The read models' names, as the registry gives them (the projector not loaded)."""
    from services.registry import PROJECTOR

    return list(PROJECTOR.read_models)


def models_by_name() -> dict[str, ModuleType]:
    from projections.__main__ import READ_MODELS

    return {model.PROJECTION: model for model in READ_MODELS}


def upstreams_of(model: ModuleType) -> tuple[str, ...]:
    from projections.__main__ import upstreams_of as upstreams

    return upstreams(model)


def tables_of(model: ModuleType) -> tuple[str, ...]:
    return tuple(model.TABLES) + tuple(getattr(model, "CITY_WIDE", ()))


def say_count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


# --- the event stores --------------------------------------------------------------------


@dataclass
class Store:
    """One service's event store, read as its relay reads it."""

    service: str
    application: Any
    outbound: Any
    newest: int = 0  # the last notification id stored
    head: int = 0  # the last one the relay publishes (some events stay inside the service)

    def integration_events(self, notifications: list) -> list:
        from services.platform.relay import integration_events

        return integration_events(self.application, self.outbound, notifications)

    def page(self, after: int, limit: int = PAGE) -> list:
        return self.application.process_recorder.select_notifications(
            after, limit, inclusive_of_start=False
        )

    def max_notification_id(self) -> int:
        return self.application.process_recorder.max_notification_id() or 0

    def find_head(self) -> None:
        """The newest notification, and the newest that is published."""
        recorder = self.application.process_recorder
        self.newest = self.max_notification_id()
        end = self.newest
        while end > 0:
            start = max(1, end - 99)
            page = [n for n in recorder.select_notifications(start, 100) if n.id <= end]
            for notification, event in reversed(
                list(zip(page, self.integration_events(page), strict=True))
            ):
                if event is not None:
                    self.head = notification.id
                    return
            end = start - 1
        self.head = 0

    def close(self) -> None:
        self.application.close()


@contextmanager
def quick_connections(name: str) -> Iterator[None]:
    """The Application called ``name`` made without a ping before each use of a pooled
    connection (``<NAME>_POSTGRES_PRE_PING``, which eventsourcing reads before the setting
    given): the services need it to ride out PostgreSQL restarts, a check of a few seconds
    does not, and reading a resident's keys costs half the round trips without it."""
    variable = f"{name.upper()}_POSTGRES_PRE_PING"
    before = os.environ.get(variable)
    os.environ[variable] = "n"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = before


def open_stores(settings: Any, services: Sequence[str]) -> dict[str, Store]:
    """The stores of ``services`` that exist (a service that never ran has none: its stream
    is empty, and so is what the read models have of it)."""
    import psycopg

    from services import registry

    stores: dict[str, Store] = {}
    try:
        with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
            present = {
                service
                for service in services
                if conn.execute(
                    "SELECT 1 FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name = %s",
                    (settings.schema(service), f"{service}_events"),
                ).fetchone()
            }
    except psycopg.OperationalError as error:
        raise Failed(f"PostgreSQL not reachable: {error}") from None
    try:
        for process in registry.SERVICES:
            if process.stream not in services or process.stream not in present:
                continue
            spec = importlib.import_module(f"{process.module}.__main__").SPEC
            with quick_connections(process.name):
                application = spec.make_application(settings)
            stores[process.stream] = Store(process.stream, application, spec.outbound)
    except BaseException:
        for store in stores.values():
            store.close()
        raise
    return stores


# --- what the check finds ----------------------------------------------------------------


@dataclass
class TableResult:
    model: str
    table: str
    key: tuple[str, ...] = ()
    rows: int = 0  # rows the events give
    live_rows: int = 0
    missing: int = 0
    extra: int = 0
    changed: int = 0
    lines: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # columns only on one side

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.changed + len(self.columns)

    def note(self, line: str) -> None:
        if len(self.lines) < SHOWN:
            self.lines.append(line)

    @property
    def summary(self) -> str:
        if not self.differences:
            return "OK"
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.missing, "missing"),
                (self.extra, "extra"),
                (self.changed, "changed"),
                (len(self.columns), "columns not alike"),
            )
            if n
        ]
        return "DIFFERS: " + ", ".join(parts)


@dataclass
class Outcome:
    schema: str
    tables: list[TableResult] = field(default_factory=list)
    tracking: list[str] = field(default_factory=list)  # read models ahead of their stores
    replayed: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    @property
    def differs(self) -> bool:
        return bool(self.tracking) or any(t.differences for t in self.tables)


# --- sealed values -----------------------------------------------------------------------


class Opener:
    """Opens sealed personal data for comparison, each resident's key looked up once."""

    def __init__(self, keyring: Any, pool: Any) -> None:
        from contracts.events import PERSONAL

        self.keyring, self.pool = keyring, pool
        self.fields = tuple(sorted({name for names in PERSONAL.values() for name in names}))
        self.keys: dict[str, Any] = {}

    @staticmethod
    def sealed(value: Any) -> Any:
        from contracts.personal import Sealed

        if not isinstance(value, str) or '"key_id"' not in value or '"nonce"' not in value:
            return None
        return _as_sealed(value, Sealed)

    async def opened(self, sealed: Any) -> tuple:
        from services.platform.personal import open_with

        if self.keyring is None:
            return (sealed.resident_id, sealed.context, "unopened", sealed.key_id, sealed.data)
        if sealed.key_id and sealed.key_id not in self.keys:
            self.keys.update(await self.keyring.keys_async(self.pool, [sealed.key_id]))
        opened = open_with(self.keys.get(sealed.key_id), sealed, self.fields)
        return (sealed.resident_id, sealed.context, tuple(sorted(opened.items())))

    async def same(self, live: Any, replayed: Any) -> tuple[bool, bool]:
        """Whether two values are the same, and whether they were sealed."""
        if live == replayed:
            return True, False
        a, b = self.sealed(live), self.sealed(replayed)
        if a is None or b is None:
            return False, a is not None or b is not None
        return await self.opened(a) == await self.opened(b), True


def _as_sealed(value: str, kind: type) -> Any:
    import msgspec

    try:
        return msgspec.json.decode(value, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


# --- comparing tables --------------------------------------------------------------------


async def shape(conn: Any, schema: str, table: str) -> tuple[list[str], dict[str, str]]:
    """A table's primary key columns and its columns with their types."""
    name = f"{schema}.{table}"
    columns = await conn.fetch(
        """SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
           WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
           ORDER BY attnum""",
        name,
    )
    key = await conn.fetch(
        """SELECT a.attname FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = to_regclass($1) AND i.indisprimary
           ORDER BY array_position(i.indkey::int2[], a.attnum)""",
        name,
    )
    return [r["attname"] for r in key], {r["attname"]: r["type"] for r in columns}


async def rows(
    conn: Any, schema: str, table: str, columns: list[str], key: list[str], types: dict
) -> AsyncIterator[Any]:
    """A table's rows in the order of its key, text compared byte by byte (as Python does)."""
    order = ", ".join(
        f'"{k}" COLLATE "C"' if types[k] in ("text", "character varying") else f'"{k}"' for k in key
    )
    listed = ", ".join(f'"{c}"' for c in columns)
    cursor = await conn.cursor(f'SELECT {listed} FROM {schema}."{table}" ORDER BY {order}')
    while chunk := await cursor.fetch(1000):
        for record in chunk:
            yield record


def _shown(value: Any) -> str:
    text = repr(value.isoformat() if hasattr(value, "isoformat") else value)
    return text if len(text) <= 60 else text[:57] + "..."


async def compare_table(
    live_side: tuple[Any, str],
    scratch_side: tuple[Any, str],
    model: str,
    table: str,
    opener: Opener,
) -> TableResult:
    """The rows of ``table`` in the live read model (a connection and its schema) beside
    those of its replay, merged by primary key."""
    (live, live_schema), (scratch, scratch_schema) = live_side, scratch_side
    result = TableResult(model, table)
    key, types = await shape(scratch, scratch_schema, table)
    live_key, live_types = await shape(live, live_schema, table)
    if not live_types:
        result.columns.append("(the table)")
        result.note("the read model has no such table")
        return result
    for column in types.keys() - live_types.keys():
        result.columns.append(column)
        result.note(f"column {column} is not in the read model")
    for column in live_types.keys() - types.keys():
        result.columns.append(column)
        result.note(f"column {column} is in the read model, not in its DDL")
    if not key or live_key != key:
        result.columns.append("(primary key)")
        result.note(f"primary key ({', '.join(live_key)}) in the read model, ({', '.join(key)})")
        return result
    result.key = tuple(key)
    columns = [c for c in types if c in live_types]
    others = [c for c in columns if c not in key]

    def key_of(record: Any) -> tuple:
        return tuple(record[k] for k in key)

    def named(k: tuple) -> str:
        return ", ".join(f"{name}={value}" for name, value in zip(key, k, strict=True))

    theirs = rows(live, live_schema, table, columns, key, types).__aiter__()
    ours = rows(scratch, scratch_schema, table, columns, key, types).__aiter__()

    async def step(iterator: Any) -> Any:
        try:
            return await iterator.__anext__()
        except StopAsyncIteration:
            return None

    a, b = await step(theirs), await step(ours)
    while a is not None or b is not None:
        ka = key_of(a) if a is not None else None
        kb = key_of(b) if b is not None else None
        if b is None or (a is not None and ka < kb):
            result.extra += 1
            result.live_rows += 1
            result.note(f"extra    {named(ka)}: in the read model, no event gives it")
            a = await step(theirs)
            continue
        if a is None or kb < ka:
            result.missing += 1
            result.rows += 1
            result.note(f"missing  {named(kb)}: the events give it, the read model lacks it")
            b = await step(ours)
            continue
        result.rows += 1
        result.live_rows += 1
        differing = []
        for column in others:
            same, sealed = await opener.same(a[column], b[column])
            if same:
                continue
            if sealed:
                differing.append(f"{column} (sealed personal data) opens differently")
            else:
                differing.append(
                    f"{column} {_shown(a[column])} in the read model, "
                    f"{_shown(b[column])} from the events"
                )
        if differing:
            result.changed += 1
            result.note(f"changed  {named(ka)}: " + "; ".join(differing))
        a, b = await step(theirs), await step(ours)
    return result


# --- the check ---------------------------------------------------------------------------


@dataclass
class Settings:
    database_url: str
    namespace: str
    personal_data_key: str | None
    pseudonym_secret: str | None


async def tracked(conn: Any, schema: str) -> dict[tuple[str, str], int]:
    rows = await conn.fetch(f"SELECT projection, upstream, position FROM {schema}.tracking")
    return {(r["projection"], r["upstream"]): r["position"] for r in rows}


async def settle(
    pool: Any,
    schema: str,
    models: list[ModuleType],
    stores: dict[str, Store],
    timeout: float,
    say: Callable[[str], None],
) -> None:
    """Wait until every read model has tracked its stores' last published events."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        positions = await tracked(pool, schema)
        behind = [
            (model.PROJECTION, upstream, positions.get((model.PROJECTION, upstream), 0), head)
            for model in models
            for upstream in upstreams_of(model)
            if (head := stores[upstream].head if upstream in stores else 0)
            > positions.get((model.PROJECTION, upstream), 0)
        ]
        if not behind:
            return
        if time.monotonic() >= deadline:
            raise NotSettled(
                "; ".join(
                    f"{name} <- {upstream} at position {at} of {head}"
                    for name, upstream, at, head in behind
                )
            )
        if not told:
            say(
                f"waiting up to {timeout:g} s for {len(behind)} read model stream(s) to reach "
                "their stores' last events"
            )
            told = True
        await asyncio.sleep(0.2)


async def replay_pool(settings: Settings, models: list, hint: str, size: int) -> Any:
    """A pool on the read models' database for replaying ``models``; Failed, saying why, when
    a secret they need is missing or PostgreSQL cannot be reached."""
    import asyncpg

    if any(hasattr(m, "read_models") for m in models) and not settings.pseudonym_secret:
        raise Failed(
            "no TALKOOT_PSEUDONYM_SECRET (nor the data folder's secrets.json): the partners' "
            f"audit trail (arrangements) keys its residents' pseudonyms with it{hint}"
        )
    try:
        return await asyncpg.create_pool(
            settings.database_url, min_size=2, max_size=size, timeout=5
        )
    except (OSError, asyncpg.PostgresError) as error:
        raise Failed(f"PostgreSQL not reachable: {error}") from None


async def replay_store(
    store: Store,
    feeds: list[tuple[Any, int]],
    progress: Callable[[str], None],
    after: int = 0,
) -> tuple[int, int, float]:
    """Apply ``store``'s published events after position ``after`` to each of ``feeds`` (a
    handler, and the position up to which it is replayed). Events read, events published,
    seconds taken.

    Mapping a page costs most (each resident's keys looked up, their personal data opened and
    sealed again), so the next few pages are mapped in threads of their own while the read
    models apply this one, each model on a connection of its own (they write tables of their
    own). Pages are applied in order."""
    from collections import deque

    from contracts.events import decode, encode

    until = max((limit for _, limit in feeds), default=0)

    def mapped(page: list) -> list:
        events = store.integration_events(page)
        return [
            (n.id, decode(store.service, encode(event)))
            for n, event in zip(page, events, strict=True)
            if event is not None
        ]

    read, published, told = 0, 0, 0
    started = time.monotonic()
    coming: deque = deque()
    exhausted = until <= after
    while True:
        while not exhausted and len(coming) < MAPPING_AHEAD:
            page = [n for n in await asyncio.to_thread(store.page, after) if n.id <= until]
            if not page:
                exhausted = True
                break
            after = page[-1].id
            exhausted = after >= until
            coming.append((page, asyncio.ensure_future(asyncio.to_thread(mapped, page))))
        if not coming:
            break
        page, mapping = coming.popleft()
        run = await mapping
        await asyncio.gather(
            *(
                handler(mine)
                for handler, limit in feeds
                if (mine := [(position, event) for position, event in run if position <= limit])
            )
        )
        read += len(page)
        published += len(run)
        if read - told >= PROGRESS_EVERY:
            progress(f"{store.service}: {say_count(read)} events read")
            told = read
    seconds = time.monotonic() - started
    rate = say_count(round(read / seconds)) if seconds else "?"
    progress(
        f"{store.service}: {say_count(read)} events read, {say_count(published)} published, "
        f"replayed in {seconds:.1f} s ({rate} events/s)"
    )
    return read, published, seconds


def ahead_of_stores(
    positions: dict[tuple[str, str], int], models: list[ModuleType], stores: dict[str, Store]
) -> list[str]:
    """The read models that have tracked a position past the end of their store: events
    they applied that the store no longer has (restored from an older backup, or another
    installation's)."""
    found = []
    for model in models:
        for upstream in upstreams_of(model):
            at = positions.get((model.PROJECTION, upstream), 0)
            newest = stores[upstream].newest if upstream in stores else 0
            if at > newest:
                found.append(
                    f"{model.PROJECTION} <- {upstream}: the read model has applied position "
                    f"{at}, the {upstream} store ends at {newest}"
                )
    return found


async def check(
    settings: Settings,
    names: Sequence[str],
    timeout: float,
    progress: Callable[[str], None],
) -> Outcome:

    from projections.schema import ensure_read_models, read_schema
    from services.platform.settings import Settings as ServiceSettings

    available = models_by_name()
    models = [available[name] for name in names]
    live_schema = read_schema(settings.namespace)
    pool = await replay_pool(settings, models, "; or leave arrangements out with --model", 6)
    upstreams = sorted({u for m in models for u in upstreams_of(m)})
    stores: dict[str, Store] = {}
    scratch_schema = ""
    try:
        if not await pool.fetchval("SELECT to_regclass($1)", f"{live_schema}.tracking"):
            raise Failed(f"no read models in schema {live_schema} (has the projector run?)")
        service_settings = ServiceSettings(
            database_url=settings.database_url,
            nats_url="",
            namespace=settings.namespace,
            personal_data_key=settings.personal_data_key,
        )
        stores = await asyncio.to_thread(open_stores, service_settings, upstreams)
        for store in stores.values():
            await asyncio.to_thread(store.find_head)
        await settle(pool, live_schema, models, stores, timeout, progress)

        scratch_namespace = f"{settings.namespace}_check_{secrets.token_hex(4)}"
        scratch_schema = read_schema(scratch_namespace)
        await ensure_read_models(pool, scratch_namespace)
        outcome = Outcome(live_schema)
        keyring = stores["requests"].application.keyring if "requests" in stores else None
        opener = Opener(keyring, pool)
        # One snapshot of the live read models: their tracking and their rows together.
        async with (
            pool.acquire() as live,
            live.transaction(isolation="repeatable_read", readonly=True),
        ):
            positions = await tracked(live, live_schema)
            # read after the snapshot: a store only grows, so one ending before a position
            # tracked has lost events, and traffic meanwhile is no such thing
            for store in stores.values():
                store.newest = await asyncio.to_thread(store.max_notification_id)
            outcome.tracking = ahead_of_stores(positions, models, stores)
            for upstream in upstreams:
                if upstream in stores:
                    feeds = [
                        (handler, positions.get((model.PROJECTION, upstream), 0))
                        for model in models
                        for handler in handlers(model, pool, scratch_schema, settings)
                        if handler.upstream == upstream
                    ]
                    outcome.replayed[upstream] = await replay_store(
                        stores[upstream], feeds, progress
                    )
            async with pool.acquire() as scratch, scratch.transaction(readonly=True):
                for model in models:
                    for table in tables_of(model):
                        outcome.tables.append(
                            await compare_table(
                                (live, live_schema),
                                (scratch, scratch_schema),
                                model.PROJECTION,
                                table,
                                opener,
                            )
                        )
        return outcome
    finally:
        if scratch_schema:
            await pool.execute(f"DROP SCHEMA IF EXISTS {scratch_schema} CASCADE")
        for store in stores.values():
            await asyncio.to_thread(store.close)
        await pool.close()


def handlers(model: ModuleType, pool: Any, schema: str, settings: Settings) -> list[Any]:
    """The projector's own handlers of ``model``, writing to ``schema``."""
    if hasattr(model, "read_models"):
        return list(model.read_models(pool, schema, settings.pseudonym_secret))
    return [model.read_model(pool, schema)]


# --- the command -------------------------------------------------------------------------


def report(outcome: Outcome, say: Callable[[str], None]) -> None:
    say(f"Read models in {outcome.schema}, each table beside its replay from the event stores:")
    width = max((len(t.table) for t in outcome.tables), default=5)
    wide = max((len(t.model) for t in outcome.tables), default=5)
    say(f"  {'model':<{wide}}  {'table':<{width}}  {'rows':>8}  result")
    for t in outcome.tables:
        say(f"  {t.model:<{wide}}  {t.table:<{width}}  {t.rows:>8}  {t.summary}")
        for line in t.lines:
            say(f"      {line}")
        if t.differences > len(t.lines):
            say(f"      ... and {t.differences - len(t.lines)} more")
    for line in outcome.tracking:
        say(f"  AHEAD OF ITS STORE: {line}")
    tables = [t for t in outcome.tables if t.differences]
    if outcome.differs:
        named = ", ".join(f"{t.model}.{t.table}" for t in tables)
        say(
            f"DIFFERENCES in {len(tables)} of {len(outcome.tables)} tables"
            + (f" ({named})" if named else "")
            + (f"; {len(outcome.tracking)} ahead of their stores" if outcome.tracking else "")
            + ". A dead letter not replayed yet (`talkoot dead-letters`) leaves its event out."
        )
    else:
        rows = sum(t.rows for t in outcome.tables)
        models = len({t.model for t in outcome.tables})
        say(
            f"All equal: {models} read models, {len(outcome.tables)} tables, "
            f"{say_count(rows)} rows, as the events make them."
        )


def _state(args: argparse.Namespace) -> tuple[dict, Path]:
    from services.cli import data_dir

    directory = data_dir(args)
    state_file = directory / "stack.json"
    return (json.loads(state_file.read_text()) if state_file.exists() else {}), directory


def settings_of(args: argparse.Namespace) -> Settings:
    """Where the running Talkoot is (as `talkoot status` finds it, or as given) and its
    secrets (the environment's, else the local stack's in the data folder)."""
    state, directory = _state(args)
    url = args.database_url or os.environ.get("TALKOOT_DATABASE_URL") or state.get("database_url")
    namespace = (
        args.namespace or os.environ.get("TALKOOT_NAMESPACE") or state.get("namespace", "talkoot")
    )
    if not url:
        raise Failed(
            "no PostgreSQL to read: start Talkoot with `talkoot up` (its state file names it), "
            "or give --database-url or TALKOOT_DATABASE_URL (and the namespace)"
        )
    path = directory / "secrets.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    return Settings(
        database_url=url,
        namespace=namespace,
        personal_data_key=os.environ.get("TALKOOT_PERSONAL_DATA_KEY") or kept.get("personal"),
        pseudonym_secret=os.environ.get("TALKOOT_PSEUDONYM_SECRET") or kept.get("pseudonyms"),
    )


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    names = args.model or list(models_by_name())
    try:
        settings = settings_of(args)
        err(
            f"checking {', '.join(names)} (namespace {settings.namespace}) against the event stores"
        )
        started = time.monotonic()
        outcome = asyncio.run(check(settings, names, args.timeout, lambda line: err(f"  {line}")))
    except NotSettled as error:
        print(
            f"COULD NOT SETTLE within {args.timeout:g} s: {error}. Is the projector running "
            "(`talkoot status`)? Nothing was compared."
        )
        return UNSETTLED
    except Failed as error:
        err(f"talkoot check: {error}")
        return CANNOT
    except SystemExit as error:  # a missing secret, said by the services' own settings
        err(f"talkoot check: {error}")
        return CANNOT
    report(outcome, print)
    err(f"checked in {time.monotonic() - started:.1f} s")
    return DIFFERENT if outcome.differs else EQUAL


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "check",
        help="rebuild every read model from the event stores and compare it with the live one",
        description="Read each service's stored events in order (through its own mapper), "
        "turn them into the integration events its relay publishes, and apply them with the "
        "projector's own handlers to a scratch schema (made and dropped by the check), each "
        "read model up to the positions it has tracked; then compare every table of the live "
        "read models with its replay, both ways, by primary key: rows missing, rows extra, "
        "columns that differ (sealed personal data is compared opened, and never printed). It "
        "first waits (--timeout) until every read model has reached its store's last "
        "published event. Prints each table's rows and OK, or its differences (the first "
        f"{SHOWN} of each table, with a count of the rest). Reads PostgreSQL where `talkoot "
        "status` finds it (the state file of `talkoot up`, or TALKOOT_DATABASE_URL and "
        "TALKOOT_NAMESPACE), with TALKOOT_PERSONAL_DATA_KEY and TALKOOT_PSEUDONYM_SECRET or "
        "the data folder's secrets.json. Exits 0 when every read model is as its events make "
        "it, 2 on any difference, 3 when the read models did not catch up in time, 1 when it "
        "cannot run.",
    )
    p.add_argument("--database-url", help="the PostgreSQL to read (default: as status finds it)")
    p.add_argument("--namespace", help="the installation's namespace (default: talkoot)")
    p.add_argument(
        "--model",
        action="extend",
        nargs="+",
        metavar="NAME",
        choices=model_names(),
        help="only these read models (default: every one): " + ", ".join(model_names()),
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds to wait for the read models to reach the stores' heads (default 30)",
    )
    p.set_defaults(run=run)
