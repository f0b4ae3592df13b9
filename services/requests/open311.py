"""Open311 GeoReport v2 front of the requests service, in XML and JSON.

City systems and Open311 apps list the catalogue as services, post requests form-encoded (they
become the same service requests as the native API's, on the channel ``open311``) and follow
them on the board. The specification is at http://wiki.open311.org/GeoReport_v2; the JSON
follows its Spark mapping of the XML. Names, e-mail addresses and phone numbers are never stored:
the resident is a pseudonym, keyed with the server's secret, of account_id, email or device_id.

Everything here is public: the reads show no resident and none of a resident's personal data
(no address, point, description or photo: what Open311 hands out is copied into other systems,
where an erasure cannot reach it), and why a request stands where it does only for public
matters (the catalogue's work on common ground); a post is let in by its api_key.
"""

from __future__ import annotations

import hmac
import math
import re
import xml.etree.ElementTree as ET
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter

from domain.catalogue import Catalogue, Category
from domain.errors import DomainError, NotAllowed
from domain.requests import CLOSED, LIFE, RequestStatus
from projections import board, open311
from projections.schema import wait_for
from services.platform.catalogue import catalogue_file, region_of
from services.platform.errors import STORE_ERRORS, NotFound
from services.platform.http import ID_RULE, Reads, bad_character, check_when, is_id
from services.platform.identity import PUBLIC
from services.platform.openapi import OWN_ERRORS
from services.platform.settings import Settings
from services.requests.application import RequestsApplication

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
BASE = "/open311/v2"
MEDIA_TYPES = {"xml": "text/xml", "json": "application/json"}
# Litestar adds the charset to text/* types itself.
CONTENT_TYPES = {"xml": "text/xml", "json": "application/json; charset=utf-8"}
FORM = "application/x-www-form-urlencoded"

# A request with no wished window asks for the work within a week of posting it.
DEFAULT_WINDOW = timedelta(days=7)
# GET requests answers at most this span of submission times and this many requests.
QUERY_SPAN = timedelta(days=90)
QUERY_LIMIT = 1000
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 300
# The longest each field of a post may be; all are one line of text but the description.
# attribute[...] values are one line of at most MAX_ATTRIBUTE characters.
FIELDS = {
    "api_key": 200,
    "jurisdiction_id": 200,
    "service_code": 200,
    "lat": 50,
    "long": 50,
    "address_string": MAX_ADDRESS,
    "address_id": MAX_ADDRESS,
    "email": 200,
    "device_id": 200,
    "account_id": 200,
    "first_name": 200,
    "last_name": 200,
    "phone": 50,
    "description": MAX_DESCRIPTION,
    "media_url": 2000,
}
FREE_TEXT = frozenset({"description"})
MAX_ATTRIBUTE = 200

# The XML element of each item of a list, after the Spark convention the specification uses.
ITEM = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
}

