"""What each operation's OpenAPI entry says it may answer: the error statuses its kind of route
can give, each with the error body the services really send.

Decided from the handler itself, once for every route of a service: a path parameter names
something that may not exist (404), a command may be refused (403, 409, 422) or throttled (429),
a body may be of the wrong type or too large (415, 413), any parameter may fail validation
(400), and everything reads or writes the database or waits for a read model (503).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Schema
from litestar.routes import HTTPRoute

from services.platform.edge import body_encoding

# A handler that answers errors in a format of its own (Open311) sets this in its ``opt`` and
# declares its error responses itself; it gets only the generic 500 and 503.
OWN_ERRORS = "own_error_format"


class Rule(msgspec.Struct):
    """Which rule a refusal broke (a field name where the rule is about one field)."""

    rule: str
    request_id: str | None = None


class Problem(msgspec.Struct):
    """One field that failed validation, as Litestar reports it."""

    message: str
    key: str | None = None
    source: str | None = None


class ErrorBody(msgspec.Struct):
    """Every error answer: the status, a sentence a person can act on, and either the rule
    that was broken or, for a request that failed validation, the fields that failed."""

    status_code: int
    detail: str
    extra: Rule | list[Problem] | None = None


WHY = {
    400: "The request failed validation: ``extra`` lists the fields and what is wrong",
    403: "The caller may not do this (``extra.rule`` says why)",
    404: "Nothing with that id",
    409: "Refused in the current state, or changed by somebody else at the same moment",
    413: "The request body is too large",
    415: "The body is not of the media type this operation reads",
    422: "A value breaks a rule of the domain (``extra.rule`` names it)",
    429: "Too many requests; try again later",
    500: "An internal error; ``extra.request_id`` identifies it in the service's log",
    503: "The database is out of reach, or a read model has not reached ``?position=`` in time",
}

COMMAND_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Parameters Litestar injects rather than reads from the request.
INJECTED = {"state", "request", "scope", "headers", "cookies", "socket", "body"}


def statuses_of(handler: Any, route: HTTPRoute) -> set[int]:
    """The error statuses ``handler`` can answer on ``route``, from its kind of route."""
    parameters = set(handler.parsed_fn_signature.parameters) - INJECTED
    statuses = {500, 503}
    if handler.opt.get(OWN_ERRORS):
        return statuses
    if parameters:
        statuses.add(400)
    if route.path_parameters:
        statuses.add(404)
    if COMMAND_METHODS & set(handler.http_methods):
        statuses |= {403, 409, 422, 429}
    if body_encoding(handler) is not None:
        statuses |= {413, 415}
    return statuses


def error_responses(handler: Any, route: HTTPRoute) -> dict[int, ResponseSpec]:
    return errors(*sorted(statuses_of(handler, route)))


def document_errors(app: Litestar) -> None:
    """Add the error responses of its kind to every route handler of ``app``; what a handler
    declares itself is kept."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            declared = dict(handler.responses or {})
            handler.responses = {**error_responses(handler, route), **declared}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers a handler declares beyond those of its kind of route."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=WHY[status], generate_examples=False
        )
        for status in statuses
    }


@dataclass
class CsvOperation(Operation):
    """An operation that answers JSON, or CSV for a spreadsheet (``format=csv`` or
    ``Accept: text/csv``): its success documents both."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            content = getattr(response, "content", None)
            if status.startswith("2") and content and "application/json" in content:
                content["text/csv"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
