"""Each service's log for the audit, in its own schema: the leaves its checkpoints covered, the
signed checkpoints, making a new one, and reading it all back to verify and to prove.

The log's leaves are the service's stored events (``<service>_events``, eventsourcing's table)
in notification order, each hashed from its row exactly as stored (``domain.audit.leaves``;
PostgreSQL computes the hash, ``LEAF_HASH``, so only hashes are read).
Beside them, in the same schema, created by the service when it starts::

    <service>_audit_leaves       leaf_index, notification_id, originator_id, originator_version,
                                 leaf_hash: each event a checkpoint has covered, in order
    <service>_audit_checkpoints  tree_size, root_hash, note (the signed checkpoint),
                                 last_notification_id, compact_range, made_at

A checkpoint extends the leaves with the events stored since the last one and signs the new
tree head, in one transaction that holds the checkpoints table's lock, so two makers (the timer
and an admin's call) never interleave. Notification ids commit in order (eventsourcing locks
the events table to insert), so "the events after the last one covered" misses none.

Verifying reads the events and the leaves in one snapshot, side by side, and recomputes every
signed head; nothing here trusts the leaves table, which only says *where* the events first
differ from what was signed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import psycopg
from psycopg import sql

from contracts import database
from domain.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from domain.audit.leaves import StoredEvent
from domain.audit.merkle import (
    CompactRange,
    InvalidProof,
    Range,
    inclusion_ranges,
    range_roots,
    verify_inclusion,
)
from domain.audit.note import NoteError, Signer, Verifier
from domain.audit.tamper import Leaf, LogReport, check_log

BATCH = 5000  # events read, and leaves written, at a time
# A stored event's leaf hash (domain.audit.leaves), computed by PostgreSQL from the row: the
# same bytes hashed, with the functions of pg_catalog named as such (nothing in a schema on the
# search path can stand in for them). The events' bytes then never leave the database.
LEAF_HASH = sql.SQL(
    "pg_catalog.sha256('\\x0001'::bytea"
    " || pg_catalog.int8send(notification_id)"
    " || pg_catalog.uuid_send(originator_id)"
    " || pg_catalog.int8send(originator_version)"
    " || coalesce(pg_catalog.int4send(pg_catalog.length(pg_catalog.convert_to(topic, 'UTF8')))"
    " || pg_catalog.convert_to(topic, 'UTF8'), '\\xffffffff'::bytea)"
    " || coalesce(pg_catalog.int4send(pg_catalog.length(state)) || state,"
    " '\\xffffffff'::bytea))"
)
PROGRESS_EVERY = 100_000  # events read between two calls of a verification's progress


@dataclass(frozen=True)
class KeptCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    made_at: datetime
    last_notification_id: int | None  # of the last event it covers (None: it covers none)
    compact_range: bytes = field(repr=False)

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint.parse(self.note.split("\n\n", 1)[0] + "\n")

    def summary(self) -> dict:
        return {
            "tree_size": self.tree_size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "made_at": self.made_at.isoformat(),
            "last_notification_id": self.last_notification_id,
            "note": self.note,
        }


CHECKPOINT_COLUMNS = "tree_size, root_hash, note, made_at, last_notification_id, compact_range"


@dataclass(frozen=True)
class Log:
    """One service's log: its events table and the audit's two tables, in ``schema``."""

    service: str
    schema: str

    def _table(self, suffix: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(
            sql.Identifier(self.schema), sql.Identifier(f"{self.service}_{suffix}")
        )

    @property
    def events_table(self) -> sql.Composed:
        return self._table("events")

    @property
    def leaves_table(self) -> sql.Composed:
        return self._table("audit_leaves")

    @property
    def checkpoints_table(self) -> sql.Composed:
        return self._table("audit_checkpoints")

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " leaf_index bigint PRIMARY KEY,"
                " notification_id bigint NOT NULL,"
                " originator_id uuid NOT NULL,"
                " originator_version bigint NOT NULL,"
                " leaf_hash bytea NOT NULL)"
            ).format(self.leaves_table)
        )
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " tree_size bigint PRIMARY KEY,"
                " root_hash bytea NOT NULL,"
                " note text NOT NULL,"
                " made_at timestamptz NOT NULL DEFAULT now(),"
                " last_notification_id bigint,"
                " compact_range bytea NOT NULL)"
            ).format(self.checkpoints_table)
        )

    def exists(self, conn: psycopg.Connection) -> dict[str, bool]:
        """Which of its tables are there: ``events``, ``audit_leaves``, ``audit_checkpoints``."""
        found = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (self.schema,),
            )
        }
        return {
            s: f"{self.service}_{s}" in found
            for s in ("events", "audit_leaves", "audit_checkpoints")
        }

    def leaves_now(
        self,
        conn: psycopg.Connection,
        after: int | None = None,
        first: int = 0,
        name: str = "audit_event_leaves",
    ) -> Iterator[Leaf]:
        """The leaves the stored events give now, in notification order (those after
        notification id ``after``, the first at leaf index ``first``): each row's leaf hash
        computed where it is stored (``LEAF_HASH``), so only the hashes are read, in binary.
        ``conn`` must be in a transaction."""
        query = sql.SQL(
            "SELECT row_number() OVER (ORDER BY notification_id) + {} - 1, notification_id, "
            "originator_id, originator_version, {} FROM {}{} ORDER BY notification_id"
        ).format(
            first,
            LEAF_HASH,
            self.events_table,
            sql.SQL("") if after is None else sql.SQL(" WHERE notification_id > {}").format(after),
        )
        with conn.cursor(name=name, binary=True, row_factory=lambda _: Leaf._make) as cursor:
            cursor.itersize = BATCH
            cursor.execute(query)
            yield from cursor

    def recorded(
        self, conn: psycopg.Connection, below: int | None = None, name: str = "audit_leaves"
    ) -> Iterator[Leaf]:
        """The leaves checkpoints covered, in order (those below leaf index ``below``)."""
        query = sql.SQL(
            "SELECT leaf_index, notification_id, originator_id, originator_version, leaf_hash "
            "FROM {}{} ORDER BY leaf_index"
        ).format(
            self.leaves_table,
            sql.SQL("") if below is None else sql.SQL(" WHERE leaf_index < {}").format(below),
        )
        with conn.cursor(name=name, binary=True, row_factory=lambda _: Leaf._make) as cursor:
            cursor.itersize = BATCH
            cursor.execute(query)
            yield from cursor

    def checkpoints(self, conn: psycopg.Connection) -> list[KeptCheckpoint]:
        """Every kept checkpoint, oldest first."""
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY tree_size").format(
                sql.SQL(CHECKPOINT_COLUMNS), self.checkpoints_table
            )
        ).fetchall()
        return [_kept(row) for row in rows]

    def latest(self, conn: psycopg.Connection) -> KeptCheckpoint | None:
        row = conn.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY tree_size DESC LIMIT 1").format(
                sql.SQL(CHECKPOINT_COLUMNS), self.checkpoints_table
            )
        ).fetchone()
        return None if row is None else _kept(row)


def _event(row: tuple) -> StoredEvent:
    nid, originator, version, topic, state = row
    return StoredEvent(nid, originator, version, topic, None if state is None else bytes(state))


def _kept(row: tuple) -> KeptCheckpoint:
    size, root, note, made_at, last, compact = row
    return KeptCheckpoint(size, bytes(root), note, made_at, last, bytes(compact))


# --- making checkpoints ------------------------------------------------------------------


def make_checkpoint(
    conn: psycopg.Connection, log: Log, signer: Signer, origin: str
) -> tuple[KeptCheckpoint, bool]:
    """Extend the log's leaves with the events stored since its last checkpoint and sign a
    new one, if the log has grown (or has none yet): the latest checkpoint, and whether it
    is new. ``signer`` is named as ``origin``."""
    with conn.transaction():
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(log.checkpoints_table)
        )
        latest = log.latest(conn)
        tree = (
            CompactRange.from_bytes(latest.tree_size, latest.compact_range)
            if latest
            else CompactRange()
        )
        last = latest.last_notification_id if latest else None
        copy_leaves = sql.SQL(
            "COPY {} (leaf_index, notification_id, originator_id, originator_version, leaf_hash)"
            " FROM STDIN"
        ).format(log.leaves_table)
        batch: list[Leaf] = []

        def write(batch: list[Leaf]) -> None:
            with conn.cursor().copy(copy_leaves) as copy:
                for leaf in batch:
                    copy.write_row(leaf)

        for leaf in log.leaves_now(conn, after=last, first=tree.size, name="audit_new_events"):
            tree.append(leaf.leaf_hash)
            last = leaf.notification_id
            batch.append(leaf)
            if len(batch) == BATCH:
                write(batch)
                batch = []
        if batch:
            write(batch)
        if latest is not None and tree.size == latest.tree_size:
            return latest, False
        checkpoint = Checkpoint(origin, tree.size, tree.root())
        note = sign_checkpoint(checkpoint, signer)
        row = conn.execute(
            sql.SQL(
                "INSERT INTO {} (tree_size, root_hash, note, last_notification_id, compact_range)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING {}"
            ).format(log.checkpoints_table, sql.SQL(CHECKPOINT_COLUMNS)),
            (tree.size, checkpoint.root_hash, note, last, tree.to_bytes()),
        ).fetchone()
        return _kept(row), True


@dataclass(frozen=True)
class AuditLog:
    """A service's log as the service keeps it: where it is, and the key and origin it signs
    its checkpoints with."""

    database_url: str
    log: Log
    origin: str
    seed: bytes = field(repr=False)

    @property
    def signer(self) -> Signer:
        return Signer(self.origin, self.seed)

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier.key()

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(database.conninfo(self.database_url), connect_timeout=2)

    def create(self) -> None:
        with self._connect() as conn:
            self.log.create(conn)

    def checkpoint(self) -> tuple[KeptCheckpoint, bool]:
        """A new checkpoint if the log has grown since the last (or there is none): see
        ``make_checkpoint``."""
        with self._connect() as conn:
            return make_checkpoint(conn, self.log, self.signer, self.origin)


# --- verifying ---------------------------------------------------------------------------


@dataclass
class Verification:
    """What verifying one log found."""

    service: str
    origin: str | None = None
    checkpoints: list[KeptCheckpoint] = field(default_factory=list)
    bad_checkpoints: dict[int, str] = field(default_factory=dict)  # size -> why
    report: LogReport | None = None
    missing: str | None = None  # a table that is not there, if one is not

    @property
    def latest(self) -> KeptCheckpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    @property
    def ok(self) -> bool:
        return (
            self.missing is None
            and not self.bad_checkpoints
            and self.report is not None
            and self.report.ok
        )


def snapshot(conn: psycopg.Connection) -> None:
    """One consistent, read-only view for everything read next on ``conn``."""
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def verify_log(
    conn: psycopg.Connection,
    log: Log,
    verifiers: Sequence[Verifier],
    ranges: Sequence[Range] = (),
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Check every kept checkpoint's signature (by one of ``verifiers``, named as the
    checkpoint's origin, and that origin ``origin`` when given) and recompute the log from its
    stored events against them; ``ranges`` of leaves have their heads gathered on the way (for
    consistency proofs); ``progress`` hears how many events have been read, now and then.
    ``conn`` is in a transaction (see ``snapshot``)."""
    found = Verification(log.service)
    tables = log.exists(conn)
    if not tables["events"]:
        found.missing = f"{log.service}_events"
        return found
    if not tables["audit_checkpoints"] or not tables["audit_leaves"]:
        found.missing = f"{log.service}_audit_checkpoints"
        return found
    found.checkpoints = log.checkpoints(conn)
    heads = []
    for kept in found.checkpoints:
        try:
            checkpoint, note = open_checkpoint(kept.note, verifiers)
        except NoteError as error:
            found.bad_checkpoints[kept.tree_size] = f"its signature does not check: {error}"
            continue
        found.origin = found.origin or checkpoint.origin
        if checkpoint.origin not in {s.name for s in note.signatures}:
            found.bad_checkpoints[kept.tree_size] = "it is not signed by its log's own key"
        elif origin is not None and checkpoint.origin != origin:
            found.bad_checkpoints[kept.tree_size] = f"it is of another log, {checkpoint.origin}"
        elif (checkpoint.size, checkpoint.root_hash) != (kept.tree_size, kept.root_hash):
            found.bad_checkpoints[kept.tree_size] = "its signed size or root is not the row's"
        else:
            heads.append((checkpoint.size, checkpoint.root_hash))
    leaves = _counting(log.leaves_now(conn), progress)
    found.report = check_log(leaves, log.recorded(conn), heads, ranges)
    return found


