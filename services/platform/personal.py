"""Residents' personal data at rest: each resident's keys, sealing and opening, and the mapper
that keeps personal fields encrypted in the event store (and its snapshots).

Every resident has a key of their own (AES-256), made the first time something of theirs is
stored. The keys are kept in a table of their own, ``resident_keys``, in a schema of its own,
``<namespace>_personal_keys``, and never beside the events: several services read them (the
requests service seals and opens; matching opens the point of a job and seals it in its own
store), none owns them as part of its history, and a schema apart can be backed up on a shorter
cycle and granted to other roles than the event stores. Each key is stored wrapped (AES-GCM,
bound to its id and resident) by the master key, which is derived (HKDF-SHA256) from
``TALKOOT_PERSONAL_DATA_KEY`` and is never stored.

Sealing encrypts a JSON object of personal fields with AES-256-GCM under the resident's live
key, with a fresh 12-byte nonce, and binds it (associated data) to the resident, the key and
where it belongs: in the event store the stored event's topic, aggregate id and version; on
the wire the integration event's type and the id of what it is about.

Erasing a resident destroys their keys: the wrapped key is overwritten with NULL and the row
kept as a tombstone (``erased_at``), so that what was sealed under it reads as erased
(``contracts.personal.ERASED``) rather than as an error. What the resident stores afterwards
gets a new key. There is no cache of keys between calls: an erasure takes effect in every
process at once. Within one call (``batch``) each key is looked up once.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from contracts.personal import NUMBERS, SCHEME, Sealed, associated_data, erased

log = logging.getLogger("talkoot.personal")

VARIABLE = "TALKOOT_PERSONAL_DATA_KEY"
MIN_SECRET = 32
NONCE = 12
TABLE = "resident_keys"
# The key in a stored event's state under which its sealed personal fields are kept.
STORED = "_personal"
# A stored event's key id, found without decoding it (a hint for looking keys up together).
_KEY_ID = re.compile(rb'"%s":\{"resident_id":"[^"]*","key_id":"([^"]+)"' % STORED.encode())

HELP = (
    f"{VARIABLE} is not set: it is the master key that wraps every resident's key of "
    "personal data (at least 32 characters, random; `talkoot up` makes one). Keep it apart "
    "from the database and its backups: without it no personal data can be read."
)


class PersonalDataError(Exception):
    """A sealed value that does not open under its own key: altered, or moved from elsewhere."""


class MasterKey:
    """The key that wraps the residents' keys, derived from the configured secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET:
            raise SystemExit(f"{VARIABLE} must be at least {MIN_SECRET} characters")
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"talkoot personal data: wrapping residents' keys, v1",
        ).derive(secret.encode())
        self._aead = AESGCM(derived)

    @classmethod
    def required(cls, secret: str | None) -> MasterKey:
        if not secret:
            raise SystemExit(HELP)
        return cls(secret)

    @staticmethod
    def _bound(key_id: str, resident_id: str) -> bytes:
        return "\x00".join((SCHEME, "key", key_id, resident_id)).encode()

    def wrap(self, key_id: str, resident_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, key, self._bound(key_id, resident_id))

    def unwrap(self, key_id: str, resident_id: str, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                wrapped[:NONCE], wrapped[NONCE:], self._bound(key_id, resident_id)
            )
        except InvalidTag:
            raise PersonalDataError(
                f"the key {key_id} does not unwrap with this {VARIABLE}: another master key, "
                "or an altered row"
            ) from None


@dataclass(frozen=True)
class ResidentKey:
    key_id: str
    resident_id: str
    key: bytes = b""  # empty once erased

    @property
    def erased(self) -> bool:
        return not self.key


