"""The Litestar app every service serves: OpenAPI, /health, and domain errors mapped to HTTP.

Error bodies keep Litestar's shape, ``{"status_code", "detail", "extra"}``; for a refused command
``extra`` holds the ``rule`` that was broken (a field name where the rule is about one field), so
that a client can tell a missing field from a spent budget without parsing prose. What every
request meets besides (request ids, media types, body size, unhandled errors) is in
``services.platform.edge``; what the OpenAPI documents say of errors, in
``services.platform.openapi``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from msgspec import Meta

from domain.errors import DomainError, InvalidValue, NotAllowed, WrongState
from projections.schema import read_schema, wait_for
from services.platform.edge import (
    MAX_BODY_BYTES,
    RequireMediaType,
    internal_error,
    send_request_id,
    store_unavailable,
)
from services.platform.errors import STORE_ERRORS, Conflict, NotFound, NotYetVisible
from services.platform.idempotency import idempotency_middleware
from services.platform.openapi import document_errors

# Field types the services' request bodies share; msgspec checks them at the edge and a
# failure names the field.
Id = Annotated[str, Meta(min_length=1, max_length=200)]
Code = Annotated[str, Meta(min_length=1)]  # a category or region of the catalogue
Codes = Annotated[list[Code], Meta(min_length=1, max_length=50)]
Lat = Annotated[float, Meta(ge=-90, le=90)]  # WGS84 degrees
Long = Annotated[float, Meta(ge=-180, le=180)]
# ?position=N on a query: wait until its read model has applied that position
Position = Annotated[
    int | None, Parameter(ge=0, description="wait until the read model has this position")
]
Hours = Annotated[float, Meta(gt=0, le=24, multiple_of=0.25, description="in quarter hours")]


def minutes_of(hours: float) -> int:
    """Worked hours (validated as quarter hours) as the whole minutes the domain counts."""
    return round(hours * 60)


STATUS_OF: list[tuple[type[DomainError], int]] = [
    (NotFound, HTTP_404_NOT_FOUND),
    (NotAllowed, HTTP_403_FORBIDDEN),
    (InvalidValue, HTTP_422_UNPROCESSABLE_ENTITY),
    (Conflict, HTTP_409_CONFLICT),
    (WrongState, HTTP_409_CONFLICT),
    (NotYetVisible, HTTP_503_SERVICE_UNAVAILABLE),
]


def status_of(error: DomainError) -> int:
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return HTTP_409_CONFLICT


def domain_error_response(_: Request, error: DomainError) -> Response:
    status = status_of(error)
    headers = {"Retry-After": "1"} if isinstance(error, NotYetVisible | Conflict) else None
    return Response(
        {"status_code": status, "detail": error.message, "extra": {"rule": error.rule}},
        status_code=status,
        headers=headers,
    )


class ConsumerReport(msgspec.Struct):
    name: str
    upstream: str
    durable: str
    running: bool
    position: int | None
    seconds_since_progress: float
    failure: str | None
    attempts: int
    dead_letters: int
    replayed: int
    stalled: str | None  # why it makes no progress, if it does not


class HealthReport(msgspec.Struct):
    service: str
    pid: int
    postgres: str  # "ok", or why not
    nats: str
    published_position: int | None = None  # how far the relay has published the outbox
    outbox_lag: int | None = None  # stored events not yet published
    consumers: list[ConsumerReport] = []
    stalled: dict[str, str] = {}  # the consumers that make no progress, and why


@get(
    "/health",
    tags=["operations"],
    summary="Reachability of PostgreSQL and NATS, and the progress of every consumer",
    responses={
        HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
            HealthReport,
            description="PostgreSQL or NATS is out of reach, or a consumer makes no progress",
            generate_examples=False,
        )
    },
)
async def health(state: State) -> Response[HealthReport]:
    """200 when the service reaches PostgreSQL and NATS and every consumer makes progress, 503
    otherwise (``stalled`` names the consumers that do not), with the lags it knows."""
    report = msgspec.convert(await state.runtime.health(), HealthReport)
    ok = report.postgres == "ok" and report.nats == "ok" and not report.stalled
    return Response(report, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)


def create_app(
    title: str,
    route_handlers: Sequence[Any],
    lifespan: Callable[[Litestar], AbstractAsyncContextManager[None]],
    description: str = "",
) -> Litestar:
    app = Litestar(
        route_handlers=[health, *route_handlers],
        lifespan=[lifespan],
        exception_handlers={
            DomainError: domain_error_response,
            **dict.fromkeys(STORE_ERRORS, store_unavailable),
            HTTP_500_INTERNAL_SERVER_ERROR: internal_error,
        },
        middleware=[RequireMediaType(), idempotency_middleware],
        before_send=[send_request_id],
        request_max_body_size=MAX_BODY_BYTES,
        # Litestar would replace the root logger's handlers with its own; the process's
        # logging is configured once, in services.platform.runtime.configure_logging.
        logging_config=None,
        openapi_config=OpenAPIConfig(title=title, version="1.0.0", description=description),
    )
    document_errors(app)
    return app


async def caught_up(state: State, projection: str, upstream: str, position: int | None) -> None:
    """Wait (bounded) until ``projection`` has applied ``position``; 503 if it has not."""
    if not position:
        return
    settings = state.settings
    reached = await wait_for(
        state.pool,
        read_schema(settings.namespace),
        projection,
        upstream,
        position,
        settings.read_wait_seconds,
    )
    if not reached:
        raise NotYetVisible(
            f"the {projection} has not reached position {position} within "
            f"{settings.read_wait_seconds:g} s; try again"
        )
