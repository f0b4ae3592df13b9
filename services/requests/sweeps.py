"""The requests service's timed work: expiring requests nobody took before their window ended,
and confirming completions the resident left unanswered.

Each sweep finds candidates on the request board and asks the application, which checks again
on the aggregate: the board may lag, and a request that moved on meanwhile is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from anyio import to_thread

from domain.errors import DomainError
from projections import board
from projections.schema import read_schema
from services.platform.runtime import Runtime
from services.platform.store import Receipt
from services.requests.application import RequestsApplication

log = logging.getLogger("talkoot.requests.sweeps")


async def expire_requests(runtime: Runtime) -> None:
    """Requests still waiting for a provider when their wished window has ended expire."""
    now = datetime.now(UTC)
    app: RequestsApplication = runtime.application
    due = await board.due_to_expire(runtime.pool, read_schema(runtime.settings.namespace), now)
    for request_id in due:
        await _settle(request_id, "expire", lambda r=request_id: app.expire(r, now))


async def confirm_unanswered(runtime: Runtime) -> None:
    """Completions the resident neither confirmed nor disputed in time are confirmed."""
    now = datetime.now(UTC)
    after = runtime.settings.auto_confirm_after
    app: RequestsApplication = runtime.application
    due = await board.due_to_confirm(
        runtime.pool, read_schema(runtime.settings.namespace), now - after
    )
    for request_id in due:
        await _settle(
            request_id,
            "confirm automatically",
            lambda r=request_id: app.confirm_automatically(r, now, after),
        )


async def _settle(request_id: str, what: str, command: Callable[[], Receipt]) -> None:
    try:
        await to_thread.run_sync(command)
    except DomainError as error:
        # Moved on since the board saw it (confirmed, cancelled, changed at the same moment):
        # nothing to do now; a concurrent change is looked at again next round.
        log.debug("did not %s request %s: %s", what, request_id, error.message)


SWEEPS = (expire_requests, confirm_unanswered)
