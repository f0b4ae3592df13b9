"""One service process: its Application, NATS, the relay, its consumers and its HTTP API.

``serve(spec)`` is what each ``services/<name>/__main__.py`` calls. Everything a service runs
in the background starts in the Litestar lifespan and stops with it, so Ctrl-C or SIGTERM ends
the process cleanly: the relay and consumers finish the message in hand and the event store closes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import asyncpg
import uvicorn
from anyio import to_thread
from litestar import Litestar
from litestar.di import Provide
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from contracts import connection, database, logs
from contracts.jetstream import Consumer, Policy, Subscription, ensure_streams
from contracts.lease import Lease, lead
from projections.schema import ensure_read_models, read_schema
from services.platform.audit import AuditLog, Log
from services.platform.audit_api import AuditController
from services.platform.http import Reads, create_app
from services.platform.idempotency import Keys
from services.platform.outbound import Outbound
from services.platform.relay import Relay
from services.platform.settings import Settings
from services.platform.store import ServiceApplication
from services.registry import STREAMS, Process

log = logging.getLogger("talkoot.runtime")

PRUNE_SECONDS = 300.0  # how often idempotency keys past TALKOOT_IDEMPOTENCY_TTL are forgotten


@dataclass(frozen=True)
class ServiceSpec:
    """What makes a service this service: its Application, API, outbound map and consumers.
    Its name, title and port are its entry in ``services.registry`` (``service``)."""

    service: Process
    make_application: Callable[[Settings], ServiceApplication]
    outbound: Outbound
    route_handlers: Sequence[Any]
    subscriptions: Callable[[ServiceApplication], list[Subscription]] = lambda _: []
    description: str = ""
    # Timed work (expiries, automatic confirmation, recurring requests): each is called every
    # TALKOOT_SWEEP_SECONDS with the running Runtime, and does what has fallen due.
    sweeps: Sequence[Callable[[Runtime], Awaitable[None]]] = ()
    # What the service needs of its settings beyond every service's: it raises SystemExit,
    # saying what is missing, before anything starts.
    check_settings: Callable[[Settings], None] = lambda _: None

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def title(self) -> str:
        return self.service.title


async def every(seconds: float, work: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    """Run ``work`` now and then every ``seconds`` until ``stop``; a failure is logged and
    the next round tries again."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception("timed work failed; trying again in %.1f s", seconds)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def connect_nats(settings: Settings, name: str) -> NATS:
    """Connect as this process's NATS identity (TALKOOT_NATS_USER, say), reconnecting for ever."""
    return await connection.connect(settings.nats_url, f"talkoot-{name}")


def named_session(url: str, name: str) -> dict[str, str] | None:
    """A connection's settings that say which process holds it (``application_name`` in
    pg_stat_activity), unless the URL names one."""
    return None if "application_name" in database.parts(url) else {"application_name": name}


async def open_pool(url: str, name: str, min_size: int = 1) -> asyncpg.Pool:
    """A pool on ``url`` whose connections say which process holds them (``named_session``).
    Bounded: while the server is away a request fails in seconds instead of hanging."""
    return await asyncpg.create_pool(
        database.asyncpg_dsn(url),
        min_size=min_size,
        max_size=8,
        timeout=2,
        command_timeout=10,
        server_settings=named_session(url, name),
        reset=database.keep_session,
    )


async def postgres_ok(pool: asyncpg.Pool) -> str:
    try:
        await asyncio.wait_for(pool.fetchval("SELECT 1"), 2.0)
        return "ok"
    except Exception as error:  # health reports any failure, whatever its kind
        return f"unreachable: {error.__class__.__name__}"


async def nats_ok(nc: NATS | None) -> str:
    if nc is None or not nc.is_connected:
        return "unreachable: not connected"
    try:
        await nc.flush(timeout=1)
        return "ok"
    except Exception as error:
        return f"unreachable: {error.__class__.__name__}"