PSEUDONYM = re.compile(r"^open311-[0-9a-f]{24}$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """A refused Open311 call, answered in the specification's error format."""

    def __init__(self, status: int, description: str, fmt: str = "xml") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.fmt = fmt


# --- formats -------------------------------------------------------------------------------


def w3(moment: datetime) -> str:
    """A timezone-aware moment in the W3C profile of ISO 8601 the specification asks for."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _xml(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, list):
        for item in value:
            _xml(element, ITEM[name], item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _xml(element, key, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))


def encode(fmt: str, root: str, data: dict | list) -> bytes:
    """``data`` as JSON, or as XML under ``root`` (a list's items each in ``ITEM[root]``)."""
    if fmt == "json":
        return msgspec.json.encode(data)
    holder = ET.Element("holder")
    _xml(holder, root, data)
    text = ET.tostring(holder[0], encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def respond(fmt: str, root: str, data: dict | list, status: int = 200) -> Response:
    return Response(
        content=encode(fmt, root, data), status_code=status, media_type=CONTENT_TYPES[fmt]
    )


def error_response(_: Request, error: Open311Error) -> Response:
    body = [{"code": error.status, "description": error.description}]
    return respond(error.fmt, "errors", body, error.status)


def format_of(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def split_name(name: str) -> tuple[str, str]:
    """``yard-work.json`` -> ("yard-work", "json"); a missing or unknown format is refused."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in MEDIA_TYPES:
        raise Open311Error(400, f"{name}: ask for .xml or .json")
    if not stem:
        raise Open311Error(400, f"{name}: the identifier is missing", fmt)
    return stem, fmt


# --- what the parameters say ---------------------------------------------------------------


def check_jurisdiction(settings: Settings, jurisdiction_id: str | None, fmt: str) -> None:
    """jurisdiction_id is optional (this endpoint serves one); a different one is not here."""
    if jurisdiction_id and jurisdiction_id != settings.jurisdiction_id:
        raise Open311Error(
            404,
            f"jurisdiction_id {jurisdiction_id} not found; this endpoint serves "
            f"{settings.jurisdiction_id}",
            fmt,
        )


def category_of(catalogue: Catalogue, service_code: str | None, fmt: str) -> Category:
    if not service_code:
        raise Open311Error(400, "service_code was not provided", fmt)
    category = catalogue.categories.get(service_code)
    if category is None:
        raise Open311Error(
            404,
            f"service_code {service_code} not found; known: {', '.join(catalogue.categories)}",
            fmt,
        )
    return category


def parse_moment(text: str, field: str, fmt: str) -> datetime:
    """A W3C datetime with its time zone. A '+' left unencoded in a URL arrives as a space."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Open311Error(
            400,
            f"{field} must be a date and time with a time zone, e.g. 2026-05-04T09:00:00+03:00; "
            f"got {text!r}",
            fmt,
        )
    try:
        check_when(field, moment)
    except ValueError as error:
        raise Open311Error(400, str(error), fmt) from None
    return moment


def parse_coordinate(text: str, field: str, fmt: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Open311Error(400, f"{field} must be a number in WGS84 degrees, got {text!r}", fmt)
    return value


def listed(values: list[str]) -> list[str]:
    """Values declared several times and/or comma delimited, as the specification allows."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


NO_SECRET = (
    "TALKOOT_PSEUDONYM_SECRET is not set: the requests service keys the pseudonyms of Open311 "
    "residents with it (an HMAC-SHA256 of their e-mail, account or device), so that nobody "
    "can find a resident's pseudonym from their e-mail address. Set it to a long random "
    "secret, the same for as long as the pseudonyms are to stay the same; `talkoot up` makes "
    "one of its own under its data folder."
)


def check_pseudonym_secret(settings: Settings) -> None:
    """The requests service does not start without the secret of its residents' pseudonyms."""
    if not settings.pseudonym_secret:
        raise SystemExit(NO_SECRET)


def pseudonym_secret(settings: Settings) -> str:
    """The secret of the pseudonyms (a started service has one: see check_pseudonym_secret)."""
    if not settings.pseudonym_secret:
        raise RuntimeError(NO_SECRET)
    return settings.pseudonym_secret


def pseudonym(secret: str, account_id: str | None, email: str | None, device_id: str | None) -> str:
    """The resident's id in Talkoot: an HMAC-SHA256, keyed with the server's ``secret``, of
    account_id, else email (trimmed, in lower case), else device_id. Without the secret, a
    known e-mail address does not lead to its pseudonym.

    A pseudonym given back as account_id is kept as it is, so a client can post again for the
    same resident with what the first answer gave it."""
    if account_id and PSEUDONYM.match(account_id.strip()):
        return account_id.strip()
    if account_id and account_id.strip():
        source = f"account:{account_id.strip()}"
    elif email and email.strip():
        source = f"email:{email.strip().lower()}"
    elif device_id and device_id.strip():
        source = f"device:{device_id.strip()}"
    else:
        source = "anonymous"
    digest = hmac.new(secret.encode(), source.encode(), "sha256").hexdigest()
    return "open311-" + digest[:24]


# --- what the board says -------------------------------------------------------------------


def service_notice(catalogue: Catalogue, category_code: str, region_code: str) -> str:
    category = catalogue.categories.get(category_code)
    region = catalogue.regions.get(region_code)
    where = f" in {region.name}" if region else ""
    if category is None:
        return f"A community provider{where} is asked to do this within the wished time."
    return (
        f"{category.name}: a community provider{where} is asked to do it within the wished "
        f"time; the work takes about {category.estimated_minutes} minutes."
    )


def status_notes(row: dict) -> str:
    """What the status means, in words; with the reason only for a public matter (the query
    gives none for a household's own)."""
    status, reason, name = row["status"], row.get("reason"), row.get("provider_name")
    because = f": {reason.rstrip('.')}." if reason else "."
    notes = {
        "submitted": "Received; looking for a community provider.",
        "offered": "Offered to a community provider, waiting for its answer.",
        "assigned": f"Assigned to {name or 'a community provider'}.",
        "completed": "The provider reported the work done; waiting for the resident's "
        "confirmation.",
        "confirmed": "Done, and the work is confirmed.",
        "unmatched": f"No community provider can take it yet{because}",
        "cancelled": f"Cancelled by the resident{because}",
        "disputed": f"The resident disputes the reported work{because}",
        "voided": f"Voided by the municipal partner{because}",
        "expired": f"The wished time passed before a provider took it{because}",
    }
    return notes.get(status, f"{status.capitalize()}{because}")


def open_or_closed(status: str) -> str:
    """Open311's status: closed once the work is over (after the domain's table)."""
    return "closed" if LIFE[RequestStatus(status)].closed else "open"


def service_request(catalogue: Catalogue, settings: Settings, row: dict) -> dict:
    """A request as Open311 shows it; ``row`` is a public one (projections.open311)."""
    category = catalogue.categories.get(row["category"])
    responsible = row["provider_name"] if row.get("contract_id") else None
    return {
        "service_request_id": row["request_id"],
        "status": open_or_closed(row["status"]),
        "status_notes": status_notes(row),
        "service_name": category.name if category else row["category"],
        "service_code": row["category"],
        # A resident's personal data, never handed out here (projections/open311.py).
        "description": None,
        "agency_responsible": responsible or f"Talkoot, {settings.jurisdiction_id}",
        "service_notice": service_notice(catalogue, row["category"], row["region"]),
        "requested_datetime": w3(row["submitted_at"]),
        "updated_datetime": w3(row["updated_at"]),
        "expected_datetime": w3(row["window_end"]),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


# --- the documents that do not change with the requests ------------------------------------


def changeset() -> str:
    """When the catalogue (the service list and definitions) last changed."""
    return w3(datetime.fromtimestamp(catalogue_file().stat().st_mtime, UTC))


def service_list(catalogue: Catalogue) -> list[dict]:
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.description,
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(category.keywords),
            "group": category.group,
        }
        for category in catalogue.categories.values()
    ]


def service_definition(catalogue: Catalogue, category: Category) -> dict:
    def attribute(order: int, code: str, datatype: str, required: bool, what: str, how: str):
        return {
            "variable": True,
            "code": code,
            "datatype": datatype,
            "required": required,
            "datatype_description": how,
            "order": order,
            "description": what,
            "values": [],
        }

    # Without a boundary to find it in, a point says no region: then it is always asked for.
    found_from_points = bool(catalogue.bounded())
    region = attribute(
        1,
        "region",
        "singlevaluelist",
        not found_from_points,
        "Where is the work to be done?"
        + (
            " Required only without lat and long: with them, the region is the one the point "
            "lies in."
            if found_from_points
            else ""
        ),
        "One of the regions of the Lahti area.",
    )
    region["values"] = [{"key": r.code, "name": r.name} for r in catalogue.regions.values()]
    window = "A date and time with its time zone, e.g. 2026-05-04T09:00:00+03:00."
    return {
        "service_code": category.code,
        "attributes": [
            region,
            attribute(
                2,
                "window_start",
                "datetime",
                False,
                "From when may the work be done? Without it, from the time of the request.",
                window,
            ),
            attribute(
                3,
                "window_end",
                "datetime",
                False,
                "By when should the work be done? Without it, a week after the start.",
                window,
            ),
        ],
    }


# --- what the OpenAPI document says ---------------------------------------------------------


class Open311Problem(msgspec.Struct):
    """One error in the specification's format (a JSON list of these, or XML <errors>)."""

    code: int
    description: str


WHY = {
    400: "A parameter is missing or invalid (the description names it)",
    403: "api_key is missing or not valid",
    404: "No such jurisdiction, service, request or document",
    413: "The form is too large",
    415: "The body is not form-encoded",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(list[Open311Problem], description=WHY[status], generate_examples=False)
        for status in statuses
    }


def _text(description: str, **more: Any) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description, **more)


def _query(name: str, description: str) -> OpenAPIParameter:
    return OpenAPIParameter(name=name, param_in="query", required=False, schema=_text(description))


XML = OpenAPIMediaType(schema=_text("XML, as the specification's examples show it"))
JURISDICTION = _query("jurisdiction_id", "optional: this endpoint serves one jurisdiction")
REQUESTS_QUERY = [
    _query("service_request_id", "ids, comma delimited; overrides the other filters"),
    _query("service_code", "categories, comma delimited"),
    _query("start_date", "earliest submission time, W3C datetime with its time zone"),
    _query("end_date", "latest submission time, W3C datetime with its time zone"),
    _query("status", "open or closed, comma delimited"),
]
# What each field of a post is; its longest (FIELDS, MAX_ATTRIBUTE) is what the post checks.
FORM_FIELDS = {
    "api_key": "the key the city issued to the posting system",
    "jurisdiction_id": "optional: this endpoint serves one jurisdiction",
    "service_code": "a category's code, from services.xml",
    "attribute[region]": "a region's code, from the service definition; without it, the "
    "region lat and long lie in",
    "attribute[window_start]": "W3C datetime with its time zone; default now",
    "attribute[window_end]": "W3C datetime with its time zone; default a week on",
    "lat": "WGS84 latitude; with long, or address_string or address_id",
    "long": "WGS84 longitude",
    "address_string": "where, in words",
    "address_id": "where, as the city's address id",
    "email": "never stored: only a pseudonym of it",
    "device_id": "never stored: only a pseudonym of it",
    "account_id": "never stored: only a pseudonym of it (a pseudonym is kept)",
    "first_name": "not stored",
    "last_name": "not stored",
    "phone": "not stored",
    "description": "what is to be done",
    "media_url": "a photo of it",
}
FORM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["api_key", "service_code"],
    properties={
        name: _text(description, max_length=FIELDS.get(name, MAX_ATTRIBUTE))
        for name, description in FORM_FIELDS.items()
    },
)


@dataclass
class Open311Operation(Operation):
    """An Open311 operation answers XML or JSON after its path's suffix (both where the suffix
    is part of a path parameter) and takes its parameters from the query string.

    Documentation only: Litestar builds the operation id from the path, so it tells the suffix.
    """

    query: ClassVar[tuple[OpenAPIParameter, ...]] = (JURISDICTION,)

    def __post_init__(self) -> None:
        wanted = {"Xml": ["text/xml"], "Json": ["application/json"]}
        kinds = next(
            (v for k, v in wanted.items() if k in (self.operation_id or "")),
            ["text/xml", "application/json"],
        )
        for status, response in (self.responses or {}).items():
            content = getattr(response, "content", None)
            # An internal error or an unreachable database is answered as everywhere else.
            if content and "application/json" in content and status not in ("500", "503"):
                both = {"text/xml": XML, "application/json": content["application/json"]}
                response.content = {kind: both[kind] for kind in kinds}
        self.parameters = [*(self.parameters or []), *self.query]


@dataclass
class Open311RequestsOperation(Open311Operation):
    query = (JURISDICTION, *REQUESTS_QUERY)


@dataclass
class Open311DiscoveryOperation(Open311Operation):
    query = ()


@dataclass
class Open311PostOperation(Open311Operation):
    query = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            content={FORM: OpenAPIMediaType(schema=FORM_SCHEMA)}, required=True
        )


