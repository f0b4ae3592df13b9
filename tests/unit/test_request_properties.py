"""Properties of ServiceRequest under any sequence of commands, by right and wrong actors.

Every command either succeeds or is refused with a DomainError that changes nothing; the status
is always one of the states; a request is assigned at most once; nothing changes after a final
state; every state that is not final has a command that moves it on; and replaying the events
gives the same request.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.requests import RequestStatus, ServiceRequest

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=4)
RESIDENT = "resident-1"
PARTNER = "lahti-city"

FINAL = {RequestStatus.CANCELLED, RequestStatus.VOIDED, RequestStatus.EXPIRED}


def new_request() -> ServiceRequest:
    return ServiceRequest.submit(
        resident_id=RESIDENT,
        category="snow_clearing",
        region="kivimaa",
        description="Driveway",
        window_start=START,
        window_end=END,
    )


def replay(events: list) -> ServiceRequest:
    request = None
    for e in events:
        request = e.mutate(request)
    assert request is not None
    return request


def is_final(request: ServiceRequest) -> bool:
    return request.status in FINAL or (
        request.status == RequestStatus.CONFIRMED and request.rating is not None
    )


def resident(right: bool) -> str:
    return RESIDENT if right else "resident-2"


def provider(request: ServiceRequest, right: bool) -> str:
    return (request.provider_id or "provider-1") if right else "provider-x"


def partner(request: ServiceRequest, right: bool) -> str:
    return (request.partner_id or PARTNER) if right else "another-city"


# Each command: (name, a strategy for its arguments, how to run it on a request).
Command = tuple[str, Callable[[ServiceRequest], None]]

flags = st.booleans()
n = st.integers(min_value=1, max_value=3)
minutes = st.sampled_from([-15, 0, 15, 90, 24 * 60, 24 * 60 + 15])
reasons = st.sampled_from(["", "  ", "moved away"])
shift = st.sampled_from([timedelta(hours=-1), timedelta(0), timedelta(seconds=1)])


def offer(i: int, p: int) -> Command:
    return "record_offer", lambda r: r.record_offer(f"offer-{i}", f"provider-{p}")


def assign(i: int, p: int, with_partner: bool) -> Command:
    return "assign", lambda r: r.assign(
        f"offer-{i}", f"provider-{p}", f"contract-{p}", PARTNER if with_partner else ""
    )


def unmatch(reason: str) -> Command:
    return "record_unmatched", lambda r: r.record_unmatched(reason or "no provider")


def reschedule(right: bool, days: int, hours: int) -> Command:
    start = START + timedelta(days=days)
    return "reschedule", lambda r: r.reschedule(
        resident(right), start, start + timedelta(hours=hours)
    )


def cancel(right: bool, reason: str) -> Command:
    return "cancel", lambda r: r.cancel(resident(right), reason)


def expire(after_end: timedelta) -> Command:
    return "expire", lambda r: r.expire(r.window_end + after_end)


def complete(right: bool, worked: int) -> Command:
    return "report_completion", lambda r: r.report_completion(provider(r, right), worked)


def confirm(right: bool) -> Command:
    return "confirm", lambda r: r.confirm(resident(right))


def confirm_automatically(late: timedelta) -> Command:
    after = timedelta(days=7)
    return "confirm_automatically", lambda r: r.confirm_automatically(
        r.modified_on + after + late, after
    )


def dispute(right: bool, reason: str) -> Command:
    return "dispute", lambda r: r.dispute(resident(right), reason)


def resolve(right: bool, outcome: str, worked: int | None, note: str) -> Command:
    return "resolve", lambda r: r.resolve(partner(r, right), outcome, worked, note)


def rate(right: bool, stars: int, comment: str) -> Command:
    return "rate", lambda r: r.rate(resident(right), stars, comment)


commands = st.one_of(
    st.builds(offer, n, n),
    st.builds(assign, n, n, flags),
    st.builds(unmatch, reasons),
    st.builds(reschedule, flags, st.integers(-1, 3), st.integers(-1, 3)),
    st.builds(cancel, flags, reasons),
    st.builds(expire, shift),
    st.builds(complete, flags, minutes),
    st.builds(confirm, flags),
    st.builds(confirm_automatically, shift),
    st.builds(dispute, flags, reasons),
    st.builds(
        resolve,
        flags,
        st.sampled_from(["upheld", "adjusted", "voided", "dismissed"]),
        st.one_of(st.none(), minutes),
        reasons,
    ),
    st.builds(
        rate, flags, st.integers(-1, 7), st.sampled_from(["", "fine", "x" * 1000, "x" * 1001])
    ),
)

# A way each command can succeed, from any state that lists it among its next steps.
RIGHT_WAY: dict[str, Command] = {
    "record_offer": offer(9, 9),
    # the provider accepts the offer the request is waiting on
    "assign": ("assign", lambda r: r.assign(r.offer_id, r.provider_id, "contract-9", PARTNER)),
    "record_unmatched": unmatch("nobody"),
    "reschedule": reschedule(True, 1, 2),
    "cancel": cancel(True, "moved away"),
    "expire": expire(timedelta(seconds=1)),
    "report_completion": complete(True, 60),
    "confirm": confirm(True),
    "confirm_automatically": confirm_automatically(timedelta(0)),
    "dispute": dispute(True, "not done"),
    "resolve": resolve(True, "upheld", None, "checked"),
    "rate": rate(True, 4, ""),
}


# The right way to each state, so that random commands start from every state, not only from
# the ones a random walk from submitted happens to reach.
PATHS: dict[str, list[str]] = {
    "submitted": [],
    "offered": ["record_offer"],
    "unmatched": ["record_unmatched"],
    "assigned": ["record_offer", "assign"],
    "completed": ["record_offer", "assign", "report_completion"],
    "confirmed": ["record_offer", "assign", "report_completion", "confirm"],
    "rated": ["record_offer", "assign", "report_completion", "confirm", "rate"],
    "disputed": ["record_offer", "assign", "report_completion", "dispute"],
    "voided": ["record_offer", "assign", "report_completion", "dispute", "resolve_voided"],
    "cancelled": ["record_offer", "cancel"],
    "expired": ["expire"],
}
WAYS = {**RIGHT_WAY, "resolve_voided": resolve(True, "voided", None, "nothing done")}


def start_from(path: list[str]) -> ServiceRequest:
    request = new_request()
    for step in path:
        WAYS[step][1](request)
    return request


def assigned_count(history: list) -> int:
    return sum(type(e).__name__ == "Assigned" for e in history)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(PATHS)), st.lists(commands, max_size=25))
def test_any_sequence_of_commands_keeps_the_request_sound(start: str, sequence: list[Command]):
    request = start_from(PATHS[start])
    history = request.collect_events()
    for name, run in sequence:
        before: dict[str, Any] = dict(vars(request))
        was_final = is_final(request)
        ways_on = request.next_steps()
        try:
            run(request)
        except DomainError as refusal:
            assert refusal.message
            assert request.collect_events() == [], f"{name} was refused but stored events"
            assert vars(request) == before, f"{name} was refused but changed the request"
        else:
            assert not was_final, f"{name} changed a request in a final state"
            # what can succeed is what the request says can move it on, nothing else
            assert name in ways_on, f"{name} succeeded on a {before['status']} request"
        history += request.collect_events()

        assert request.status in set(RequestStatus)
        assert request.is_final == is_final(request)
        assert assigned_count(history) <= 1
        assert replay(history).__dict__ == request.__dict__


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(PATHS)), st.lists(commands, max_size=25))
def test_every_state_that_is_not_final_can_move_on(start: str, sequence: list[Command]):
    request = start_from(PATHS[start])
    history = request.collect_events()
    for _, run in sequence:
        with suppress(DomainError):
            run(request)
        history += request.collect_events()

    steps = request.next_steps()
    if is_final(request):
        assert steps == []
        return
    assert steps, f"a {request.status} request has no way on"
    for step in steps:
        copy = replay(history)
        _, run = RIGHT_WAY[step]
        run(copy)  # each listed step succeeds
        assert copy.collect_events()


def test_every_state_is_a_starting_point():
    """Every state has a path that the generated sequences start from; otherwise the
    properties above would say nothing about the states they miss."""
    reached = set()
    for path in PATHS.values():
        request = start_from(path)
        reached.add(request.status)
    assert reached == set(RequestStatus)
    assert is_final(start_from(PATHS["rated"]))
