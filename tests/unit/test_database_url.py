"""TALKOOT_DATABASE_URL is read once (contracts/database.py) and both drivers connect with
what it says: the event store's psycopg pool and the read models' asyncpg pools."""

from __future__ import annotations

import pytest
from asyncpg import connect_utils
from eventsourcing.utils import Environment
from psycopg.conninfo import conninfo_to_dict

from contracts import database
from services.platform.settings import Settings
from services.platform.store import Persistence, store_env


def event_store_reads(url: str) -> dict[str, str]:
    """What the event store's pool connects with: its connection string under the
    POSTGRES_* settings eventsourcing passes as keywords (which win, as in psycopg)."""
    factory = Persistence(Environment(env=store_env(Settings(url, ""), "requests")))
    pool = factory.datastore.pool  # made closed: nothing connects here
    keywords = {k: str(v) for k, v in pool.kwargs.items() if k in ("host", "port", "dbname")}
    keywords.update(user=pool.kwargs["user"], password=pool.kwargs["password"])
    return {**conninfo_to_dict(pool.conninfo), **keywords}


def asyncpg_reads(url: str):
    """What asyncpg makes of the DSN it is given: its own parser (the one ``connect`` runs),
    as (addresses, parameters)."""
    nothing = dict.fromkeys(
        (
            "host",
            "port",
            "user",
            "password",
            "passfile",
            "database",
            "ssl",
            "service",
            "servicefile",
            "direct_tls",
            "server_settings",
            "target_session_attrs",
            "krbsrvname",
            "gsslib",
        )
    )
    return connect_utils._parse_connect_dsn_and_args(dsn=database.asyncpg_dsn(url), **nothing)


def test_a_plain_url_reaches_the_same_server_as_the_same_user_in_both_drivers():
    url = "postgresql://talkoot:secret@db.lahti.example:5433/marketplace"
    store = event_store_reads(url)
    assert (store["host"], store["port"], store["dbname"]) == (
        "db.lahti.example",
        "5433",
        "marketplace",
    )
    assert (store["user"], store["password"]) == ("talkoot", "secret")
    addresses, params = asyncpg_reads(url)
    assert addresses == [("db.lahti.example", 5433)]
    assert (params.user, params.password, params.database) == ("talkoot", "secret", "marketplace")


def test_a_percent_encoded_password_is_decoded_once_for_both():
    url = "postgresql://talkoot:p%40ss%2Fw%3Ard%25%20x@db/marketplace"
    assert event_store_reads(url)["password"] == "p@ss/w:rd% x"
    assert asyncpg_reads(url)[1].password == "p@ss/w:rd% x"


def test_a_socket_directory_is_a_unix_socket_for_both():
    url = "postgresql://postgres:@/postgres?host=/run/talkoot-pg&port=5544"
    store = event_store_reads(url)
    assert (store["host"], store["port"]) == ("/run/talkoot-pg", "5544")
    assert asyncpg_reads(url)[0] == ["/run/talkoot-pg/.s.PGSQL.5544"]


def test_the_user_and_database_left_out_are_filled_in_alike():
    url = "postgresql://db.example"
    parts = database.parts(url)
    assert parts["dbname"] == parts["user"]
    store = event_store_reads(url)
    params = asyncpg_reads(url)[1]
    assert (
        (store["user"], store["dbname"])
        == (params.user, params.database)
        == (
            parts["user"],
            parts["dbname"],
        )
    )


@pytest.mark.parametrize("mode", ["disable", "prefer", "require"])
def test_sslmode_reaches_both_drivers(mode):
    url = f"postgresql://talkoot:secret@db.example/marketplace?sslmode={mode}"
    assert event_store_reads(url)["sslmode"] == mode
    assert asyncpg_reads(url)[1].sslmode.name == mode.replace("-", "_")


def test_the_tls_files_reach_both_drivers(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")  # asyncpg reads it only for the modes that verify
    url = f"postgresql://db.example/m?sslmode=require&sslrootcert={ca}"
    assert event_store_reads(url)["sslrootcert"] == str(ca)
    assert f"sslrootcert={str(ca).replace('/', '%2F')}" in database.asyncpg_dsn(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://talkoot@primary.example:5432,standby.example:5433/marketplace",
        "postgresql://talkoot@/marketplace?host=primary.example,standby.example&port=5432,5433",
    ],
)
def test_several_hosts_are_tried_in_turn_by_both(url):
    store = event_store_reads(url)
    assert (store["host"], store["port"]) == ("primary.example,standby.example", "5432,5433")
    assert asyncpg_reads(url)[0] == [("primary.example", 5432), ("standby.example", 5433)]


def test_one_port_serves_every_host_but_a_port_short_is_refused():
    addresses, _ = asyncpg_reads("postgresql://u@/d?host=a,b&port=6432")
    assert addresses == [("a", 6432), ("b", 6432)]
    with pytest.raises(database.UnusableDatabaseURL, match="3 hosts and 2 ports"):
        database.parts("postgresql://u@/d?host=a,b,c&port=5432,5433")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("", "empty"),
        ("not a database", "not a PostgreSQL URL"),
        ("https://db.example/marketplace", "not a PostgreSQL URL"),
        ("postgresql://u:hunter22@db.example/m?sslmod=require", "not a PostgreSQL URL"),
        ("postgresql://u:hunter22@db.example/m?connect_timeout=5", "connect_timeout"),
        ("postgresql://u:hunter22@db.example/m?options=-c%20x%3D1", "options"),
        ("postgresql://u:hunter22@/m?hostaddr=10.0.0.1", "hostaddr"),
        ("postgresql://u:hunter22@db.example:99999/m", "port '99999'"),
        ("postgresql://u:hunter22@/m", "names no host"),
        ("postgresql://u:hunter22@/m?host=a,,b", "names no host"),
        ("postgresql://u:hunter22%zz@db.example/m", "not a PostgreSQL URL"),
    ],
)
def test_a_url_either_driver_cannot_use_is_refused_naming_the_variable_and_the_part(url, named):
    with pytest.raises(database.UnusableDatabaseURL) as refused:
        database.parts(url)
    message = str(refused.value)
    assert message.startswith("TALKOOT_DATABASE_URL")
    assert named in message
    assert "hunter22" not in message


def test_a_service_with_an_unusable_url_stops_before_it_starts(monkeypatch):
    monkeypatch.setenv("TALKOOT_DATABASE_URL", "postgresql://db.example/m?keepalives=1")
    monkeypatch.setenv("TALKOOT_NATS_URL", "nats://localhost:4222")
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "TALKOOT_DATABASE_URL: keepalives not supported" in str(stopped.value)


def test_the_read_replicas_url_is_read_by_the_same_rules_and_named_when_refused(monkeypatch):
    monkeypatch.setenv("TALKOOT_DATABASE_URL", "postgresql://db.example/m")
    monkeypatch.setenv("TALKOOT_NATS_URL", "nats://localhost:4222")
    monkeypatch.delenv("TALKOOT_READ_DATABASE_URL", raising=False)
    assert Settings.from_env().read_database_url is None  # the primary, like everything else
    monkeypatch.setenv("TALKOOT_READ_DATABASE_URL", "postgresql://u:hunter22@replica.example/m")
    assert Settings.from_env().read_database_url == "postgresql://u:hunter22@replica.example/m"
    monkeypatch.setenv(
        "TALKOOT_READ_DATABASE_URL", "postgresql://u:hunter22@replica/m?keepalives=1"
    )
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env()
    assert "TALKOOT_READ_DATABASE_URL: keepalives not supported" in str(stopped.value)
    assert "hunter22" not in str(stopped.value)
