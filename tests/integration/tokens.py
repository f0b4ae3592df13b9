"""Tokens the services must refuse: expired, signed with another key, or made for another
issuer or audience. Each names an admin, whom every rule would let through."""

from __future__ import annotations

from datetime import timedelta

from services.platform import identity
from tests.client import Talkoot

ADMIN = identity.claims("ops-forger", ["admin"])


def broken_tokens(talkoot: Talkoot) -> dict[str, str]:
    secret = talkoot.stack.secrets["jwt"]
    return {
        "expired": talkoot.stack.token(ADMIN, lifetime=-timedelta(minutes=5)),
        "other key": identity.issue(identity.new_secret(), ADMIN),
        "wrong audience": identity.issue(secret, ADMIN, audience="another-city-system"),
        "wrong issuer": identity.issue(secret, ADMIN, issuer="someone-else"),
    }
