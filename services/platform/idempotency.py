"""Safe retries: a command sent again with its ``Idempotency-Key`` gets the first answer.

The ASGI middleware claims the key in the service's own schema before the command runs and
records the answer (below 500 only) when it is done; a retry with the same key and request
gets that answer again, marked ``Idempotency-Replayed: true``. The key also travels, in a
context variable, to ``ServiceApplication.commit``, which stores a tracking row named after it
in the same transaction as the command's events: if the process dies after that commit but
before the answer is recorded, the retry's commit meets the row, stores nothing, and the
client is told the command was applied already.

A key is the caller's own: the same key sent by two callers is two keys, so that nobody is
replayed another's answer, or refused because another used the key first. The caller is the
verified token's subject; a public command sent without a token is the Open311 ``api_key`` it
posts, or else the client's address.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from litestar.enums import RequestEncodingType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.platform.edge import MAX_BODY_BYTES, header, media_type_of
from services.platform.errors import STORE_ERRORS, UNAVAILABLE, UNAVAILABLE_RULE
from services.platform.identity import maybe_caller, who

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY = re.compile(r"[A-Za-z0-9_.:~+/=-]{1,200}")
TRACKING_PREFIX = "idempotency:"
# A claim still pending after this long belongs to an attempt that died: a retry takes it over.
# Safe even if that attempt lives on: only one of them can commit the key's tracking row.
ABANDONED_AFTER = timedelta(minutes=1)
STORE_WAIT_SECONDS = 2.0


@dataclass
class Claim:
    """The idempotency key of the command running in this context."""

    key_hash: str
    committed: bool = False  # its tracking row went in with the command's events
    applied_before: bool = False  # its tracking row was there already: nothing was stored

    @property
    def tracking_name(self) -> str:
        return TRACKING_PREFIX + self.key_hash


current: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


def key_hash(key: str, owner: str) -> str:
    """What a key is stored as: ``key`` as ``owner`` (``owner_of``) sent it."""
    return hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()


def owner_of(scope: Scope, body: bytes) -> str:
    """Whose key it is: the verified caller (the JWT middleware has run), else the api_key a
    public form post names, else the client's address."""
    if maybe_caller(scope) is None and media_type_of(scope) == RequestEncodingType.URL_ENCODED:
        with contextlib.suppress(UnicodeDecodeError, ValueError):
            for name, value in parse_qsl(body.decode(), keep_blank_values=True):
                if name == "api_key" and value.strip():
                    return f"api_key:{value}"
    return who(scope)


class Keys:
    """The keys table of one service, beside its event store's tracking table."""

    def __init__(self, pool: asyncpg.Pool, schema: str, tracking_table: str) -> None:
        self.pool = pool
        self.table = f'"{schema}".idempotency_keys'
        self.tracking = f'"{schema}"."{tracking_table}"'
        self.process = uuid.uuid4().hex
        self.started_at: Any = None

    async def create(self) -> None:
        async with self.pool.acquire(timeout=STORE_WAIT_SECONDS) as conn:
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.table} (
                    key_hash text PRIMARY KEY,
                    fingerprint text NOT NULL,
                    state text NOT NULL,  -- pending, done, released
                    process text NOT NULL,
                    claim text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    claimed_at timestamptz NOT NULL DEFAULT now(),
                    status int,
                    content_type text,
                    body bytea
                )"""
            )
            self.started_at = await conn.fetchval("SELECT now()")

    async def claim(self, key_hash: str, fingerprint: str) -> tuple[str, asyncpg.Record | None]:
        """("claimed", None) with a fresh claim token in ``claim``, else the row as it is."""
        token = uuid.uuid4().hex
        async with self.pool.acquire(timeout=STORE_WAIT_SECONDS) as conn:
            won = await conn.fetchval(
                f"""INSERT INTO {self.table} AS k (key_hash, fingerprint, state, process, claim)
                VALUES ($1, $2, 'pending', $3, $4)
                ON CONFLICT (key_hash) DO UPDATE
                SET state = 'pending', process = $3, claim = $4, claimed_at = now()
                WHERE k.fingerprint = $2 AND (
                    k.state = 'released' OR (k.state = 'pending' AND (
                        k.claimed_at < now() - $5::interval
                        OR (k.process <> $3 AND k.claimed_at < $6))))
                RETURNING claim""",
                key_hash,
                fingerprint,
                self.process,
                token,
                ABANDONED_AFTER,
                self.started_at,
            )
            if won:
                return token, None
            row = await conn.fetchrow(f"SELECT * FROM {self.table} WHERE key_hash = $1", key_hash)
            return "", row

    async def answer(self, key_hash: str) -> asyncpg.Record | None:
        async with self.pool.acquire(timeout=STORE_WAIT_SECONDS) as conn:
            return await conn.fetchrow(
                f"SELECT * FROM {self.table} WHERE key_hash = $1 AND state = 'done'", key_hash
            )

    async def record(
        self, key_hash: str, token: str, status: int, content_type: str, body: bytes
    ) -> None:
        async with self.pool.acquire(timeout=STORE_WAIT_SECONDS) as conn:
            await conn.execute(
                # An attempt taken over (thought dead) may still finish: its answer is kept
                # while the key is pending, for the attempt that took over to replay.
                f"""UPDATE {self.table} SET state = 'done', status = $3, content_type = $4,
                body = $5 WHERE key_hash = $1 AND (claim = $2 OR state = 'pending')""",
                key_hash,
                token,
                status,
                content_type,
                body,
            )

    async def release(self, key_hash: str, token: str) -> None:
        async with self.pool.acquire(timeout=STORE_WAIT_SECONDS) as conn:
            await conn.execute(
                f"UPDATE {self.table} SET state = 'released' "
                "WHERE key_hash = $1 AND claim = $2 AND state = 'pending'",
                key_hash,
                token,
            )

    async def prune(self, ttl: timedelta) -> int:
        """Forget keys older than ``ttl``, with their tracking rows in the event store."""
        async with self.pool.acquire(timeout=STORE_WAIT_SECONDS) as conn:
            return await conn.fetchval(
                f"""WITH gone AS (
                    DELETE FROM {self.table} WHERE created_at < now() - $1::interval
                    RETURNING key_hash
                ), untracked AS (
                    DELETE FROM {self.tracking}
                    WHERE application_name IN (SELECT $2 || key_hash FROM gone)
                )
                SELECT count(*) FROM gone""",
                ttl,
                TRACKING_PREFIX,
            )


# --- the middleware ----------------------------------------------------------------------


def error(status: int, rule: str, detail: str, **headers: str) -> tuple[int, str, bytes, dict]:
    body = {"status_code": status, "detail": detail, "extra": {"rule": rule}}
    return status, "application/json", json.dumps(body).encode(), headers


async def respond(
    send: Send, status: int, content_type: str, body: bytes, headers: dict[str, str]
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes | None:
    """The whole body, or None past MAX_BODY_BYTES (read no further, as Litestar would)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(part + b"\0")
    digest.update(body)
    return digest.hexdigest()


