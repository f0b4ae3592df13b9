"""Tokens verified against each kind of configured key, the caller they name, and the rules.

Keys are made here with ``cryptography``: an HS256 secret, PEM public keys (RS256, ES256) and a
JWKS of two keys told apart by ``kid``. A token is read as the services read it: Litestar's JWT
decoding as ``jwt_auth`` configures it, then the caller from its claims.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from litestar import Controller, Litestar, Router, get
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from services.platform.identity import (
    ADMIN,
    AUDIENCE,
    ISSUER,
    OFFICER,
    PARTY,
    PROVIDER,
    PUBLIC,
    RESIDENT,
    SIGNED_IN,
    SIGNER,
    Access,
    Caller,
    Keys,
    Role,
    caller_of,
    declares_one_rule,
    jwt_auth,
    rule_of,
)

SECRET = "s" * 40
OTHER_SECRET = "o" * 40


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


RSA, OTHER_RSA = rsa_key(), rsa_key()
EC, OTHER_EC = ec_key(), ec_key()


def pem(private: Any) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    to_jwk = RSAAlgorithm.to_jwk if alg == "RS256" else ECAlgorithm.to_jwk
    return {**to_jwk(private.public_key(), as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


def claims(**changes: Any) -> dict[str, Any]:
    """A resident's claims, valid for an hour; a change of None leaves the claim out."""
    now = int(datetime.now(UTC).timestamp())
    body = {
        "sub": "resident-aino",
        "roles": ["resident"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        **changes,
    }
    return {name: value for name, value in body.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def by_hand(header: dict[str, Any], body: dict[str, Any], sign: Any) -> str:
    """A token put together without PyJWT, which refuses to make the forged ones."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@dataclass
class Scheme:
    """One way of configuring the keys, and how its issuer signs (and how another would)."""

    name: str
    keys: Keys
    algorithm: str
    private: Any  # the issuer's signing key (the secret for HS256)
    other: Any  # a key of the same kind that is not configured
    kid: str | None = None
    public_pem: bytes | None = None

    def sign(self, body: dict[str, Any], key: Any = None) -> str:
        headers = {"kid": self.kid} if self.kid else None
        return jwt.encode(body, key or self.private, algorithm=self.algorithm, headers=headers)

    def header(self, alg: str) -> dict[str, Any]:
        return {"alg": alg, "typ": "JWT", **({"kid": self.kid} if self.kid else {})}


def schemes(directory: Path) -> dict[str, Scheme]:
    rsa_file, ec_file, jwks_file = (directory / n for n in ("rsa.pem", "ec.pem", "jwks.json"))
    rsa_file.write_bytes(pem(RSA))
    ec_file.write_bytes(pem(EC))
    jwks_file.write_text(
        json.dumps({"keys": [jwk(RSA, "rsa-1", "RS256"), jwk(EC, "ec-1", "ES256")]})
    )

    def load(secret: str | None = None, keys_file: Path | None = None) -> Keys:
        return Keys.load(secret, str(keys_file) if keys_file else None, ISSUER, AUDIENCE)

    jwks = load(keys_file=jwks_file)
    found = [
        Scheme("HS256 secret", load(secret=SECRET), "HS256", SECRET, OTHER_SECRET),
        Scheme("RS256 PEM", load(keys_file=rsa_file), "RS256", RSA, OTHER_RSA, None, pem(RSA)),
        Scheme("ES256 PEM", load(keys_file=ec_file), "ES256", EC, OTHER_EC, None, pem(EC)),
        Scheme("JWKS RS256", jwks, "RS256", RSA, OTHER_RSA, "rsa-1", pem(RSA)),
        Scheme("JWKS ES256", jwks, "ES256", EC, OTHER_EC, "ec-1", pem(EC)),
    ]
    return {scheme.name: scheme for scheme in found}


SCHEMES = ["HS256 secret", "RS256 PEM", "ES256 PEM", "JWKS RS256", "JWKS ES256"]
PUBLIC_KEY_SCHEMES = SCHEMES[1:]


@pytest.fixture(params=SCHEMES)
def scheme(request: pytest.FixtureRequest, tmp_path: Path) -> Scheme:
    return schemes(tmp_path)[request.param]


@pytest.fixture(params=PUBLIC_KEY_SCHEMES)
def public_scheme(request: pytest.FixtureRequest, tmp_path: Path) -> Scheme:
    return schemes(tmp_path)[request.param]


def caller_from(keys: Keys, encoded: str) -> Caller:
    """The caller a service sees for ``encoded``: decoded as its JWT middleware does."""
    auth = jwt_auth(keys)
    token = auth.token_cls.decode(
        encoded_token=encoded,
        secret=auth.token_secret,
        algorithm=auth.algorithm,
        audience=auth.accepted_audiences,
        issuer=auth.accepted_issuers,
        require_claims=auth.require_claims,
        verify_exp=auth.verify_expiry,
        verify_nbf=auth.verify_not_before,
        strict_audience=auth.strict_audience,
    )
    return caller_of(token)


def refused(keys: Keys, encoded: str) -> str:
    with pytest.raises(NotAuthorizedException) as error:
        caller_from(keys, encoded)
    return error.value.detail


# --- what each configuration accepts ----------------------------------------------------


def test_a_token_signed_by_the_configured_key_names_its_caller(scheme):
    body = claims(sub="officer-3", roles=["officer"], partner="lahti-city", may_sign=True)
    assert caller_from(scheme.keys, scheme.sign(body)) == Caller(
        subject="officer-3",
        roles=frozenset({Role.OFFICER}),
        partner_id="lahti-city",
        may_sign=True,
    )


def test_a_token_names_every_role_its_person_holds(scheme):
    body = claims(roles=["resident", "provider"], provider="p-1")
    caller = caller_from(scheme.keys, scheme.sign(body))
    assert caller.roles == {Role.RESIDENT, Role.PROVIDER}
    assert caller.provider_id == "p-1"


def test_an_expired_token_is_refused(scheme):
    now = int(datetime.now(UTC).timestamp())
    assert "expired" in refused(scheme.keys, scheme.sign(claims(iat=now - 7200, exp=now - 600)))


def test_a_token_known_from_an_earlier_call_is_refused_once_it_expires(scheme):
    now = int(datetime.now(UTC).timestamp())
    encoded = scheme.sign(claims(iat=now - 3600, exp=now + 30))
    assert caller_from(scheme.keys, encoded).subject == "resident-aino"
    with time_machine.travel(datetime.fromtimestamp(now + 30 + 61, UTC), tick=False):
        assert "expired" in refused(scheme.keys, encoded)
    assert caller_from(scheme.keys, encoded).subject == "resident-aino"  # its time again


def test_a_token_known_from_an_earlier_call_is_not_valid_for_other_keys(scheme, tmp_path):
    encoded = scheme.sign(claims())
    assert caller_from(scheme.keys, encoded).subject == "resident-aino"
    other = Keys(secret="another secret of at least 32 characters!")
    assert refused(other, encoded)


def test_a_token_from_a_clock_a_little_ahead_or_behind_is_accepted(scheme):
    now = int(datetime.now(UTC).timestamp())
    ahead = claims(iat=now + 20, exp=now + 3600)  # issued "20 s from now" by a fast clock
    behind = claims(iat=now - 3600, exp=now - 20)  # expired 20 s ago by this clock only
    for body in (ahead, behind):
        assert caller_from(scheme.keys, scheme.sign(body)).subject == body["sub"]


def test_a_token_issued_minutes_in_the_future_is_refused(scheme):
    now = int(datetime.now(UTC).timestamp())
    body = claims(iat=now + 300, exp=now + 3600)
    assert "not yet valid" in refused(scheme.keys, scheme.sign(body))


def test_a_token_of_another_issuer_is_refused(scheme):
    assert "issuer" in refused(scheme.keys, scheme.sign(claims(iss="someone-else"))).lower()


def test_a_token_for_another_audience_is_refused(scheme):
    assert "audience" in refused(scheme.keys, scheme.sign(claims(aud="another-service"))).lower()


def test_the_keys_alone_refuse_another_issuer_and_audience(scheme):
    for wrong in ({"iss": "someone-else"}, {"aud": "another-service"}):
        with pytest.raises(NotAuthorizedException):
            scheme.keys.verify(scheme.sign(claims(**wrong)))
    assert scheme.keys.verify(scheme.sign(claims()))["sub"] == "resident-aino"


def test_a_token_signed_with_another_key_is_refused(scheme):
    refused(scheme.keys, scheme.sign(claims(), key=scheme.other))


def test_an_unsigned_token_is_refused(scheme):
    # alg "none": no signature at all
    encoded = by_hand(scheme.header("none"), claims(), lambda _: b"")
    assert encoded.endswith(".")
    refused(scheme.keys, encoded)


def test_an_hs256_token_made_with_the_public_key_as_secret_is_refused(public_scheme):
    # algorithm confusion: the public key is no secret, anyone can make this signature
    forged = by_hand(
        public_scheme.header("HS256"),
        claims(roles=["admin"]),
        lambda data: hmac.new(public_scheme.public_pem, data, hashlib.sha256).digest(),
    )
    assert "signed with" in refused(public_scheme.keys, forged)


def test_a_token_naming_one_key_signed_with_the_other_of_the_set_is_refused(tmp_path):
    jwks = schemes(tmp_path)["JWKS RS256"].keys
    forged = jwt.encode(claims(), EC, algorithm="ES256", headers={"kid": "rsa-1"})
    refused(jwks, forged)


def test_a_token_naming_a_key_the_set_does_not_hold_is_refused(tmp_path):
    jwks = schemes(tmp_path)["JWKS RS256"].keys
    for headers in ({"kid": "rsa-2"}, None):
        encoded = jwt.encode(claims(), RSA, algorithm="RS256", headers=headers)
        assert "unknown key" in refused(jwks, encoded)


def test_what_is_no_token_at_all_is_refused(scheme):
    for encoded in ("", "x", "a.b.c", "Bearer", scheme.sign(claims())[:-20]):
        refused(scheme.keys, encoded)


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "aud"])
def test_a_token_without_a_required_claim_is_refused(scheme, claim):
    refused(scheme.keys, scheme.sign(claims(**{claim: None})))


def test_a_token_with_an_empty_subject_is_refused(scheme):
    refused(scheme.keys, scheme.sign(claims(sub="")))


@pytest.mark.parametrize(
    "roles",
    [None, [], ["mayor"], ["resident", "mayor"], "resident", [1], {"resident": True}],
    ids=["missing", "empty", "unknown", "one-unknown", "a-string", "a-number", "an-object"],
)
def test_a_token_without_talkoots_roles_is_refused(scheme, roles):
    refused(scheme.keys, scheme.sign(claims(roles=roles)))


def test_a_may_sign_claim_that_is_no_boolean_is_refused(scheme):
    body = claims(roles=["officer"], partner="lahti-city", may_sign="yes")
    refused(scheme.keys, scheme.sign(body))


# --- loading the keys -------------------------------------------------------------------


def test_a_secret_of_32_characters_is_enough_and_31_is_not():
    assert Keys.load("k" * 32, None, ISSUER, AUDIENCE).secret == "k" * 32
    with pytest.raises(SystemExit) as stopped:
        Keys.load("k" * 31, None, ISSUER, AUDIENCE)
    assert "at least 32" in str(stopped.value)


def test_a_secret_and_a_keys_file_both_set_stop_the_service(tmp_path):
    keys_file = tmp_path / "rsa.pem"
    keys_file.write_bytes(pem(RSA))
    with pytest.raises(SystemExit) as stopped:
        Keys.load(SECRET, str(keys_file), ISSUER, AUDIENCE)
    assert "not both" in str(stopped.value)


def test_no_keys_at_all_stop_the_service():
    for secret, keys_file in ((None, None), ("", "")):
        with pytest.raises(SystemExit) as stopped:
            Keys.load(secret, keys_file, ISSUER, AUDIENCE)
        assert "TALKOOT_JWT_SECRET" in str(stopped.value)


def test_a_keys_file_that_cannot_be_read_stops_the_service_naming_it(tmp_path):
    for path in (tmp_path / "missing.json", tmp_path):
        with pytest.raises(SystemExit) as stopped:
            Keys.load(None, str(path), ISSUER, AUDIENCE)
        assert "TALKOOT_JWT_KEYS" in str(stopped.value)
        assert str(path) in str(stopped.value)


def test_a_key_set_holding_a_shared_secret_stops_the_service(tmp_path):
    keys_file = tmp_path / "jwks.json"
    secret = {"kty": "oct", "kid": "shared", "alg": "HS256", "k": b64(SECRET.encode())}
    keys_file.write_text(json.dumps({"keys": [secret]}))
    with pytest.raises(SystemExit) as stopped:
        Keys.load(None, str(keys_file), ISSUER, AUDIENCE)
    assert "RS256 or ES256" in str(stopped.value)


# --- the rules ----------------------------------------------------------------------------

CALLERS: dict[str, Caller | None] = {
    "nobody": None,
    "resident": Caller("resident-aino", frozenset({Role.RESIDENT})),
    "member": Caller("member-7", frozenset({Role.PROVIDER}), provider_id="p-1"),
    # the right to sign is an officer's: a member's claim to it gives nothing
    "member who claims to sign": Caller(
        "member-8", frozenset({Role.PROVIDER}), provider_id="p-1", may_sign=True
    ),
    "officer": Caller("officer-3", frozenset({Role.OFFICER}), partner_id="lahti-city"),
    "signer": Caller(
        "officer-4", frozenset({Role.OFFICER}), partner_id="lahti-city", may_sign=True
    ),
    "coordinator": Caller("coord-1", frozenset({Role.COORDINATOR}), table_id="t-1"),
    "resident and member": Caller(
        "member-9", frozenset({Role.RESIDENT, Role.PROVIDER}), provider_id="p-1"
    ),
    "admin": Caller("ops-1", frozenset({Role.ADMIN})),
}
EVERYBODY_SIGNED_IN = set(CALLERS) - {"nobody"}
MEMBERS = {"member", "member who claims to sign", "resident and member"}

# who passes each rule; an admin passes every one
PASSES: dict[str, tuple[Access, set[str]]] = {
    "public": (PUBLIC, set(CALLERS)),
    "signed in": (SIGNED_IN, EVERYBODY_SIGNED_IN),
    "resident": (RESIDENT, {"resident", "resident and member", "admin"}),
    "provider": (PROVIDER, MEMBERS | {"admin"}),
    "officer": (OFFICER, {"officer", "signer", "admin"}),
    "signer": (SIGNER, {"signer", "admin"}),
    "admin": (ADMIN, {"admin"}),
    "party": (PARTY, MEMBERS | {"officer", "signer", "admin"}),
}
PAIRS = [(rule, who) for rule in PASSES for who in CALLERS]


@pytest.mark.parametrize(("rule", "who"), PAIRS, ids=[f"{r}-{w}" for r, w in PAIRS])
def test_a_rule_lets_through_exactly_the_roles_it_names(rule, who):
    access, passing = PASSES[rule]
    assert access.allows(CALLERS[who]) is (who in passing)


@pytest.mark.parametrize(("rule", "who"), PAIRS, ids=[f"{r}-{w}" for r, w in PAIRS])
def test_a_rule_as_a_guard_refuses_whom_it_does_not_allow(rule, who):
    access, passing = PASSES[rule]
    connection: Any = SimpleNamespace(user=CALLERS[who])
    if who in passing:
        access(connection, None)  # type: ignore[arg-type]
        return
    # nobody signed in is asked to sign in (401); a wrong role is refused (403)
    expected = NotAuthorizedException if who == "nobody" else PermissionDeniedException
    with pytest.raises(expected):
        access(connection, None)  # type: ignore[arg-type]


def test_an_admin_sees_every_resource_and_others_only_their_own():
    admin, resident = CALLERS["admin"], CALLERS["resident"]
    member, officer = CALLERS["member"], CALLERS["officer"]
    assert admin.is_resident("anyone") and admin.is_member_of("p-2")
    assert admin.is_officer_of("another-city")
    assert resident.is_resident("resident-aino") and not resident.is_resident("resident-2")
    assert member.is_member_of("p-1") and not member.is_member_of("p-2")
    assert not member.is_member_of(None) and not member.is_resident("member-7")
    assert officer.is_officer_of("lahti-city") and not officer.is_officer_of("another-city")
    assert not officer.is_officer_of(None)


# --- which rule a route declares ------------------------------------------------------------


@get("/own", guards=[RESIDENT], sync_to_thread=False)
def own_rule() -> None: ...


@get("/none", sync_to_thread=False)
def no_rule() -> None: ...


class Officers(Controller):
    path = "/officers"
    guards = [OFFICER]

    @get("/inherited", sync_to_thread=False)
    def inherited(self) -> None: ...

    @get("/second", guards=[SIGNER], sync_to_thread=False)
    def second(self) -> None: ...


@get("/under-router", sync_to_thread=False)
def under_router() -> None: ...


def declared_rules() -> dict[str, Access | None]:
    app = Litestar(
        [
            own_rule,
            no_rule,
            Officers,
            Router("/public", route_handlers=[under_router], guards=[PUBLIC]),
        ],
        guards=[declares_one_rule],
    )
    return {
        route.path: rule_of(handler)
        for route in app.routes
        for handler in route.route_handlers
        if "GET" in handler.http_methods
    }


def test_a_route_declares_its_rule_on_itself_its_controller_or_its_router():
    rules = declared_rules()
    assert rules["/own"] == RESIDENT
    assert rules["/officers/inherited"] == OFFICER
    assert rules["/public/under-router"] == PUBLIC


def test_a_route_with_no_rule_or_two_declares_none():
    # the app-wide guard that refuses such a route is no rule of its own
    rules = declared_rules()
    assert rules["/none"] is None
    assert rules["/officers/second"] is None
