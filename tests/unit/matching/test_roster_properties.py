"""Properties of the roster's kept totals under any sequence of its events: the commitments,
each contract's held budget, the offers made lately and every decision are what a plain
reckoning over everything recorded gives (commitments by request, each naming the offer that
made it; offers made as a list, filtered in full), and replaying the events or restoring a
snapshot gives the same roster."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from eventsourcing.domain import Snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.matching.policy import choose_provider
from domain.matching.roster import Roster, stamp
from tests.unit.matching.builders import job, replay

START = datetime(2025, 3, 9, 8, tzinfo=UTC)
WINDOW = timedelta(hours=3)  # short, so that offers fall out of it within a run
PROVIDERS = ["p1", "p2", "p3"]
CONTRACTS = {"c1": "p1", "c2": "p2", "c3": "p2", "c4": "p3"}
REQUESTS = [f"request-{n}" for n in range(3)]  # few, so that offers replace commitments


@dataclass
class Reckoning:
    """The roster's commitments and offers made, kept the plain way and summed when asked."""

    commitments: dict[str, dict] = field(default_factory=dict)  # request id -> its commitment
    open_offers: dict[str, str] = field(default_factory=dict)  # offer id -> request id
    offered: dict[str, list[str]] = field(default_factory=dict)  # provider id -> times

    def take(self, pid, offer_id, request_id, offered_at, forget_before, contract_id, cents):
        if offer_id:
            self.open_offers[offer_id] = request_id
        if request_id and contract_id:
            self.commitments[request_id] = {
                "contract_id": contract_id,
                "cents": cents,
                "offer_id": offer_id,
            }
        if offered_at:
            self.offered.setdefault(pid, []).append(offered_at)
        if forget_before:
            for p in list(self.offered):
                kept = [at for at in self.offered[p] if at >= forget_before]
                if kept:
                    self.offered[p] = kept
                else:
                    del self.offered[p]

    def settle(self, offer_id: str) -> None:
        self.open_offers.pop(offer_id, None)

    def release_offer(self, offer_id: str) -> None:
        request_id = self.open_offers.pop(offer_id, None)
        if request_id and self.commitments.get(request_id, {}).get("offer_id") == offer_id:
            del self.commitments[request_id]

    def release_commitment(self, request_id: str) -> None:
        self.commitments.pop(request_id, None)

    def held(self, but: str = "") -> dict[str, tuple[int, int]]:
        held: dict[str, tuple[int, int]] = {}
        for request_id, c in self.commitments.items():
            if request_id != but:
                cents, jobs = held.get(c["contract_id"], (0, 0))
                held[c["contract_id"]] = (cents + c["cents"], jobs + 1)
        return held

    def recent(self, pid: str, since: datetime | None) -> int:
        start = stamp(since)
        return sum(1 for at in self.offered.get(pid, []) if at >= start)


def a_roster() -> Roster:
    roster = Roster()
    for pid in PROVIDERS:
        roster.enrol_provider(pid, ["snow"], ["north"], capacity=50)
    for cid, pid in CONTRACTS.items():
        roster.add_contract(
            cid, pid, ["snow"], ["north"], 9000, "2025-01-01", "2025-12-31", 3000, "lahti-city"
        )
    return roster


minutes = st.integers(min_value=0, max_value=600)
takes = st.tuples(
    st.just("take"),
    st.sampled_from(PROVIDERS),
    st.booleans(),  # an offer (an id of its own), or a place taken without one
    st.sampled_from(["", *REQUESTS]),
    minutes,
    st.booleans(),  # the fairness window's start given
    st.sampled_from(["", *CONTRACTS]),
    st.integers(min_value=0, max_value=6000),
)
steps = st.one_of(
    takes,
    takes,  # twice as often as each other step: the others end what takes begin
    # an offer still open (or, stale, any offer made, as news heard again)
    st.tuples(st.just("settle"), st.integers(min_value=0, max_value=30), st.booleans()),
    st.tuples(st.just("release offer"), st.integers(min_value=0, max_value=30), st.booleans()),
    st.tuples(st.just("release job"), st.sampled_from(PROVIDERS)),
    st.tuples(st.just("release commitment"), st.sampled_from(REQUESTS)),
    st.tuples(
        st.just("charge"),
        st.sampled_from(sorted(CONTRACTS)),
        st.sampled_from(REQUESTS),
        st.integers(min_value=0, max_value=9000),
    ),
)


