"""Signing in with the city's identity provider: OpenID Connect's authorization-code flow with
PKCE (authlib's client), configured by ``TALKOOT_OIDC_*``.

The provider's discovery document names its endpoints and keys. The front sends the person
there with a fresh state, nonce and PKCE verifier kept in their session; on the way back it
checks the state, exchanges the code with the verifier, verifies the ID token (signature by
the provider's keys, issuer, audience, expiry, nonce) and keeps the provider's access token,
which is what the services are configured to accept (TALKOOT_JWT_KEYS, issuer and audience).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from litestar import Request, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from services.web.pages import render
from services.web.pages.home import start_of
from services.web.people import Person, sign_in
from services.web.settings import Oidc, WebSettings

log = logging.getLogger("talkoot.web.oidc")

FLOW = "oidc_flow"  # the session's key of a sign-in under way
ALGORITHMS = ["RS256", "ES256", "PS256"]


class SignInFailed(Exception):
    """The way back from the identity provider did not hold: nobody is signed in."""


async def discovery(settings: Oidc) -> dict[str, Any]:
    """The provider's metadata (``/.well-known/openid-configuration``)."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{settings.issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        return response.json()


def redirect_url(settings: WebSettings) -> str:
    configured = settings.oidc.redirect_url if settings.oidc else None
    return configured or f"{settings.public_url}/signin/callback"


def client(settings: WebSettings) -> AsyncOAuth2Client:
    oidc = settings.oidc
    assert oidc is not None
    return AsyncOAuth2Client(
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        scope=oidc.scopes,
        redirect_uri=redirect_url(settings),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post" if oidc.client_secret else "none",
        timeout=10,
    )


async def verified_id_token(id_token: str, metadata: dict, oidc: Oidc, nonce: str) -> dict:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce hold."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(metadata["jwks_uri"])
        response.raise_for_status()
    keys = jwt.PyJWKSet.from_dict(response.json())
    kid = jwt.get_unverified_header(id_token).get("kid")
    key = next((k for k in keys.keys if kid is None or k.key_id == kid), None)
    if key is None:
        raise SignInFailed("the ID token is signed with a key the provider does not publish")
    try:
        claims = jwt.decode(
            id_token,
            key.key,
            algorithms=ALGORITHMS,
            audience=oidc.client_id,
            issuer=metadata.get("issuer", oidc.issuer),
            leeway=60,  # seconds the provider's clock may be ahead of this one (or behind)
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.PyJWTError as error:
        raise SignInFailed(f"the ID token does not hold: {error}") from error
    if claims.get("nonce") != nonce:
        raise SignInFailed("the ID token is not the answer to this sign-in (nonce)")
    return claims


@get("/signin/oidc", summary="Sign in with the city's identity provider")
async def start(request: Request, state: State, next: str | None = None) -> Redirect:
    settings: WebSettings = state.settings
    if settings.oidc is None:
        raise NotFoundException("signing in with an identity provider is not configured")
    metadata = await discovery(settings.oidc)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    async with client(settings) as oauth:
        url, flow_state = oauth.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
    target = next if next and next.startswith("/") and not next.startswith("//") else ""
    request.session[FLOW] = {
        "state": flow_state,
        "verifier": verifier,
        "nonce": nonce,
        "next": target,
    }
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


@get("/signin/callback", summary="Back from the city's identity provider")
async def callback(
    request: Request,
    state: State,
    code: str | None = None,
    error: str | None = None,
) -> Redirect | Template:
    settings: WebSettings = state.settings
    if settings.oidc is None:
        raise NotFoundException("signing in with an identity provider is not configured")
    flow = request.session.pop(FLOW, None) if request.session else None
    returned_state = request.query_params.get("state")
    try:
        if error:
            raise SignInFailed(f"the identity provider said: {error}")
        if not isinstance(flow, dict) or not returned_state or returned_state != flow.get("state"):
            raise SignInFailed("this is not the answer to a sign-in begun here (state)")
        if not code:
            raise SignInFailed("the identity provider gave no code")
        metadata = await discovery(settings.oidc)
        async with client(settings) as oauth:
            token = await oauth.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=flow["verifier"]
            )
        identity = await verified_id_token(
            token.get("id_token", ""), metadata, settings.oidc, flow["nonce"]
        )
        access = token.get("access_token")
        if not access:
            raise SignInFailed("the identity provider gave no access token")
        person = Person.of_token(
            access,
            name=str(identity.get("name") or ""),
            how="oidc",
            id_token=token["id_token"],
        )
    except (SignInFailed, AuthlibBaseError, httpx.HTTPError, jwt.PyJWTError, KeyError) as failed:
        # a refused code or verifier, a forged or stale answer: nobody is signed in
        log.warning("a sign-in failed: %s", failed)
        return render(request, "signin_failed.html", status_code=400, reason=str(failed))
    sign_in(request, person)
    return Redirect(flow.get("next") or start_of(person), status_code=HTTP_303_SEE_OTHER)


async def end_session_url(settings: WebSettings, person: Person | None) -> str | None:
    """Where a person signed in at the identity provider goes to be signed out there too
    (OpenID Connect RP-Initiated Logout: the provider's ``end_session_endpoint`` with the ID
    token as the hint), coming back to the front's home; None where there is no such session
    or the provider has no such endpoint (or cannot be reached: the front's own session is
    ended all the same)."""
    if settings.oidc is None or person is None or person.how != "oidc" or not person.id_token:
        return None
    try:
        endpoint = (await discovery(settings.oidc)).get("end_session_endpoint")
    except (httpx.HTTPError, ValueError) as failed:
        log.warning("the identity provider's sign-out address could not be read: %s", failed)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": person.id_token,
            "client_id": settings.oidc.client_id,
            "post_logout_redirect_uri": f"{settings.public_url}/",
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


OIDC_PAGES = [start, callback]
