"""Fairness: over many requests, providers that are equal in every other way are offered an
equal share of the work. The real Roster, Job and policy, with no servers: each job is offered,
then accepted and later completed, or declined and offered to the next candidate."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.matching.job import Job
from domain.matching.roster import Roster

PROVIDERS = [f"provider-{n}" for n in range(7)]
WINDOW = timedelta(days=30)
START = datetime(2026, 1, 5, 8, tzinfo=UTC)


def equal_roster(providers: list[str], capacity: int = 3) -> Roster:
    roster = Roster()
    for pid in providers:
        roster.enrol_provider(pid, ["snow-clearing"], ["lahti-laune"], capacity)
        roster.add_contract(
            f"contract-{pid}",
            pid,
            ["snow-clearing"],
            ["lahti-laune"],
            10_000_000,
            "2026-01-01",
            "2026-12-31",
            3000,
            "lahti-city",
        )
    roster.collect_events()
    return roster


def run(
    roster: Roster,
    requests: int,
    seed: int,
    decline_rate: float,
    always_declines: frozenset[str] = frozenset(),
) -> Counter:
    """Match ``requests`` jobs one after the other; returns the offers made per provider."""
    rng = random.Random(seed)
    offers: Counter = Counter()
    held: list[str] = []  # providers holding an accepted job not yet completed
    now = START
    for n in range(requests):
        now += timedelta(minutes=30)
        job = Job(id=uuid4(), category="snow-clearing", region="lahti-laune", on=date(2026, 2, 1))
        while True:
            decision = roster.decide(job.to_match(90), since=now - WINDOW)
            if decision.match is None:
                break
            pid = decision.match.provider_id
            offer_id = f"offer-{n}-{pid}"
            offers[pid] += 1
            job.record_offer(offer_id, pid)
            roster.take_job(
                pid, offer_id, str(job.id), now, now + timedelta(hours=24), now - WINDOW
            )
            if pid in always_declines or rng.random() < decline_rate:
                job.record_decline(offer_id, pid)
                roster.release_job(pid, offer_id)
                continue
            job.record_taken(offer_id, pid)
            roster.settle_offer(offer_id)
            held.append(pid)
            break
        # work gets done in a random order, some of it soon and some later
        while held and (len(held) > 8 or rng.random() < 0.5):
            roster.release_job(held.pop(rng.randrange(len(held))))
        roster.collect_events()  # stored as they happen in the service
    return offers


@pytest.mark.parametrize(("seed", "decline_rate"), [(1, 0.0), (2, 0.2), (3, 0.5)])
def test_a_thousand_requests_over_equal_providers_are_shared_evenly(seed, decline_rate):
    roster = equal_roster(PROVIDERS)
    offers = run(roster, 1000, seed, decline_rate)

    total = sum(offers.values())
    even = total / len(PROVIDERS)
    assert total >= 1000
    assert set(offers) == set(PROVIDERS)
    for pid in PROVIDERS:
        assert abs(offers[pid] - even) <= 0.10 * even, (pid, offers, even)
    assert roster.open_offers == {}


def test_declining_earns_no_more_offers_and_the_spread_stays_within_one():
    roster = equal_roster(PROVIDERS)
    decliner = PROVIDERS[3]
    offers = run(roster, 1000, seed=6, decline_rate=0.0, always_declines=frozenset({decliner}))

    # Every offer counts as work, whatever the answer: the decliner is offered its turn
    # like the others and no more, and nobody runs ahead of anybody by more than one.
    assert max(offers.values()) - min(offers.values()) <= 1, offers
    assert offers[decliner] <= min(offers.values()) + 1


def test_offers_outside_the_window_no_longer_count():
    roster = equal_roster(["busy-long-ago", "fresh"], capacity=100)
    long_ago = START - timedelta(days=60)
    for n in range(20):
        roster.take_job("busy-long-ago", f"old-{n}", "r", long_ago, long_ago, long_ago - WINDOW)
        roster.release_job("busy-long-ago", f"old-{n}")

    offers = run(roster, 100, seed=4, decline_rate=0.0)

    assert offers["busy-long-ago"] == offers["fresh"] == 50


def test_offers_inside_the_window_do_count():
    roster = equal_roster(["busy-lately", "fresh"], capacity=100)
    lately = START - timedelta(days=5)
    for n in range(20):
        roster.take_job("busy-lately", f"old-{n}", "r", lately, lately, lately - WINDOW)
        roster.release_job("busy-lately", f"old-{n}")

    offers = run(roster, 100, seed=5, decline_rate=0.0)

    # the fresh provider catches up first, then they share
    assert offers["fresh"] == 60
    assert offers["busy-lately"] == 40


def test_a_short_window_forgets_old_offers():
    roster = equal_roster(PROVIDERS)
    rng_runs = run(roster, 200, seed=7, decline_rate=0.0)
    assert sum(rng_runs.values()) == 200
    last = START + timedelta(minutes=30 * 200)
    roster.take_job(PROVIDERS[0], "late", "r", last, last, last - timedelta(hours=10))
    kept = sum(len(times) for times in roster.offered.values())
    assert kept == 21 + 1  # ten hours of one request every 30 minutes (ends included), the new one
