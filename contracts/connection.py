"""Every NATS connection Talkoot makes: the process's identity, from its environment, and the
connection options all of them share."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nats.aio.client import Client

USER_VARIABLE = "TALKOOT_NATS_USER"
PASSWORD_VARIABLE = "TALKOOT_NATS_PASSWORD"
CREDS_VARIABLE = "TALKOOT_NATS_CREDS"
VARIABLES = (USER_VARIABLE, PASSWORD_VARIABLE, CREDS_VARIABLE)

# One line for the --help texts of every process that connects.
HELP = (
    f"NATS identity: {USER_VARIABLE} and {PASSWORD_VARIABLE}, or {CREDS_VARIABLE} (the path "
    "of a .creds file); none of them: connect anonymously."
)

# The options that name an identity: given any of them, the environment's is not used.
_IDENTITY_OPTIONS = (
    "user",
    "password",
    "token",
    "user_credentials",
    "nkeys_seed",
    "nkeys_seed_str",
)


def identity(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The ``nats.connect`` options for the identity ``environ`` names (none: anonymous)."""
    if environ.get(CREDS_VARIABLE):
        return {"user_credentials": environ[CREDS_VARIABLE]}
    if environ.get(USER_VARIABLE):
        return {"user": environ[USER_VARIABLE], "password": environ.get(PASSWORD_VARIABLE, "")}
    return {}


def servers(url: str) -> list[str]:
    """The servers ``url`` names: one, or several separated by commas (the nodes of a
    cluster, any of which will do; the client learns of the others from the first)."""
    return [part.strip() for part in url.split(",") if part.strip()]


async def connect(url: str, name: str, **options) -> Client:
    """Connect to ``url`` (one server or a comma-separated list of a cluster's) as this
    process's identity; ``options`` override the defaults (and an identity given in them
    replaces the environment's)."""
    settings = {
        "name": name,
        # Reconnect for ever: NATS restarting must not end a service.
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 5,
    }
    if not any(key in options for key in _IDENTITY_OPTIONS):
        settings.update(identity())
    settings.update(options)
    # nats-py retries a refused identity for as long as it would retry an absent server (for
    # ever, here): so the first connection does not reconnect, and an error such as
    # 'Authorization Violation' is raised at once; an absent server is still waited for.
    import nats  # here: the command line names these variables without loading the client

    reconnect = settings.pop("allow_reconnect", True)
    client = await nats.connect(servers(url), allow_reconnect=False, **settings)
    client.options["allow_reconnect"] = reconnect
    return client
