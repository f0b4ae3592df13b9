"""Who is calling: verified tokens, the caller they name, and the rule each route declares.

Every call but the public reads carries ``Authorization: Bearer <JWT>``. The token is verified
with Litestar's JWT security (PyJWT underneath) against the configured keys: an HS256 secret
(``TALKOOT_JWT_SECRET``) for a local installation, or the city's identity provider's public keys
(``TALKOOT_JWT_KEYS``: a JWKS file or a PEM public key, RS256 or ES256). Its issuer, audience,
expiry and subject are checked; nothing runs with a built-in secret.

The claims name the person and what they may act as (one person may hold several roles)::

    {"sub": "resident-aino", "roles": ["resident"], "region": "nastola"}
    {"sub": "member-7", "roles": ["provider"], "provider": "<provider id>"}
    {"sub": "officer-3", "roles": ["officer"], "partner": "lahti-city", "may_sign": true}
    {"sub": "coord-1", "roles": ["coordinator"], "table": "<table id>"}
    {"sub": "ops-1", "roles": ["admin"]}

A route declares who may call it with one ``Access`` guard (``guards=[RESIDENT]``); a route
without one is refused to everybody, and a test fails on it. A guard checks the role only;
whether the caller may touch *this* request, offer or contract is the application's to decide,
and someone else's resource answers 404, as if it did not exist, so that ids cannot be probed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    ImproperlyConfiguredException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from litestar.types import Scope

from services.platform.errors import NotFound
from services.platform.tokens import (  # noqa: F401 (the issuing side, named here too)
    AUDIENCE,
    ISSUER,
    LIFETIME,
    Role,
    claims,
    issue,
    new_secret,
)


class Caller(msgspec.Struct, frozen=True):
    """The verified person behind a call, from their token's claims."""

    subject: str
    roles: frozenset[Role]
    provider_id: str | None = None
    partner_id: str | None = None
    may_sign: bool = False
    table_id: str | None = None
    # The region the resident lives in, as the city's identity provider says (claim
    # 'region'): whose table's budgeting round they vote in.
    region: str | None = None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def holds(self, role: Role) -> bool:
        return role in self.roles

    # Each ``is_*`` says whether the caller may see a resource owned by someone; a caller who
    # may not gets the resource's 404 from ``check_sees``, exactly as for one that is not there.

    def is_resident(self, resident_id: str) -> bool:
        return self.is_admin or (self.holds(Role.RESIDENT) and self.subject == resident_id)

    def is_member_of(self, provider_id: str | None) -> bool:
        return self.is_admin or (
            provider_id is not None
            and self.holds(Role.PROVIDER)
            and self.provider_id == provider_id
        )

    def is_officer_of(self, partner_id: str | None) -> bool:
        return self.is_admin or (
            partner_id is not None and self.holds(Role.OFFICER) and self.partner_id == partner_id
        )

    def is_coordinator_of(self, table_id: str | None) -> bool:
        return self.is_admin or (
            table_id is not None and self.holds(Role.COORDINATOR) and self.table_id == table_id
        )

    @property
    def acting_provider(self) -> str:
        """The provider a provider member acts for (the guard has checked the role)."""
        if self.provider_id is None:
            raise PermissionDeniedException("the token names no provider (claim 'provider')")
        return self.provider_id

    @property
    def acting_partner(self) -> str:
        """The municipal partner an officer acts for (the guard has checked the role)."""
        if self.partner_id is None:
            raise PermissionDeniedException("the token names no partner (claim 'partner')")
        return self.partner_id


def check_sees(allowed: bool, kind: str, id: object) -> None:
    """404 for the ``kind`` (offer, provider...) with ``id`` the caller may not see, in the
    words of one that is not there."""
    if not allowed:
        raise NotFound.of(kind, id)


class _Claims(msgspec.Struct, forbid_unknown_fields=False):
    roles: list[Role]
    provider: str | None = None
    partner: str | None = None
    may_sign: bool = False
    table: str | None = None
    region: str | None = None