def ddl(schema: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS "{schema}";
CREATE TABLE IF NOT EXISTS "{schema}".{TABLE} (
    key_id text PRIMARY KEY,
    resident_id text NOT NULL,
    wrapped bytea,                 -- NULL once the resident's data is erased
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz
);
-- One live key per resident; erased keys stay as tombstones.
CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_live ON "{schema}".{TABLE} (resident_id)
    WHERE erased_at IS NULL;
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_batch: ContextVar[dict[Any, Any] | None] = ContextVar("personal_keys_batch", default=None)

Cursor = Any
Transaction = Callable[[], AbstractContextManager[Cursor]]


class Keyring:
    """The residents' keys (in ``schema``), and sealing and opening with them.

    ``transaction`` gives a psycopg cursor in a transaction that commits (the event store's
    pool), and ``statement`` one on a connection in autocommit, for the reads of a single
    statement (by default ``transaction``); the async readers pass an asyncpg pool to the
    ``*_async`` methods instead.
    """

    def __init__(
        self,
        master: MasterKey,
        schema: str,
        transaction: Transaction,
        statement: Transaction | None = None,
    ) -> None:
        self.master = master
        self.schema = schema
        self.table = f'"{schema}".{TABLE}'
        self._transaction = transaction
        # A read of one statement needs no transaction of its own: on a connection in
        # autocommit it is one round trip, not three (BEGIN, the statement, COMMIT).
        self._statement = statement or transaction

    def create(self) -> None:
        with self._transaction() as curs:
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
            curs.execute(ddl(self.schema))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Look each key up once within the block (one call: a load, a save, a relay batch)."""
        if _batch.get() is not None:
            yield
            return
        token = _batch.set({})
        try:
            yield
        finally:
            _batch.reset(token)

    # --- keys ----------------------------------------------------------------------------

    def key_for(self, resident_id: str) -> ResidentKey:
        """The resident's live key, made now if they have none."""
        cache = _batch.get()
        if cache is not None and ("live", resident_id) in cache:
            return cache["live", resident_id]
        live = f"""SELECT key_id, wrapped FROM {self.table}
                   WHERE resident_id = %s AND erased_at IS NULL"""
        # Most residents have their key already: looked up first, it costs a read, not an
        # insert that a conflict undoes (a write, and its commit, all the same).
        with self._statement() as curs:
            row = curs.execute(live, (resident_id,)).fetchone()
        found = None
        for _ in range(3):  # a concurrent erasure between the statements: once more
            if row is not None:
                key_id = row["key_id"]
                key = self.master.unwrap(key_id, resident_id, bytes(row["wrapped"]))
                found = ResidentKey(key_id, resident_id, key)
                break
            key_id, key = uuid.uuid4().hex, AESGCM.generate_key(bit_length=256)
            with self._transaction() as curs:
                curs.execute(
                    f"""INSERT INTO {self.table} (key_id, resident_id, wrapped)
                        VALUES (%s, %s, %s)
                        ON CONFLICT (resident_id) WHERE erased_at IS NULL DO NOTHING""",
                    (key_id, resident_id, self.master.wrap(key_id, resident_id, key)),
                )
                if curs.rowcount == 1:
                    found = ResidentKey(key_id, resident_id, key)
                    break
                row = curs.execute(live, (resident_id,)).fetchone()  # made meanwhile by another
        if found is None:
            raise PersonalDataError(f"no live key could be made for resident {resident_id}")
        if cache is not None:
            cache["live", resident_id] = cache[found.key_id] = found
        return found

    def _unwrapped(self, rows: Iterable[Any]) -> dict[str, ResidentKey]:
        found = {}
        for row in rows:
            key_id, resident_id, wrapped = row["key_id"], row["resident_id"], row["wrapped"]
            key = b"" if wrapped is None else self.master.unwrap(key_id, resident_id, wrapped)
            found[key_id] = ResidentKey(key_id, resident_id, key)
        return found

    def keys(self, key_ids: Iterable[str]) -> dict[str, ResidentKey]:
        """The keys with these ids (an erased one without its key; an unknown one left out)."""
        wanted = set(key_ids)
        cache = _batch.get()
        known = {k: cache[k] for k in wanted if k in cache} if cache is not None else {}
        missing = sorted(wanted - set(known))
        if missing:
            with self._statement() as curs:
                curs.execute(
                    f"""SELECT key_id, resident_id, wrapped FROM {self.table}
                        WHERE key_id = ANY(%s)""",
                    (missing,),
                )
                rows = [{**r, "wrapped": _bytes(r["wrapped"])} for r in curs.fetchall()]
            fetched = self._unwrapped(rows)
            if cache is not None:
                cache.update(fetched)
                # a key not erased is its resident's live one (one each): what key_for finds
                cache.update({("live", k.resident_id): k for k in fetched.values() if not k.erased})
            known.update(fetched)
        return known

    async def keys_async(self, pool: Any, key_ids: Iterable[str]) -> dict[str, ResidentKey]:
        """``keys``, read through an asyncpg pool (the services' query endpoints)."""
        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        rows = await pool.fetch(
            f"SELECT key_id, resident_id, wrapped FROM {self.table} WHERE key_id = ANY($1)",
            wanted,
        )
        return self._unwrapped(rows)

    def is_erased(self, resident_id: str) -> bool:
        """Whether the resident's data was ever erased (for events stored in plain text
        before personal data was encrypted: they are read as erased too)."""
        cache = _batch.get()
        if cache is not None and ("erased", resident_id) in cache:
            return cache["erased", resident_id]
        with self._statement() as curs:
            curs.execute(
                f"""SELECT EXISTS (SELECT 1 FROM {self.table}
                    WHERE resident_id = %s AND erased_at IS NOT NULL) AS erased""",
                (resident_id,),
            )
            answer = bool(curs.fetchone()["erased"])
        if cache is not None:
            cache["erased", resident_id] = answer
        return answer

    def held(self, resident_id: str) -> tuple[int, int]:
        """How many live and how many erased keys the resident has."""
        with self._statement() as curs:
            curs.execute(
                f"""SELECT count(*) FILTER (WHERE erased_at IS NULL) AS live,
                           count(*) FILTER (WHERE erased_at IS NOT NULL) AS erased
                    FROM {self.table} WHERE resident_id = %s""",
                (resident_id,),
            )
            row = curs.fetchone()
        return row["live"], row["erased"]

    def erase(self, resident_id: str) -> list[str]:
        """Destroy the resident's live keys; the ids of those destroyed. A resident who had
        none (all their data stored in plain text, before it was sealed) gets a tombstone,
        so that what is stored of them reads as erased."""
        with self._transaction() as curs:
            curs.execute(
                f"""UPDATE {self.table} SET wrapped = NULL, erased_at = now()
                    WHERE resident_id = %s AND erased_at IS NULL RETURNING key_id""",
                (resident_id,),
            )
            destroyed = [row["key_id"] for row in curs.fetchall()]
            if not destroyed:
                curs.execute(
                    f"""INSERT INTO {self.table} (key_id, resident_id, wrapped, erased_at)
                        SELECT %s, %s, NULL, now() WHERE NOT EXISTS (
                          SELECT 1 FROM {self.table} WHERE resident_id = %s)""",
                    (uuid.uuid4().hex, resident_id, resident_id),
                )
        return destroyed

    # --- sealing and opening ---------------------------------------------------------------

    def seal(self, resident_id: str, context: str, values: dict[str, Any]) -> Sealed:
        """``values`` sealed under the resident's live key, bound to ``context``."""
        return seal_with(self.key_for(resident_id), context, values)

    def open(self, sealed: Sealed, fields: Iterable[str]) -> dict[str, Any]:
        """The fields ``sealed`` holds; each reads as erased once its key is destroyed."""
        return open_with(self.keys([sealed.key_id]).get(sealed.key_id), sealed, tuple(fields))

    async def open_async(
        self, pool: Any, sealed: Iterable[Sealed | None], fields: Iterable[str]
    ) -> list[dict[str, Any] | None]:
        """Each of ``sealed`` opened (None for None), looking their keys up in one query."""
        sealed, fields = list(sealed), tuple(fields)
        keys = await self.keys_async(pool, [s.key_id for s in sealed if s is not None])
        return [None if s is None else open_with(keys.get(s.key_id), s, fields) for s in sealed]


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def seal_with(key: ResidentKey, context: str, values: dict[str, Any]) -> Sealed:
    nonce = os.urandom(NONCE)
    aad = associated_data(key.resident_id, key.key_id, context)
    data = AESGCM(key.key).encrypt(nonce, msgspec.json.encode(values), aad)
    return Sealed(
        resident_id=key.resident_id, key_id=key.key_id, context=context, nonce=nonce, data=data
    )


def open_with(key: ResidentKey | None, sealed: Sealed, fields: tuple[str, ...]) -> dict[str, Any]:
    """Those of ``fields`` that ``sealed`` holds; every one of ``fields`` as erased when
    ``key`` is gone (destroyed, or unknown: a key table restored without it)."""
    if key is None or key.erased:
        return erased(fields)
    if key.resident_id != sealed.resident_id:
        raise PersonalDataError(f"key {key.key_id} is not resident {sealed.resident_id}'s")
    aad = associated_data(sealed.resident_id, sealed.key_id, sealed.context)
    try:
        opened = msgspec.json.decode(AESGCM(key.key).decrypt(sealed.nonce, sealed.data, aad))
    except InvalidTag:
        raise PersonalDataError(
            f"personal data sealed as {sealed.context!r} does not open: altered, or moved "
            "from another event"
        ) from None
    return {name: opened[name] for name in fields if name in opened}


def sealed_of(value: Any) -> Sealed | None:
    """A ``Sealed`` from what a read model keeps of one (JSON text, a dict) or None."""
    if value is None:
        return None
    if isinstance(value, Sealed):
        return value
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=Sealed)
    return msgspec.convert(value, Sealed)


