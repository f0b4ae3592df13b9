"""Configuration from the environment, read once per process."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from contracts import database
from contracts.jetstream import stream_replicas
from contracts.streams import DEFAULT_NAMESPACE
from services.platform.identity import AUDIENCE, ISSUER, Keys
from services.registry import PORTS

if TYPE_CHECKING:  # a name only: the command line reads settings without loading Litestar
    from litestar.middleware.rate_limit import DurationUnit

READ_VARIABLE = "TALKOOT_READ_DATABASE_URL"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str, name: str = "duration") -> timedelta:
    """``90s``, ``15m``, ``24h``, ``7d`` or ``1.5d``; a bare number is seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None:
        raise SystemExit(f"{name}: {text!r} is not a duration such as 90s, 15m, 24h or 7d")
    number, unit = match.groups()
    value = timedelta(seconds=float(number) * _UNITS[unit or "s"])
    if value <= timedelta(0):
        raise SystemExit(f"{name}: {text!r} must be longer than nothing")
    return value


def _env_seconds(key: str, default: str) -> float:
    return duration(os.environ.get(key, default), key).total_seconds()


def _env_duration(key: str, default: str) -> timedelta:
    return duration(os.environ.get(key, default), key)


def _env_cents(key: str, default: int) -> int:
    """A yearly amount in whole cents (``1700000`` for 17 000 €); anything else stops the
    process, saying so."""
    text = os.environ.get(key, str(default)).strip()
    if not text.isdigit():
        raise SystemExit(f"{key}: {text!r} is not an amount in whole cents, such as {default}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    database_url: str
    nats_url: str
    # A read replica of the primary the services' queries read the read models from
    # (TALKOOT_READ_DATABASE_URL); None: the primary, like everything else.
    read_database_url: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    host: str = "127.0.0.1"
    read_wait_seconds: float = 5.0
    # How long a provider has to answer an offer before it goes to the next candidate.
    offer_expires_after: timedelta = timedelta(hours=24)
    # A completed request the resident neither confirms nor disputes is confirmed after this.
    auto_confirm_after: timedelta = timedelta(days=7)
    # Fairness counts the work offered to each provider over this recent window.
    fairness_window: timedelta = timedelta(days=30)
    # Recurring requests are created this far ahead of their day.
    series_horizon: timedelta = timedelta(days=7)
    # How often the timed work (expiries, auto-confirmation, series) looks for what is due.
    sweep_seconds: float = 5.0
    # Open311: the keys city systems post with, and this installation's jurisdiction id.
    open311_api_keys: tuple[str, ...] = field(default=("talkoot-local",))
    jurisdiction_id: str = "lahti.fi"
    # How long a command's Idempotency-Key (and the answer to replay) is kept.
    idempotency_ttl: timedelta = timedelta(days=1)
    # What callers' tokens are verified with: an HS256 secret, or a JWKS/PEM file of the
    # identity provider's public keys; and the issuer and audience they must name.
    jwt_secret: str | None = None
    jwt_keys_file: str | None = None
    jwt_issuer: str = ISSUER
    jwt_audience: str = AUDIENCE
    # The server's secret for Open311 residents' pseudonyms (an HMAC of their e-mail).
    pseudonym_secret: str | None = None
    # The master key that wraps every resident's key of personal data
    # (services/platform/personal.py); required by the services that keep personal data.
    personal_data_key: str | None = None
    # Commands each caller may send per window (None: no limit).
    rate_limit: tuple[DurationUnit, int] | None = ("minute", 120)
    # The installation's Ed25519 seed (base64) its logs' checkpoints are signed with, the
    # prefix of each log's origin (``<prefix>/<service>``; default ``talkoot.<jurisdiction>``)
    # and how often each service checkpoints its log when it has grown.
    audit_key: str | None = None
    audit_origin: str | None = None
    checkpoint_seconds: float = 300.0
    # The city's yearly budget for the partnership tables besides each table's own: the
    # personnel and meeting fees, and the common expenses (the impact report plans with them).
    tables_personnel_and_fees_cents: int = 8_300_000
    tables_common_expenses_cents: int = 1_700_000
    # How many copies of each stream a NATS cluster keeps (TALKOOT_STREAM_REPLICAS).
    stream_replicas: int = 1

    @classmethod
    def from_env(cls) -> Settings:
        database_url = os.environ.get("TALKOOT_DATABASE_URL", "")
        nats_url = os.environ.get("TALKOOT_NATS_URL", "")
        if not database_url or not nats_url:
            raise SystemExit(
                "TALKOOT_DATABASE_URL and TALKOOT_NATS_URL must be set "
                "(`talkoot up` sets them for the services it starts)"
            )
        read_database_url = os.environ.get(READ_VARIABLE, "").strip() or None
        try:
            database.parts(database_url)
            if read_database_url is not None:
                database.parts(read_database_url, READ_VARIABLE)
        except database.UnusableDatabaseURL as error:
            raise SystemExit(str(error)) from None
        return cls(
            database_url=database_url,
            nats_url=nats_url,
            read_database_url=read_database_url,
            namespace=os.environ.get("TALKOOT_NAMESPACE", DEFAULT_NAMESPACE),
            host=os.environ.get("TALKOOT_HOST", "127.0.0.1"),
            read_wait_seconds=_env_seconds("TALKOOT_READ_WAIT_SECONDS", "5"),
            offer_expires_after=_env_duration("TALKOOT_OFFER_EXPIRES_AFTER", "24h"),
            auto_confirm_after=_env_duration("TALKOOT_AUTO_CONFIRM_AFTER", "7d"),
            fairness_window=_env_duration("TALKOOT_FAIRNESS_WINDOW", "30d"),
            series_horizon=_env_duration("TALKOOT_SERIES_HORIZON", "7d"),
            sweep_seconds=_env_seconds("TALKOOT_SWEEP_SECONDS", "5"),
            open311_api_keys=tuple(
                key.strip()
                for key in os.environ.get("TALKOOT_OPEN311_API_KEYS", "talkoot-local").split(",")
                if key.strip()
            ),
            jurisdiction_id=os.environ.get("TALKOOT_JURISDICTION", "lahti.fi"),
            idempotency_ttl=_env_duration("TALKOOT_IDEMPOTENCY_TTL", "1d"),
            jwt_secret=os.environ.get("TALKOOT_JWT_SECRET") or None,
            jwt_keys_file=os.environ.get("TALKOOT_JWT_KEYS") or None,
            jwt_issuer=os.environ.get("TALKOOT_JWT_ISSUER", ISSUER),
            jwt_audience=os.environ.get("TALKOOT_JWT_AUDIENCE", AUDIENCE),
            pseudonym_secret=os.environ.get("TALKOOT_PSEUDONYM_SECRET") or None,
            personal_data_key=os.environ.get("TALKOOT_PERSONAL_DATA_KEY") or None,
            rate_limit=rate_limit(os.environ.get("TALKOOT_RATE_LIMIT", "120/minute")),
            audit_key=os.environ.get("TALKOOT_AUDIT_KEY") or None,
            audit_origin=os.environ.get("TALKOOT_AUDIT_ORIGIN") or None,
            tables_personnel_and_fees_cents=_env_cents(
                "TALKOOT_TABLES_PERSONNEL_AND_FEES_CENTS", 8_300_000
            ),
            tables_common_expenses_cents=_env_cents(
                "TALKOOT_TABLES_COMMON_EXPENSES_CENTS", 1_700_000
            ),
            checkpoint_seconds=_env_seconds("TALKOOT_CHECKPOINT_SECONDS", "300"),
            stream_replicas=stream_replicas(),
        )

    def keys(self) -> Keys:
        """The keys tokens are verified with; stops the process if none are configured."""
        return Keys.load(self.jwt_secret, self.jwt_keys_file, self.jwt_issuer, self.jwt_audience)

    def origin(self, service: str) -> str:
        """The origin of ``service``'s log in its checkpoints: ``talkoot.lahti.fi/requests``."""
        prefix = self.audit_origin or f"talkoot.{self.jurisdiction_id}"
        return f"{prefix.rstrip('/')}/{service}"

    def audit_seed(self) -> bytes:
        """The Ed25519 seed of TALKOOT_AUDIT_KEY; stops the process if there is none."""
        return audit_seed(self.audit_key)

    def port(self, service: str) -> int:
        return int(os.environ.get(f"TALKOOT_{service.upper()}_PORT", PORTS[service]))

    def schema(self, service: str) -> str:
        """The PostgreSQL schema of a service's event store: ``talkoot_requests`` and so on."""
        return f"{self.namespace}_{service}".lower().replace("-", "_")


def rate_limit(text: str) -> tuple[DurationUnit, int] | None:
    """``120/minute`` (second, minute, hour or day), or ``off``."""
    if text.strip().lower() == "off":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*", text)
    if match is None or int(match[1]) < 1:
        raise SystemExit(f"TALKOOT_RATE_LIMIT: {text!r} is not a rate such as 120/minute, or off")
    return match[2], int(match[1])  # type: ignore[return-value]


def audit_seed(text: str | None) -> bytes:
    """The 32-byte Ed25519 seed that TALKOOT_AUDIT_KEY gives in base64."""
    import base64
    import binascii

    if not text:
        raise SystemExit(
            "TALKOOT_AUDIT_KEY must be set: the base64 of a 32-byte Ed25519 seed the logs' "
            "checkpoints are signed with (`talkoot up` makes one under its data folder)"
        )
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:
        raise SystemExit("TALKOOT_AUDIT_KEY must be the base64 of 32 bytes (an Ed25519 seed)")
    return seed


def postgres_parts(url: str) -> dict[str, str]:
    """The parts of TALKOOT_DATABASE_URL that eventsourcing's settings name (the rest of it
    reaches the event store through ``POSTGRES_CONNINFO``: see services/platform/store.py)."""
    found = database.parts(url)
    return {
        "POSTGRES_DBNAME": found["dbname"],
        "POSTGRES_HOST": found["host"],
        "POSTGRES_PORT": found.get("port", "5432"),
        "POSTGRES_USER": found["user"],
        "POSTGRES_PASSWORD": found.get("password", ""),
    }
