"""TALKOOT_DATABASE_URL, read one way for both drivers: the event store's (psycopg, through
eventsourcing) and the read models' (asyncpg), so that both reach the same server as the same
user with the same TLS, or the process stops saying which part of the URL neither can use.

libpq reads the URL (``psycopg.conninfo.conninfo_to_dict``): a ``postgresql://`` URL, with
``?host=/socket/dir`` for a Unix socket, ``host=a,b`` (or ``a:5432,b:5433``) for servers tried
in turn, and the TLS parameters; or libpq's ``host=... dbname=...`` form. Only the parameters
asyncpg takes as libpq does are kept; any other is refused, naming it.
"""

from __future__ import annotations

import getpass
import re
from typing import Any
from urllib.parse import quote, urlencode

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

VARIABLE = "TALKOOT_DATABASE_URL"

# The parameters both drivers take, and take alike.
SUPPORTED = (
    "host",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "target_session_attrs",
    "application_name",
)
# What a refused parameter is for, where there is something to say.
INSTEAD = {
    "connect_timeout": "each connection's timeout is the service's own",
    "hostaddr": "name the address as the host",
}


class UnusableDatabaseURL(ValueError):
    """TALKOOT_DATABASE_URL is not a URL both drivers can connect with; the message says why
    (and never repeats the URL, which may hold a password)."""


def parts(url: str, variable: str = VARIABLE) -> dict[str, str]:
    """The libpq parameters of ``url``, with the user and database filled in as both drivers
    would (the system user; a database of the user's name), so that neither has to guess."""
    if not url.strip():
        raise UnusableDatabaseURL(f"{variable} is empty: name a PostgreSQL server")
    try:
        found = {key: value for key, value in conninfo_to_dict(url).items() if value is not None}
    except ProgrammingError as error:
        # libpq quotes what it could not read, which may be the password: left out
        said = (str(error).strip() or "unreadable").splitlines()[0]
        reason = re.sub(r'"[^"]{2,}"', '"..."', said)
        raise UnusableDatabaseURL(
            f"{variable} is not a PostgreSQL URL such as postgresql://user:password@host/db "
            f"(libpq: {reason})"
        ) from None
    refused = sorted(set(found) - set(SUPPORTED))
    if refused:
        why = "; ".join(f"{key}: {INSTEAD[key]}" for key in refused if key in INSTEAD)
        raise UnusableDatabaseURL(
            f"{variable}: {', '.join(refused)} not supported (the read models' driver, asyncpg, "
            f"does not take {'it' if len(refused) == 1 else 'them'} as libpq does)"
            + (f"; {why}" if why else "")
            + f". Supported: {', '.join(SUPPORTED)}"
        )
    hosts = found.get("host", "").split(",")
    if not all(hosts):
        raise UnusableDatabaseURL(
            f"{variable} names no host (or an empty one in a list): name each server, by "
            "name, by address or as ?host=/the/socket/directory"
        )
    ports = found.get("port", "").split(",") if found.get("port") else []
    for port in ports:
        if not (port.isdigit() and 0 < int(port) < 65536):
            raise UnusableDatabaseURL(f"{variable}: port {port!r} is not a port number")
    if len(ports) > 1 and len(ports) != len(hosts):
        raise UnusableDatabaseURL(
            f"{variable} names {len(hosts)} hosts and {len(ports)} ports: give one port for "
            "all, or one for each host"
        )
    found.setdefault("user", getpass.getuser())
    found.setdefault("dbname", found["user"])
    return found


def conninfo(url: str) -> str:
    """``url`` as psycopg connects with it (a libpq connection string)."""
    return make_conninfo(**parts(url))


def asyncpg_dsn(url: str) -> str:
    """``url`` as asyncpg connects with it: every parameter in the query, where asyncpg reads
    them as libpq does (lists of hosts and ports, TLS files and mode)."""
    return "postgresql://?" + urlencode(parts(url), quote_via=quote)


async def keep_session(connection: Any) -> None:
    """An asyncpg pool's ``reset``: a connection given back keeps its session as it is.

    asyncpg's own reset costs a round trip on every release (advisory locks unlocked, LISTENs
    dropped, settings reset); the pools here leave no such state behind: locks are taken per
    transaction, and a process listens and leads on connections of their own."""
