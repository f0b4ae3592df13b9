"""The Litestar app every service serves: OpenAPI, /health, and domain errors mapped to HTTP.

Error bodies keep Litestar's shape, ``{"status_code", "detail", "extra"}``; for a refused command
``extra`` holds the ``rule`` that was broken (a field name where the rule is about one field), so
that a client can tell a missing field from a spent budget without parsing prose. What every
request meets besides (request ids, media types, body size, unhandled errors) is in
``services.platform.edge``; what the OpenAPI documents say of errors, in
``services.platform.openapi``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import (
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from msgspec import Meta

from contracts.jetstream import ConsumerReport
from domain.calendar import local_day, local_today
from domain.errors import DomainError, InvalidValue, NotAllowed, WrongState
from projections.schema import position_of, wait_for
from services.platform.edge import (
    MAX_BODY_BYTES,
    RequireMediaType,
    internal_error,
    send_request_id,
    store_unavailable,
)
from services.platform.errors import (
    STORE_ERRORS,
    Conflict,
    InvalidField,
    NotFound,
    NotYetVisible,
)
from services.platform.idempotency import idempotency_middleware
from services.platform.identity import (
    PUBLIC,
    caller,
    commands_rate_limit,
    declares_one_rule,
    jwt_auth,
    maybe_caller,
    unauthorized,
)
from services.platform.openapi import document_errors
from services.platform.settings import Settings

# --- what may enter -----------------------------------------------------------------------
# Every field is checked where it enters, so that nothing the domain, PostgreSQL, NATS or the
# consumers cannot use is ever stored: a stored event that a consumer cannot apply stops it
# for good. The domain keeps its own rules; these keep out what no rule can even look at.

# Control characters (C0, DEL, C1) and lone surrogates: PostgreSQL refuses NUL in text, XML
# and terminals choke on the others, and none belongs in what a person types. Free text may
# keep its layout: tabs and line breaks.
_CONTROL = r"\x00-\x1f\x7f-\x9f\ud800-\udfff"
_CONTROL_BUT_LAYOUT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"


def _whole(body: str) -> str:
    # msgspec and Litestar search a pattern, and Python's `$` also matches before a final
    # newline; `(?!\n)` keeps that newline out. The pattern stays valid in OpenAPI (ECMA-262).
    return f"^{body}$(?!\\n)"


ID_PATTERN = _whole(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")
LINE_PATTERN = _whole(f"[^{_CONTROL}]*")
TEXT_PATTERN = _whole(f"[^{_CONTROL_BUT_LAYOUT}]*")
# free text that says something: past any white space, one character that is neither white
# space nor control; no lookahead, so that OpenAPI tools can generate it
SAID_PATTERN = _whole(
    f"[^\\S{_CONTROL_BUT_LAYOUT}]*[^\\s{_CONTROL_BUT_LAYOUT}][^{_CONTROL_BUT_LAYOUT}]*"
)
_NOT_LINE = re.compile(f"[{_CONTROL}]")
_NOT_TEXT = re.compile(f"[{_CONTROL_BUT_LAYOUT}]")

ID_RULE = "letters, digits and . _ : @ -, starting with a letter or digit, at most 128"

# Field types the services' request bodies share; msgspec checks them at the edge and a
# failure names the field.
Id = Annotated[str, Meta(pattern=ID_PATTERN, description=f"an id: {ID_RULE}")]
# a category, region, status or other code: the same characters as an id
Code = Annotated[str, Meta(pattern=ID_PATTERN, description=f"a code: {ID_RULE}")]
Codes = Annotated[list[Code], Meta(min_length=1, max_length=50)]
Lat = Annotated[float, Meta(ge=-90, le=90)]  # WGS84 degrees
Long = Annotated[float, Meta(ge=-180, le=180)]
# a whole number PostgreSQL's integer holds; the domain says which of them it takes
Integer = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
Hours = Annotated[float, Meta(gt=0, le=24, multiple_of=0.25, description="in quarter hours")]
# a moment with its time zone; ``Body`` bounds it
AwareDatetime = Annotated[datetime, Meta(tz=True)]


def line(max_length: int, min_length: int = 0) -> Any:
    """The type of a single-line text field (a name, an address): no control characters."""
    return Annotated[
        str,
        Meta(
            min_length=min_length,
            max_length=max_length,
            pattern=LINE_PATTERN,
            description="one line of text, without control characters",
        ),
    ]


def text(max_length: int, min_length: int = 0, blank: bool = True) -> Any:
    """The type of a free-text field (a description, a reason): tabs and line breaks allowed,
    no other control characters; with ``blank=False``, not empty nor only white space."""
    if blank:
        pattern, description = TEXT_PATTERN, ""
    else:
        pattern, description = SAID_PATTERN, "; not empty nor only white space"
    return Annotated[
        str,
        Meta(
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
            description="text; line breaks and tabs allowed, other control characters not"
            + description,
        ),
    ]


def is_id(value: str) -> bool:
    return re.search(ID_PATTERN, value) is not None


def bad_character(value: str, free_text: bool = False) -> str | None:
    """The first character ``value`` may not hold, as U+XXXX, or None when there is none."""
    found = (_NOT_TEXT if free_text else _NOT_LINE).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


# Path and query parameters: the same rules as in bodies, shown in OpenAPI too.
PathId = Annotated[str, Parameter(pattern=ID_PATTERN, description=f"an id: {ID_RULE}")]
QueryId = Annotated[str | None, Parameter(pattern=ID_PATTERN, description=f"an id: {ID_RULE}")]
QueryCode = Annotated[str | None, Parameter(pattern=ID_PATTERN, description="a code")]
MAX_OFFSET = 1_000_000
Limit = Annotated[int, Parameter(ge=1, le=1000, description="at most this many")]
Offset = Annotated[
    int, Parameter(ge=0, le=MAX_OFFSET, description=f"skip this many, at most {MAX_OFFSET}")
]
# ?position=N on a query: wait until its read model has applied that position
Position = Annotated[
    int | None,
    Parameter(ge=0, le=2**63 - 1, description="wait until the read model has this position"),
]

# Dates and times: within this many years of the municipality's today. msgspec cannot bound
# dates itself, so ``Body`` checks them after decoding.
YEARS = 10


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def usable_days(today: date | None = None) -> tuple[date, date]:
    """The first and the last day a date or time at the edge may fall on."""
    today = today or local_today()
    return _years_from(today, -YEARS), _years_from(today, YEARS)


def check_when(field: str, value: date, today: date | None = None) -> None:
    """ValueError naming ``field`` unless the date, or the moment's day in Lahti, is usable.

    Never anything else: a moment near year 1 or 9999 overflows when converted to Lahti's time,
    so its own calendar day (less than two days from Lahti's) is checked first."""
    first, last = usable_days(today)
    day = value.date() if isinstance(value, datetime) else value
    slack = timedelta(days=2)
    if first - slack <= day <= last + slack:
        if isinstance(value, datetime) and value.tzinfo is not None:
            day = local_day(value)
        if first <= day <= last:
            return
    raise ValueError(
        f"{field} must fall between {first} and {last} (within {YEARS} years of today in "
        f"Lahti), got {value.isoformat()}"
    )


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV (RFC 4180: comma-separated, CRLF line ends) under their header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def bad_query(field: str, message: str) -> ValidationException:
    """A 400 naming the query parameter, as Litestar's own checks give it."""
    return ValidationException(
        detail=f"Validation failed: {message}",
        extra=[{"message": message, "key": field, "source": "query"}],
    )


def check_query_day(field: str, value: date | None) -> None:
    """``check_when`` for a query parameter: a 400 naming it, as Litestar's own checks give."""
    if value is None:
        return
    try:
        check_when(field, value)
    except ValueError as error:
        raise bad_query(field, str(error)) from None


def query_day(field: str, text: str | None) -> date | None:
    """The day ``text`` says (YYYY-MM-DD), within the years the edge takes; else a 400 naming
    ``field`` (parsed here, so that the answer names the parameter as the client wrote it)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise bad_query(field, f"{field} is not a day (YYYY-MM-DD): {text!r}") from None
    if len(text) != 10:  # fromisoformat takes 20260301 too; one way of writing it is enough
        raise bad_query(field, f"{field} is not a day (YYYY-MM-DD): {text!r}")
    check_query_day(field, day)
    return day


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """A request body: msgspec checks its fields' types and constraints, and this its dates
    and times, which msgspec has no bounds for."""

    def __post_init__(self) -> None:
        for field in self.__struct_fields__:
            value = getattr(self, field)
            if isinstance(value, date):
                try:
                    check_when(field, value)
                except ValueError as error:
                    # msgspec makes this a ValidationError; the path at its end is how
                    # Litestar names the field (its ``key``), as for msgspec's own errors.
                    raise ValueError(f"{error} - at `$.{field}`") from None


class JsonRequest(Request):
    """A request whose JSON body may not be nested deeper than Python's recursion limit
    (about a thousand levels): Litestar decodes the body before checking it against its type,
    and a deeper one would raise a RecursionError (a 500) instead of a 400. Typed decoding
    then refuses any nesting a body's type does not have at its first wrong value."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise SerializationException(
                "the JSON body is nested too deeply; no body here needs more than a few levels"
            ) from None