def replay(row: asyncpg.Record) -> tuple[int, str, bytes, dict]:
    return row["status"], row["content_type"], bytes(row["body"]), {REPLAYED: "true"}


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: commands with an Idempotency-Key run once, whatever the retries."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, HEADER) if scope["type"] == "http" else None
        keys: Keys | None = getattr(scope["app"].state, "idempotency", None)
        if key is None or scope["method"] not in COMMANDS or keys is None:
            await app(scope, receive, send)
            return
        if not KEY.fullmatch(key):
            await respond(
                send,
                *error(
                    400,
                    HEADER,
                    f"the {HEADER} header must be 1 to 200 characters: letters, digits "
                    "and - _ . : ~ + / =",
                ),
            )
            return
        body = await read_body(receive)
        if body is None:
            await respond(send, *error(413, "body_size", "Request Entity Too Large"))
            return
        claim = Claim(key_hash(key, owner_of(scope, body)))
        request = fingerprint(scope, body)
        try:
            token, row = await keys.claim(claim.key_hash, request)
        except STORE_ERRORS:
            await respond(send, *error(503, UNAVAILABLE_RULE, UNAVAILABLE, **{"Retry-After": "2"}))
            return
        if not token:
            await respond(send, *refusal(row, request))
            return

        sent_body = False

        async def replayed_receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        reset = current.set(claim)
        try:
            await app(scope, replayed_receive, capture)
        except BaseException:
            await release_quietly(keys, claim, token)
            raise
        finally:
            current.reset(reset)
        status = start["status"]
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"])
        answer = (status, headers.get("content-type", "application/json"), b"".join(chunks))
        if claim.applied_before:
            # Another attempt committed this command; its answer, if it got to record one.
            try:
                row = await keys.answer(claim.key_hash)
            except STORE_ERRORS:
                row = None
            if row is not None:
                await release_quietly(keys, claim, token)
                await respond(send, *replay(row))
                return
            status, content_type, content, _ = error(
                409,
                "idempotency_key_applied",
                f"a request with this {HEADER} was applied before, and its answer was not "
                "kept; read the current state instead of sending it again",
            )
            answer = (status, content_type, content)
            start = {}  # answered below with this answer, not the application's
        try:
            if status < 500:
                await keys.record(claim.key_hash, token, *answer)
            else:  # the client may try again; the tracking row guards a command it committed
                await keys.release(claim.key_hash, token)
        except STORE_ERRORS:
            pass  # left pending: a retry waits out ABANDONED_AFTER, then the tracking row decides
        if "type" in start:
            await send(start)
            await send({"type": "http.response.body", "body": answer[2]})
        else:
            await respond(send, *answer, {})

    return middleware


def refusal(row: asyncpg.Record, fingerprint: str) -> tuple[int, str, bytes, dict]:
    if row is None:  # claimed and pruned in between: rare, and a retry settles it
        return error(409, "idempotency_key_in_use", "try again", **{"Retry-After": "1"})
    if row["fingerprint"] != fingerprint:
        return error(
            422,
            "idempotency_key_reused",
            f"this {HEADER} was used for another request (method, path or body); "
            "use a new key for a new request",
        )
    if row["state"] == "done":
        return replay(row)
    return error(
        409,
        "idempotency_key_in_use",
        f"a request with this {HEADER} is still being processed; try again",
        **{"Retry-After": "1"},
    )


async def release_quietly(keys: Keys, claim: Claim, token: str) -> None:
    with contextlib.suppress(STORE_ERRORS):
        await keys.release(claim.key_hash, token)