def caller_of(token: Token) -> Caller:
    try:
        claims = msgspec.convert(token.extras, _Claims)
    except msgspec.ValidationError as error:
        raise NotAuthorizedException(f"the token's claims are not Talkoot's: {error}") from None
    if not claims.roles:
        raise NotAuthorizedException("the token names no role (claim 'roles')")
    return Caller(
        subject=token.sub,
        roles=frozenset(claims.roles),
        provider_id=claims.provider,
        partner_id=claims.partner,
        may_sign=claims.may_sign,
        table_id=claims.table,
        region=claims.region,
    )


# --- the rule of each route ----------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """Who may call a route: nobody signed in needed (``public``), or a caller holding any of
    ``roles`` (any signed-in person when empty); an admin passes every rule."""

    name: str
    roles: frozenset[Role] = frozenset()
    public: bool = False
    may_sign: bool = False

    def __call__(self, connection: ASGIConnection, _: BaseRouteHandler) -> None:
        caller = connection.user if isinstance(connection.user, Caller) else None
        if self.allows(caller):
            return
        if caller is None:
            raise NotAuthorizedException("sign in: this needs a bearer token")
        if self.roles and not self.roles & caller.roles:
            wanted = " or ".join(sorted(self.roles))
            raise PermissionDeniedException(f"this is for the role {wanted}")
        raise PermissionDeniedException("this needs an officer with the right to sign")

    def allows(self, caller: Caller | None) -> bool:
        """Whether the rule lets ``caller`` (None: nobody signed in) through."""
        if self.public:
            return True
        if caller is None:
            return False
        if caller.is_admin:
            return True
        return (not self.roles or bool(self.roles & caller.roles)) and (
            not self.may_sign or caller.may_sign
        )


def access(name: str, *roles: Role, may_sign: bool = False) -> Access:
    return Access(name, frozenset(roles), may_sign=may_sign)


PUBLIC = Access("public", public=True)
SIGNED_IN = access("signed in")
RESIDENT = access("resident", Role.RESIDENT)
PROVIDER = access("provider member", Role.PROVIDER)
OFFICER = access("officer", Role.OFFICER)
SIGNER = access("officer who may sign", Role.OFFICER, may_sign=True)
ADMIN = access("admin", Role.ADMIN)
PARTY = access("party to a contract", Role.OFFICER, Role.PROVIDER)
# reads what a partner's contracts hold: an officer of the partner, or the coordinator of the
# table whose service programmes the partner's contracts are
PARTNER_READER = access("officer or coordinator", Role.OFFICER, Role.COORDINATOR)
# the partnership tables: a table's coordinator runs it; its initiatives are raised by
# residents, the city's officers and the coordinator, and rounds' proposals made by residents
# and the coordinator
COORDINATOR = access("coordinator", Role.COORDINATOR)
INITIATOR = access(
    "resident, officer or coordinator", Role.RESIDENT, Role.OFFICER, Role.COORDINATOR
)
PROPOSER = access("resident or coordinator", Role.RESIDENT, Role.COORDINATOR)
CITY_OR_COORDINATOR = access("officer or coordinator", Role.OFFICER, Role.COORDINATOR)


def rule_of(handler: BaseRouteHandler) -> Access | None:
    """The one Access rule a route declares (on itself, its controller or router)."""
    rules = [
        guard
        for layer in handler.ownership_layers
        for guard in layer.guards or ()
        if isinstance(guard, Access)
    ]
    return rules[0] if len(rules) == 1 else None


def is_litestars_options(handler: BaseRouteHandler) -> bool:
    """Litestar's own OPTIONS handler, which it adds to every path."""
    methods = getattr(handler, "http_methods", None)
    return methods == {"OPTIONS"} and handler.fn.__module__.startswith("litestar.")


