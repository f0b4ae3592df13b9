"""``talkoot bench``: drive requests through submit, offer and accept against a running stack,
and measure the machine's raw PostgreSQL, JetStream and eventsourcing rates beside it.

It calls as real clients do, each with a token of its own signed with the stack's secret: a
resident submits each request, a member of the provider offered it accepts, an officer of the
bench's partner proposes and signs the contracts, an operator (an admin) watches the board.
Each of them sends a few commands at most, so the commands' rate limit per caller does not
slow the bench down.

It prints progress as it goes and the figures at the end. Nothing here is a test: it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import psutil
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ProcessRecorder
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from psycopg import sql

from contracts import database
from contracts.connection import connect
from contracts.events import NoProviderFoundV1, OfferMadeV1, decode
from contracts.jetstream import publisher
from contracts.streams import subject
from deploy.stack import wait_for_quiet
from domain.calendar import local_today
from services.platform.settings import Settings
from services.platform.store import ensure_schema, store_env
from services.platform.tokens import claims

# What the bench asks for: one category in one region, served by a few big providers.
CATEGORY = "snow-clearing"
REGION = "lahti-keskusta"
PROVIDERS = 4
CAPACITY = 1000
UNIT_PRICE_CENTS = 3000
BUDGET_CENTS = 10**11  # charged only on confirmation, which the bench never reaches
PARTNER_ID = "bench-city-environment"

BOARD_POLL_SECONDS = 0.05
OFFERED_PAGE = 1000
OFFER_TIMEOUT_SECONDS = 60.0
ASSIGN_TIMEOUT_SECONDS = 120.0
PROGRESS_SECONDS = 2.0
SAMPLE_SECONDS = 0.1
REFRESH_EVERY = 10  # samples

PG_ROWS = 3000
PG_CONNECTIONS = 8
NATS_MESSAGES = 5000
NATS_BATCH = 500
NATS_PAYLOAD = b"x" * 300  # about the size of an encoded integration event
ES_SAVES = 1000
ES_WARM_UP = 20


def say(message: str) -> None:
    print(f"  {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> str:
    return "  ".join(f"p{q} {percentile(values, q):8.1f}" for q in (50, 95, 99)) + " ms"


def per_second(value: float) -> str:
    return f"{value:9.0f} /s"


# --- sampling the processes: peak RSS and CPU ---------------------------------------------


class CpuSeries:
    """Cumulative CPU seconds sampled over time, and what they say about a stretch of it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.series: list[tuple[float, float]] = []  # (monotonic time, CPU seconds used)

    def cpu_between(self, start: float, end: float) -> float:
        """Mean CPU% between two monotonic times (100% = one core)."""
        inside = [(t, c) for t, c in self.series if start <= t <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return math.nan
        (t0, c0), (t1, c1) = inside[0], inside[-1]
        return 100 * (c1 - c0) / (t1 - t0)

    def peak_cpu(self, start: float, end: float, window: float = 1.0) -> float:
        """The busiest ``window`` seconds between ``start`` and ``end``, in CPU%."""
        inside = [(t, c) for t, c in self.series if start <= t <= end]
        best, j = math.nan, 0
        for i, (t0, c0) in enumerate(inside):
            j = max(j, i)
            while j < len(inside) and inside[j][0] - t0 < window:
                j += 1
            if j == len(inside):
                break
            t1, c1 = inside[j]
            busy = 100 * (c1 - c0) / (t1 - t0)
            best = busy if math.isnan(best) else max(best, busy)
        return best


class Machine(CpuSeries):
    """Every core's busy time: what the stack, the bench and anything else running used."""

    def __init__(self) -> None:
        super().__init__("whole machine")
        # Time the hypervisor gave to other guests: a noisy neighbour slows every figure.
        self.stolen = CpuSeries("stolen by the host")

    def sample(self, now: float) -> None:
        times = psutil.cpu_times()
        # Not the sum of all fields: guest time is counted in user already, and idle,
        # iowait and steal are time nothing here ran.
        busy = sum(getattr(times, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))
        self.series.append((now, busy))
        self.stolen.series.append((now, getattr(times, "steal", 0.0)))


class ProcessGroup(CpuSeries):
    """One process and its descendants, sampled as a whole (PostgreSQL's backends, say).
    CPU seconds are counted per pid, so a child that exits keeps what it used."""

    def __init__(self, name: str, pid: int) -> None:
        super().__init__(name)
        self.pid = pid
        self.peak_rss = 0
        self.peak_private = 0  # RSS less the shared pages each process also counts
        self._family: dict[int, psutil.Process] = {}
        self._base: dict[int, float] = {}
        self._last: dict[int, float] = {}

    def refresh(self, children_of: dict[int, list[int]]) -> None:
        """Find the group's processes again: children come and go."""
        family: dict[int, psutil.Process] = {}
        todo = [self.pid]
        while todo:
            pid = todo.pop()
            todo.extend(children_of.get(pid, []))
            try:
                family[pid] = self._family.get(pid) or psutil.Process(pid)
            except psutil.NoSuchProcess:
                continue
        self._family = family

    def sample(self, now: float, first: bool) -> None:
        rss = private = 0
        for pid, process in self._family.items():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    memory = process.memory_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += memory.rss
            private += memory.rss - getattr(memory, "shared", 0)
            cpu = times.user + times.system
            # A process seen at the first sample counts from there; one born later, from zero.
            self._base.setdefault(pid, cpu if first else 0.0)
            self._last[pid] = cpu
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_private = max(self.peak_private, private)
        used = sum(self._last[pid] - self._base[pid] for pid in self._last)
        self.series.append((now, used))


class Sampler(threading.Thread):
    """Samples every group every ``SAMPLE_SECONDS`` in the background, over the whole bench."""

    def __init__(self, groups: list[ProcessGroup]) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.groups = groups
        self.machine = Machine()
        self._done = threading.Event()

    def run(self) -> None:
        for n in itertools.count():
            if self._done.is_set():
                return
            # Walking /proc for children costs more than sampling: do it once a second.
            if n % REFRESH_EVERY == 0:
                children_of = _children_map()
                for group in self.groups:
                    group.refresh(children_of)
            now = time.monotonic()
            self.machine.sample(now)
            for group in self.groups:
                group.sample(now, first=n == 0)
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for process in psutil.process_iter(["ppid"]):
        ppid = process.info["ppid"]
        if ppid:
            children.setdefault(ppid, []).append(process.pid)
    return children


def process_groups(state: dict) -> list[ProcessGroup]:
    """The services and the projector, plus nats-server, PostgreSQL and this client when
    they can be found: they share the same cores, so they are part of where the time goes."""
    # `talkoot up` keeps stack.json true when it restarts a process.
    groups = [ProcessGroup(name, pid) for name, pid in state["processes"].items()]
    # The local stack names its embedded PostgreSQL; otherwise find the server's postmaster.
    if (
        "postgres" not in state["processes"]
        and (postmaster := _postmaster_pid(state["database_url"])) is not None
    ):
        groups.append(ProcessGroup("postgres", postmaster))
    groups.append(ProcessGroup("bench client", os.getpid()))
    return groups


def _postmaster_pid(database_url: str) -> int | None:
    """PostgreSQL on a Unix socket writes its pid in the socket's lock file; found that way,
    its backends are its children. A server reached over TCP may be elsewhere: not sampled."""
    parts = database.parts(database_url)
    host, port = parts["host"], parts.get("port", "5432")
    if not host.startswith("/") or "," in host:
        return None
    try:
        return int((Path(host) / f".s.PGSQL.{port}.lock").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- HTTP --------------------------------------------------------------------------------

# One aiohttp session per service: an async client light enough (a tenth of httpx's CPU per
# call) that the bench takes little of the cores it shares with the stack.
Clients = dict[str, aiohttp.ClientSession]

# Signs claims (``services.platform.tokens.claims``) with the stack's secret.
Signer = Callable[[dict], str]


class Refused(Exception):
    """A service answered a call with an error status."""


HTTP_ERRORS = (aiohttp.ClientError, Refused, TimeoutError)


@dataclass(frozen=True)
class People:
    """Who the bench calls as. Every resident and every member who accepts sends one
    command a run, the founders and the officer a few: far below any per-caller limit."""

    sign: Signer

    def resident(self, n: int) -> dict[str, str]:
        return self.bearer(claims(f"bench-resident-{n:05d}", ["resident"]))

    def member(self, n: int, provider_id: str) -> dict[str, str]:
        """The member of ``provider_id`` who takes request ``n``."""
        return self.bearer(claims(f"bench-member-{n:05d}", ["provider"], provider=provider_id))

    def founder(self, n: int, provider_id: str | None = None) -> dict[str, str]:
        """Who registers provider ``n`` (before it has an id), then signs for it."""
        return self.bearer(claims(f"bench-founder-{n}", ["provider"], provider=provider_id))

    def officer(self, who: str = "bench-officer") -> dict[str, str]:
        return self.bearer(claims(who, ["officer"], partner=PARTNER_ID, may_sign=True))

    def operator(self) -> dict[str, str]:
        """Reads the whole board: every request, whoever made it."""
        return self.bearer(claims("bench-operator", ["admin"]))

    def bearer(self, body: dict) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.sign(body)}"}


@contextlib.asynccontextmanager
async def clients(
    urls: dict[str, str], connections: int, operator: dict[str, str]
) -> AsyncIterator[Clients]:
    """A session per service, and one for reading the board as ``operator``."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with contextlib.AsyncExitStack() as stack:
        made = {
            name: await stack.enter_async_context(
                aiohttp.ClientSession(
                    base_url=url,
                    timeout=timeout,
                    connector=aiohttp.TCPConnector(limit=connections),
                )
            )
            for name, url in urls.items()
        }
        made["board"] = await stack.enter_async_context(
            aiohttp.ClientSession(base_url=urls["requests"], timeout=timeout, headers=operator)
        )
        yield made


# Like a real client, one Idempotency-Key per command (kept for its retries); `--without-keys`
# measures what the keys cost.
IDEMPOTENCY_KEYS = True


async def post(http: aiohttp.ClientSession, path: str, body: dict, who: dict[str, str]) -> dict:
    """A command sent by ``who`` (their Authorization header). A connection the server closed
    as the command went out is tried once more, under the same key, as a careful client does
    (a keep-alive connection closed by the server at that moment is the usual cause)."""
    headers = {**who, **({"Idempotency-Key": uuid.uuid4().hex} if IDEMPOTENCY_KEYS else {})}
    try:
        return await _send(http, path, body, headers)
    except aiohttp.ServerDisconnectedError:
        if "Idempotency-Key" not in headers:
            raise
        return await _send(http, path, body, headers)


async def _send(http: aiohttp.ClientSession, path: str, body: dict, headers: dict) -> dict:
    async with http.post(path, json=body, headers=headers) as response:
        if response.status >= 400:
            raise Refused(f"{response.status} on {path}: {(await response.text())[:200]}")
        return await response.json()


async def get(http: aiohttp.ClientSession, path: str, params: dict) -> list | dict:
    async with http.get(path, params=params) as response:
        if response.status >= 400:
            raise Refused(f"{response.status} on {path}: {(await response.text())[:200]}")
        return await response.json()


# --- set-up: providers and signed contracts -----------------------------------------------


def provider_body(n: int) -> dict:
    return {
        "name": f"Bench provider {n}",
        "kind": "cooperative",
        "business_id": "1572860-0",
        "categories": [CATEGORY],
        "regions": [REGION],
        "capacity": CAPACITY,
    }


def contract_body(provider_id: str, today: date) -> dict:
    """A contract the officer proposes for PARTNER_ID, the partner they work for."""
    return {
        "provider_id": provider_id,
        "categories": [CATEGORY],
        "regions": [REGION],
        "unit_price_cents": UNIT_PRICE_CENTS,
        "budget_cents": BUDGET_CENTS,
        "valid_from": date(today.year, 1, 1).isoformat(),
        "valid_until": date(today.year + 1, 12, 31).isoformat(),
    }


async def set_up(http: Clients, state: dict, people: People) -> None:
    """Register providers, each with a contract both parties have signed, and wait until
    matching has taken them in: a request that came first would find nobody."""
    today = local_today()
    partnerships = http["partnerships"]
    officer = people.officer()
    for n in range(1, PROVIDERS + 1):
        founded = await post(http["providers"], "/providers", provider_body(n), people.founder(n))
        provider_id = founded["id"]
        contract = await post(
            partnerships, "/contracts", contract_body(provider_id, today), officer
        )
        signatures = f"/contracts/{contract['id']}/signatures"
        # another officer signs for the partner: the proposer never does so alone
        await post(partnerships, signatures, {"party": "partner"}, people.officer("bench-head"))
        await post(partnerships, signatures, {"party": "provider"}, people.founder(n, provider_id))
        say(f"provider {n} registered (capacity {CAPACITY}), contract signed by both parties")
    options = state.get("nats_options") or {}
    if not await wait_for_quiet(state["nats_url"], state["namespace"], state["urls"], **options):
        say("warning: consumers were still busy after 30 s; going on anyway")
    say("matching has consumed the providers and contracts")


# --- the drive: submit, see the offer, accept, see it assigned -----------------------------


@dataclass(frozen=True)
class Sighting:
    """A request's offer, or its being unmatched, as matching published it."""

    at: float  # monotonic time the event reached the bench
    status: str  # "offered" or "unmatched"
    offer_id: str | None
    provider_id: str | None
    reason: str | None


class Sightings:
    """The offers, refusals and assignments of the run as they happen: the bench listens to
    the events matching and the requests service publish (a plain NATS subscription, as the
    operator), so that it need not poll the board while it drives."""

    def __init__(self) -> None:
        self.first_seen: dict[str, Sighting] = {}
        self.assigned: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[Sighting]] = {}

    async def listen(self, nc, namespace: str) -> None:
        for service, kind, callback in (
            ("matching", "OfferMadeV1", self._offered),
            ("matching", "NoProviderFoundV1", self._unmatched),
            ("requests", "RequestAssignedV1", self._assigned),
        ):
            await nc.subscribe(subject(service, kind, namespace), cb=callback)

    def sighting(self, request_id: str) -> asyncio.Future[Sighting]:
        """Resolves when ``request_id`` is first offered or found unmatched."""
        future = asyncio.get_running_loop().create_future()
        if request_id in self.first_seen:
            future.set_result(self.first_seen[request_id])
        else:
            self._waiting[request_id] = future
        return future

    async def _offered(self, msg) -> None:
        event = decode("matching", msg.data)
        if isinstance(event, OfferMadeV1):
            self._saw(event.request_id, "offered", event.offer_id, event.provider_id, None)

    async def _unmatched(self, msg) -> None:
        event = decode("matching", msg.data)
        if isinstance(event, NoProviderFoundV1):
            self._saw(event.request_id, "unmatched", None, None, event.reason)

    async def _assigned(self, msg) -> None:
        self.assigned.setdefault(decode("requests", msg.data).request_id, time.monotonic())

    def _saw(self, request_id: str, status: str, offer, provider, reason) -> None:
        if request_id in self.first_seen:
            return
        seen = Sighting(time.monotonic(), status, offer, provider, reason)
        self.first_seen[request_id] = seen
        if (future := self._waiting.pop(request_id, None)) and not future.done():
            future.set_result(seen)


