"""What every request meets before and after its handler: a request id, the body's media type
and size, and unhandled errors logged and answered without internals.

A JSON body must say so (``application/json`` or ``application/*+json``): a browser can post
``text/plain`` or an untyped body to any site without asking, so accepting those would let any
web page write through a visitor's browser. A form body must be form-encoded likewise.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from litestar import Request, Response
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import ClientException
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import (
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.platform.errors import UNAVAILABLE, UNAVAILABLE_RULE

log = logging.getLogger("talkoot.http")

REQUEST_ID_HEADER = "X-Request-Id"
# A client's id is kept if it is a plain token of bounded length, so that it can go into log
# lines and headers as it is; anything else gets a fresh one.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_STATE_KEY = "talkoot_request_id"
_HEADER = REQUEST_ID_HEADER.lower().encode()

# The largest request body a service reads; a larger one is answered 413 unread.
MAX_BODY_BYTES = 256 * 1024

_JSON = re.compile(r"application/(?:[a-z0-9.+-]+\+)?json")


# --- the request id ----------------------------------------------------------------------


def header(scope: Scope, name: str) -> str | None:
    """A request header as sent, or None (ASGI gives the names in lower case)."""
    wanted = name.lower().encode()
    for key, value in scope.get("headers", ()):
        if key == wanted:
            return value.decode("latin-1")
    return None


def request_id(scope: Scope) -> str:
    """This request's id: the client's X-Request-Id if sane, else a new one; the same for
    the whole request."""
    state = scope.setdefault("state", {})
    known = state.get(_STATE_KEY)
    if known is None:
        text = header(scope, REQUEST_ID_HEADER) or ""
        known = text if SANE_REQUEST_ID.fullmatch(text) else uuid.uuid4().hex
        state[_STATE_KEY] = known
    return known


async def send_request_id(message: Message, scope: Scope) -> None:
    """before_send: every answer, whatever produced it, carries the request id."""
    if message["type"] == "http.response.start":
        headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
        message["headers"] = [*headers, (_HEADER, request_id(scope).encode())]


# --- the body's media type ---------------------------------------------------------------


def media_type_of(scope: Scope) -> str:
    return (header(scope, "content-type") or "").split(";")[0].strip().lower()


def is_json(media_type: str) -> bool:
    return _JSON.fullmatch(media_type) is not None


def body_encoding(handler: Any) -> RequestEncodingType | None:
    """How the handler's ``data`` is encoded, or None when it takes no body."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    kwarg = data.kwarg_definition
    return RequestEncodingType(getattr(kwarg, "media_type", None) or RequestEncodingType.JSON)


def unsupported(media_type: str, wanted: str) -> ClientException:
    given = media_type or "no Content-Type"
    return ClientException(
        status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail=f"send the body as {wanted}, not {given}",
        extra={"rule": "content_type"},
    )


class RequireMediaType(ASGIMiddleware):
    """A handler that takes a body gets it only in the encoding it reads (a middleware, so
    that no layer's own before_request can replace it)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        # Each handler's encoding, read from its signature once rather than on every request.
        self._encodings: dict[int, RequestEncodingType | None] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope["route_handler"]
        if (encoding := self._encodings.get(id(handler), False)) is False:
            encoding = self._encodings[id(handler)] = body_encoding(handler)
        if encoding is not None:
            media_type = media_type_of(scope)
            if encoding is RequestEncodingType.JSON:
                if not is_json(media_type):
                    raise unsupported(media_type, "application/json")
            elif media_type != encoding.value:
                raise unsupported(media_type, encoding.value)
        await next_app(scope, receive, send)


# --- unhandled errors --------------------------------------------------------------------


def store_unavailable(request: Request, error: Exception) -> Response:
    """PostgreSQL is out of reach: 503 at once with Retry-After, rather than hang until it is
    back; the service is unavailable, not broken."""
    rid = request_id(request.scope)
    log.warning(
        "%s %s: the database is out of reach (request id %s): %s",
        request.method,
        request.url.path,
        rid,
        error,
    )
    status = HTTP_503_SERVICE_UNAVAILABLE
    return Response(
        {
            "status_code": status,
            "detail": UNAVAILABLE,
            "extra": {"rule": UNAVAILABLE_RULE, "request_id": rid},
        },
        status_code=status,
        headers={"Retry-After": "2"},
    )


def internal_error(request: Request, error: Exception) -> Response:
    """Any exception no handler maps to a 4xx or 503: logged with its traceback and the request
    id, answered 500 with the id and nothing internal."""
    rid = request_id(request.scope)
    log.error(
        "%s %s failed with an unhandled error (request id %s)",
        request.method,
        request.url.path,
        rid,
        exc_info=error,
    )
    status = HTTP_500_INTERNAL_SERVER_ERROR
    detail = f"internal error; quote request id {rid} when reporting it"
    return Response(
        {
            "status_code": status,
            "detail": detail,
            "extra": {"rule": "internal_error", "request_id": rid},
        },
        status_code=status,
    )
