"""The audit trail's pure rules: pseudonyms, steps, actors, what a timeline keeps of an event,
where an arrangement stands, and the period of Lahti's days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts.events import (
    ChargeRefusedV1,
    OfferAcceptedV1,
    RequestConfirmedV1,
    ServiceRequestedV1,
)
from contracts.personal import Sealed
from domain.errors import InvalidValue
from projections.arrangements import actor_of, details_of, pseudonym, status_of, step_of
from services.partnerships.arrangements_api import period

AT = datetime(2026, 5, 3, 9, tzinfo=UTC)


def test_a_pseudonym_is_the_same_for_a_resident_and_differs_by_key_and_resident():
    one = pseudonym("secret-a" * 4, "resident-1")
    assert one == pseudonym("secret-a" * 4, "resident-1")
    assert one != pseudonym("secret-b" * 4, "resident-1")
    assert one != pseudonym("secret-a" * 4, "resident-2")
    assert one.startswith("anon-") and "resident-1" not in one


def test_each_event_is_a_step_and_one_not_named_is_named_from_its_type():
    assert step_of("ServiceRequestedV1") == "submitted"
    assert step_of("ContractChargedV1") == "charged"
    assert step_of("ChargeReversedV1") == "charge-reversed"
    assert step_of("ChargeReversedV2") == "charge-reversed"


def test_the_actor_is_the_resident_the_provider_or_the_service():
    accepted = OfferAcceptedV1(
        occurred_at=AT, offer_id="o", request_id="r", provider_id="p", contract_id="c"
    )
    assert actor_of(accepted, "matching", None) == "provider:p"
    refused = ChargeRefusedV1(
        occurred_at=AT,
        contract_id="c",
        request_id="r",
        minutes=60,
        amount_cents=1,
        remaining_cents=0,
        reason="over",
    )
    assert actor_of(refused, "partnerships", None) == "service:partnerships"

    def confirmed(how: str) -> RequestConfirmedV1:
        return RequestConfirmedV1(
            occurred_at=AT,
            request_id="r",
            resident_id="x",
            provider_id="p",
            contract_id="c",
            minutes=60,
            how=how,
        )

    assert actor_of(confirmed("resident"), "requests", "anon-1") == "resident:anon-1"
    assert actor_of(confirmed("automatic"), "requests", "anon-1") == "service:requests"


def test_a_timeline_keeps_no_personal_field_nor_the_residents_id():
    submitted = ServiceRequestedV1(
        occurred_at=AT,
        request_id="r",
        resident_id="resident-1",
        category="yard-work",
        region="lahti-laune",
        description="Behind the red house",  # as an event from before sealing carries it
        address="Kauppakatu 1",
        window_start=AT,
        window_end=AT,
        sealed=Sealed(
            resident_id="resident-1", key_id="k", context="c", nonce=b"n" * 12, data=b"secret"
        ),
    )
    facts = details_of(submitted, "anon-1")
    assert facts["category"] == "yard-work" and facts["resident"] == "anon-1"
    text = str(facts)
    for left_out in ("resident-1", "Behind the red house", "Kauppakatu", "key_id"):
        assert left_out not in text


@pytest.mark.parametrize(
    ("happened", "status"),
    [
        ({}, "assigned"),
        ({"completed_at": AT}, "completed"),
        ({"completed_at": AT, "disputed_at": AT}, "disputed"),
        ({"completed_at": AT, "disputed_at": AT, "ruling": "voided"}, "voided"),
        ({"completed_at": AT, "confirmed_at": AT}, "confirmed"),
        ({"charged_at": AT}, "charged"),  # a charge read before the confirmation
        ({"cancelled_at": AT}, "cancelled"),
    ],
)
def test_where_an_arrangement_stands_comes_from_what_happened_in_any_order(happened, status):
    assert status_of(happened) == status


def test_a_period_is_lahtis_days_both_included():
    start, end = period(date(2026, 6, 1), date(2026, 6, 30))
    assert start == datetime(2026, 5, 31, 21, tzinfo=UTC)  # midnight in Lahti, summer time
    assert end == datetime(2026, 6, 30, 21, tzinfo=UTC)
    assert period(None, None) == (None, None)
    with pytest.raises(InvalidValue) as refused:
        period(date(2026, 6, 2), date(2026, 6, 1))
    assert refused.value.rule == "until"
