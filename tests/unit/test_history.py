"""A request's history: every event of a ServiceRequest has one named entry with its facts,
in order; no entry names the resident; an offer to another provider is told without who or
why to a member of a provider or an officer."""

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from eventsourcing.domain import DomainEvent

from contracts.events import OfferExplanation
from domain.requests import ServiceRequest
from services.platform.identity import Caller, Role
from services.requests.history import ENTRIES, history

START = datetime(2026, 12, 1, 8, tzinfo=UTC)
LATER = START + timedelta(days=1)
RESIDENT = Caller("resident-1", frozenset({Role.RESIDENT}))
ADMIN = Caller("admin-1", frozenset({Role.ADMIN}))
MEMBER = Caller("member-1", frozenset({Role.PROVIDER}), provider_id="provider-2")
OFFICER = Caller("officer-1", frozenset({Role.OFFICER}), partner_id="lahti-city")
FACTS = {
    "provider_name": "Kakkonen ry",
    "rank": 1,
    "eligible": 2,
    "excluded": {"contract": 1},
    "unrelated": 0,
    "preferred": False,
    "recent_offers": 1,
    "window_hours": 720.0,
    "rating": None,
    "neutral_rating": 3.0,
    "distance_km": None,
}
# The facts as the history reads them back: those added since (the resident's choice of
# provider) with their defaults.
READ_FACTS = {**FACTS, "chosen": False, "choice": "", "chosen_name": "", "choice_rule": ""}


def a_life() -> tuple[ServiceRequest, list]:
    request = ServiceRequest.submit(
        resident_id="resident-1",
        category="yard-work",
        region="hollola",
        description="Leaves",
        window_start=START,
        window_end=START + timedelta(hours=2),
    )
    request.record_unmatched("no eligible provider")
    request.reschedule("resident-1", LATER, LATER + timedelta(hours=2))
    request.record_offer("offer-1", "provider-1", "Offered to Ykkönen ry.")
    request.record_offer("offer-2", "provider-2", "Offered to Kakkonen ry.", FACTS)
    request.assign("offer-2", "provider-2", "contract-2", "lahti-city")
    request.report_completion("provider-2", 120)
    request.dispute("resident-1", "only half the yard was raked")
    request.resolve("lahti-city", "adjusted", 90, "one and a half hours is fair")
    request.rate("resident-1", 4, "fine in the end")
    return request, request.collect_events()


def as_dicts(entries) -> list[dict]:
    return msgspec.to_builtins(entries, builtin_types=(datetime,))


def test_every_event_of_a_request_has_its_own_stable_name():
    kinds = {
        value
        for value in vars(ServiceRequest).values()
        if isinstance(value, type) and issubclass(value, DomainEvent)
    } - {ServiceRequest.Event, ServiceRequest.Created}  # the bases of its events
    assert set(ENTRIES) == kinds
    names = [name for name, _ in ENTRIES.values()]
    assert len(set(names)) == len(names)
    assert set(names) == {
        "submitted",
        "offered",
        "assigned",
        "unmatched",
        "rescheduled",
        "completion-reported",
        "confirmed",
        "disputed",
        "dispute-resolved",
        "cancelled",
        "expired",
        "rated",
    }


def test_the_resident_reads_every_event_in_order_with_its_facts():
    request, events = a_life()

    entries = as_dicts(history(request, events, RESIDENT))

    assert [(e["version"], e["what"]) for e in entries] == list(
        enumerate(
            [
                "submitted",
                "unmatched",
                "rescheduled",
                "offered",
                "offered",
                "assigned",
                "completion-reported",
                "disputed",
                "dispute-resolved",
                "confirmed",
                "rated",
            ],
            start=1,
        )
    )
    facts = [{k: v for k, v in e.items() if k not in ("at", "what", "version")} for e in entries]
    assert facts == [
        {"window_start": START, "window_end": START + timedelta(hours=2)},
        {"reason": "no eligible provider"},
        {"window_start": LATER, "window_end": LATER + timedelta(hours=2)},
        {"offer_id": "offer-1", "provider_id": "provider-1", "why": "Offered to Ykkönen ry."},
        {
            "offer_id": "offer-2",
            "provider_id": "provider-2",
            "why": "Offered to Kakkonen ry.",
            "explanation": READ_FACTS,
        },
        {"provider_id": "provider-2", "contract_id": "contract-2"},
        {"hours": 2.0},
        {"reason": "only half the yard was raked"},
        {"outcome": "adjusted", "hours": 1.5, "note": "one and a half hours is fair"},
        {"hours": 1.5, "how": "adjusted"},
        {"stars": 4, "comment": "fine in the end"},
    ]
    assert [e["at"] for e in entries] == [e.timestamp for e in events]


@pytest.mark.parametrize("caller", [RESIDENT, ADMIN, MEMBER, OFFICER], ids=lambda c: c.subject)
def test_no_entry_names_the_resident(caller):
    request, events = a_life()

    assert b"resident-1" not in msgspec.json.encode(history(request, events, caller))


@pytest.mark.parametrize("caller", [MEMBER, OFFICER], ids=lambda c: c.subject)
def test_an_offer_to_another_provider_is_told_without_who_or_why(caller):
    request, events = a_life()

    offers = [e for e in as_dicts(history(request, events, caller)) if e["what"] == "offered"]

    assert [set(e) for e in offers] == [
        {"at", "what", "version"},
        {"at", "what", "version", "offer_id", "provider_id", "why", "explanation"},
    ]
    assert offers[1]["why"] == "Offered to Kakkonen ry."
    assert offers[1]["explanation"] == READ_FACTS


def test_the_entry_passes_the_explanations_facts_on_as_the_contract_types_them():
    request, events = a_life()

    entries = [e for e in history(request, events, RESIDENT) if e.what == "offered"]

    assert entries[0].explanation is None  # recorded without its facts
    assert entries[1].explanation == msgspec.convert(FACTS, OfferExplanation)


def test_an_offer_recorded_before_its_explanation_travelled_has_no_why():
    request, events = a_life()
    offered = events[3]
    del offered.__dict__["why"]  # as stored by the earlier version
    del offered.__dict__["explanation"]

    (entry,) = as_dicts(history(request, [offered], RESIDENT))

    assert entry == {
        "at": offered.timestamp,
        "what": "offered",
        "version": 4,
        "offer_id": "offer-1",
        "provider_id": "provider-1",
    }
