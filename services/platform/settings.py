"""Configuration from the environment, read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from contracts.streams import DEFAULT_NAMESPACE

SERVICE_PORTS = {"requests": 8101, "providers": 8102, "matching": 8103, "partnerships": 8104}


@dataclass(frozen=True)
class Settings:
    database_url: str
    nats_url: str
    namespace: str = DEFAULT_NAMESPACE
    host: str = "127.0.0.1"
    read_wait_seconds: float = 5.0

    @classmethod
    def from_env(cls) -> Settings:
        database_url = os.environ.get("TALKOOT_DATABASE_URL", "")
        nats_url = os.environ.get("TALKOOT_NATS_URL", "")
        if not database_url or not nats_url:
            raise SystemExit(
                "TALKOOT_DATABASE_URL and TALKOOT_NATS_URL must be set "
                "(`talkoot up` sets them for the services it starts)"
            )
        return cls(
            database_url=database_url,
            nats_url=nats_url,
            namespace=os.environ.get("TALKOOT_NAMESPACE", DEFAULT_NAMESPACE),
            host=os.environ.get("TALKOOT_HOST", "127.0.0.1"),
            read_wait_seconds=float(os.environ.get("TALKOOT_READ_WAIT_SECONDS", "5")),
        )

    def port(self, service: str) -> int:
        return int(os.environ.get(f"TALKOOT_{service.upper()}_PORT", SERVICE_PORTS[service]))

    def schema(self, service: str) -> str:
        """The PostgreSQL schema of a service's event store: ``talkoot_requests`` and so on."""
        return f"{self.namespace}_{service}".lower().replace("-", "_")


def postgres_parts(url: str) -> dict[str, str]:
    """Split a ``postgresql://`` URL into the parts eventsourcing's settings name.

    A Unix socket is given as ``?host=/path/to/dir`` (as libpq allows).
    """
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": query.get("host") or parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(query.get("port") or parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
