"""ServiceRequest: submitted, offered, assigned, completed, confirmed, unmatched; rescheduled,
cancelled, expired, disputed and resolved, rated."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from eventsourcing.application import Application

from domain.errors import DomainError, InvalidValue, NotAllowed, WrongState
from domain.requests import (
    CLOSED,
    EXPIRY_REASON,
    LIFE,
    MAX_COMMENT_LENGTH,
    MAX_MINUTES_PER_REQUEST,
    RequestStatus,
    ServiceRequest,
    statuses_allowing,
)

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
    request.assign("offer-1", "provider-1", "contract-1", "lahti-city")
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


def disputed() -> ServiceRequest:
    request = completed()
    request.dispute("resident-1", "the snow is still there")
    return request


def voided() -> ServiceRequest:
    request = disputed()
    request.resolve("lahti-city", "voided", None, "nothing was done")
    return request


def rated() -> ServiceRequest:
    request = confirmed()
    request.rate("resident-1", 5, "Spotless")
    return request


def cancelled() -> ServiceRequest:
    request = offered()
    request.cancel("resident-1", "")
    return request


def expired() -> ServiceRequest:
    request = offered()
    request.expire(END + timedelta(seconds=1))
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


def test_assign_records_provider_and_contract():
    request = offered()
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


def test_only_the_current_offer_can_be_accepted():
    request = offered()  # offer-1
    request.reschedule("resident-1", START + timedelta(days=7), START + timedelta(days=7, hours=2))
    request.collect_events()

    with pytest.raises(WrongState):
        request.assign("offer-1", "provider-1", "contract-1")  # accepted for the old window

    assert request.status == RequestStatus.SUBMITTED
    assert request.collect_events() == []


def test_an_offer_after_a_late_verdict_on_the_old_window_still_lands():
    request = offered()
    request.reschedule("resident-1", START + timedelta(days=7), START + timedelta(days=7, hours=2))
    request.record_unmatched("no eligible provider")  # about the old window, arriving late
    request.record_offer("offer-2", "provider-2")  # matching's answer for the new window
    request.assign("offer-2", "provider-2", "contract-2")

    assert request.status == RequestStatus.ASSIGNED


CLOSED_TO_MATCHING = [assigned, completed, confirmed]
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


def test_an_assignment_stored_before_partners_were_recorded_replays_without_one():
    request = offered()
    events = request.collect_events()
    request.assign("offer-1", "provider-1", "contract-1")
    assigned_event = request.collect_events()[0]
    del assigned_event.__dict__["partner_id"]  # as stored before the field existed

    copy = replay([*events, assigned_event])

    assert copy.status == RequestStatus.ASSIGNED
    assert copy.partner_id is None


def test_an_offer_carries_matchings_explanation_and_replays():
    request = submit()
    facts = {"provider_name": "Laune Talkoot ry", "rank": 1, "eligible": 1}
    request.record_offer("offer-1", "provider-1", "Offered to Laune Talkoot ry.", facts)
    events = request.collect_events()

    assert events[-1].why == "Offered to Laune Talkoot ry."
    assert events[-1].explanation == facts
    assert vars(replay(events)) == vars(request)


def test_an_offer_stored_before_its_explanation_was_recorded_still_loads():
    # Stored and read back through eventsourcing's own mapper and repository, with the
    # Offered event's stored state as the earlier version wrote it: no ``why``, no
    # ``explanation``.
    store = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    request = submit()
    request.record_offer("offer-1", "provider-1", "Offered to Laune Talkoot ry.")
    request.assign("offer-1", "provider-1", "contract-1", "lahti-city")
    stored = [store.mapper.to_stored_event(e) for e in request.collect_events()]
    offered_state = json.loads(stored[1].state)
    del offered_state["why"]
    del offered_state["explanation"]
    stored[1] = replace(stored[1], state=json.dumps(offered_state).encode())
    store.recorder.insert_events(stored)

    loaded = store.repository.get(request.id)
    old_offer = list(store.repository.event_store.get(request.id))[1]

    assert type(old_offer) is ServiceRequest.Offered
    assert not hasattr(old_offer, "why") and not hasattr(old_offer, "explanation")
    assert (loaded.status, loaded.offer_id, loaded.provider_id, loaded.version) == (
        RequestStatus.ASSIGNED,
        "offer-1",
        "provider-1",
        3,
    )


# --- reschedule ----------------------------------------------------------------------------

LATER = START + timedelta(days=2)


@pytest.mark.parametrize("state", [submitted, offered, unmatched], ids=lambda f: f.__name__)
def test_the_resident_reschedules_before_assignment_and_matching_starts_again(state):
    request = state()
    request.collect_events()

    request.reschedule("resident-1", LATER, LATER + timedelta(hours=2))

    events = request.collect_events()
    assert [type(e).__name__ for e in events] == ["Rescheduled"]
    assert (events[0].window_start, events[0].window_end) == (LATER, LATER + timedelta(hours=2))
    assert request.status == RequestStatus.SUBMITTED
    assert request.window_start == LATER
    assert request.offer_id is None
    assert request.provider_id is None
    assert request.reason is None


@pytest.mark.parametrize(
    ("start", "end"),
    [(LATER, LATER), (LATER, LATER - timedelta(hours=1)), (LATER.replace(tzinfo=None), LATER)],
)
def test_reschedule_needs_an_aware_window_that_ends_after_it_starts(start, end):
    request = offered()
    request.collect_events()

    with pytest.raises(InvalidValue) as refused:
        request.reschedule("resident-1", start, end)

    assert refused.value.rule == "window"
    assert request.status == RequestStatus.OFFERED
    assert request.collect_events() == []


@pytest.mark.parametrize(
    "state", [assigned, completed, confirmed, cancelled, expired], ids=lambda f: f.__name__
)
def test_reschedule_is_refused_after_assignment_or_an_end(state):
    request = state()
    request.collect_events()

    with pytest.raises(WrongState):
        request.reschedule("resident-1", LATER, LATER + timedelta(hours=1))

    assert request.collect_events() == []


def test_only_the_resident_reschedules():
    with pytest.raises(NotAllowed) as refused:
        offered().reschedule("resident-2", LATER, LATER + timedelta(hours=1))
    assert refused.value.rule == "resident_id"


# --- cancel --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "was", "provider_id", "offer_id"),
    [
        (submitted, "submitted", None, None),
        (offered, "offered", "provider-1", "offer-1"),
        (unmatched, "unmatched", None, None),
    ],
    ids=["submitted", "offered", "unmatched"],
)
def test_the_resident_cancels_before_assignment_without_a_reason(state, was, provider_id, offer_id):
    request = state()
    request.collect_events()

    request.cancel("resident-1", "")

    events = request.collect_events()
    assert [type(e).__name__ for e in events] == ["Cancelled"]
    assert events[0].was_status == was
    assert events[0].provider_id == provider_id
    assert events[0].offer_id == offer_id
    assert events[0].reason == ""
    assert request.status == RequestStatus.CANCELLED


def test_cancelling_an_assigned_request_names_the_provider_and_keeps_the_reason():
    request = assigned()
    request.collect_events()

    request.cancel("resident-1", "  We moved away  ")

    (cancelled_event,) = request.collect_events()
    assert cancelled_event.was_status == "assigned"
    assert cancelled_event.provider_id == "provider-1"
    assert cancelled_event.offer_id == "offer-1"
    assert cancelled_event.reason == "We moved away"
    assert request.status == RequestStatus.CANCELLED
    assert request.reason == "We moved away"


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_assigned_request_is_cancelled_only_with_a_reason(reason):
    request = assigned()
    request.collect_events()

    with pytest.raises(InvalidValue) as refused:
        request.cancel("resident-1", reason)

    assert refused.value.rule == "reason"
    assert request.status == RequestStatus.ASSIGNED
    assert request.collect_events() == []


@pytest.mark.parametrize(
    "state",
    [completed, confirmed, disputed, voided, cancelled, expired],
    ids=lambda f: f.__name__,
)
def test_cancel_is_refused_once_the_work_is_done_or_the_request_ended(state):
    request = state()
    request.collect_events()

    with pytest.raises(WrongState):
        request.cancel("resident-1", "changed my mind")

    assert request.collect_events() == []


def test_only_the_resident_cancels():
    with pytest.raises(NotAllowed) as refused:
        assigned().cancel("resident-2", "not mine")
    assert refused.value.rule == "resident_id"


# --- expire --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [submitted, offered, unmatched], ids=lambda f: f.__name__)
def test_a_request_nobody_took_expires_after_its_window(state):
    request = state()
    was = str(request.status)
    request.collect_events()

    request.expire(END + timedelta(seconds=1))

    (event,) = request.collect_events()
    assert type(event).__name__ == "Expired"
    assert event.was_status == was
    assert event.reason == EXPIRY_REASON
    assert request.status == RequestStatus.EXPIRED
    assert request.reason == EXPIRY_REASON


@pytest.mark.parametrize("now", [START, END])
def test_a_request_does_not_expire_before_its_window_ended(now):
    request = offered()
    request.collect_events()

    with pytest.raises(WrongState):
        request.expire(now)

    assert request.status == RequestStatus.OFFERED
    assert request.collect_events() == []


@pytest.mark.parametrize(
    "state", [assigned, completed, confirmed, cancelled, expired], ids=lambda f: f.__name__
)
def test_a_taken_or_ended_request_does_not_expire(state):
    request = state()
    request.collect_events()
    with pytest.raises(WrongState):
        request.expire(END + timedelta(days=30))
    assert request.collect_events() == []


# --- automatic confirmation ----------------------------------------------------------------


def test_a_completion_left_unanswered_is_confirmed_automatically():
    request = completed()
    request.collect_events()
    after = timedelta(days=7)

    request.confirm_automatically(request.modified_on + after, after)

    (event,) = request.collect_events()
    assert type(event).__name__ == "Confirmed"
    assert event.how == "automatic"
    assert event.minutes == 90
    assert event.resident_id == "resident-1"
    assert request.status == RequestStatus.CONFIRMED


def test_automatic_confirmation_waits_for_its_time():
    request = completed()
    request.collect_events()
    after = timedelta(days=7)

    with pytest.raises(WrongState):
        request.confirm_automatically(request.modified_on + after - timedelta(seconds=1), after)

    assert request.status == RequestStatus.COMPLETED
    assert request.collect_events() == []


@pytest.mark.parametrize("state", [assigned, confirmed, disputed], ids=lambda f: f.__name__)
def test_only_a_completed_request_is_confirmed_automatically(state):
    request = state()
    request.collect_events()
    with pytest.raises(WrongState):
        request.confirm_automatically(END + timedelta(days=365), timedelta(0))
    assert request.collect_events() == []


def test_the_resident_confirmation_says_so():
    request = completed()
    request.collect_events()
    request.confirm("resident-1")
    assert request.collect_events()[0].how == "resident"


# --- disputes --------------------------------------------------------------------------------


def test_the_resident_disputes_a_completion_with_a_reason():
    request = completed()
    request.collect_events()

    request.dispute("resident-1", "  the snow is still there ")

    (event,) = request.collect_events()
    assert type(event).__name__ == "Disputed"
    assert event.reason == "the snow is still there"
    assert event.partner_id == "lahti-city"
    assert event.provider_id == "provider-1"
    assert event.contract_id == "contract-1"
    assert event.minutes == 90
    assert request.status == RequestStatus.DISPUTED


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_dispute_needs_a_reason(reason):
    request = completed()
    request.collect_events()
    with pytest.raises(InvalidValue) as refused:
        request.dispute("resident-1", reason)
    assert refused.value.rule == "reason"
    assert request.collect_events() == []


def test_only_the_resident_disputes():
    with pytest.raises(NotAllowed) as refused:
        completed().dispute("resident-2", "not done")
    assert refused.value.rule == "resident_id"


@pytest.mark.parametrize(
    "state", [assigned, confirmed, disputed, cancelled], ids=lambda f: f.__name__
)
def test_only_a_completed_request_is_disputed(state):
    request = state()
    request.collect_events()
    with pytest.raises(WrongState):
        request.dispute("resident-1", "not done")
    assert request.collect_events() == []


@pytest.mark.parametrize(
    ("outcome", "minutes", "charged"), [("upheld", None, 90), ("adjusted", 45, 45)]
)
def test_an_upheld_or_adjusted_ruling_confirms_the_final_time(outcome, minutes, charged):
    request = disputed()
    request.collect_events()

    request.resolve("lahti-city", outcome, minutes, " checked on site ")

    resolved, confirmed_event = request.collect_events()
    assert type(resolved).__name__ == "DisputeResolved"
    assert (resolved.outcome, resolved.minutes, resolved.note) == (
        outcome,
        charged,
        "checked on site",
    )
    assert resolved.partner_id == "lahti-city"
    assert type(confirmed_event).__name__ == "Confirmed"
    assert confirmed_event.how == outcome
    assert confirmed_event.minutes == charged
    assert confirmed_event.contract_id == "contract-1"
    assert request.status == RequestStatus.CONFIRMED
    assert request.minutes == charged


def test_a_voided_ruling_charges_nothing():
    request = disputed()
    request.collect_events()

    request.resolve("lahti-city", "voided", None, "nothing was done")

    (resolved,) = request.collect_events()
    assert type(resolved).__name__ == "DisputeResolved"
    assert resolved.outcome == "voided"
    assert resolved.minutes == 0
    assert request.status == RequestStatus.VOIDED


@pytest.mark.parametrize("partner_id", ["another-city", ""])
def test_only_the_contracts_partner_resolves(partner_id):
    request = disputed()
    request.collect_events()
    with pytest.raises(NotAllowed) as refused:
        request.resolve(partner_id, "upheld", None, "fine")
    assert refused.value.rule == "partner_id"
    assert request.collect_events() == []


def test_no_dispute_when_no_partner_was_recorded_to_rule_on_it():
    request = offered()
    request.assign("offer-1", "provider-1", "contract-1")
    request.report_completion("provider-1", 60)
    request.collect_events()

    with pytest.raises(NotAllowed) as refused:
        request.dispute("resident-1", "not done")

    assert refused.value.rule == "partner_id"
    assert request.status == RequestStatus.COMPLETED
    assert request.collect_events() == []


@pytest.mark.parametrize(
    ("outcome", "minutes", "note", "rule"),
    [
        ("adjusted", None, "fine", "hours"),
        ("adjusted", 0, "fine", "hours"),
        ("adjusted", MAX_MINUTES_PER_REQUEST + 15, "fine", "hours"),
        ("upheld", 60, "fine", "hours"),
        ("voided", 60, "fine", "hours"),
        ("upheld", None, "  ", "note"),
        ("dismissed", None, "fine", "outcome"),
    ],
)
def test_a_ruling_with_bad_values_is_refused(outcome, minutes, note, rule):
    request = disputed()
    request.collect_events()
    with pytest.raises(InvalidValue) as refused:
        request.resolve("lahti-city", outcome, minutes, note)
    assert refused.value.rule == rule
    assert request.status == RequestStatus.DISPUTED
    assert request.collect_events() == []


@pytest.mark.parametrize("state", [completed, confirmed, voided], ids=lambda f: f.__name__)
def test_only_a_disputed_request_is_resolved(state):
    request = state()
    request.collect_events()
    with pytest.raises(WrongState):
        request.resolve("lahti-city", "upheld", None, "fine")
    assert request.collect_events() == []


# --- rating --------------------------------------------------------------------------------


def test_the_resident_rates_confirmed_work_once():
    request = confirmed()
    request.collect_events()

    request.rate("resident-1", 4, " Quick and friendly ")

    (event,) = request.collect_events()
    assert type(event).__name__ == "Rated"
    assert (event.stars, event.comment, event.provider_id) == (
        4,
        "Quick and friendly",
        "provider-1",
    )
    assert request.status == RequestStatus.CONFIRMED
    assert (request.rating, request.rating_comment) == (4, "Quick and friendly")
    with pytest.raises(WrongState):
        request.rate("resident-1", 5, "")


@pytest.mark.parametrize("stars", [0, 6, -1, True, 2.5])
def test_stars_are_a_whole_number_from_one_to_five(stars):
    request = confirmed()
    request.collect_events()
    with pytest.raises(InvalidValue) as refused:
        request.rate("resident-1", stars, "")
    assert refused.value.rule == "stars"
    assert request.collect_events() == []


def test_a_rating_comment_has_a_limit():
    request = confirmed()
    request.rate("resident-1", 3, "x" * MAX_COMMENT_LENGTH)
    with pytest.raises(InvalidValue) as refused:
        confirmed().rate("resident-1", 3, "x" * (MAX_COMMENT_LENGTH + 1))
    assert refused.value.rule == "comment"


@pytest.mark.parametrize("state", [completed, disputed, voided], ids=lambda f: f.__name__)
def test_only_confirmed_work_is_rated(state):
    with pytest.raises(WrongState):
        state().rate("resident-1", 5, "")


def test_only_the_resident_rates():
    with pytest.raises(NotAllowed) as refused:
        confirmed().rate("resident-2", 5, "")
    assert refused.value.rule == "resident_id"


def test_a_disputed_and_adjusted_life_replays_to_the_same_request():
    request = disputed()
    request.resolve("lahti-city", "adjusted", 30, "half of it")
    request.rate("resident-1", 2, "slow")
    events = request.collect_events()

    copy = replay(events)

    assert vars(copy) == vars(request)
    assert copy.status == RequestStatus.CONFIRMED
    assert copy.minutes == 30
    assert copy.rating == 2


@pytest.mark.parametrize("offer_id", ["offer-1", None])
def test_nothing_is_assigned_while_no_offer_is_waiting(offer_id):
    request = submitted()
    request.collect_events()

    with pytest.raises(WrongState):
        request.assign(offer_id, "provider-1", "contract-1")

    assert request.status == RequestStatus.SUBMITTED
    assert request.collect_events() == []


# --- the table of states -------------------------------------------------------------------


def test_every_status_has_its_stage_and_names_only_commands_of_the_request():
    assert set(LIFE) == set(RequestStatus)
    for stage in LIFE.values():
        for command in stage.allows:
            assert callable(getattr(ServiceRequest, command, None)), command


def test_what_a_status_allows_is_what_its_request_lists_as_next_steps():
    # with a partner to rule on a dispute, and not yet rated: nothing held back
    for request in (submitted(), offered(), unmatched(), assigned(), completed(), confirmed()):
        assert request.next_steps() == list(LIFE[request.status].allows)
    assert statuses_allowing("expire") == (
        RequestStatus.SUBMITTED,
        RequestStatus.OFFERED,
        RequestStatus.UNMATCHED,
    )
    assert set(CLOSED) == {
        RequestStatus.CONFIRMED,
        RequestStatus.CANCELLED,
        RequestStatus.VOIDED,
        RequestStatus.EXPIRED,
    }
    assert rated().next_steps() == [] and rated().is_final