class Board:
    """The request board as residents and officers read it, checked once the drive is done:
    every accepted request must show there as assigned."""

    def __init__(self, http: aiohttp.ClientSession, since: datetime) -> None:
        self.http = http
        self.since = since
        self.polls = 0
        self.errors: list[str] = []

    async def listing(self, status: str, page: int) -> list[dict]:
        rows: list[dict] = []
        offset = 0
        while True:
            batch = await get(
                self.http,
                "/requests/",
                {
                    "status": status,
                    "category": CATEGORY,
                    "region": REGION,
                    "limit": page,
                    "offset": offset,
                },
            )
            self.polls += 1
            rows.extend(batch)
            # The board lists newest first: a page that reaches back before this run is the
            # last one worth reading.
            if len(batch) < page or _parse_time(batch[-1]["submitted_at"]) < self.since:
                return rows
            offset += page

    async def until_assigned(self, request_ids: set[str], timeout: float) -> float | None:
        """When every one of ``request_ids`` (all accepted) shows as assigned; None on timeout.

        Polls the short ``offered`` listing until none of them is left in it, then checks the
        ``assigned`` listing once: an accepted request leaves ``offered`` only to be assigned.
        """
        deadline = time.monotonic() + timeout
        pending = set(request_ids)
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                offered = await self.listing("offered", OFFERED_PAGE)
                at = time.monotonic()
                if not pending & {row["request_id"] for row in offered}:
                    assigned = await self.listing("assigned", OFFERED_PAGE)
                    pending -= {row["request_id"] for row in assigned}
                    if not pending:
                        return at
            except HTTP_ERRORS as error:
                self.errors.append(f"board: {error!r}")
            await asyncio.sleep(max(0.0, began + BOARD_POLL_SECONDS - time.monotonic()))
        return None


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _sleep_until(stop: asyncio.Event, when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


@dataclass
class Drive:
    """What happened to the N requests, and how long each step took."""

    rate: float | None = None  # requests started per second (open loop), or None
    submit_ms: list[float] = field(default_factory=list)
    offer_ms: list[float] = field(default_factory=list)
    accept_ms: list[float] = field(default_factory=list)
    assigned_ms: list[float] = field(default_factory=list)  # accept answered to assigned
    late_ms: list[float] = field(default_factory=list)  # open loop: sent after its time
    accepted: set[str] = field(default_factory=set)
    unmatched: dict[str, str] = field(default_factory=dict)
    no_offer: int = 0
    errors: list[str] = field(default_factory=list)
    submitted: int = 0
    board_polls: int = 0
    started: float = 0.0
    submitted_by: float = 0.0  # when the last submit was answered
    finished: float | None = None
    commits: int = 0  # PostgreSQL transactions committed during the drive
    rows_written: int = 0


def request_body(window_start: datetime) -> dict:
    """What each resident asks for (the resident is who sends it)."""
    return {
        "category": CATEGORY,
        "region": REGION,
        "description": "Bench: driveway and front steps, about 20 m.",
        "window_start": window_start.isoformat(),
        "window_end": (window_start + timedelta(hours=4)).isoformat(),
    }


async def carry_one(
    http: Clients,
    sightings: Sightings,
    drive: Drive,
    body: dict,
    n: int,
    people: People,
    due: float | None = None,
) -> None:
    """Request ``n`` through submit by its resident, offer and accept by a member of the
    provider offered it. Tokens are signed before the clock starts; an open-loop request's
    clock starts at the moment it was ``due``, so that a client falling behind shows."""
    resident = people.resident(n)
    sent = time.monotonic()
    if due is not None:
        drive.late_ms.append(1000 * max(0.0, sent - due))
        sent = due
    try:
        request_id = (await post(http["requests"], "/requests", body, resident))["id"]
    except HTTP_ERRORS as error:
        drive.errors.append(f"submit: {error!r}")
        return
    drive.submit_ms.append(1000 * (time.monotonic() - sent))
    drive.submitted += 1
    drive.submitted_by = time.monotonic()
    try:
        seen = await asyncio.wait_for(sightings.sighting(request_id), OFFER_TIMEOUT_SECONDS)
    except TimeoutError:
        drive.no_offer += 1
        return
    if seen.status == "unmatched":
        drive.unmatched[request_id] = seen.reason or ""
        return
    drive.offer_ms.append(1000 * (seen.at - sent))
    member = people.member(n, seen.provider_id or "")
    accepting = time.monotonic()
    try:
        await post(http["matching"], f"/offers/{seen.offer_id}/acceptance", {}, member)
    except HTTP_ERRORS as error:
        drive.errors.append(f"accept: {error!r}")
        return
    answered = time.monotonic()
    drive.accept_ms.append(1000 * (answered - accepting))
    drive.accepted.add(request_id)
    # The assignment may have been published before the acceptance's answer came back.
    while request_id not in sightings.assigned and time.monotonic() < answered + 30:
        await asyncio.sleep(0.01)
    if request_id in sightings.assigned:
        drive.assigned_ms.append(1000 * max(0.0, sightings.assigned[request_id] - answered))


async def drive_requests(
    http: Clients,
    sightings: Sightings,
    requests: int,
    concurrency: int,
    people: People,
    rate: float | None = None,
) -> Drive:
    """Closed loop: ``concurrency`` workers, each carrying one request at a time. Open loop
    (``rate``): a request started every 1/rate seconds whatever the others are doing."""
    drive = Drive(rate=rate)
    # A second's slack: the board's submitted_at comes from the service's clock, not ours.
    board = Board(http["board"], since=datetime.now(UTC) - timedelta(seconds=1))
    window_start = (datetime.now(UTC) + timedelta(days=1)).replace(
        minute=0, second=0, microsecond=0
    )
    body = request_body(window_start)
    stop = asyncio.Event()
    drive.started = time.monotonic()
    progress = asyncio.create_task(_report_progress(drive, stop))
    if rate is None:
        numbers = iter(range(1, requests + 1))

        async def worker() -> None:
            for n in numbers:  # one shared iterator: each request is taken by one worker
                await carry_one(http, sightings, drive, body, n, people)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    else:
        carried = []
        for n in range(1, requests + 1):
            due = drive.started + (n - 1) / rate
            await _sleep_until(stop, due)
            carried.append(
                asyncio.create_task(carry_one(http, sightings, drive, body, n, people, due))
            )
        await asyncio.gather(*carried)
    stop.set()
    say(
        f"all submitted and answered after {time.monotonic() - drive.started:.1f} s; "
        f"waiting for {len(drive.accepted)} to show as assigned on the board"
    )
    await progress
    assigned_at = (
        await board.until_assigned(drive.accepted, ASSIGN_TIMEOUT_SECONDS)
        if drive.accepted
        else drive.started
    )
    if assigned_at is not None:
        unmatched_at = [sightings.first_seen[r].at for r in drive.unmatched]
        drive.finished = max([assigned_at, *unmatched_at])
        elapsed = assigned_at - drive.started
        say(f"all {len(drive.accepted)} assigned on the board after {elapsed:.1f} s")
    drive.errors.extend(board.errors)
    drive.board_polls = board.polls
    return drive


async def _report_progress(drive: Drive, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await _sleep_until(stop, time.monotonic() + PROGRESS_SECONDS)
        say(
            f"{time.monotonic() - drive.started:6.1f} s  submitted {drive.submitted:>6}  "
            f"offered {len(drive.offer_ms):>6}  accepted {len(drive.accepted):>6}  "
            f"unmatched {len(drive.unmatched):>4}  errors {len(drive.errors):>3}"
        )


async def database_activity(database_url: str) -> tuple[int, int]:
    """Transactions committed and rows written in the stack's database so far."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted AS written "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        return row["xact_commit"], row["written"]
    finally:
        await conn.close()


# --- raw ceilings: PostgreSQL, JetStream, eventsourcing ------------------------------------


async def postgres_ceiling(database_url: str) -> dict:
    """Single-row INSERTs, each its own autocommit transaction: what one commit costs here."""
    schema = f"bench_scratch_{os.getpid()}"
    table = f"{schema}.rows"
    conn = await asyncpg.connect(database.asyncpg_dsn(database_url))
    try:
        settings = {
            name: await conn.fetchval(f"SHOW {name}") for name in ("fsync", "synchronous_commit")
        }
        say("PostgreSQL: " + ", ".join(f"{name} {value}" for name, value in settings.items()))
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text)")
        insert = f"INSERT INTO {table} (payload) VALUES ($1)"

        started = time.perf_counter()
        for n in range(PG_ROWS):
            await conn.execute(insert, f"row {n}")
        sequential = time.perf_counter() - started
        say(f"PostgreSQL: {PG_ROWS} sequential inserts on one connection in {sequential:.2f} s")

        pool = await asyncpg.create_pool(
            database.asyncpg_dsn(database_url), min_size=PG_CONNECTIONS, max_size=PG_CONNECTIONS
        )
        try:
            per_connection = PG_ROWS // PG_CONNECTIONS

            async def insert_many() -> None:
                async with pool.acquire() as c:
                    for n in range(per_connection):
                        await c.execute(insert, f"row {n}")

            started = time.perf_counter()
            await asyncio.gather(*(insert_many() for _ in range(PG_CONNECTIONS)))
            concurrent = time.perf_counter() - started
        finally:
            await pool.close()
        say(
            f"PostgreSQL: {per_connection * PG_CONNECTIONS} inserts on {PG_CONNECTIONS} "
            f"connections in {concurrent:.2f} s"
        )
        return {
            "sequential": PG_ROWS / sequential,
            "concurrent": per_connection * PG_CONNECTIONS / concurrent,
            **settings,
        }
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def jetstream_ceiling(nats_url: str, **options) -> dict[str, float]:
    """Publishes to a scratch file-backed stream with ``Nats-Msg-Id``, as the relay sends."""
    tag = f"bench_scratch_{os.getpid()}"
    # Under `_scratch.`: the one place besides the API the operator may publish to.
    stream, subject = tag.upper(), f"_scratch.{tag}.events"
    nc = await connect(
        nats_url, "talkoot-bench", connect_timeout=2, max_reconnect_attempts=1, **options
    )
    try:
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name=stream, subjects=[subject], storage=StorageType.FILE, duplicate_window=60
            )
        )
        try:
            return await _publish_both_ways(js, subject)
        finally:
            await js.delete_stream(stream)
    finally:
        await nc.close()


async def _publish_both_ways(js: JetStreamContext, subject: str) -> dict[str, float]:
    ids = itertools.count()

    def headers() -> dict[str, str]:
        return {"Nats-Msg-Id": f"bench:{next(ids)}"}

    started = time.perf_counter()
    for _ in range(NATS_MESSAGES):
        await js.publish(subject, NATS_PAYLOAD, headers=headers())
    sequential = time.perf_counter() - started
    say(f"JetStream: {NATS_MESSAGES} publishes, each ack awaited, in {sequential:.2f} s")

    started = time.perf_counter()
    pipelined = publisher(js)  # many acknowledgements awaited at once (the relay awaits each)
    for _ in range(0, NATS_MESSAGES, NATS_BATCH):
        acks = [
            await pipelined.publish(subject, NATS_PAYLOAD, headers()) for _ in range(NATS_BATCH)
        ]
        await asyncio.gather(*acks)
    batched = time.perf_counter() - started
    say(f"JetStream: {NATS_MESSAGES} publishes in batches of {NATS_BATCH} in {batched:.2f} s")
    return {"sequential": NATS_MESSAGES / sequential, "batched": NATS_MESSAGES / batched}


class ScratchApplication(Application):
    """Stores on a process recorder, as the services' Applications do."""

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()


def eventsourcing_ceiling(database_url: str, nats_url: str) -> dict[str, float]:
    """Sequential ``app.save(Aggregate())`` with and without the recorder's DB functions."""
    return {
        label: _time_saves(database_url, nats_url, enable)
        for label, enable in (("without DB functions", ""), ("with DB functions", "y"))
    }


def _time_saves(database_url: str, nats_url: str, enable_db_functions: str) -> float:
    settings = Settings(database_url=database_url, nats_url=nats_url)
    schema = f"bench_es_{os.getpid()}"
    ensure_schema(settings, schema)
    env = {
        **store_env(settings, "bench"),
        "POSTGRES_SCHEMA": schema,
        # "" reads as unset, and also hides a POSTGRES_ENABLE_DB_FUNCTIONS in our own
        # environment, which Application would otherwise pick up.
        "POSTGRES_ENABLE_DB_FUNCTIONS": enable_db_functions,
    }
    try:
        app = ScratchApplication(env=env)
        try:
            for _ in range(ES_WARM_UP):  # opens the pool's connections, prepares statements
                app.save(Aggregate())
            started = time.perf_counter()
            for _ in range(ES_SAVES):
                app.save(Aggregate())
            elapsed = time.perf_counter() - started
        finally:
            app.close()
    finally:
        _drop_schema(database_url, schema)
    label = "with" if enable_db_functions else "without"
    say(f"eventsourcing: {ES_SAVES} saves {label} DB functions in {elapsed:.2f} s")
    return ES_SAVES / elapsed


def _drop_schema(database_url: str, schema: str) -> None:
    with psycopg.connect(database.conninfo(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# --- the whole bench ---------------------------------------------------------------------


@dataclass
class Figures:
    drive: Drive
    postgres: dict
    jetstream: dict[str, float]
    eventsourcing: dict[str, float] = field(default_factory=dict)
    # `talkoot rebuild board` and `talkoot audit verify` on the stack: (events, seconds)
    operations: dict[str, tuple[int, float]] = field(default_factory=dict)


def operations(data_dir: Path) -> dict[str, tuple[int, float]]:
    """How fast the operators' commands go through the stack's history: ``talkoot rebuild
    board`` (every request's events replayed into the board while the projector runs) and
    ``talkoot audit verify`` (every service's log), run as a user runs them."""
    import io
    import re
    from contextlib import redirect_stdout

    from services import cli

    found = {}
    for label, argv in (
        ("rebuild board", ["rebuild", "board"]),
        ("audit verify", ["audit", "verify"]),
    ):
        out = io.StringIO()
        started = time.perf_counter()
        with redirect_stdout(out):
            code = cli.main(["--data-dir", str(data_dir), *argv])
        seconds = time.perf_counter() - started
        text = out.getvalue()
        if code != 0:
            say(f"{label}: exited {code}; {text.strip()[-300:]}")
            continue
        if label == "rebuild board":
            events = int(re.search(r"([\d ]+) events read", text)[1].replace(" ", ""))
        else:  # one line per service: "requests OK 10 491 events; ..."
            events = sum(
                int(n.replace(" ", "")) for n in re.findall(r"OK\s+([\d ]+) events;", text)
            )
        say(f"{label}: {events} events in {seconds:.2f} s")
        found[label] = (events, seconds)
    return found


async def measure(
    state: dict, requests: int, concurrency: int, people: People, rate: float | None
) -> Figures:
    options = state.get("nats_options") or {}
    # Open loop, the requests in flight are as many as the rate and the latency make them.
    connections = concurrency if rate is None else max(concurrency, 256)
    nc = await connect(state["nats_url"], "talkoot-bench", **options)
    try:
        sightings = Sightings()
        await sightings.listen(nc, state["namespace"])
        async with clients(state["urls"], connections, people.operator()) as http:
            print("\nSet-up (not timed)", flush=True)
            await set_up(http, state, people)
            how = f"{concurrency} in flight" if rate is None else f"{rate:g} started per second"
            print(
                f"\nDriving {requests} requests through submit, offer and accept, {how}",
                flush=True,
            )
            commits, written = await database_activity(state["database_url"])
            drive = await drive_requests(http, sightings, requests, concurrency, people, rate)
            after = await database_activity(state["database_url"])
            drive.commits, drive.rows_written = after[0] - commits, after[1] - written
    finally:
        await nc.close()
    print("\nRaw ceilings of this machine", flush=True)
    postgres = await postgres_ceiling(state["database_url"])
    jetstream = await jetstream_ceiling(state["nats_url"], **options)
    return Figures(drive, postgres, jetstream)


def run(
    state: dict,
    *,
    requests: int,
    concurrency: int,
    sign: Signer,
    keys: bool = True,
    rate: float | None = None,
    data_dir: Path | None = None,
) -> int:
    """Run the bench against the stack ``state`` describes, calling with tokens ``sign``
    makes; 0 if every request got through."""
    global IDEMPOTENCY_KEYS
    IDEMPOTENCY_KEYS = keys
    if requests < 1 or concurrency < 1:
        print("--requests and --concurrency must be at least 1")
        return 2
    if rate is not None and not 0 < rate <= 10_000:
        print("--rate must be more than 0 and at most 10000 requests per second")
        return 2
    print(
        f"Talkoot bench against {state['urls']['requests']} and the rest "
        f"(namespace {state['namespace']}, {os.cpu_count()} CPUs)",
        flush=True,
    )
    sampler = Sampler(process_groups(state))
    sampler.start()
    try:
        figures = asyncio.run(measure(state, requests, concurrency, People(sign), rate))
        figures.eventsourcing = eventsourcing_ceiling(state["database_url"], state["nats_url"])
        if data_dir is not None:
            print(
                "\nRebuilding a read model and verifying the logs, as an operator does", flush=True
            )
            figures.operations = operations(data_dir)
    finally:
        sampler.stop()
    report(figures, sampler, requests)
    drive = figures.drive
    ok = drive.finished is not None and not drive.errors and not drive.no_offer
    return 0 if ok else 1


def report(figures: Figures, sampler: Sampler, requests: int) -> None:
    print("\nFigures", flush=True)
    report_drive(figures.drive, requests)
    end = figures.drive.finished or time.monotonic()
    report_processes(sampler, figures.drive.started, end, requests)
    report_ceilings(figures)
    if figures.operations:
        print("\n  operations on the stack's history")
        for label, (events, seconds) in figures.operations.items():
            rate = per_second(events / seconds)
            print(f"  talkoot {label:<14} {rate} events  ({events} in {seconds:.2f} s)")


def end_to_end(drive: Drive, requests: int) -> float:
    """Requests per second, first submit to last assigned on the board; NaN if not all were."""
    wall = (drive.finished or 0.0) - drive.started
    return requests / wall if drive.finished is not None and wall > 0 else math.nan


def report_drive(drive: Drive, requests: int) -> None:
    rate = end_to_end(drive, requests)
    if drive.finished is None:
        print(f"  end to end       not all assigned within {ASSIGN_TIMEOUT_SECONDS:g} s")
    elif not math.isnan(rate):
        wall = drive.finished - drive.started
        print(
            f"  end to end       {rate:9.1f} requests/s  "
            f"({requests} in {wall:.2f} s, first submit to last assigned on the board)"
        )
    if drive.rate is not None:
        offered = requests / max(1e-9, drive.submitted_by - drive.started)
        print(
            f"  open loop        {drive.rate:g} requests/s offered, submits answered at "
            f"{offered:.1f}/s; sent late {spread(drive.late_ms)}"
        )
    print(
        f"  outcome          {len(drive.accepted)} accepted and assigned, "
        f"{len(drive.unmatched)} unmatched, {drive.no_offer} without an offer in "
        f"{OFFER_TIMEOUT_SECONDS:g} s, {len(drive.errors)} errors"
    )
    for reason in sorted(set(drive.unmatched.values())):
        print(f"                   unmatched because: {reason}")
    for error in drive.errors[:5]:
        print(f"                   error: {error}")
    print(f"  submit           {spread(drive.submit_ms)}")
    print(f"  submit to offer  {spread(drive.offer_ms)}   (the offer as matching published it)")
    print(f"  accept           {spread(drive.accept_ms)}")
    print(f"  accept answered to assigned  {spread(drive.assigned_ms)}")
    if drive.commits:
        print(
            f"  PostgreSQL       {drive.commits / requests:.1f} transactions (reads too) and "
            f"{drive.rows_written / requests:.1f} rows written per request "
            f"(pg_stat_database, the whole database)"
        )


def report_processes(sampler: Sampler, start: float, end: float, requests: int) -> None:
    """Peak memory over the whole bench; CPU over the drive, busiest first."""
    cores = os.cpu_count() or 1
    print(
        "\n  process          peak RSS MB  (unshared)   CPU % over the drive  "
        "CPU ms per request  busiest second"
    )
    groups = sorted(sampler.groups, key=lambda g: -_nan0(g.cpu_between(start, end)))

    def per_request(percent: float) -> float:
        return percent / 100 * (end - start) * 1000 / requests

    for group in groups:
        cpu = group.cpu_between(start, end)
        print(
            f"  {group.name:<15} {group.peak_rss / 2**20:12.0f}  {group.peak_private / 2**20:10.0f}"
            f"   {cpu:20.0f}  {per_request(cpu):18.1f}  {group.peak_cpu(start, end):14.0f}"
        )
    total = sum(_nan0(g.cpu_between(start, end)) for g in groups)
    machine = sampler.machine.cpu_between(start, end)
    stolen = sampler.machine.stolen.cpu_between(start, end)
    for label, value in (
        ("all of them", total),
        ("whole machine", machine),
        ("anything else", machine - total),
        ("stolen by host", stolen),
    ):
        print(f"  {label:<15} {'':12}  {'':10}   {value:20.0f}  {per_request(value):18.1f}")
    print(
        f"  (100% CPU = one core, of {cores} here; postgres is the postmaster with all "
        "its\n  backends, whose RSS counts the shared buffers once per backend, hence the "
        "unshared column)"
    )


def report_ceilings(figures: Figures) -> None:
    pg, js, es = figures.postgres, figures.jetstream, figures.eventsourcing
    rate = end_to_end(figures.drive, len(figures.drive.submit_ms) or 1)

    def share(ceiling: float) -> str:
        return f"   end to end is {100 * rate / ceiling:5.2f} % of it" if rate == rate else ""

    print("\n  raw ceilings")
    print(
        f"  PostgreSQL INSERT, autocommit, 1 connection   {per_second(pg['sequential'])}"
        f"{share(pg['sequential'])}"
        f"\n      (fsync {pg['fsync']}, synchronous_commit {pg['synchronous_commit']})"
    )
    many = f"{PG_CONNECTIONS} connections"
    print(
        f"  PostgreSQL INSERT, autocommit, {many:<14}  {per_second(pg['concurrent'])}"
        f"{share(pg['concurrent'])}"
    )
    print(
        f"  JetStream publish, each ack awaited           {per_second(js['sequential'])}"
        f"{share(js['sequential'])}"
    )
    print(
        f"  JetStream pipelined, batches of {NATS_BATCH}           {per_second(js['batched'])}"
        f"{share(js['batched'])}"
    )
    for label, saves_per_second in es.items():
        print(
            f"  eventsourcing save, {label:<25} {per_second(saves_per_second)}"
            f"{share(saves_per_second)}"
        )
    print(
        "  note: the services cannot use POSTGRES_ENABLE_DB_FUNCTIONS: that insert path ignores "
        "the\n  tracking record a consumer commits with its effects (exactly-once handling), and "
        "it takes\n  no table lock, so notification ids may commit out of order and the outbox "
        "relay could skip events."
    )


def _nan0(value: float) -> float:
    return 0.0 if math.isnan(value) else value