# --- the controller ------------------------------------------------------------------------


def _one(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value or None


class Open311Controller(Controller):
    path = "/open311"
    tags = ["open311"]
    guards = [PUBLIC]  # a post is let in by its api_key
    exception_handlers = {Open311Error: error_response}
    opt = {OWN_ERRORS: True}

    @get(
        ["/discovery.xml", "/discovery.json", "/v2/discovery.xml", "/v2/discovery.json"],
        summary="Open311 service discovery",
        operation_class=Open311DiscoveryOperation,
    )
    async def discovery(self, request: Request, application: RequestsApplication) -> Response:
        """Where the GeoReport v2 endpoint is, which formats it speaks, and how to get a key.

        Anybody."""
        fmt = format_of(request.url.path)
        settings = application.settings
        changed = changeset()
        return respond(
            fmt,
            "discovery",
            {
                "changeset": changed,
                "contact": f"Talkoot, the peer-production service of {settings.jurisdiction_id}: "
                "ask the city's Talkoot team.",
                "key_service": "API keys for posting requests are issued by the city's Talkoot "
                "team.",
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": str(request.base_url).rstrip("/") + BASE,
                        "changeset": changed,
                        "type": "production",
                        "formats": list(MEDIA_TYPES.values()),
                    }
                ],
            },
        )

    @get(
        ["/v2/services.xml", "/v2/services.json"],
        summary="Open311 service list",
        responses=errors(404),
        operation_class=Open311Operation,
    )
    async def services(self, request: Request, application: RequestsApplication) -> Response:
        """One service per category of the catalogue; its code is the category's code.

        Anybody."""
        fmt = format_of(request.url.path)
        check_jurisdiction(application.settings, _one(request, "jurisdiction_id"), fmt)
        return respond(fmt, "services", service_list(application.catalogue))

    @get(
        "/v2/services/{service_file:str}",
        summary="Open311 service definition",
        responses=errors(400, 404),
        operation_class=Open311Operation,
    )
    async def definition(
        self, service_file: str, request: Request, application: RequestsApplication
    ) -> Response:
        """The attributes a request of this service takes: its region (required only without
        lat and long, whose region it is then) and the wished window.

        Anybody."""
        service_code, fmt = split_name(service_file)
        check_jurisdiction(application.settings, _one(request, "jurisdiction_id"), fmt)
        catalogue = application.catalogue
        category = category_of(catalogue, service_code, fmt)
        return respond(fmt, "service_definition", service_definition(catalogue, category))

    @post(
        ["/v2/requests.xml", "/v2/requests.json"],
        summary="Open311: post a service request",
        responses=errors(400, 403, 404, 413, 415),
        operation_class=Open311PostOperation,
    )
    async def post_request(
        self, request: Request, application: RequestsApplication, reads: Reads
    ) -> Response:
        """A form-encoded service request, as the specification defines it; it becomes a
        Talkoot request on the channel open311 and goes through the same matching.

        A city system with an api_key; no token is needed."""
        fmt = format_of(request.url.path)
        settings = application.settings
        form = await read_form(request, fmt)
        if not form.get("api_key"):
            raise Open311Error(403, "api_key is missing: posting requests needs a key", fmt)
        given = form["api_key"].encode()
        if not any(hmac.compare_digest(given, key.encode()) for key in settings.open311_api_keys):
            raise Open311Error(403, "api_key is not valid: cannot create the request", fmt)
        check_jurisdiction(settings, form.get("jurisdiction_id"), fmt)
        catalogue = application.catalogue
        category = category_of(catalogue, form.get("service_code"), fmt)
        submission = submission_of(form, catalogue, category, fmt, settings)
        try:
            receipt = await to_thread.run_sync(
                partial(application.submit_request, **submission, channel="open311")
            )
        except DomainError as error:
            raise refusal(error, fmt) from None
        # So that the client's next GET finds it (there, on the read replica if there is one);
        # the request is stored either way, so a server away now does not fail it.
        with suppress(*STORE_ERRORS):
            await wait_for(
                reads.pool,
                reads.schema,
                board.PROJECTION,
                board.UPSTREAM,
                receipt.position,
                reads.wait_seconds,
            )
        answer = {
            "service_request_id": receipt.id,
            "service_notice": service_notice(catalogue, category.code, submission["region"]),
            "account_id": submission["resident_id"],
        }
        return respond(fmt, "service_requests", [answer], 201)

    @get(
        ["/v2/requests.xml", "/v2/requests.json"],
        summary="Open311 service requests",
        responses=errors(400, 404),
        operation_class=Open311RequestsOperation,
    )
    async def get_requests(
        self, request: Request, application: RequestsApplication, reads: Reads
    ) -> Response:
        """Requests on the board, newest first: by service_request_id (comma delimited; this
        overrides the rest), or by service_code, status (open, closed) and start_date and
        end_date (most recent 90 days by default, at most 90 days), at most 1000. Never where
        or what (a resident's personal data); why only for public matters.

        Anybody."""
        fmt = format_of(request.url.path)
        settings = application.settings
        catalogue = application.catalogue
        check_jurisdiction(settings, _one(request, "jurisdiction_id"), fmt)
        public = catalogue.public_matters()
        ids = listed(request.query_params.getall("service_request_id", []))
        check_ids(ids, "service_request_id", fmt)
        if ids:
            rows = await open311.requests_by_id(reads.pool, reads.schema, public, ids[:QUERY_LIMIT])
        else:
            rows = await open311.find_requests(
                reads.pool,
                reads.schema,
                public,
                **query_of(request, catalogue, fmt),
                closed_statuses=CLOSED,
                limit=QUERY_LIMIT,
            )
        return respond(
            fmt, "service_requests", [service_request(catalogue, settings, r) for r in rows]
        )

    @get(
        "/v2/requests/{request_file:str}",
        summary="Open311 service request",
        responses=errors(400, 404),
        operation_class=Open311Operation,
    )
    async def get_request(
        self, request_file: str, request: Request, application: RequestsApplication, reads: Reads
    ) -> Response:
        """One request on the board, in a list of one as the specification has it.

        Anybody."""
        request_id, fmt = split_name(request_file)
        row = await self.find(request, application, reads, request_id, fmt)
        return respond(
            fmt,
            "service_requests",
            [service_request(application.catalogue, application.settings, row)],
        )

    @get(
        "/v2/tokens/{token_file:str}",
        summary="Open311 service request id from a token",
        responses=errors(400, 404),
        operation_class=Open311Operation,
    )
    async def get_token(
        self, token_file: str, request: Request, application: RequestsApplication, reads: Reads
    ) -> Response:
        """Requests are created in real time and answered with their id; a token is that id.

        Anybody."""
        token, fmt = split_name(token_file)
        row = await self.find(request, application, reads, token, fmt, what="token")
        return respond(
            fmt, "service_requests", [{"service_request_id": row["request_id"], "token": token}]
        )

    @get("/v2/{document:str}", include_in_schema=False)
    async def unknown(self, document: str) -> Response:
        """Anything else under the endpoint: not found, said in the specification's format."""
        fmt = format_of(document) if format_of(document) in MEDIA_TYPES else "xml"
        raise Open311Error(
            404, f"{document} not found; the endpoint's documents are listed in discovery.xml", fmt
        )

    @staticmethod
    async def find(
        request: Request,
        application: RequestsApplication,
        reads: Reads,
        request_id: str,
        fmt: str,
        what: str = "service request",
    ) -> dict:
        check_jurisdiction(application.settings, _one(request, "jurisdiction_id"), fmt)
        check_ids([request_id], what, fmt)
        row = await open311.get_request(
            reads.pool, reads.schema, application.catalogue.public_matters(), request_id
        )
        if row is None:
            raise Open311Error(404, f"{what} {request_id} not found", fmt)
        return row