class Runtime:
    def __init__(self, spec: ServiceSpec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.application: ServiceApplication | None = None
        self.nc: NATS | None = None
        self.pool: asyncpg.Pool | None = None
        # the read replica's, when TALKOOT_READ_DATABASE_URL names one: the queries' reads
        self.read_pool: asyncpg.Pool | None = None
        self.relay: Relay | None = None
        self.idempotency: Keys | None = None
        self.consumers: list[Consumer] = []
        self.lease: Lease | None = None
        self.policy = Policy.from_env()
        # the service's log for the audit: its stored events, checkpointed and signed
        self.audit = AuditLog(
            settings.database_url,
            Log(spec.name, settings.schema(spec.name)),
            settings.origin(spec.name),
            settings.audit_seed(),
        )

    async def start(self) -> None:
        spec, settings = self.spec, self.settings
        self.application = await to_thread.run_sync(spec.make_application, settings)
        log.debug("%s: event store in schema %s", spec.name, settings.schema(spec.name))
        self.pool = await open_pool(settings.database_url, f"talkoot-{spec.name}")
        await ensure_read_models(self.pool, settings.namespace)
        if settings.read_database_url is not None:
            # The replica replays the primary's read models, DDL and all: nothing to create.
            # min_size=0: a replica that is away when the service starts delays no command.
            self.read_pool = await open_pool(
                settings.read_database_url, f"talkoot-{spec.name}-reads", min_size=0
            )
            state = await postgres_ok(self.read_pool)
            if state == "ok":
                log.info("%s: queries read the read models from the read replica", spec.name)
            else:
                log.warning(
                    "%s: the read replica is %s; queries answer 503 until it is back, "
                    "commands go on",
                    spec.name,
                    state,
                )
        recorder = self.application.process_recorder
        self.idempotency = Keys(self.pool, settings.schema(spec.name), recorder.tracking_table_name)
        await self.idempotency.create()
        await to_thread.run_sync(self.audit.create)
        self.nc = await connect_nats(settings, spec.name)
        js = self.nc.jetstream()
        await ensure_streams(js, settings.namespace, STREAMS, settings.stream_replicas)
        url = settings.database_url
        self.relay = Relay(
            self.application,
            js,
            spec.outbound,
            settings.namespace,
            pool=self.pool,
            listen=lambda: asyncpg.connect(
                database.asyncpg_dsn(url),
                timeout=2,
                server_settings=named_session(url, f"talkoot-{spec.name}"),
            ),
        )
        # Every replica serves HTTP; the one holding the lease relays, consumes and sweeps.
        self.lease = Lease(settings.database_url, f"{settings.namespace}.{spec.name}")
        self.tasks.append(
            asyncio.create_task(
                lead(self.lease, lambda term: self.work(js, term), self.stop),
                name=f"{spec.name} background work",
            )
        )

    def work(self, js: JetStreamContext, term: asyncio.Event) -> list[asyncio.Task]:
        """The background work of this replica's term as the lease's holder, until ``term``:
        the outbox's relay, the consumers, forgetting old idempotency keys, checkpoints of the
        log and the timed work."""
        spec, settings = self.spec, self.settings
        tasks = [asyncio.create_task(self.relay.run(term), name=f"{spec.name} relay")]
        self.consumers = [
            Consumer(js, sub, settings.namespace, self.policy)
            for sub in spec.subscriptions(self.application)
        ]
        for consumer in self.consumers:
            tasks.append(
                asyncio.create_task(
                    consumer.run(term),
                    name=f"{spec.name} consumer of {consumer.subscription.upstream}",
                )
            )
        ttl = settings.idempotency_ttl
        tasks.append(
            asyncio.create_task(
                every(PRUNE_SECONDS, lambda: self.idempotency.prune(ttl), term),
                name=f"{spec.name} idempotency keys past {ttl}",
            )
        )
        # a checkpoint now, and then whenever the log has grown, every TALKOOT_CHECKPOINT_SECONDS
        tasks.append(
            asyncio.create_task(
                every(settings.checkpoint_seconds, self.checkpoint, term),
                name=f"{spec.name} checkpoints",
            )
        )
        for sweep in spec.sweeps:
            tasks.append(
                asyncio.create_task(
                    every(settings.sweep_seconds, lambda sweep=sweep: sweep(self), term),
                    name=f"{spec.name} {sweep.__name__}",
                )
            )
        log.info(
            "%s leads: its relay, consumers %d, timed tasks %d",
            spec.name,
            len(self.consumers),
            len(spec.sweeps),
        )
        return tasks

    async def close(self) -> None:
        self.stop.set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=5)
            for task in pending:
                task.cancel()
        if self.nc is not None:
            # close, not drain: draining pull subscriptions waits out its whole timeout in nats-py
            log.debug("closing NATS")
            with suppress(Exception):
                await self.nc.close()
        for pool in (self.read_pool, self.pool):
            if pool is not None:
                log.debug("closing an asyncpg pool")
                try:
                    await asyncio.wait_for(pool.close(), 5)
                except TimeoutError:
                    pool.terminate()
        log.debug("closing the event store")
        if self.application is not None:
            await to_thread.run_sync(self.application.close)

    async def checkpoint(self) -> None:
        kept, made = await to_thread.run_sync(self.audit.checkpoint)
        if made:
            log.info("checkpoint of %s: %d events", self.audit.origin, kept.tree_size)

    def started_audit(self) -> AuditLog:
        return self.audit

    def started_application(self) -> ServiceApplication:
        """The service's Application (a handler names its own type: RequestsApplication...)."""
        if self.application is None:
            raise RuntimeError("the service has not started")
        return self.application

    def reads(self) -> Reads:
        """The read models as the queries read them: from the read replica when there is one
        (the rows and the tracking positions a ``?position=`` waits for alike, so that both
        come from the same replayed transactions), and the primary for what must be current."""
        if self.pool is None:
            raise RuntimeError("the service has not started")
        return Reads(
            self.read_pool or self.pool,
            read_schema(self.settings.namespace),
            self.settings.read_wait_seconds,
            self.pool,
            self.audit.log.events_table.as_string(),
        )

    async def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "service": self.spec.name,
            "pid": os.getpid(),
            "postgres": await postgres_ok(self.pool) if self.pool else "not started",
            "nats": await nats_ok(self.nc),
        }
        if self.settings.read_database_url is not None:
            # Reported, not required: commands go to the primary whatever the replica's state.
            pool = self.read_pool
            report["read_replica"] = await postgres_ok(pool) if pool else "not started"
        # Whether this replica holds the lease, and so relays, consumes and sweeps.
        # A replica without it has no outbox lag or consumers of its own to report.
        leading = report["leading"] = self.lease is not None and self.lease.held
        if self.relay is not None and report["postgres"] == "ok" and leading:
            report["published_position"] = self.relay.published
            report["outbox_lag"] = await self.relay.lag()
        # Each consumer: its position, the dead letters it wrote, and whether it is stalled
        # (not running, or no progress for TALKOOT_STALL_SECONDS while it holds messages).
        consumers = [c.state.report(self.policy.stall_after) for c in self.consumers if leading]
        report["consumers"] = consumers
        report["stalled"] = {c["name"]: c["stalled"] for c in consumers if c["stalled"]}
        return report


