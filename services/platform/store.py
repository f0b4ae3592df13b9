"""The event store every service's Application stands on: PostgreSQL, a schema per service.

Each Application uses a *process* recorder, so that the events a service stores in reaction to
another service's event are committed in one transaction with the position of that event
(its tracking record): a redelivered message is recognised and changes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    ProcessRecorder,
    Recording,
    StoredEvent,
    Tracking,
    Transcoding,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
    PostgresProcessRecorder,
)
from eventsourcing.utils import Environment
from psycopg import sql
from psycopg_pool import ConnectionPool

from contracts import database
from domain.errors import InvalidValue
from services.platform import idempotency
from services.platform.errors import AlreadyApplied, Conflict, NotFound
from services.platform.personal import Keyring, MasterKey, PersonalFields, PersonalMapper
from services.platform.settings import Settings, postgres_parts


class Receipt(msgspec.Struct, frozen=True):
    """What every command returns: the id it acted on and the position of its last event.

    Pass ``position`` to the matching query (``?position=``) to read your own write.
    """

    id: str
    position: int


# The name under which the relay records how far it has published the notification log.
OUTBOX = "outbox"
# The schema of the residents' keys (``<namespace>_personal_keys``): apart from every
# service's event store, see services/platform/personal.py.
PERSONAL_KEYS = "personal_keys"


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def ensure_schema(settings: Settings, schema: str) -> None:
    """eventsourcing creates its tables but not the schema they live in."""
    with psycopg.connect(database.conninfo(settings.database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


# Ours, beside eventsourcing's POSTGRES_* settings: read by ``Persistence``.
CONNINFO = "POSTGRES_CONNINFO"


def store_env(settings: Settings, service: str) -> dict[str, str]:
    """eventsourcing settings for one service. ``<SERVICE>_<KEY>`` in the environment wins."""
    return {
        "PERSISTENCE_MODULE": f"{__name__}:Persistence",
        **postgres_parts(settings.database_url),
        CONNINFO: database.conninfo(settings.database_url),
        "POSTGRES_SCHEMA": settings.schema(service),
        # two connections kept open, up to twelve under load: a server's connections are
        # shared by every process and replica (a hundred by default)
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
        # While PostgreSQL is away a command fails within seconds instead of hanging: this
        # long at most for a connection from the pool (a waiter that gives up leaves the
        # queue, so nothing runs later), dead connections are noticed before use, and a
        # transaction left idle is ended by the server.
        "POSTGRES_CONNECT_TIMEOUT": "2",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "5",
        "PROCESS_RECORDER_TOPIC": f"{__name__}:FailFastRecorder",
        "CREATE_TABLE": "y",
    }


# libpq's own wait for a new connection (eventsourcing sets none), and how long the pool keeps
# retrying one in the background before starting over with short pauses again.
CONNECT_TIMEOUT_SECONDS = 2
RECONNECT_GIVE_UP_SECONDS = 10.0


class BinaryRowsRecorder(PostgresAggregateRecorder):
    """eventsourcing's recorder, sending a row as values and rows as four arrays, the states in
    binary, with the statements made once, as bytes (eventsourcing composes them anew each
    time, and sends an array of a composite type, which psycopg writes out as text in Python:
    the state in hexadecimal, escaped twice, several times its size; for matching's roster
    snapshot at 100,000 requests of history, 8 MB of state cost 50 MB at once). The
    snapshots' recorder; the events' is ``FailFastRecorder``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = sql.SQL("{}.{}").format(
            sql.Identifier(self.datastore.schema), sql.Identifier(self.events_table_name)
        )
        # an application recorder reads the notification ids back, in order
        returning = " RETURNING notification_id" * isinstance(self, PostgresApplicationRecorder)
        insert = "INSERT INTO {} (originator_id, originator_version, topic, state) "
        self._insert_row = (
            sql.SQL(insert + "VALUES (%s, %s, %s, %b)" + returning).format(table).as_bytes()
        )
        self._insert_rows = (
            sql.SQL(
                insert
                + "SELECT * FROM unnest(%b::{}[], %b::bigint[], %b::text[], %b::bytea[])"
                + returning
            )
            .format(table, sql.Identifier(self.datastore.originator_id_type))
            .as_bytes()
        )

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        if len(stored_events) == 1:  # most saves, and a snapshot: its state not copied again
            (e,) = stored_events
            row = (e.originator_id, e.originator_version, e.topic, e.state)
            curs.execute(self._insert_row, row, prepare=True)
            return
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        curs.execute(self._insert_rows, columns, prepare=True)


