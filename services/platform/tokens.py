"""Roles and the tokens Talkoot issues for local use (`talkoot token`, the demo, the tests):
what the command line needs of identity, without the web framework that verifying a token in a
service brings (``services.platform.identity``, which names these too)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt


class Role(StrEnum):
    RESIDENT = "resident"
    PROVIDER = "provider"  # a member of one community provider
    OFFICER = "officer"  # of one municipal partner, with or without the right to sign
    COORDINATOR = "coordinator"  # of one partnership table
    ADMIN = "admin"


ISSUER = "talkoot-local"
AUDIENCE = "talkoot"
LIFETIME = timedelta(hours=8)


def claims(
    subject: str,
    roles: Iterable[Role | str],
    *,
    provider: str | None = None,
    partner: str | None = None,
    may_sign: bool = False,
    table: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"sub": subject, "roles": [Role(r).value for r in roles]}
    named = (("provider", provider), ("partner", partner), ("table", table), ("region", region))
    for name, value in named:
        if value is not None:
            body[name] = value
    if may_sign:
        body["may_sign"] = True
    return body


def issue(
    secret: str,
    body: dict[str, Any],
    *,
    lifetime: timedelta = LIFETIME,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    now: datetime | None = None,
) -> str:
    """An HS256 token for ``body`` (from ``claims``), valid for ``lifetime`` from ``now``."""
    now = now or datetime.now(UTC)
    payload = {
        **body,
        "iss": issuer,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def new_secret() -> str:
    return secrets.token_urlsafe(48)