def _counting(leaves: Iterable[Leaf], progress: Callable[[int], None] | None) -> Iterator[Leaf]:
    for n, leaf in enumerate(leaves, 1):
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
        yield leaf


# --- proving -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventProof:
    leaf_index: int
    event: StoredEvent
    proof: list[bytes]

    def as_json(self) -> dict:
        e = self.event
        return {
            "leaf_index": self.leaf_index,
            "notification_id": e.notification_id,
            "originator_id": str(e.originator_id),
            "originator_version": e.originator_version,
            "topic": e.topic,
            "leaf_data": base64.b64encode(e.leaf_data()).decode(),
            "leaf_hash": base64.b64encode(e.leaf_hash()).decode(),
            "inclusion_proof": [base64.b64encode(h).decode() for h in self.proof],
        }


@dataclass
class LogProof:
    service: str
    checkpoint: KeptCheckpoint | None
    events: list[EventProof] = field(default_factory=list)
    not_yet_covered: int = 0  # the request's events stored after the checkpoint
    problems: list[str] = field(default_factory=list)


def _about(request_id: UUID) -> sql.Composable:
    """The events a request's id identifies: those it originates, and those whose stored state
    names it (an offer made for it, a charge of it)."""
    return sql.SQL("(e.originator_id = {} OR position({} IN e.state) > 0)").format(
        sql.Literal(request_id), sql.Literal(str(request_id).encode())
    )


