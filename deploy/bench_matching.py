"""``python -m deploy.bench_matching``: what one matching decision costs, by the history behind it.

For each ``--history N`` it seeds a roster in memory with N requests that were offered,
accepted and done, as ``talkoot bench`` leaves them: none charged, so every one still holds
its estimate of a contract's budget, and all within the fairness window (the worst case for
both). Then it times ``--decisions`` decisions as the service makes one (the roster decides
who is offered the job and records the offer) in CPU time (``time.process_time``), and
measures the roster's snapshot as the service stores it (its bytes; the CPU to write it, and
per event at the pace the service takes them; the CPU to read it back, which is what reloading
the roster costs) and the process's memory. Each history runs in a process of its own, which
imports the matching service's application, so its memory compares with the service's; the
histories take turns, ``--repeat`` times, and the median is shown. Nothing here is a test: it
measures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4, uuid5

import psutil
import psycopg
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from psycopg import sql

from domain.matching.policy import JobToMatch
from domain.matching.roster import Roster
from services.matching.application import MatchingApplication
from services.matching.commands import Answer
from services.platform.identity import Caller, Role
from services.platform.settings import Settings
from services.platform.store import PERSONAL_KEYS, DateAsISO

PROVIDERS = 20
CATEGORIES = ["snow-clearing", "yard-work"]
REGIONS = ["lahti-keskusta", "nastola", "hollola"]
CAPACITY = 1000
UNIT_PRICE_CENTS = 3000
BUDGET_CENTS = 10**11
WINDOW = timedelta(days=30)  # the fairness window's default
SPAN = timedelta(days=25)  # the seeded history: all of it inside the window
START = datetime(2026, 1, 5, 8, tzinfo=UTC)  # the domain's history; the store's ends now
BLOCK = 100  # decisions timed together
NAMESPACE = UUID("6d1f5a5e-4c1b-4a0e-9a35-1b8f0c3d7e21")


def uid(kind: str, n: int) -> str:
    return str(uuid5(NAMESPACE, f"{kind}-{n}"))


def provider(n: int) -> str:
    return uid("provider", n)


def day_of(start: datetime) -> date:
    """The day the new requests are for: a few days after the history."""
    return (start + SPAN + timedelta(days=5)).date()


def set_up(start: datetime = START) -> Roster:
    roster = Roster()
    for n in range(PROVIDERS):
        roster.enrol_provider(provider(n), CATEGORIES, REGIONS, CAPACITY, name=f"Provider {n}")
        roster.add_contract(
            uid("contract", n),
            provider(n),
            CATEGORIES,
            REGIONS,
            BUDGET_CENTS,
            (start.date() - timedelta(days=365)).isoformat(),
            (start.date() + timedelta(days=730)).isoformat(),
            UNIT_PRICE_CENTS,
            "bench-city",
        )
    roster.collect_events()
    return roster


def seed(roster: Roster, history: int, start: datetime = START) -> datetime:
    """``history`` requests offered round the providers, accepted and done, not charged.

    The offers are recorded without dropping old ones (all are inside the window anyway), so
    that seeding costs the same per request before and after any change to the roster."""
    step = SPAN / history
    at = start
    for n in range(history):
        at = start + step * n
        pid = provider(n % PROVIDERS)
        offer_id, request_id = uid("offer", n), uid("request", n)
        roster.take_job(
            pid,
            offer_id,
            request_id,
            offered_at=at,
            expires_at=at + timedelta(hours=24),
            contract_id=uid("contract", n % PROVIDERS),
            estimated_cents=UNIT_PRICE_CENTS,
        )
        roster.settle_offer(offer_id)
        roster.release_job(pid)  # done: the place is free again, the commitment stays
        if n % 1000 == 999:
            roster.collect_events()
    roster.collect_events()
    return at


def decide(roster: Roster, n: int, now: datetime) -> None:
    """One decision as the service makes it: who gets the job, and the offer recorded."""
    job = JobToMatch(
        request_id=uid("new-request", n),
        category=CATEGORIES[n % len(CATEGORIES)],
        region=REGIONS[n % len(REGIONS)],
        on=day_of(START),
    )
    since = now - WINDOW
    decision = roster.decide(job, since)
    assert decision.match is not None, decision.reason
    roster.take_job(
        decision.match.provider_id,
        offer_id=uid("new-offer", n),
        request_id=job.request_id,
        offered_at=now,
        expires_at=now + timedelta(hours=24),
        forget_before=since,
        contract_id=decision.match.contract_id,
        estimated_cents=decision.match.estimated_cents,
    )


def answer(roster: Roster, n: int) -> None:
    """Not timed: the offer accepted, done and charged, so the history stays as seeded."""
    request_id, offer_id = uid("new-request", n), uid("new-offer", n)
    pid = roster.open_offers[offer_id]["provider_id"]
    roster.settle_offer(offer_id)
    roster.release_job(pid)
    roster.release_commitment(request_id)
    roster.collect_events()


def mapper() -> Mapper:
    """Encodes as the matching service's store does (its JSON transcodings, no compression)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def measure(history: int, decisions: int) -> dict:
    started_rss = rss_mb()
    roster = set_up()
    last = seed(roster, history)
    seeded_rss = rss_mb()

    # Timed in blocks, and the median block taken: on a shared machine a burst of other work
    # slows a block down (caches, the core's clock) even in CPU time.
    blocks: list[float] = []
    now = last + timedelta(seconds=1)
    for start in range(0, decisions, BLOCK):
        cpu = 0.0
        for n in range(start, min(start + BLOCK, decisions)):
            began = time.process_time()
            decide(roster, n, now)
            cpu += time.process_time() - began
            answer(roster, n)
            now += SPAN / history
        blocks.append(cpu / (min(start + BLOCK, decisions) - start))

    codec = mapper()
    began = time.process_time()
    stored = codec.to_stored_event(Snapshot.take(roster))
    taken = time.process_time() - began
    began = time.process_time()
    restored = codec.to_domain_event(stored).mutate(None)
    restore = time.process_time() - began
    assert restored.version == roster.version
    # the service takes a roster snapshot this many events apart (see MatchingApplication);
    # a service without that pace took one every 500 events, reading the roster back first
    paced = getattr(MatchingApplication, "roster_snapshot_bytes_per_event", None)
    if paced:
        gap = max(MatchingApplication.roster_snapshot_every, len(stored.state) // paced)
        per_snapshot = taken
    else:
        gap, per_snapshot = 500, taken + restore
    return {
        "history": history,
        "decisions": decisions,
        "cpu_ms_per_decision": 1000 * statistics.median(blocks),
        "cpu_ms_mean": 1000 * statistics.fmean(blocks),
        "snapshot_bytes": len(stored.state),
        "snapshot_take_ms": 1000 * taken,
        "snapshot_restore_ms": 1000 * restore,
        "snapshot_us_per_event": 1000_000 * per_snapshot / gap,
        "rss_start_mb": started_rss,
        "rss_seeded_mb": seeded_rss,
        "rss_end_mb": rss_mb(),
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median_run(runs: list[dict]) -> dict:
    """The run whose CPU per decision is the median of the runs'."""
    ordered = sorted(runs, key=lambda r: r["cpu_ms_per_decision"])
    return ordered[(len(ordered) - 1) // 2]


# --- the service's own path, on PostgreSQL ---------------------------------------------


def store_settings(database_url: str, namespace: str) -> Settings:
    return Settings(
        database_url=database_url,
        nats_url="nats://127.0.0.1:1",  # not used: the bench calls the use cases directly
        namespace=namespace,
        personal_data_key="bench-matching-personal-data-key",
    )


def seed_store(database_url: str, namespace: str, history: int) -> None:
    """A matching store whose roster has ``history`` requests behind it, ending now: stored as
    the snapshot the service would have taken (its events are not needed to read it back)."""
    app = MatchingApplication(store_settings(database_url, namespace))
    try:
        start = datetime.now(UTC) - SPAN - timedelta(minutes=1)
        roster = set_up(start)
        seed(roster, history, start)
        assert app.snapshots is not None
        stored = app.snapshots.mapper.to_stored_event(Snapshot.take(roster))
        app.snapshots.recorder.insert_events([stored])
    finally:
        app.close()


def member(provider_id: str) -> Caller:
    return Caller(f"member-of-{provider_id}", frozenset({Role.PROVIDER}), provider_id=provider_id)


def measure_service(database_url: str, namespace: str, history: int, decisions: int) -> dict:
    """The matching service's use cases on its store: the roster read as after a restart, then
    each request opened and offered (timed: the decision, the offer and the job saved), then
    accepted, done and charged (not timed)."""
    started_rss = rss_mb()
    app = MatchingApplication(store_settings(database_url, namespace))
    try:
        began = time.process_time()
        with app.roster():
            pass
        load = time.process_time() - began
        loaded_rss = rss_mb()
        day = day_of(datetime.now(UTC) - SPAN)
        blocks: list[float] = []
        for start in range(0, decisions, BLOCK):
            cpu = 0.0
            for n in range(start, min(start + BLOCK, decisions)):
                request_id = uid("new-request", n)
                category = CATEGORIES[n % len(CATEGORIES)]
                began = time.process_time()
                with app.changes() as changes:
                    app.open_job(changes, request_id, category, REGIONS[n % len(REGIONS)], day)
                    app.commit(*changes.aggregates.values())
                cpu += time.process_time() - began
                _, (offer,) = app.get_job(request_id)
                app.accept(member(offer.provider_id), str(offer.id), Answer())
                with app.changes() as changes:
                    app.complete_job(changes, request_id, offer.provider_id)
                    app.charge_job(changes, offer.contract_id, request_id, BUDGET_CENTS)
                    app.commit(*changes.aggregates.values())
            blocks.append(cpu / (min(start + BLOCK, decisions) - start))
        return {
            "history": history,
            "cpu_ms_per_decision": 1000 * statistics.median(blocks),
            "load_ms": 1000 * load,
            "rss_start_mb": started_rss,
            "rss_loaded_mb": loaded_rss,
            "rss_end_mb": rss_mb(),
            "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        app.close()


def drop_store(database_url: str, namespace: str) -> None:
    settings = store_settings(database_url, namespace)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name in (MatchingApplication.service, PERSONAL_KEYS):
            schema = settings.schema(name)
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            conn.execute(drop)


def run_one(*args: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "deploy.bench_matching", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.splitlines()[-1]) if run.stdout.strip() else {}


def ratio_line(rows: list[dict]) -> str:
    first, last = rows[0], rows[-1]
    ratio = last["cpu_ms_per_decision"] / first["cpu_ms_per_decision"]
    return (
        f"CPU per decision at {last['history']:,} / at {first['history']:,} requests of"
        f" history: {ratio:.2f} ({(ratio - 1) * 100:+.1f} %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, action="append", help="requests of history")
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="processes per history, run in turn (median kept)"
    )
    parser.add_argument(
        "--store",
        metavar="DATABASE_URL",
        help="also through the service's use cases on this PostgreSQL (a scratch schema)",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed-store", metavar="NAMESPACE", help=argparse.SUPPRESS)
    parser.add_argument("--service", metavar="NAMESPACE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    histories = args.history or [1000, 100_000]
    if args.one:
        print(json.dumps(measure(histories[0], args.decisions)))
        return
    if args.seed_store:
        seed_store(args.store, args.seed_store, histories[0])
        return
    if args.service:
        print(json.dumps(measure_service(args.store, args.service, *histories[:1], args.decisions)))
        return
    runs: dict[int, list[dict]] = {history: [] for history in histories}
    for round_ in range(args.repeat):
        for history in histories:
            one = ["--one", "--history", str(history), "--decisions", str(args.decisions)]
            runs[history].append(run_one(*one))
            cpu = runs[history][-1]["cpu_ms_per_decision"]
            say(f"  round {round_ + 1}, history {history:,}: {cpu:.3f} ms per decision")
    rows = [median_run(runs[history]) for history in histories]
    print("The roster alone (a decision and its offer recorded):")
    print(
        f"{'history':>9} {'CPU/decision':>13} {'snapshot':>11} {'take':>9} {'restore':>9}"
        f" {'per event':>10} {'RSS start':>10} {'seeded':>8} {'end':>8} {'peak':>8}"
    )
    for r in rows:
        print(
            f"{r['history']:>9,} {r['cpu_ms_per_decision']:>10.3f} ms"
            f" {r['snapshot_bytes'] / 1000:>8.1f} kB"
            f" {r['snapshot_take_ms']:>6.1f} ms {r['snapshot_restore_ms']:>6.1f} ms"
            f" {r['snapshot_us_per_event']:>7.1f} µs"
            f" {r['rss_start_mb']:>7.1f} MB {r['rss_seeded_mb']:>5.1f} MB"
            f" {r['rss_end_mb']:>5.1f} MB {r['rss_peak_mb']:>5.1f} MB"
        )
    if len(rows) > 1:
        print(ratio_line(rows))
    if not args.store:
        return
    runs = {history: [] for history in histories}
    for round_ in range(args.repeat):
        for history in histories:
            namespace = f"bench_{uuid4().hex[:8]}"
            size = ["--history", str(history), "--store", args.store]
            try:
                run_one("--seed-store", namespace, *size)
                runs[history].append(
                    run_one("--service", namespace, *size, "--decisions", str(args.decisions))
                )
            finally:
                drop_store(args.store, namespace)
            cpu = runs[history][-1]["cpu_ms_per_decision"]
            say(f"  round {round_ + 1}, history {history:,}, service: {cpu:.3f} ms per decision")
    rows = [median_run(runs[history]) for history in histories]
    print("The service's use case on PostgreSQL (the decision, the offer and the job saved):")
    print(
        f"{'history':>9} {'CPU/decision':>13} {'roster read':>12}"
        f" {'RSS start':>10} {'loaded':>8} {'end':>8} {'peak':>8}"
    )
    for r in rows:
        print(
            f"{r['history']:>9,} {r['cpu_ms_per_decision']:>10.3f} ms {r['load_ms']:>9.1f} ms"
            f" {r['rss_start_mb']:>7.1f} MB {r['rss_loaded_mb']:>5.1f} MB"
            f" {r['rss_end_mb']:>5.1f} MB {r['rss_peak_mb']:>5.1f} MB"
        )
    if len(rows) > 1:
        print(ratio_line(rows))


if __name__ == "__main__":
    main()