def build_app(spec: ServiceSpec, settings: Settings) -> Litestar:
    spec.check_settings(settings)
    runtime = Runtime(spec, settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.runtime = runtime
        try:
            await runtime.start()
            app.state.idempotency = runtime.idempotency
            yield
        finally:
            await runtime.close()

    return create_app(
        spec.title,
        [*spec.route_handlers, AuditController],
        lifespan,
        settings,
        spec.description,
        dependencies={
            "application": Provide(runtime.started_application, sync_to_thread=False),
            "reads": Provide(runtime.reads, sync_to_thread=False),
        },
    )


def serve(spec: ServiceSpec) -> None:
    argparse.ArgumentParser(
        prog=f"python -m services.{spec.name}",
        description=f"{spec.title}: {spec.description} Serves HTTP (OpenAPI at /schema, "
        "health at /health), publishes its events to JetStream and consumes what it needs. "
        "Configured from the environment: TALKOOT_DATABASE_URL and TALKOOT_NATS_URL (required), "
        "TALKOOT_READ_DATABASE_URL (a read replica the queries read the read models from), "
        f"TALKOOT_NAMESPACE, TALKOOT_HOST, TALKOOT_{spec.name.upper()}_PORT, "
        "TALKOOT_READ_WAIT_SECONDS, TALKOOT_OFFER_EXPIRES_AFTER, TALKOOT_AUTO_CONFIRM_AFTER, "
        "TALKOOT_FAIRNESS_WINDOW, TALKOOT_SERIES_HORIZON, TALKOOT_SWEEP_SECONDS, "
        "TALKOOT_OPEN311_API_KEYS, TALKOOT_JURISDICTION, TALKOOT_IDEMPOTENCY_TTL, "
        "TALKOOT_JWT_SECRET or TALKOOT_JWT_KEYS (what callers' tokens are verified with; one "
        "is required), TALKOOT_JWT_ISSUER, TALKOOT_JWT_AUDIENCE, TALKOOT_PSEUDONYM_SECRET, "
        "TALKOOT_PERSONAL_DATA_KEY (the master key of residents' personal data), "
        "TALKOOT_RATE_LIMIT (commands per caller, e.g. 120/minute, or off), "
        "TALKOOT_CATALOGUE, "
        "TALKOOT_DEAD_LETTER_ATTEMPTS (tries before an event is set aside, default 3), "
        "TALKOOT_STALL_SECONDS (no progress for that long makes /health 503, default 30), "
        "TALKOOT_AUDIT_KEY (required: the base64 Ed25519 seed the log's checkpoints are signed "
        "with), TALKOOT_AUDIT_ORIGIN (default talkoot.<jurisdiction>), "
        "TALKOOT_CHECKPOINT_SECONDS (default 300), "
        "TALKOOT_LOG_LEVEL. "
        f"{connection.HELP} `talkoot up` starts all of them, each as its own NATS user.",
    ).parse_args()
    logs.configure()
    settings = Settings.from_env()
    app = build_app(spec, settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port(spec.name),
        log_config=None,  # configured above, with TALKOOT_LOG_LEVEL
        access_log=False,
        timeout_graceful_shutdown=5,
    )