def prove(
    conn: psycopg.Connection, log: Log, request_id: UUID, size: int | None = None
) -> LogProof:
    """Inclusion proofs of the events ``request_id`` identifies in the log's checkpoint of
    ``size`` leaves (its latest by default), each checked before it is handed out."""
    kept = log.checkpoints(conn) if log.exists(conn)["audit_checkpoints"] else []
    chosen = [k for k in kept if size is None or k.tree_size == size]
    found = LogProof(log.service, chosen[-1] if chosen else None)
    if found.checkpoint is None:
        found.problems.append(
            f"no checkpoint of {size} events" if size is not None else "no checkpoint yet"
        )
        return found
    checkpoint = found.checkpoint
    about = _about(request_id)
    rows = conn.execute(
        sql.SQL(
            "SELECT l.leaf_index, l.leaf_hash, e.notification_id, e.originator_id, "
            "e.originator_version, e.topic, e.state FROM {} e JOIN {} l "
            "ON l.notification_id = e.notification_id "
            "WHERE l.leaf_index < %s AND {} ORDER BY l.leaf_index"
        ).format(log.events_table, log.leaves_table, about),
        (checkpoint.tree_size,),
    ).fetchall()
    later = sql.SQL("SELECT count(*) FROM {} e WHERE e.notification_id > %s AND {}").format(
        log.events_table, about
    )
    (found.not_yet_covered,) = conn.execute(
        later, (checkpoint.last_notification_id or -(2**63),)
    ).fetchone()
    targets = []
    for index, recorded, *event_row in rows:
        event = _event(tuple(event_row))
        if event.leaf_hash() != bytes(recorded):
            found.problems.append(
                f"the event at leaf {index} (notification id {event.notification_id}) is not "
                "as checkpointed: see `talkoot audit verify`"
            )
            continue
        targets.append((index, event))
    ranges = [r for index, _ in targets for r in inclusion_ranges(index, checkpoint.tree_size)]
    leaves = (leaf.leaf_hash for leaf in log.recorded(conn, below=checkpoint.tree_size))
    roots = range_roots(leaves, ranges)
    for index, event in targets:
        proof = [roots[r] for r in inclusion_ranges(index, checkpoint.tree_size)]
        try:
            verify_inclusion(
                index, checkpoint.tree_size, event.leaf_hash(), proof, checkpoint.root_hash
            )
        except InvalidProof as error:
            found.problems.append(f"the proof of leaf {index} does not check: {error}")
            continue
        found.events.append(EventProof(index, event, proof))
    return found
