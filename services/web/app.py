"""The web front's Litestar app: Jinja pages with htmx, sessions in a cookie, CSRF on every
form, and the pages of every kind of user. It keeps no data: each page calls the services'
APIs with the signed-in person's token."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from services import registry
from services.web import explanation, i18n
from services.web.client import Refusal, Services, Unreachable
from services.web.geo import tile_origin
from services.web.pages import render
from services.web.pages.admin import ADMIN_PAGES
from services.web.pages.audit import AUDIT_PAGES
from services.web.pages.contract import CONTRACT_PAGES
from services.web.pages.home import HOME_PAGES
from services.web.pages.impact import IMPACT_PAGES
from services.web.pages.officer import OFFICER_PAGES
from services.web.pages.provider import PROVIDER_PAGES
from services.web.pages.resident import RESIDENT_PAGES
from services.web.pages.rounds import ROUND_PAGES
from services.web.pages.signin import SIGNIN_PAGES
from services.web.pages.tables import TABLE_PAGES
from services.web.people import NotForYou, SignInNeeded, sign_out
from services.web.settings import WebSettings

log = logging.getLogger("talkoot.web")

HERE = Path(__file__).parent
LANGUAGE_COOKIE = "lang"
SESSION_DAYS = 7


def environment() -> Environment:
    """Jinja with gettext (the language of the request at hand) and the front's formats."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals["new_key"] = lambda: uuid.uuid4().hex  # a form's Idempotency-Key
    env.globals["explain"] = explanation.explain  # matching's decision in the page's language
    env.globals["candidate"] = explanation.candidate
    env.filters.update(
        money=i18n.money,
        when=i18n.when,
        day=i18n.day,
        clock=i18n.clock,
        number=i18n.number,
        personal=i18n.personal,
    )
    return env


def speak(request: Request) -> None:
    """The page's language: the person's choice (a cookie), Finnish else."""
    i18n.use(request.cookies.get(LANGUAGE_COOKIE, i18n.DEFAULT))


async def before_each_page(request: Request) -> None:
    # async: a sync hook would run in a worker thread, whose context the page never sees
    speak(request)


@get("/language/{code:str}", summary="Switch the language", sync_to_thread=False)
def switch_language(code: str, next: str = "/") -> Response:
    if code not in i18n.LANGUAGES:
        raise NotFoundException(f"no language {code}")
    # only a path of this front: never a redirect to somewhere else
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = Redirect(target, status_code=HTTP_303_SEE_OTHER)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response


@get("/health", summary="Whether the front runs", sync_to_thread=False)
def health(state: State) -> dict:
    return {
        "service": registry.WEB.name,
        "pid": os.getpid(),
        "detail": "calls " + ", ".join(state.settings.services),
    }


def sign_in_first(request: Request, _: SignInNeeded) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = request.headers.get("referer", "/")
    sign_out(request)
    where = f"/signin?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):
        return Response(b"", status_code=204, headers={"HX-Redirect": where})
    return Redirect(where, status_code=HTTP_303_SEE_OTHER)


def not_for_you(request: Request, error: NotForYou) -> Response:
    speak(request)
    return render(request, "refused.html", status_code=403, role=error.role)


def refused(request: Request, error: Refusal) -> Response:
    """A refusal no form handled: the token ran out (sign in again) or the thing is not
    there (or not the person's: the services say 404 alike)."""
    if error.status == 401:
        return sign_in_first(request, SignInNeeded())
    return page_error(request, error.status, error.detail)


def unreachable(request: Request, error: Unreachable) -> Response:
    log.warning("a page could not be served: %s", error)
    return page_error(request, 503, str(error))


def http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code >= 400:
        log.info("%s %s: %s %s", request.method, request.url.path, error.status_code, error.detail)
    return page_error(request, error.status_code, error.detail)


def page_error(request: Request, status: int, detail: str) -> Response:
    speak(request)  # also where no route was found, and no page's hooks ran
    return render(request, "error.html", status_code=status, status=status, detail=detail)


def security_headers(settings: WebSettings):
    """What every answer tells the browser: scripts, styles and pictures from the front alone
    (and the map's tiles from their server), inline style attributes but no inline scripts,
    never inside another site's frame, no address sent to other sites, and, over HTTPS, HTTPS
    from then on. (No form-action: signing out goes on to the identity provider.)"""
    pictures = " ".join(["'self'", "data:", tile_origin(settings.map_tiles)]).strip()
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src {pictures}",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]
    if settings.secure_cookies:
        headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def add_to(message: Message, scope: Scope) -> None:
        # a hook on every answer the app sends: pages, static files, errors and not-founds
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]

    return add_to


def build_app(settings: WebSettings) -> Litestar:
    templates = TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment()))
    session = CookieBackendConfig(
        secret=settings.key("session"),
        key="talkoot_session",
        max_age=SESSION_DAYS * 24 * 3600,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    csrf = CSRFConfig(
        secret=settings.key("csrf").hex(),
        cookie_name="talkoot_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.services = Services(settings)
        try:
            yield
        finally:
            await app.state.services.close()

    static = create_static_files_router(
        "/static",
        directories=[HERE / "static"],
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )
    return Litestar(
        route_handlers=[
            health,
            switch_language,
            static,
            *HOME_PAGES,
            *SIGNIN_PAGES,
            *RESIDENT_PAGES,
            *PROVIDER_PAGES,
            *OFFICER_PAGES,
            *CONTRACT_PAGES,
            *AUDIT_PAGES,
            *ADMIN_PAGES,
            *TABLE_PAGES,
            *ROUND_PAGES,
            *IMPACT_PAGES,
        ],
        lifespan=[lifespan],
        template_config=templates,
        plugins=[HTMXPlugin(), FlashPlugin(FlashConfig(template_config=templates))],
        middleware=[session.middleware],
        csrf_config=csrf,
        request_class=HTMXRequest,
        before_send=[security_headers(settings)],
        before_request=before_each_page,
        exception_handlers={
            SignInNeeded: sign_in_first,
            NotForYou: not_for_you,
            Refusal: refused,
            Unreachable: unreachable,
            HTTPException: http_error,
        },
        logging_config=None,  # configured once, as the process starts (contracts/logs.py)
        openapi_config=None,
    )