def declares_one_rule(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard: a route that declares no rule (or two) is refused to everybody.

    Litestar's own OPTIONS answer (which methods a path allows) changes and shows nothing, and
    is let through."""
    if is_litestars_options(handler):
        return
    if rule_of(handler) is None:
        raise PermissionDeniedException("this route declares no access rule")


# --- verifying tokens --------------------------------------------------------------------

ALGORITHMS = ("HS256", "RS256", "ES256")
REQUIRED = ("exp", "iat", "sub", "iss", "aud")  # the claims every token must have
# how far the clocks of the identity provider and a service may differ: a token issued a moment
# "in the future" by a clock slightly ahead is not refused, nor one that expired a moment ago
CLOCK_SKEW = timedelta(seconds=60)
VERIFIED_KEPT = 10_000  # tokens known again without checking their signature (about 10 MB)


@dataclass(frozen=True)
class Keys:
    """What tokens are verified with: one HS256 secret, or public keys (by ``kid``)."""

    secret: str | None = None
    public: tuple[tuple[str | None, Any, str], ...] = ()  # (kid, key, algorithm)
    issuer: str = ISSUER
    audience: str = AUDIENCE
    # the tokens verified lately, by their text: claims
    _verified: dict[str, dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def load(cls, secret: str | None, keys_file: str | None, issuer: str, audience: str) -> Keys:
        if secret and keys_file:
            raise SystemExit("set TALKOOT_JWT_SECRET or TALKOOT_JWT_KEYS, not both")
        if secret:
            if len(secret) < 32:
                raise SystemExit("TALKOOT_JWT_SECRET must be at least 32 characters")
            return cls(secret=secret, issuer=issuer, audience=audience)
        if keys_file:
            return cls(public=_public_keys(Path(keys_file)), issuer=issuer, audience=audience)
        raise SystemExit(
            "no keys to verify tokens with: set TALKOOT_JWT_SECRET (HS256) or TALKOOT_JWT_KEYS "
            "(a JWKS file or PEM public key of the identity provider); `talkoot up` makes a "
            "secret of its own under its data folder"
        )

    def verify(self, encoded: str) -> dict[str, Any]:
        """The claims of ``encoded`` when one of the keys signed it, with that key's algorithm,
        for this issuer and audience, unexpired and naming its subject; else a 401.

        A caller sends the same token with each of its calls: a token verified here once is
        known again by its text until it expires (its signature, issuer and audience cannot
        have changed), so only its times are checked again."""
        known = self._verified.get(encoded)
        if known is not None:
            now = time.time()
            skew = CLOCK_SKEW.total_seconds()
            if now < known["exp"] + skew and now >= known.get("nbf", now) - skew:
                return dict(known)
            self._verified.pop(encoded, None)  # past its time: refused below, with why
        verified = self._verify(encoded)
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[encoded] = verified
        return dict(verified)

    def _verify(self, encoded: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(encoded)
        except jwt.InvalidTokenError as error:
            raise NotAuthorizedException(f"not a token: {error}") from None
        algorithm = header.get("alg")
        if self.secret is not None:
            key, algorithms = self.secret, ["HS256"]
        else:
            kid = header.get("kid")
            found = [(k, a) for i, k, a in self.public if i is None or i == kid]
            if not found:
                raise NotAuthorizedException("the token is signed with an unknown key")
            key, algorithm_of_key = found[0]
            algorithms = [algorithm_of_key]
        if algorithm not in algorithms:
            raise NotAuthorizedException(f"tokens here are signed with {' or '.join(algorithms)}")
        try:
            return jwt.decode(
                encoded,
                key=key,
                algorithms=algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=CLOCK_SKEW,
                # set explicitly: Litestar's options would turn the issuer and audience
                # checks off when its own (unused here) settings for them are empty
                options={"verify_iss": True, "verify_aud": True, "require": list(REQUIRED)},
            )
        except jwt.InvalidTokenError as error:
            raise NotAuthorizedException(f"the token is refused: {error}") from None


def _public_keys(path: Path) -> tuple[tuple[str | None, Any, str], ...]:
    try:
        text = path.read_text()
    except OSError as error:
        raise SystemExit(f"TALKOOT_JWT_KEYS: cannot read {path}: {error.strerror}") from None
    if text.lstrip().startswith("{"):
        found = []
        try:
            keys = jwt.PyJWKSet.from_json(text).keys
        except (jwt.PyJWKSetError, ValueError) as error:
            raise SystemExit(f"TALKOOT_JWT_KEYS: {path} is not a usable JWKS: {error}") from None
        for jwk in keys:
            algorithm = jwk.algorithm_name
            if algorithm not in ALGORITHMS[1:]:
                raise SystemExit(
                    f"TALKOOT_JWT_KEYS: key {jwk.key_id} is {algorithm}; use RS256 or ES256"
                )
            found.append((jwk.key_id, jwk.key, algorithm))
        return tuple(found)
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(text.encode())
    except ValueError as error:
        problem = f"TALKOOT_JWT_KEYS: {path} is neither a JWKS nor a PEM key: {error}"
        raise SystemExit(problem) from None
    if isinstance(key, rsa.RSAPublicKey):
        return ((None, key, "RS256"),)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ((None, key, "ES256"),)
    raise SystemExit("TALKOOT_JWT_KEYS: the PEM key must be RSA or EC (P-256)")


def token_class(keys: Keys) -> type[Token]:
    """Litestar's Token, verified against ``keys``: the key, algorithm, issuer, audience and
    times are checked here (the times with CLOCK_SKEW), and Litestar decodes the claims."""

    class VerifiedToken(Token):
        def __post_init__(self) -> None:
            # Litestar's own check of exp and iat knows no skew: PyJWT has checked both
            if not self.sub:
                raise ImproperlyConfiguredException("sub must be a string with a length > 0")

        @classmethod
        def decode_payload(
            cls,
            encoded_token: str,
            secret: str,
            algorithms: list[str],
            issuer: Any = None,
            audience: Any = None,
            options: Any = None,
        ) -> Any:
            return keys.verify(encoded_token)

    return VerifiedToken


class CallerMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, letting public routes through without a token. A public
    route called with one still verifies it, and may show its caller more (their own)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        rule = rule_of(connection.route_handler)
        if rule is not None and rule.public and not connection.headers.get(self.auth_header):
            return AuthenticationResult(user=None, auth=None)
        return await super().authenticate_request(connection)


def maybe_caller(scope: Scope) -> Caller | None:
    """Dependency of public routes: the caller if they sent a token, else None."""
    user = scope.get("user")
    return user if isinstance(user, Caller) else None


async def _caller(token: Token, _: ASGIConnection) -> Caller:
    return caller_of(token)


def jwt_auth(keys: Keys) -> JWTAuth[Caller, Token]:
    return JWTAuth[Caller, Token](
        retrieve_user_handler=_caller,
        token_secret=keys.secret or "verified by public keys",
        token_cls=token_class(keys),
        authentication_middleware_class=CallerMiddleware,
        description="A JWT from the city's identity provider (or `talkoot token` locally).",
    )


def caller(scope: Scope) -> Caller:
    """Dependency: the verified caller of a route whose rule needs one."""
    found = maybe_caller(scope)
    if found is None:
        raise NotAuthorizedException("sign in: this needs a bearer token")
    return found


def who(scope: Scope) -> str:
    """Who sends a call, as a key to count or keep things by: the verified caller, else the
    client's address."""
    found = maybe_caller(scope)
    if found is not None:
        return f"caller:{found.subject}"
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


def unauthorized(request: Request, error: NotAuthorizedException) -> Response:
    """A 401 in Litestar's error shape that says how to authenticate (RFC 6750):
    ``WWW-Authenticate: Bearer``, with ``error="invalid_token"`` when a bearer token was sent."""
    scheme, _, sent = (request.headers.get("authorization") or "").partition(" ")
    challenge = "Bearer"
    if scheme.lower() == "bearer" and sent:
        challenge += ' error="invalid_token"'
    body: dict[str, Any] = {"status_code": error.status_code, "detail": error.detail}
    if error.extra:
        body["extra"] = error.extra
    return Response(
        body,
        status_code=error.status_code,
        headers={**(error.headers or {}), "WWW-Authenticate": challenge},
    )


# --- how often a caller may send commands -------------------------------------------------

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _is_command(request: Request) -> bool:
    return request.method not in _READS


def commands_rate_limit(limit: tuple[DurationUnit, int]) -> RateLimitConfig:
    """Litestar's rate limit, counted per caller (per address for the public commands), on
    commands only: past the limit a command answers 429 with ``RateLimit-*`` headers."""
    return RateLimitConfig(
        rate_limit=limit,
        identifier_for_request=lambda request: who(request.scope),
        check_throttle_handler=_is_command,
    )
