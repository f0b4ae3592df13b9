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
from uuid import UUID, uuid5

import psutil
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

from domain.matching.policy import JobToMatch
from domain.matching.roster import Roster
from services.matching.application import MatchingApplication
from services.platform.store import DateAsISO

PROVIDERS = 20
CATEGORIES = ["snow-clearing", "yard-work"]
REGIONS = ["lahti-keskusta", "nastola", "hollola"]
CAPACITY = 1000
UNIT_PRICE_CENTS = 3000
BUDGET_CENTS = 10**11
WINDOW = timedelta(days=30)  # the fairness window's default
SPAN = timedelta(days=25)  # the seeded history: all of it inside the window
START = datetime(2026, 1, 5, 8, tzinfo=UTC)
DAY = date(2026, 2, 10)
BLOCK = 100  # decisions timed together
NAMESPACE = UUID("6d1f5a5e-4c1b-4a0e-9a35-1b8f0c3d7e21")


def uid(kind: str, n: int) -> str:
    return str(uuid5(NAMESPACE, f"{kind}-{n}"))


def provider(n: int) -> str:
    return uid("provider", n)


def set_up() -> Roster:
    roster = Roster()
    for n in range(PROVIDERS):
        roster.enrol_provider(provider(n), CATEGORIES, REGIONS, CAPACITY, name=f"Provider {n}")
        roster.add_contract(
            uid("contract", n),
            provider(n),
            CATEGORIES,
            REGIONS,
            BUDGET_CENTS,
            "2026-01-01",
            "2026-12-31",
            UNIT_PRICE_CENTS,
            "bench-city",
        )
    roster.collect_events()
    return roster


def seed(roster: Roster, history: int) -> datetime:
    """``history`` requests offered round the providers, accepted and done, not charged.

    The offers are recorded without dropping old ones (all are inside the window anyway), so
    that seeding costs the same per request before and after any change to the roster."""
    step = SPAN / history
    at = START
    for n in range(history):
        at = START + step * n
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
        on=DAY,
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
    # the service takes a roster snapshot this many events apart (see MatchingApplication)
    gap = max(
        MatchingApplication.roster_snapshot_every,
        len(stored.state) // MatchingApplication.roster_snapshot_bytes_per_event,
    )
    return {
        "history": history,
        "decisions": decisions,
        "cpu_ms_per_decision": 1000 * statistics.median(blocks),
        "cpu_ms_mean": 1000 * statistics.fmean(blocks),
        "snapshot_bytes": len(stored.state),
        "snapshot_take_ms": 1000 * taken,
        "snapshot_restore_ms": 1000 * restore,
        "snapshot_us_per_event": 1000_000 * taken / gap,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, action="append", help="requests of history")
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="processes per history, run in turn (median kept)"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    histories = args.history or [1000, 100_000]
    if args.one:
        print(json.dumps(measure(histories[0], args.decisions)))
        return
    runs: dict[int, list[dict]] = {history: [] for history in histories}
    for round_ in range(args.repeat):
        for history in histories:
            one = ["--one", "--history", str(history), "--decisions", str(args.decisions)]
            run = subprocess.run(
                [sys.executable, "-m", "deploy.bench_matching", *one],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            runs[history].append(json.loads(run.stdout.splitlines()[-1]))
            cpu = runs[history][-1]["cpu_ms_per_decision"]
            say(f"  round {round_ + 1}, history {history:,}: {cpu:.3f} ms per decision")
    rows = [median_run(runs[history]) for history in histories]
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
        first, last = rows[0], rows[-1]
        ratio = last["cpu_ms_per_decision"] / first["cpu_ms_per_decision"]
        print(
            f"CPU per decision at {last['history']:,} / at {first['history']:,} requests of"
            f" history: {ratio:.2f} ({(ratio - 1) * 100:+.1f} %)"
        )


if __name__ == "__main__":
    main()
