"""The requests service's timed work: expiring requests nobody took before their window ended,
confirming completions the resident left unanswered, and turning recurring requests that have
fallen due into service requests.

Each sweep finds candidates on a read model and asks the application, which checks again on the
aggregate: the read model may lag, and whatever moved on meanwhile is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from anyio import to_thread

from domain.calendar import local_today
from domain.errors import DomainError
from domain.requests import statuses_allowing
from projections import board
from projections import series as series_model
from projections.schema import read_schema
from services.platform.runtime import Runtime
from services.platform.store import Receipt
from services.requests.application import RequestsApplication

log = logging.getLogger("talkoot.requests.sweeps")


async def expire_requests(runtime: Runtime) -> None:
    """Requests still waiting for a provider when their wished window has ended expire."""
    now = datetime.now(UTC)
    app: RequestsApplication = runtime.application
    due = await board.due_to_expire(
        runtime.pool, read_schema(runtime.settings.namespace), now, statuses_allowing("expire")
    )
    for request_id in due:
        await _settle(f"request {request_id}", "expire", lambda r=request_id: app.expire(r, now))


async def confirm_unanswered(runtime: Runtime) -> None:
    """Completions the resident neither confirmed nor disputed in time are confirmed."""
    now = datetime.now(UTC)
    after = runtime.settings.auto_confirm_after
    app: RequestsApplication = runtime.application
    due = await board.due_to_confirm(
        runtime.pool,
        read_schema(runtime.settings.namespace),
        now - after,
        statuses_allowing("confirm_automatically"),
    )
    for request_id in due:
        await _settle(
            f"request {request_id}",
            "confirm automatically",
            lambda r=request_id: app.confirm_automatically(r, now, after),
        )


async def schedule_series(runtime: Runtime) -> None:
    """Create the occurrences that have fallen due: weekly and monthly ones within the
    horizon, and one per active snowfall series on each declared snowfall day of its region."""
    app: RequestsApplication = runtime.application
    pool, settings = runtime.pool, runtime.settings
    schema = read_schema(settings.namespace)
    horizon = settings.series_horizon
    now = datetime.now(UTC)
    today, last = local_today(now), local_today(now + horizon)
    for series_id, preferred in await series_model.recurring_candidates(pool, schema, today, last):
        await _settle(
            f"series {series_id}",
            "schedule",
            lambda s=series_id, p=preferred: app.schedule_recurring(s, horizon, p),
        )
    for series_id, day, preferred in await series_model.snowfall_candidates(
        pool, schema, today, last
    ):
        await _settle(
            f"series {series_id}",
            f"schedule {day} for",
            lambda s=series_id, d=day, p=preferred: app.schedule_snowfall(s, d, horizon, p),
        )


async def _settle(subject: str, what: str, command: Callable[[], Receipt | None]) -> None:
    try:
        await to_thread.run_sync(command)
    except DomainError as error:
        # Moved on since the read model saw it (confirmed, cancelled, ended, changed at the
        # same moment): nothing to do now; one subject's trouble never holds up the others,
        # and a concurrent change is looked at again next round.
        log.debug("did not %s %s: %s", what, subject, error.message)
    except Exception:
        # A fault with one subject (a bug, a lost connection) is logged; the others still run.
        log.exception("could not %s %s", what, subject)


SWEEPS = (expire_requests, confirm_unanswered, schedule_series)