# --- in the event store ------------------------------------------------------------------


@dataclass(frozen=True)
class Personal:
    """Where a resident's personal data is in one kind of stored event: the attribute that
    names the resident and the attributes that are theirs. Given for an aggregate class, it
    describes the aggregate's snapshots."""

    resident: str
    fields: tuple[str, ...]


PersonalFields = dict[type, Personal]


class PersonalMapper(Mapper):
    """eventsourcing's mapper, with each event's (and snapshot's) personal fields sealed for
    its resident as it is stored and opened as it is read; every other field as it was.

    A stored event keeps its sealed fields under ``_personal`` (the resident, the key, the
    nonce and the ciphertext); the associated data is its topic, aggregate id and version, so
    that a ciphertext copied into another event does not open. An event stored before this
    (in plain text) is read as it is, its personal fields as erased once its resident is.
    """

    def __init__(self, *args: Any, keyring: Keyring, personal: PersonalFields, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.keyring = keyring
        self.personal = personal

    def _where(self, cls: type, state: dict[str, Any]) -> tuple[Personal, dict[str, Any]] | None:
        """The spec of an event, and the dict its personal fields are in (a snapshot's own)."""
        if issubclass(cls, Snapshot):
            try:
                spec = self.personal.get(resolve_topic(state.get("topic", "")))
            except Exception:  # a topic of something that is not ours
                return None
            inner = state.get("state")
            return (spec, inner) if spec and isinstance(inner, dict) else None
        spec = self.personal.get(cls)
        return (spec, state) if spec else None

    @staticmethod
    def _context(topic: str, originator_id: Any, version: int) -> str:
        return f"{topic}/{originator_id}/{version}"

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        state = dict(vars(domain_event))
        if isinstance(state.get("state"), dict):
            state["state"] = dict(state["state"])
        where = self._where(cls, state)
        resident = where[1].get(where[0].resident) if where else None
        if not where or not resident:
            return super().to_stored_event(domain_event)
        spec, holder = where
        values = {name: holder.pop(name) for name in spec.fields if name in holder}
        context = self._context(get_topic(cls), state["originator_id"], state["originator_version"])
        sealed = self.keyring.seal(resident, context, values)
        state[STORED] = {
            "resident_id": sealed.resident_id,
            "key_id": sealed.key_id,
            "nonce": _b64(sealed.nonce),
            "data": _b64(sealed.data),
        }
        clone = object.__new__(cls)
        object.__setattr__(clone, "__dict__", state)
        return super().to_stored_event(clone)

    def prefetch_keys(self, stored_events: Iterable[StoredEvent]) -> None:
        """Look up, in one query, the keys the personal data of ``stored_events`` is sealed
        with, for reading them in the keyring's ``batch`` that this is called in (else it does
        nothing): read one at a time, each resident's key would be a query of its own. Found in
        the stored state as the mapper writes it; a key missed (the state compressed or
        enciphered) is looked up when its event is read, as ever."""
        if _batch.get() is None:
            return
        self.keyring.keys(
            {m.group(1).decode() for e in stored_events if (m := _KEY_ID.search(e.state))}
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        state = event.__dict__
        blob = state.pop(STORED, None)
        where = self._where(type(event), state)
        if where is None:
            return event
        spec, holder = where
        if blob is None:  # stored in plain text, before personal data was encrypted
            resident = holder.get(spec.resident)
            if resident and self.keyring.is_erased(resident):
                holder.update(erased([f for f in spec.fields if f in holder]))
            return event
        sealed = Sealed(
            resident_id=blob["resident_id"],
            key_id=blob["key_id"],
            context=self._context(
                stored_event.topic, stored_event.originator_id, stored_event.originator_version
            ),
            nonce=base64.b64decode(blob["nonce"]),
            data=base64.b64decode(blob["data"]),
        )
        holder.update(self.keyring.open(sealed, spec.fields))
        return event


# --- in integration events ---------------------------------------------------------------


def blank(name: str) -> Any:
    """What a personal field of an integration event is published as: empty, or null."""
    return None if name in NUMBERS else ""


def seal_event(
    keyring: Keyring | None, kind: type, about: str, resident_id: str, values: dict[str, Any]
) -> tuple[dict[str, Any], Sealed | None]:
    """An integration event's personal ``values`` as they are published: each blank, and all
    of them sealed for the resident, bound to the event's type and ``about`` (the id of what it
    is about). Without a keyring or a resident, nothing is sealed: they travel as nothing.
    Once erased (an event published after its resident's erasure), they travel as a ``Sealed``
    of no key, which opens as erased."""
    blanks = {name: blank(name) for name in values}
    if keyring is None or not resident_id:
        return blanks, None
    context = f"{kind.__name__}/{about}"
    if values == erased(list(values)):
        # read after its resident's erasure: nothing left to seal, and it says so
        return blanks, Sealed(
            resident_id=resident_id, key_id="", context=context, nonce=b"", data=b""
        )
    return blanks, keyring.seal(resident_id, context, values)


def open_event(keyring: Keyring | None, event: Any, fields: Iterable[str]) -> dict[str, Any]:
    """``fields`` of an integration event in clear: opened from its ``sealed`` (erased once
    the resident is), or as published by an event from before personal data was sealed."""
    fields = tuple(fields)
    plain = {name: getattr(event, name, blank(name)) for name in fields}
    sealed = getattr(event, "sealed", None)
    if sealed is None:
        return plain
    if keyring is None:
        return erased(fields)
    return {**plain, **keyring.open(sealed, fields)}


# --- in read models ----------------------------------------------------------------------

Columns = dict[str, dict[str, str]]


async def open_rows(
    keyring: Keyring | None, pool: Any, rows: list[dict[str, Any]], columns: Columns
) -> list[dict[str, Any]]:
    """``rows`` of a read model with each sealed column (``columns``: column -> {sealed field:
    the row's column it stands for}) opened into the columns it stands for, and dropped. A row
    without a value in a sealed column keeps those columns as they are. One query for the
    keys of all of them."""
    found = [(row, column, sealed_of(row.get(column))) for row in rows for column in columns]
    keys = {}
    if keyring is not None:
        keys = await keyring.keys_async(pool, [s.key_id for _, _, s in found if s is not None])
    for row, column, sealed in found:
        row.pop(column, None)
        if sealed is None:
            continue
        names = columns[column]
        opened = open_with(keys.get(sealed.key_id), sealed, tuple(names))
        row.update({names[name]: value for name, value in opened.items()})
    return rows
