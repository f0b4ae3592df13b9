"""Who is signed in to the front: the person's token (from the city's identity provider, or
the local demo's list) kept in their session cookie, and what its claims say they may do.

The front reads the claims only to choose which pages to offer; every call it makes carries
the token, and the services verify it and decide.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jwt
from litestar import Request

SESSION_KEY = "person"


class SignInNeeded(Exception):
    """The page is for someone signed in; nobody is (or their token has run out)."""


class NotForYou(Exception):
    """The page is for a role the signed-in person does not hold."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


@dataclass(frozen=True)
class Person:
    token: str
    subject: str
    roles: tuple[str, ...] = ()
    provider: str | None = None
    partner: str | None = None
    may_sign: bool = False
    table: str | None = None  # the partnership table a coordinator runs
    region: str | None = None  # where a resident lives: whose table is theirs
    expires_at: float = 0.0
    # How the front names them: the identity provider's name claim, or the demo's words.
    name: str = ""
    about: str = ""
    # How they signed in: "oidc" (then the provider's id token, for signing out there) or "demo"
    how: str = "demo"
    id_token: str = field(default="", repr=False)

    @classmethod
    def of_token(cls, token: str, **more: Any) -> Person:
        """The person a token names. Its signature is the services' to check, not ours."""
        claims = jwt.decode(token, options={"verify_signature": False})
        roles = claims.get("roles") or []
        return cls(
            token=token,
            subject=str(claims.get("sub", "")),
            roles=tuple(str(role) for role in roles) if isinstance(roles, list) else (),
            provider=claims.get("provider"),
            partner=claims.get("partner"),
            may_sign=bool(claims.get("may_sign")),
            table=claims.get("table"),
            region=claims.get("region"),
            expires_at=float(claims.get("exp") or 0),
            name=more.pop("name", None) or str(claims.get("name") or ""),
            **more,
        )

    def holds(self, role: str) -> bool:
        return role in self.roles

    @property
    def expired(self) -> bool:
        return bool(self.expires_at) and self.expires_at <= time.time()

    @property
    def shown_as(self) -> str:
        return self.name or self.subject


def signed_in(request: Request) -> Person | None:
    """The person of the request's session, if any and their token is still good."""
    if "session" not in request.scope:  # no route matched: no session was read
        return None
    kept = request.session.get(SESSION_KEY) if request.session else None
    if not isinstance(kept, dict):
        return None
    try:
        person = Person(**{**kept, "roles": tuple(kept.get("roles", ()))})
    except TypeError:
        return None
    return None if person.expired else person


def sign_in(request: Request, person: Person) -> None:
    request.set_session({SESSION_KEY: asdict(person)})


def sign_out(request: Request) -> None:
    request.clear_session()


async def person(request: Request) -> Person:
    """The ``person`` of a page that needs someone signed in."""
    found = signed_in(request)
    if found is None:
        raise SignInNeeded
    return found


def needs(role: str):
    """A dependency: the signed-in person, who must hold ``role``."""

    async def holder(request: Request) -> Person:
        found = await person(request)
        if not found.holds(role):
            raise NotForYou(role)
        return found

    return holder


@dataclass(frozen=True)
class DemoPerson:
    role: str
    subject: str
    about: str
    acts_for: str | None
    token: str
    asked: tuple[dict, ...] = ()  # a resident's requests and series: {category, region|rule}


def demo_people(path: Path | None) -> list[DemoPerson] | None:
    """The people of the local demo (``talkoot up --demo`` writes them); None where the demo
    sign-in is off, [] where it is on but nobody is there yet."""
    if path is None:
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [
        DemoPerson(
            role=str(entry.get("role", "")),
            subject=str(entry.get("subject", "")),
            about=str(entry.get("about", "")),
            acts_for=entry.get("acts_for"),
            token=str(entry.get("token", "")),
            asked=tuple(a for a in entry.get("asked") or () if isinstance(a, dict)),
        )
        for entry in document.get("people", [])
        if entry.get("token")
    ]
