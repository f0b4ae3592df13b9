"""The audit routes every service serves about its own log: its signed checkpoints, the key
they are signed with, and (for an admin) making one now. ``services.platform.runtime`` mounts
them in every service's app, beside /health.

The checkpoints and the key are public, as a transparency log's are: they hold a count and a
hash, nothing of anybody, and a partner checks them with nothing but the key.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from anyio import to_thread
from litestar import Controller, MediaType, Response, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_404_NOT_FOUND

from services.platform.audit import CHECKPOINT_COLUMNS, KeptCheckpoint
from services.platform.errors import NotFound
from services.platform.http import Limit, Offset
from services.platform.identity import ADMIN, PUBLIC
from services.platform.openapi import ErrorBody


class CheckpointEntry(msgspec.Struct):
    """One signed checkpoint of the service's log."""

    origin: str
    tree_size: int  # the events it covers: the first ``tree_size`` in notification order
    root_hash: str  # base64 of the RFC 9162 tree head of their leaves
    made_at: datetime
    last_notification_id: int | None  # of the last event it covers
    note: str  # the signed note (C2SP tlog-checkpoint), as GET /audit/checkpoint serves it


class MadeCheckpoint(msgspec.Struct):
    made: bool  # false: the log had not grown since the latest, which is this
    checkpoint: CheckpointEntry


def entry(kept: KeptCheckpoint) -> CheckpointEntry:
    summary = kept.summary()
    return CheckpointEntry(origin=kept.checkpoint.origin, **summary)


async def _kept(state: State, *, limit: int, offset: int) -> list[KeptCheckpoint]:
    runtime = state.runtime
    audit = runtime.started_audit()
    log = audit.log
    rows = await runtime.pool.fetch(
        f'SELECT {CHECKPOINT_COLUMNS} FROM "{log.schema}"."{log.service}_audit_checkpoints" '
        "ORDER BY tree_size DESC LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return [
        KeptCheckpoint(
            row["tree_size"],
            bytes(row["root_hash"]),
            row["note"],
            row["made_at"],
            row["last_notification_id"],
            bytes(row["compact_range"]),
        )
        for row in rows
    ]


NO_CHECKPOINT = {
    HTTP_404_NOT_FOUND: ResponseSpec(
        ErrorBody, description="The log has no checkpoint yet", generate_examples=False
    )
}


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get(
        "/checkpoint",
        guards=[PUBLIC],
        media_type=MediaType.TEXT,
        summary="The latest signed checkpoint of this service's log",
        responses=NO_CHECKPOINT,
    )
    async def latest(self, state: State) -> str:
        """The signed note of the latest checkpoint (C2SP tlog-checkpoint: the log's origin,
        its size in events and the base64 RFC 9162 tree head, each on a line, then a blank line
        and the Ed25519 signature line), as ``text/plain``; check it with ``GET /audit/key``.
        Save it: ``talkoot audit verify --checkpoint FILE`` proves later that the log still
        extends it.

        Anybody, signed in or not."""
        kept = await _kept(state, limit=1, offset=0)
        if not kept:
            raise NotFound("the log has no checkpoint yet")
        return kept[0].note

    @get("/checkpoints", guards=[PUBLIC], summary="The signed checkpoints kept, newest first")
    async def kept(
        self, state: State, limit: Limit = 100, offset: Offset = 0
    ) -> list[CheckpointEntry]:
        """Each checkpoint kept, newest first: its size, root hash, when it was made, the
        notification id of the last event it covers, and its signed note.

        Anybody, signed in or not."""
        return [entry(kept) for kept in await _kept(state, limit=limit, offset=offset)]

    @get(
        "/key",
        guards=[PUBLIC],
        media_type=MediaType.TEXT,
        summary="The verifier key of this service's checkpoints",
    )
    async def key(self, state: State) -> str:
        """The key the checkpoints are signed with, as a verifier key of the signed-note
        format: ``<origin>+<key id, 8 hex digits>+<base64 of 0x01 and the Ed25519 public
        key>`` (what golang.org/x/mod/sumdb/note's ``NewVerifier`` reads).

        Anybody, signed in or not."""
        return state.runtime.started_audit().verifier_key + "\n"

    @post(
        "/checkpoints",
        guards=[ADMIN],
        summary="Make a checkpoint of this service's log now",
        responses={
            HTTP_200_OK: ResponseSpec(
                MadeCheckpoint,
                description="The log had not grown since the latest checkpoint: that one",
                generate_examples=False,
            )
        },
    )
    async def make(self, state: State) -> Response[MadeCheckpoint]:
        """Cover the events stored since the latest checkpoint and sign a new one (201), or
        answer the latest (200, ``made`` false) when there are none. The service does this by
        itself every TALKOOT_CHECKPOINT_SECONDS.

        An admin."""
        audit = state.runtime.started_audit()
        kept, made = await to_thread.run_sync(audit.checkpoint)
        return Response(
            MadeCheckpoint(made=made, checkpoint=entry(kept)),
            status_code=HTTP_201_CREATED if made else HTTP_200_OK,
        )