def apply(roster: Roster, plain: Reckoning, step: tuple, offers: list[str]) -> None:
    kind = step[0]
    if kind == "take":
        _, pid, with_offer, request_id, minute, forgets, contract_id, cents = step
        offer_id = f"offer-{len(offers)}" if with_offer else ""
        offers.append(offer_id)
        at = START + timedelta(minutes=minute)  # not in order: offers recorded late happen
        forget_before = at - WINDOW if forgets else None
        roster.take_job(pid, offer_id, request_id, at, at, forget_before, contract_id, cents)
        plain.take(pid, offer_id, request_id, stamp(at), stamp(forget_before), contract_id, cents)
    elif kind in ("settle", "release offer"):
        _, n, stale = step
        among = offers if stale else sorted(plain.open_offers)
        offer_id = among[n % len(among)] if among else "offer-none"
        if kind == "settle":
            roster.settle_offer(offer_id)
            plain.settle(offer_id)
        else:
            pid = roster.open_offers.get(offer_id, {}).get("provider_id", "p1")
            roster.release_job(pid, offer_id)
            plain.release_offer(offer_id)
    elif kind == "release job":
        roster.release_job(step[1])
    elif kind == "release commitment":
        roster.release_commitment(step[1])
        plain.release_commitment(step[1])
    else:  # charged: the remaining budget now counts the real amount
        _, contract_id, request_id, remaining = step
        roster.update_budget(contract_id, remaining)
        roster.release_commitment(request_id)
        plain.release_commitment(request_id)


def check_the_same(roster: Roster, plain: Reckoning, since: datetime | None) -> None:
    assert roster.commitments() == {
        rid: (c["contract_id"], c["cents"]) for rid, c in plain.commitments.items()
    }
    everyone = plain.held()
    assert {b.contract_id: (b.held_cents, b.jobs) for b in roster.held_budgets()} == {
        cid: everyone.get(cid, (0, 0)) for cid in CONTRACTS
    }
    assert roster.offered == {pid: sorted(times) for pid, times in plain.offered.items()}
    for pid in PROVIDERS:
        assert roster.recent_offers(pid, since or START) == plain.recent(pid, since or START)
    slots = [
        replace(s, recent_offers=plain.recent(s.provider_id, since))
        for s in roster.provider_slots(since)
    ]
    assert roster.provider_slots(since) == slots
    for request_id in ["", *REQUESTS]:
        held = plain.held(request_id)
        reckoned = [
            replace(
                b,
                remaining_cents=roster.contracts[b.contract_id]["remaining_cents"]
                - held.get(b.contract_id, (0, 0))[0],
            )
            for b in roster.contract_budgets(request_id)
        ]
        assert roster.contract_budgets(request_id) == reckoned
        matching = job(request_id=request_id)
        assert roster.decide(matching, since) == choose_provider(matching, slots, reckoned)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(steps, min_size=10, max_size=60),
    st.one_of(st.none(), minutes.map(lambda m: START + timedelta(minutes=m) - WINDOW)),
)
def test_the_kept_totals_decide_as_a_plain_reckoning_over_everything_recorded(steps, since):
    roster, plain, offers = a_roster(), Reckoning(), []
    for step in steps:
        apply(roster, plain, step, offers)
        check_the_same(roster, plain, since)

    events = roster.collect_events()
    assert vars(replay(events)) == vars(roster)
    assert vars(Snapshot.take(roster).mutate(None)) == vars(roster)
