"""ServiceRequest: submitted, offered, assigned, completed, confirmed, or unmatched."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import DomainError, InvalidValue, NotAllowed, WrongState
from domain.requests import MAX_MINUTES_PER_REQUEST, RequestStatus, ServiceRequest

START = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=4)


def submit(**overrides) -> ServiceRequest:
    fields = {
        "resident_id": "resident-1",
        "category": "snow_clearing",
        "region": "kivimaa",
        "description": "  The driveway, please  ",
        "window_start": START,
        "window_end": END,
    }
    fields.update(overrides)
    return ServiceRequest.submit(**fields)


def replay(events):
    request = None
    for e in events:
        request = e.mutate(request)
    return request


def event_names(request: ServiceRequest) -> list[str]:
    return [type(e).__name__ for e in request.collect_events()]


# Requests brought to each status by the allowed path.


def submitted() -> ServiceRequest:
    return submit()


def offered() -> ServiceRequest:
    request = submit()
    request.record_offer("offer-1", "provider-1")
    return request


def assigned() -> ServiceRequest:
    request = offered()
    request.assign("offer-1", "provider-1", "contract-1")
    return request


def completed() -> ServiceRequest:
    request = assigned()
    request.report_completion("provider-1", 90)
    return request


def confirmed() -> ServiceRequest:
    request = completed()
    request.confirm("resident-1")
    return request


def unmatched() -> ServiceRequest:
    request = submit()
    request.record_unmatched("no provider is registered")
    return request


# --- submit ------------------------------------------------------------------------------


def test_submit_records_submitted_with_what_the_resident_asked():
    request = submit()

    assert event_names(request) == ["Submitted"]
    assert request.status == RequestStatus.SUBMITTED
    assert request.resident_id == "resident-1"
    assert request.category == "snow_clearing"
    assert request.region == "kivimaa"
    assert request.window_start == START
    assert request.window_end == END
    assert request.offer_id is None
    assert request.provider_id is None
    assert request.contract_id is None
    assert request.minutes is None


def test_submit_trims_the_description():
    assert submit().description == "The driveway, please"


def test_submit_accepts_any_time_zone():
    helsinki = timezone(timedelta(hours=2))
    request = submit(
        window_start=datetime(2025, 1, 15, 10, 0, tzinfo=helsinki),
        window_end=datetime(2025, 1, 15, 12, 0, tzinfo=helsinki),
    )
    assert request.status == RequestStatus.SUBMITTED


@pytest.mark.parametrize("resident_id", ["", "   "])
def test_submit_needs_a_resident(resident_id):
    with pytest.raises(InvalidValue) as refused:
        submit(resident_id=resident_id)
    assert refused.value.rule == "resident_id"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START.replace(tzinfo=None), END),
        (START, END.replace(tzinfo=None)),
        (START.replace(tzinfo=None), END.replace(tzinfo=None)),
    ],
)
def test_submit_refuses_a_window_without_time_zone(start, end):
    with pytest.raises(InvalidValue, match="time zone") as refused:
        submit(window_start=start, window_end=end)
    assert refused.value.rule == "window"


@pytest.mark.parametrize("end", [START, START - timedelta(minutes=1)])
def test_submit_refuses_a_window_that_does_not_end_after_it_starts(end):
    with pytest.raises(InvalidValue, match="end after it starts") as refused:
        submit(window_end=end)
    assert refused.value.rule == "window"


# --- matching: offer, assign, unmatched --------------------------------------------------


def test_record_offer_marks_the_request_offered_to_the_provider():
    request = submitted()
    request.collect_events()

    request.record_offer("offer-1", "provider-1")

    assert event_names(request) == ["Offered"]
    assert request.status == RequestStatus.OFFERED
    assert request.offer_id == "offer-1"
    assert request.provider_id == "provider-1"


def test_an_offered_request_can_be_offered_to_the_next_provider():
    request = offered()
    request.record_offer("offer-2", "provider-2")

    assert request.status == RequestStatus.OFFERED
    assert request.offer_id == "offer-2"
    assert request.provider_id == "provider-2"


@pytest.mark.parametrize("start", [submitted, offered])
def test_assign_records_provider_and_contract(start):
    request = start()
    request.collect_events()

    request.assign("offer-1", "provider-1", "contract-1")

    assert event_names(request) == ["Assigned"]
    assert request.status == RequestStatus.ASSIGNED
    assert request.offer_id == "offer-1"
    assert request.provider_id == "provider-1"
    assert request.contract_id == "contract-1"


@pytest.mark.parametrize("start", [submitted, offered])
def test_record_unmatched_keeps_the_reason_and_forgets_the_offer(start):
    request = start()
    request.collect_events()

    request.record_unmatched("no eligible provider: no free capacity")

    assert event_names(request) == ["Unmatched"]
    assert request.status == RequestStatus.UNMATCHED
    assert request.unmatched_reason == "no eligible provider: no free capacity"
    assert request.offer_id is None
    assert request.provider_id is None


CLOSED_TO_MATCHING = [assigned, completed, confirmed, unmatched]
MATCHING_COMMANDS = {
    "record_offer": lambda r: r.record_offer("offer-9", "provider-9"),
    "assign": lambda r: r.assign("offer-9", "provider-9", "contract-9"),
    "record_unmatched": lambda r: r.record_unmatched("late"),
}


@pytest.mark.parametrize("state", CLOSED_TO_MATCHING, ids=lambda f: f.__name__)
@pytest.mark.parametrize("command", MATCHING_COMMANDS)
def test_matching_commands_are_refused_once_the_request_left_matching(state, command):
    request = state()
    request.collect_events()
    status_before = request.status

    with pytest.raises(WrongState) as refused:
        MATCHING_COMMANDS[command](request)

    assert refused.value.rule == "wrong_state"
    assert request.status == status_before
    assert request.collect_events() == []


# --- delivery: completion ----------------------------------------------------------------


def test_the_assigned_provider_reports_completion_with_minutes():
    request = assigned()
    request.collect_events()

    request.report_completion("provider-1", 90)

    events = request.collect_events()
    assert [type(e).__name__ for e in events] == ["CompletionReported"]
    assert events[0].contract_id == "contract-1"
    assert events[0].minutes == 90
    assert request.status == RequestStatus.COMPLETED
    assert request.minutes == 90


@pytest.mark.parametrize("minutes", [1, MAX_MINUTES_PER_REQUEST])
def test_completion_minutes_bounds_are_inclusive(minutes):
    request = assigned()
    request.report_completion("provider-1", minutes)
    assert request.minutes == minutes


@pytest.mark.parametrize("minutes", [0, -15, MAX_MINUTES_PER_REQUEST + 1])
def test_completion_refuses_minutes_out_of_range(minutes):
    request = assigned()
    request.collect_events()

    with pytest.raises(InvalidValue) as refused:
        request.report_completion("provider-1", minutes)

    assert refused.value.rule == "hours"
    assert request.status == RequestStatus.ASSIGNED
    assert request.collect_events() == []


def test_only_the_assigned_provider_can_report_completion():
    request = assigned()
    request.collect_events()

    with pytest.raises(NotAllowed) as refused:
        request.report_completion("provider-2", 60)

    assert refused.value.rule == "provider_id"
    assert request.status == RequestStatus.ASSIGNED
    assert request.collect_events() == []


@pytest.mark.parametrize(
    "state", [submitted, offered, completed, confirmed, unmatched], ids=lambda f: f.__name__
)
def test_completion_is_refused_unless_the_request_is_assigned(state):
    request = state()
    request.collect_events()

    with pytest.raises(WrongState):
        request.report_completion("provider-1", 60)

    assert request.collect_events() == []


# --- delivery: confirmation --------------------------------------------------------------


def test_the_resident_confirms_and_the_event_says_what_to_charge():
    request = completed()
    request.collect_events()

    request.confirm("resident-1")

    events = request.collect_events()
    assert [type(e).__name__ for e in events] == ["Confirmed"]
    assert events[0].resident_id == "resident-1"
    assert events[0].provider_id == "provider-1"
    assert events[0].contract_id == "contract-1"
    assert events[0].minutes == 90
    assert request.status == RequestStatus.CONFIRMED


def test_only_the_resident_who_made_the_request_can_confirm_it():
    request = completed()
    request.collect_events()

    with pytest.raises(NotAllowed) as refused:
        request.confirm("resident-2")

    assert refused.value.rule == "resident_id"
    assert request.status == RequestStatus.COMPLETED
    assert request.collect_events() == []


@pytest.mark.parametrize(
    "state", [submitted, offered, assigned, confirmed, unmatched], ids=lambda f: f.__name__
)
def test_confirmation_is_refused_unless_completion_was_reported(state):
    request = state()
    request.collect_events()

    with pytest.raises(WrongState):
        request.confirm("resident-1")

    assert request.collect_events() == []


def test_a_stranger_is_told_not_allowed_before_the_state_is_checked():
    with pytest.raises(NotAllowed):
        assigned().confirm("resident-2")


# --- errors and replay -------------------------------------------------------------------


def test_refusals_are_domain_errors_with_a_message():
    with pytest.raises(DomainError) as refused:
        confirmed().confirm("resident-1")
    assert "confirmed" in refused.value.message


def test_the_whole_life_replays_to_the_same_request():
    request = confirmed()
    events = request.collect_events()

    copy = replay(events)

    assert [type(e).__name__ for e in events] == [
        "Submitted",
        "Offered",
        "Assigned",
        "CompletionReported",
        "Confirmed",
    ]
    assert copy.id == request.id
    assert copy.version == 5
    assert vars(copy) == vars(request)


def test_an_unmatched_request_replays_with_its_reason():
    request = offered()
    request.record_unmatched("every provider declined")
    copy = replay(request.collect_events())

    assert copy.status == RequestStatus.UNMATCHED
    assert copy.unmatched_reason == "every provider declined"
    assert copy.provider_id is None