def minutes_of(hours: float) -> int:
    """Worked hours (validated as quarter hours) as the whole minutes the domain counts."""
    return round(hours * 60)


STATUS_OF: list[tuple[type[DomainError], int]] = [
    (NotFound, HTTP_404_NOT_FOUND),
    (InvalidField, HTTP_400_BAD_REQUEST),
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


# msgspec words a failed pattern as the regex itself; say instead what the rule is.
PATTERN_SENTENCES = {
    ID_PATTERN: f"is no id: an id has {ID_RULE} characters",
    LINE_PATTERN: "may not hold control characters (NUL, a tab or a line break, say)",
    TEXT_PATTERN: "may not hold control characters other than tabs and line breaks",
    SAID_PATTERN: (
        "must say something: it may not be empty or only white space, nor hold control "
        "characters other than tabs and line breaks"
    ),
}


def validation_error_response(_: Request, error: ValidationException) -> Response:
    """Litestar's 400 for a field that failed validation, with the patterns said in words."""
    extra = error.extra
    if isinstance(extra, list):
        extra = [dict(item) if isinstance(item, dict) else item for item in extra]
        for item in extra:
            message = item.get("message", "") if isinstance(item, dict) else ""
            for pattern, sentence in PATTERN_SENTENCES.items():
                if f"regex {pattern!r}" in message:
                    item["message"] = f"{item.get('key') or 'the value'} {sentence}"
    body: dict[str, Any] = {"status_code": error.status_code, "detail": error.detail}
    if extra is not None:
        body["extra"] = extra
    return Response(body, status_code=error.status_code)


def domain_error_response(_: Request, error: DomainError) -> Response:
    status = status_of(error)
    headers = {"Retry-After": "1"} if isinstance(error, NotYetVisible | Conflict) else None
    extra: Any = {"rule": error.rule}
    if isinstance(error, InvalidField):  # in the shape of Litestar's own validation errors
        extra = [{"message": error.message, "key": error.rule, "source": error.source}]
    return Response(
        {"status_code": status, "detail": error.message, "extra": extra},
        status_code=status,
        headers=headers,
    )


class HealthReport(msgspec.Struct):
    service: str
    pid: int
    postgres: str  # "ok", or why not
    nats: str
    # Whether this replica holds its lease: it relays, consumes and sweeps; the others serve
    # HTTP only and report no outbox or consumers.
    leading: bool = False
    published_position: int | None = None  # how far the relay has published the outbox
    outbox_lag: int | None = None  # stored events not yet published
    consumers: list[ConsumerReport] = []
    stalled: dict[str, str] = {}  # the consumers that make no progress, and why
    # With TALKOOT_READ_DATABASE_URL: "ok", or why the queries cannot reach the read replica.
    read_replica: str | None = None


@get(
    "/health",
    guards=[PUBLIC],
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
    # the read replica's state is reported but not required: commands do not need it
    ok = report.postgres == "ok" and report.nats == "ok" and not report.stalled
    return Response(report, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)


class Reads(msgspec.Struct, frozen=True):
    """What a query needs: the read models' pool and schema, and how long to wait for a
    position a client asks to see.

    ``pool`` is the read replica when TALKOOT_READ_DATABASE_URL names one, else the primary;
    ``primary`` is always the primary. A command that consults a read model reads it there, so
    that a replica away or behind fails no command, and so are the residents' keys read, so
    that an erasure is in force at once in every answer."""

    pool: Any
    schema: str
    wait_seconds: float
    primary: Any
    # the service's events table (schema-qualified, quoted), whose notification ids are the
    # positions its read models follow
    events: str | None = None


def create_app(
    title: str,
    route_handlers: Sequence[Any],
    lifespan: Callable[[Litestar], AbstractAsyncContextManager[None]],
    settings: Settings,
    description: str = "",
    dependencies: dict[str, Provide] | None = None,
) -> Litestar:
    """The service's app. Every route but the public ones needs a verified token; its caller
    is the ``caller`` dependency, and ``dependencies`` add the service's own (its
    application, its reads)."""
    auth = jwt_auth(settings.keys())
    middleware: list[Any] = [RequireMediaType()]
    if settings.rate_limit is not None:
        middleware.append(commands_rate_limit(settings.rate_limit).middleware)
    middleware.append(idempotency_middleware)
    app = Litestar(
        route_handlers=[health, *route_handlers],
        lifespan=[lifespan],
        on_app_init=[auth.on_app_init],
        guards=[declares_one_rule],
        dependencies={
            "caller": Provide(caller, sync_to_thread=False),
            "maybe_caller": Provide(maybe_caller, sync_to_thread=False),
            **(dependencies or {}),
        },
        exception_handlers={
            DomainError: domain_error_response,
            ValidationException: validation_error_response,
            NotAuthorizedException: unauthorized,
            **dict.fromkeys(STORE_ERRORS, store_unavailable),
            HTTP_500_INTERNAL_SERVER_ERROR: internal_error,
        },
        middleware=middleware,
        before_send=[send_request_id],
        request_max_body_size=MAX_BODY_BYTES,
        # Litestar would replace the root logger's handlers with its own; the process's
        # logging is configured once, as the process starts (contracts/logs.py).
        logging_config=None,
        request_class=JsonRequest,
        openapi_config=OpenAPIConfig(
            title=title,
            version="1.0.0",
            description=description,
            # the documents are public, like /health; their pages are no operation of ours
            openapi_router=Router(
                "/schema", route_handlers=[], guards=[PUBLIC], include_in_schema=False
            ),
        ),
    )
    document_errors(app)
    return app


async def caught_up(reads: Reads, projection: str, upstream: str, position: int | None) -> None:
    """Wait (bounded) until ``projection`` has applied ``position``; 503 if it has not, and
    400 (``position``) for a position the service has not stored an event at: no wait would
    ever show it."""
    if not position:
        return
    if await position_of(reads.pool, reads.schema, projection, upstream) >= position:
        return
    if reads.events is not None:
        # on the primary, where a receipt's event was committed before its answer was sent
        newest = await reads.primary.fetchval(f"SELECT max(notification_id) FROM {reads.events}")
        if position > (newest or 0):
            raise InvalidField(
                f"no event is stored at position {position}: the newest is {newest or 0}",
                rule="position",
                source="query",
            )
    reached = await wait_for(
        reads.pool, reads.schema, projection, upstream, position, reads.wait_seconds
    )
    if not reached:
        raise NotYetVisible(
            f"the {projection} has not reached position {position} within "
            f"{reads.wait_seconds:g} s; try again"
        )