# --- reading a post and a query ------------------------------------------------------------


async def read_form(request: Request, fmt: str) -> dict[str, str]:
    """The posted fields; an empty one counts as not given, as the specification says.

    Only a form-encoded body is read: a browser posts text/plain or an untyped body to any site
    without asking, so accepting those would let any web page post through a visitor's browser.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        given = media_type or "no Content-Type"
        raise Open311Error(415, f"post the request form-encoded ({FORM}), not {given}", fmt)
    try:
        body = await request.body()
    except RequestEntityTooLarge:
        raise Open311Error(413, "the form is too large", fmt) from None
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Open311Error(400, "the form is not valid UTF-8 form-encoded data", fmt) from None
    form = {key: value for key, value in pairs if value.strip()}
    check_fields(form, fmt)
    return form


def check_fields(form: dict[str, str], fmt: str) -> None:
    """Every field of a post the service reads: not too long, and no control characters
    (line breaks only in the description), so that nothing unusable is stored."""
    for key, value in form.items():
        if _ATTRIBUTE.match(key):
            longest = MAX_ATTRIBUTE
        elif key in FIELDS:
            longest = FIELDS[key]
        else:
            continue  # not read, never stored
        if len(value) > longest:
            raise Open311Error(
                400, f"{key} is limited to {longest} characters, got {len(value)}", fmt
            )
        if found := bad_character(value, free_text=key in FREE_TEXT):
            what = "control characters" if key in FREE_TEXT else "control characters or line breaks"
            raise Open311Error(400, f"{key} may not hold {what}; it has {found}", fmt)


def check_ids(ids: list[str], field: str, fmt: str) -> None:
    for value in ids:
        if not is_id(value):
            raise Open311Error(
                400, f"{field} {value[:140]!r} is no id: an id has {ID_RULE} characters", fmt
            )


ATTRIBUTES = ("region", "window_start", "window_end")
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")


def submission_of(
    form: dict[str, str], catalogue: Catalogue, category: Category, fmt: str, settings: Settings
):
    """The arguments of RequestsApplication.submit_request, checked field by field."""
    attributes: dict[str, str] = {}
    for key, value in form.items():
        if match := _ATTRIBUTE.match(key):
            code = match.group(1)
            if code not in ATTRIBUTES:
                raise Open311Error(
                    400,
                    f"attribute[{code}] is not an attribute of {category.code}; its attributes "
                    f"are {', '.join(ATTRIBUTES)}",
                    fmt,
                )
            attributes[code] = value
    region = attributes.get("region")
    if region is not None and region not in catalogue.regions:
        raise Open311Error(
            400,
            f"attribute[region] {region} is not a region here; known: "
            f"{', '.join(catalogue.regions)}",
            fmt,
        )
    if "window_start" in attributes:
        start = parse_moment(attributes["window_start"], "attribute[window_start]", fmt)
    else:
        start = datetime.now(UTC).replace(microsecond=0)
    if "window_end" in attributes:
        end = parse_moment(attributes["window_end"], "attribute[window_end]", fmt)
    else:
        end = start + DEFAULT_WINDOW

    lat, long = form.get("lat"), form.get("long")
    address, address_id = form.get("address_string"), form.get("address_id")
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long go together: send both, or neither", fmt)
    if lat is None and not address and not address_id:
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id", fmt
        )
    if region is None and lat is None:
        raise Open311Error(
            400,
            "attribute[region] is required without lat and long (with them, the region is the "
            f"one the point lies in): one of {', '.join(catalogue.regions)}",
            fmt,
        )
    point = (
        parse_coordinate(lat, "lat", fmt) if lat is not None else None,
        parse_coordinate(long, "long", fmt) if long is not None else None,
    )
    try:
        region = region_of(catalogue, region, *point)
    except DomainError as error:
        raise refusal(error, fmt) from None
    description = form.get("description", "")
    return {
        "resident_id": pseudonym(
            pseudonym_secret(settings),
            form.get("account_id"),
            form.get("email"),
            form.get("device_id"),
        ),
        "category": category.code,
        "region": region,
        "description": description,
        "window_start": start,
        "window_end": end,
        # Kept as the address text when it is the only location given.
        "address": address or address_id or "",
        "lat": point[0],
        "long": point[1],
        "media_url": form.get("media_url", ""),
    }


FIELD_OF_RULE = {
    "window": "attribute[window_start] and attribute[window_end]",
    "region": "attribute[region]",
    "category": "service_code",
    "resident_id": "account_id",
}


def refusal(error: DomainError, fmt: str) -> Open311Error:
    """A rule of the domain, said in Open311 terms: the field it is about, and the status."""
    field = FIELD_OF_RULE.get(error.rule, error.rule)
    status = 404 if isinstance(error, NotFound) else 403 if isinstance(error, NotAllowed) else 400
    return Open311Error(status, f"{field}: {error.message}", fmt)


def query_of(request: Request, catalogue: Catalogue, fmt: str) -> dict[str, Any]:
    """GET requests' filters: service_code, status and the span of submission times."""
    start_text, end_text = _one(request, "start_date"), _one(request, "end_date")
    start = parse_moment(start_text, "start_date", fmt) if start_text else None
    end = parse_moment(end_text, "end_date", fmt) if end_text else None
    if start is None and end is None:
        end = datetime.now(UTC)
    if start is None:
        start = end - QUERY_SPAN
    if end is None:
        end = start + QUERY_SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date", fmt)
    if end - start > QUERY_SPAN:
        raise Open311Error(400, "start_date to end_date may not span more than 90 days", fmt)

    codes = listed(request.query_params.getall("service_code", []))
    if unknown := [c for c in codes if c not in catalogue.categories]:
        raise Open311Error(
            400,
            f"service_code {', '.join(unknown)} unknown; known: {', '.join(catalogue.categories)}",
            fmt,
        )
    statuses = set(listed(request.query_params.getall("status", [])))
    if unknown := statuses - {"open", "closed"}:
        raise Open311Error(
            400, f"status {', '.join(sorted(unknown))} unknown; use open or closed", fmt
        )
    return {
        "submitted_from": start,
        "submitted_until": end,
        "categories": codes or None,
        "closed": None if len(statuses) != 1 else statuses == {"closed"},
    }