class FailFastRecorder(PostgresProcessRecorder, BinaryRowsRecorder):
    """The process recorder without eventsourcing's ten retries of reading and storing events.

    Retried, a command waits out twenty seconds of PostgreSQL being away before it fails;
    the relay, the consumers and the sweeps have retry loops of their own, and a client of a
    command retries with its idempotency key.

    A save is eventsourcing's (the table locked, its channel notified, the rows inserted,
    their notification ids returned in order), with the rows sent in binary
    (``BinaryRowsRecorder``, which eventsourcing's application recorder calls once it has
    locked and notified) and the lock and notify statements made once, as bytes: some 20 %
    less CPU a save.
    """

    insert_events = PostgresApplicationRecorder.insert_events.__wrapped__
    select_events = PostgresAggregateRecorder.select_events.__wrapped__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._notify = sql.SQL("NOTIFY {}").format(sql.Identifier(self.channel_name)).as_bytes()
        self._locks = [statement.as_bytes() for statement in self.lock_table_statements]

    def _lock_table(self, curs: Any) -> None:
        for statement in self._locks:
            curs.execute(statement, prepare=True)

    def _notify_channel(self, curs: Any) -> None:
        curs.execute(self._notify)


class Persistence(PostgresFactory):
    """eventsourcing's PostgreSQL persistence, connecting with the whole of
    TALKOOT_DATABASE_URL as the read models do. Its POSTGRES_* settings name the host, port,
    database, user and password only; the rest (TLS) comes in POSTGRES_CONNINFO, the URL's libpq
    connection string, under them (a ``<SERVICE>_POSTGRES_HOST`` in the environment still wins).
    """

    aggregate_recorder_class = BinaryRowsRecorder  # the snapshots'

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        pool.conninfo = self.env.get(CONNINFO) or ""
        pool.kwargs["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        pool.reconnect_timeout = RECONNECT_GIVE_UP_SECONDS
        # POSTGRES_PRE_PING's check costs a round trip each time a connection is taken; it is
        # needed only for one that lay idle (a server restarted meanwhile), not for one given
        # back a moment ago. psycopg_pool takes both callbacks at construction only, which
        # eventsourcing does.
        pool._reset = _given_back
        pool._check = _ping_if_idle


PING_AFTER_IDLE_SECONDS = 1.0


def _given_back(conn: Any) -> None:
    conn._talkoot_given_back = time.monotonic()


def _ping_if_idle(conn: Any) -> None:
    if time.monotonic() - getattr(conn, "_talkoot_given_back", 0.0) > PING_AFTER_IDLE_SECONDS:
        ConnectionPool.check_connection(conn)


class Changes:
    """The aggregates a run of upstream events changes, to be stored in one transaction.

    ``get`` hands out the same object for the same id, so that two events of one run about the
    same request see each other's effects.
    """

    def __init__(self, application: ServiceApplication) -> None:
        self.application = application
        self.aggregates: dict[UUID, Any] = {}

    def get(self, aggregate_id: str | UUID, kind: str = "item") -> Any:
        try:
            return self.aggregates[UUID(str(aggregate_id))]
        except (KeyError, ValueError):
            aggregate = self.application.get(aggregate_id, kind)
            self.aggregates[aggregate.id] = aggregate
            return aggregate

    def add(self, *aggregates: Any) -> None:
        for aggregate in aggregates:
            if aggregate is not None:
                self.aggregates[aggregate.id] = aggregate


class ServiceApplication(Application):
    """Base of the services' Applications: one per service, in that service's schema."""

    service: ClassVar[str]
    # Where this service's events (and snapshots) hold residents' personal data, which the
    # store keeps sealed for each resident (services/platform/personal.py); empty: none. A
    # service with personal data needs TALKOOT_PERSONAL_DATA_KEY, and has ``keyring``.
    personal: ClassVar[PersonalFields] = {}

    def __init__(self, settings: Settings, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        ensure_schema(settings, settings.schema(self.service))
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        self.keyring: Keyring | None = None
        if self.personal:
            self.keyring = Keyring(
                MasterKey.required(settings.personal_data_key),
                settings.schema(PERSONAL_KEYS),
                lambda: self.factory.datastore.transaction(commit=True),
                lambda: self.factory.datastore.cursor(),  # its connections are in autocommit
            )
        super().__init__(env={**store_env(settings, self.service), **(env or {})})
        if self.keyring is not None:
            self.keyring.create()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "service" in cls.__dict__:
            cls.name = cls.service

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def construct_mapper(self) -> Mapper:
        if self.keyring is None:
            return super().construct_mapper()
        return PersonalMapper(
            transcoder=self.construct_transcoder(),
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
            keyring=self.keyring,
            personal=self.personal,
        )

    @contextmanager
    def personal_batch(self, reading: Sequence[StoredEvent] = ()) -> Iterator[None]:
        """Each resident's key looked up once within the block (see Keyring.batch); the keys
        of ``reading`` (stored events about to be read in it) all in one query, first."""
        if self.keyring is None:
            yield
            return
        with self.keyring.batch():
            if reading:
                assert isinstance(self.mapper, PersonalMapper)
                self.mapper.prefetch_keys(reading)
            yield

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    # --- new events wake the relay -------------------------------------------------------

    def on_new_events(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def _notify(self, recordings: list[Recording]) -> None:
        if recordings:
            for listener in list(self._listeners):
                listener()

    # --- helpers for use cases -----------------------------------------------------------

    def get(self, aggregate_id: str | UUID, kind: str = "item") -> Any:
        try:
            with self.personal_batch():
                return self.repository.get(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            raise NotFound.of(kind, aggregate_id) from None

    def as_of(
        self, aggregate_id: str | UUID, moment: datetime, kind: str = "item", name: str = ""
    ) -> Any:
        """The aggregate as it stood at ``moment``, rebuilt from its events up to the last one
        recorded by then (not from a copy kept aside); not found if it did not exist yet.
        ``name`` is how the answer names it (its id when not given)."""
        if moment.tzinfo is None:
            raise InvalidValue("as_of needs a time zone, e.g. 2026-12-01T12:00:00Z", rule="as_of")
        try:
            originator = UUID(str(aggregate_id))
        except ValueError:
            raise NotFound.of(kind, aggregate_id) from None
        version = None
        for stored in self.events.get(originator):
            if stored.timestamp > moment:
                break
            version = stored.originator_version
        if version is None:
            raise NotFound(f"no {kind} {name or aggregate_id} at {moment.isoformat()} yet")
        return self.repository.get(originator, version=version)

    @contextmanager
    def changes(self) -> Iterator[Changes]:
        """A unit of work for a run of upstream events; see ``services.platform.inbound``."""
        yield Changes(self)

    def commit(self, *aggregates: Any, tracking: Tracking | None = None) -> int:
        """Save, and return the notification position of the last new event (0 if none).

        A concurrent change to one of the aggregates raises ``Conflict``: nothing is stored.
        In an HTTP command with an idempotency key, the key's tracking row is stored in the
        same transaction (once per request), and ``AlreadyApplied`` says an earlier attempt
        stored it, so nothing was stored now.
        """
        claim = idempotency.current.get()
        keyed = tracking is None and claim is not None and not claim.committed
        if keyed:
            tracking = Tracking(claim.tracking_name, 1)
        # Application.save() cannot take a tracking object in eventsourcing 9.5, so the
        # processing event is built here, as ProcessApplication does it.
        processing = ProcessingEvent(tracking)
        processing.collect_events(*aggregates)
        try:
            with self.personal_batch():
                recordings = self._record(processing)
        except IntegrityError as error:
            if keyed and self.process_recorder.has_tracking_id(claim.tracking_name, 1):
                claim.applied_before = True
                raise AlreadyApplied(
                    "a request with this Idempotency-Key was applied before; nothing was stored now"
                ) from error
            raise Conflict(
                "somebody else changed this at the same moment; nothing was stored, try again"
            ) from error
        if keyed:
            claim.committed = True
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings[-1].notification.id if recordings else 0

    def store_snapshot(self, stored: StoredEvent) -> bool:
        """Store a snapshot (sent in binary however large: ``BinaryRowsRecorder``); False
        when the store holds one at that version already (another process took it)."""
        assert self.snapshots is not None
        try:
            self.snapshots.recorder.insert_events([stored])
        except IntegrityError:
            return False
        return True
