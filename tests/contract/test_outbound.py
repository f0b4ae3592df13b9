"""Every integration event a service publishes decodes as its ``contracts/`` type, on that
service's stream, unchanged. Each service's outbound map is fed the domain events of a full
life of its aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import msgspec
import pytest

from contracts.events import (
    EVENTS_BY_SERVICE,
    PERSONAL,
    ContractActivatedV1,
    ContractAmendedV1,
    ContractBudgetAlertV1,
    ContractChargedV1,
    ContractChargeReversedV1,
    ContractProposedV1,
    ContractSignedV1,
    OfferAcceptedV1,
    OfferExplanation,
    OfferMadeV1,
    RequestOfferedV1,
    ServiceRequestedV1,
    decode,
    encode,
)
from domain.matching.job import Job
from domain.matching.offer import Offer
from domain.matching.roster import Roster
from domain.partnership import PartnershipContract
from domain.providers import Provider
from domain.requests import ServiceRequest
from domain.residents import ResidentRecord
from domain.series import RequestSeries, SnowfallDay
from domain.tables.expenses import CommonExpenses
from domain.tables.initiative import Initiative
from domain.tables.round import BudgetingRound
from domain.tables.table import PartnershipTable, Spending
from services.matching.explanation import explanation_values
from services.matching.outbound import to_integration_event as matching_out
from services.partnerships.outbound import to_integration_event as partnerships_out
from services.providers.outbound import to_integration_event as providers_out
from services.requests.outbound import to_integration_event as requests_out
from services.tables.outbound import to_integration_event as tables_out

FACTS = OfferExplanation(
    provider_name="Laune Talkoot ry",
    rank=1,
    eligible=2,
    excluded={"declined": 1, "contract": 2},
    unrelated=3,
    preferred=True,
    recent_offers=3,
    window_hours=720.0,
    rating=None,
    distance_km=1.8,
)


def a_request(resident_id: str, description: str = "") -> ServiceRequest:
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    return ServiceRequest.submit(
        resident_id=resident_id,
        category="yard-work",
        region="hollola",
        description=description,
        window_start=start,
        window_end=start + timedelta(hours=2),
    )


def a_request_life() -> list:
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    request = a_request("resident-1", "Leaves")
    request.record_offer(
        "offer-1",
        "provider-1",
        "Offered to provider-1, the only eligible one.",
        explanation_values(FACTS),
    )
    request.assign("offer-1", "provider-1", "contract-1")
    request.report_completion("provider-1", 90)
    request.confirm("resident-1")
    unmatched = a_request("resident-2")
    unmatched.record_unmatched("no eligible provider")
    unmatched.reschedule(
        "resident-2", start + timedelta(days=1), start + timedelta(days=1, hours=2)
    )
    unmatched.record_offer("offer-2", "provider-1")
    unmatched.cancel("resident-2", "done it myself")
    expiring = a_request("resident-3")
    expiring.expire(start + timedelta(hours=3))
    disputed = a_request("resident-4")
    disputed.record_offer("offer-3", "provider-1")
    disputed.assign("offer-3", "provider-1", "contract-1", "lahti-city")
    disputed.report_completion("provider-1", 120)
    disputed.dispute("resident-4", "only half the yard was raked")
    disputed.resolve("lahti-city", "adjusted", 60, "one hour is fair")
    disputed.rate("resident-4", 3, "fine in the end")
    return (
        request.collect_events()
        + unmatched.collect_events()
        + expiring.collect_events()
        + disputed.collect_events()
    )


def a_series_life() -> list:
    series = RequestSeries.start(
        resident_id="resident-1",
        category="snow-clearing",
        region="hollola",
        rule="weekly",
        weekday="monday",
        start_time="07:00",
        duration_minutes=90,
        today=date(2026, 11, 23),
    )
    series.schedule(date(2026, 11, 30), str(uuid4()))
    series.pause("resident-1", date(2026, 12, 10), date(2026, 11, 23))
    series.resume("resident-1")
    series.end("resident-1", "moved away")
    snowfall = SnowfallDay.declare(day=date(2026, 12, 1), regions=["hollola"], declared_by="city")
    snowfall.declare_more(["nastola"], "city")
    return series.collect_events() + snowfall.collect_events()


def a_contract_life() -> list:
    contract = PartnershipContract.propose(
        partner_id="lahti-city",
        provider_id="provider-1",
        categories=["yard-work"],
        regions=["hollola"],
        unit_price_cents=3000,
        budget_cents=5000,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    contract.sign("partner", "lahti-city", "officer-of-lahti-city")
    contract.sign("provider", "provider-1", "member-of-provider-1")
    contract.charge("request-1", 60)
    contract.charge("request-2", 60)  # refused: 30.00 € would exceed the 20.00 € left
    # the next version: a dearer hour and a bigger budget from June, signed by both again
    contract.amend(
        {"unit_price_cents": 3500, "budget_cents": 9000},
        date(2026, 6, 1),
        "officer-of-lahti-city",
        "the price index rose",
    )
    contract.sign("partner", "lahti-city", "head-of-lahti-city")
    contract.sign("provider", "provider-1", "member-of-provider-1")
    contract.charge("request-3", 60, worked_on=date(2026, 6, 2))  # at 35.00 €, version 2
    contract.suspend("the provider's insurance lapsed", "head-of-lahti-city")
    contract.resume("the insurance is in order again", "head-of-lahti-city")
    contract.terminate("the provider closes down", "head-of-lahti-city", date(2026, 9, 1))
    return contract.collect_events()


def a_programme_life() -> list:
    """A table's programme as a contract: signed by the table's decision, then the provider's;
    and one whose provider is not registered, ended at once."""
    lives = []
    for registered in (True, False):
        contract = PartnershipContract.for_programme(
            programme_id=uuid4(),
            table_id="nastola",
            initiative_id=str(uuid4()),
            title="Lumityöt",
            provider_id="provider-1",
            categories=["snow-clearing"],
            regions=["nastola"],
            unit_price_cents=3500,
            pricing="hour",
            budget_cents=7000,
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
            decided_by="coordinator-of-nastola",
            provider_registered=registered,
            on=date(2026, 1, 2),
        )
        if registered:
            contract.sign("provider", "provider-1", "member-of-provider-1")
        lives += contract.collect_events()
    return lives


def a_voucher_contract_life() -> list:
    """A contract priced per job with a service voucher: shares, both budget alerts, a
    reversal, and an amendment of its price terms."""
    contract = PartnershipContract.propose(
        partner_id="lahti-city",
        provider_id="provider-1",
        categories=["yard-work"],
        regions=["hollola"],
        unit_price_cents=6000,
        budget_cents=8000,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        pricing="job",
        voucher_cents=4000,
    )
    contract.sign("partner", "lahti-city", "officer-of-lahti-city")
    contract.sign("provider", "provider-1", "member-of-provider-1")
    contract.charge("request-4", 30)  # 60.00 €: the city 40.00 €, the resident 20.00 €
    contract.charge("request-5", 240)  # the city's 80.00 €: alerts at 80 and 100 %
    contract.reverse("request-5", "the dispute was voided")
    contract.amend(
        {"pricing": "hour", "voucher_cents": 3000, "budget_cents": 10_000},
        date(2026, 6, 1),
        "officer-of-lahti-city",
        "per hour from June",
    )
    contract.sign("partner", "lahti-city", "head-of-lahti-city")
    contract.sign("provider", "provider-1", "member-of-provider-1")
    return contract.collect_events()


def a_provider_life() -> list:
    today = date(2026, 12, 1)
    provider = Provider.register(
        name="Hollolan Talkoot",
        kind="association",
        categories=["yard-work"],
        regions=["hollola"],
        capacity=2,
        business_id="0737546-2",
        lat=60.99,
        long=25.52,
    )
    member = provider.add_member("Aino", "chair")
    provider.remove_member(member)
    provider.change_capabilities(["yard-work", "snow-clearing"], ["hollola"], 3)
    pause = provider.pause(today, None, "holiday", today=today)
    provider.end_pause(pause, today=today)
    provider.record_contract("contract-1", "lahti-city", today, date(2027, 12, 31))
    provider.suspend("lahti-city", "complaints", today=today)
    provider.reinstate("lahti-city", "settled", today=today)
    return provider.collect_events()


def a_matching_life() -> list:
    made_at = datetime(2026, 11, 30, 8, tzinfo=UTC)

    def offer(job: Job, provider_id: str) -> Offer:
        made = Offer(
            request_id=str(job.id),
            provider_id=provider_id,
            contract_id=f"c-{provider_id}",
            partner_id="lahti-city",
            category="yard-work",
            region="hollola",
            declined_by=list(job.declined_by),
            expires_at=made_at + timedelta(hours=24),
            candidates=[{"provider_id": provider_id, "rank": 1}],
            score={"provider_id": provider_id, "rank": 1},
            why=f"Offered to {provider_id}.",
            explanation=explanation_values(FACTS),
        )
        job.record_offer(str(made.id), provider_id)
        return made

    job = Job(id=uuid4(), category="yard-work", region="hollola", on=date(2026, 12, 1))
    first = offer(job, "p-1")
    first.decline("p-1", "fully booked")
    job.record_decline(str(first.id), "p-1")
    second = offer(job, "p-2")
    second.expire(made_at + timedelta(hours=25))
    job.record_expiry(str(second.id), "p-2")
    third = offer(job, "p-3")
    third.withdraw("the request was rescheduled")
    job.record_withdrawal(str(third.id))
    job.reschedule(date(2026, 12, 2))
    fourth = offer(job, "p-4")
    fourth.accept("p-4")
    job.record_taken(str(fourth.id), "p-4")
    job.record_completion()
    lonely = Job(id=uuid4(), category="yard-work", region="hollola", on=date(2026, 12, 1))
    lonely.record_no_provider("no provider is registered")
    lonely.close("the request expired: nobody took it in time")
    roster = Roster()
    roster.enrol_provider("p-1", ["yard-work"], ["hollola"], 2)
    return (
        first.collect_events()
        + second.collect_events()
        + third.collect_events()
        + fourth.collect_events()
        + job.collect_events()
        + lonely.collect_events()
        + roster.collect_events()
    )


def an_erasure_life() -> list:
    record = ResidentRecord.erase(
        resident_id="resident-1", erased_by="admin-1", reason="case 2026-17", keys=1
    )
    record.erase_again("admin-1", "case 2026-18: what came after", 1)
    return record.collect_events()


def a_tables_life() -> list:
    """A table's year: members, a meeting and its fees, an event, an initiative from raising
    to a programme, and a budgeting round from opening to its tally."""
    today = date(2026, 12, 1)
    table = PartnershipTable.found(
        table_id="lahti-east",
        name="Idän alueraati",
        regions=["nastola"],
        coordinator="coord-1",
        founded_on=date(2026, 1, 1),
    )
    table.appoint_coordinator("coord-2", 40)
    table.set_budget(2026, 3_000_000)
    table.join("aino", "Aino", "resident", date(2026, 2, 1), today)
    table.join("eero", "Eero", "association", date(2026, 2, 1), today)
    table.leave("eero", date(2026, 6, 1), today, "moved")
    table.plan_meeting("m1", date(2026, 3, 1), "lighting")
    table.plan_gathering("e1", "speak_out", "Sano sanasi", date(2026, 3, 2))
    table.hold_gathering("e1", 40, ["Uimaranta"], 20_000, today)
    initiative = Initiative.raise_(
        table_id="lahti-east",
        title="Uimaranta",
        description="",
        origin="resident",
        raised_by="resident-1",
        raised_on=date(2026, 3, 2),
        from_event="e1",
        topic="Uimaranta",
    )
    table.file_initiative(str(initiative.id), "resident")
    initiative.support("resident-2")
    table.hold_meeting("m1", ["aino"], ["yes"], [str(initiative.id)], 4_500, today)
    initiative.discuss("m1", date(2026, 3, 1))
    table.pay_fees(date(2026, 4, 1), today, "coord-2")
    initiative.forward("We support it", "coord-2", date(2026, 4, 1), today)
    initiative.answer_with("accepted", "", "officer-1", date(2026, 5, 1), today)
    programme = uuid4()
    initiative.fund_programme(
        programme_id=programme,
        provider_id="p-1",
        categories=["yard-work"],
        regions=["nastola"],
        unit_price_cents=3_000,
        pricing="hour",
        budget_cents=500_000,
        valid_from=date(2026, 6, 1),
        valid_until=date(2026, 12, 31),
        decided_by="coord-2",
        table_regions=["nastola"],
    )
    table.earmark(Spending.PROGRAMME, str(programme), 500_000, date(2026, 6, 1), "Uimaranta")
    initiative.implement("Opened", "officer-1", date(2026, 7, 1), today)
    closed = Initiative.raise_(
        table_id="lahti-east",
        title="Silta",
        description="",
        origin="city",
        raised_by="officer-1",
        raised_on=date(2026, 3, 2),
    )
    closed.close("Not needed", "coord-2", date(2026, 4, 1), today)
    budgeting = BudgetingRound.open(
        table_id="lahti-east",
        title="Lähiraha",
        year=2026,
        budget_cents=100_000,
        rule="at_least",
        minimum=1,
        opened_by="coord-2",
        opened_on=date(2026, 8, 1),
    )
    table.earmark(Spending.ROUND, str(budgeting.id), 100_000, date(2026, 8, 1), "Lähiraha")
    budgeting.propose("p1", "Penkit", "", 60_000, "resident-1")
    budgeting.advance("reviewing")
    budgeting.review("p1", True, "")
    budgeting.advance("selecting")
    budgeting.select("p1", "resident-2")
    budgeting.advance("publishing_costs")
    budgeting.advance("balloting")
    budgeting.cast("voter-pseudonym", ["p1"], "online", "voter-pseudonym")
    result = budgeting.finish()
    table.release(str(budgeting.id), result.left_cents, "not allocated")
    common = CommonExpenses.open(2026)
    common.record("x-1", 250_000, date(2026, 9, 1), "marketing", "Esitteet", "admin-1", today)
    return (
        table.collect_events()
        + initiative.collect_events()
        + closed.collect_events()
        + budgeting.collect_events()
        + common.collect_events()
    )


LIVES = {
    "requests": (requests_out, lambda: a_request_life() + a_series_life() + an_erasure_life()),
    "providers": (providers_out, a_provider_life),
    "matching": (matching_out, a_matching_life),
    "partnerships": (
        partnerships_out,
        lambda: a_contract_life() + a_voucher_contract_life() + a_programme_life(),
    ),
    "tables": (tables_out, a_tables_life),
}


@pytest.mark.parametrize("service", sorted(LIVES))
def test_published_events_decode_as_their_contract_types(service):
    outbound, life = LIVES[service]
    published = [e for e in map(outbound, life()) if e is not None]
    assert published
    for event in published:
        decoded = decode(service, encode(event))
        assert decoded == event
        assert type(decoded).__name__.endswith("V1")


@pytest.mark.parametrize("service", sorted(LIVES))
def test_a_life_publishes_every_event_type_of_its_stream(service):
    outbound, life = LIVES[service]
    kinds = {type(e) for e in map(outbound, life()) if e is not None}
    union = EVENTS_BY_SERVICE[service]
    expected = set(getattr(union, "__args__", (union,)))
    assert kinds == expected


@pytest.mark.parametrize("service", ["requests", "partnerships"])
def test_every_event_of_a_service_read_by_position_is_published(service):
    """Queries wait for a command's position on a projection of the stream, so every domain
    event of these services must go out (or a read-your-write would wait in vain)."""
    outbound, life = LIVES[service]
    assert all(outbound(event) is not None for event in life())


def test_a_common_expense_travels_with_its_year_amount_day_purpose_and_note():
    (recorded,) = [e for e in a_tables_life() if isinstance(e, CommonExpenses.Recorded)]
    published = decode("tables", encode(tables_out(recorded)))
    assert (published.year, published.expense_id, published.amount_cents) == (2026, "x-1", 250_000)
    assert (published.on, published.purpose, published.note) == (
        date(2026, 9, 1),
        "marketing",
        "Esitteet",
    )
    assert published.recorded_by == "admin-1"
    opened = [e for e in a_tables_life() if isinstance(e, CommonExpenses.Opened)]
    assert opened and tables_out(opened[0]) is None  # the year's opening stays inside


def test_another_services_event_does_not_decode_on_this_stream():
    provider_event = providers_out(a_provider_life()[0])
    with pytest.raises(msgspec.ValidationError):
        decode("requests", encode(provider_event))


def test_a_published_signature_names_its_party_and_the_person_who_signed():
    published = [partnerships_out(e) for e in a_contract_life()]
    signed = [(e.party, e.signed_by) for e in published if isinstance(e, ContractSignedV1)]

    assert signed == [
        ("partner", "officer-of-lahti-city"),
        ("provider", "member-of-provider-1"),
    ]


def test_a_charge_names_the_version_in_force_on_the_day_of_the_work():
    published = [partnerships_out(e) for e in a_contract_life()]
    charges = [
        (e.request_id, e.amount_cents, e.version)
        for e in published
        if isinstance(e, ContractChargedV1)
    ]
    assert charges == [("request-1", 3000, 1), ("request-3", 3500, 2)]
    (amended,) = [e for e in published if isinstance(e, ContractAmendedV1)]
    assert (amended.version, amended.effective_from, amended.remaining_cents) == (
        2,
        date(2026, 6, 1),
        9000 - 3000,
    )


def test_matching_publishes_the_partner_and_the_time_an_offer_lapses():
    published = [e for e in map(matching_out, a_matching_life()) if e is not None]
    made = [e for e in published if isinstance(e, OfferMadeV1)]
    accepted = [e for e in published if isinstance(e, OfferAcceptedV1)]

    assert len(made) == 4
    assert all(e.partner_id == "lahti-city" for e in made + accepted)
    assert made[0].expires_at == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert accepted[0].provider_id == "p-4"


def test_an_offers_explanation_travels_from_matching_to_the_request_board():
    made = [e for e in map(matching_out, a_matching_life()) if isinstance(e, OfferMadeV1)]
    offered = [e for e in map(requests_out, a_request_life()) if isinstance(e, RequestOfferedV1)]

    assert [e.why for e in made] == [f"Offered to p-{n}." for n in (1, 2, 3, 4)]
    assert offered[0].why == "Offered to provider-1, the only eligible one."
    assert offered[1].why == ""  # recorded without one


def test_an_offers_facts_travel_from_matching_to_the_request_as_the_contract_types_them():
    made = [e for e in map(matching_out, a_matching_life()) if isinstance(e, OfferMadeV1)]
    offered = [e for e in map(requests_out, a_request_life()) if isinstance(e, RequestOfferedV1)]
    request = a_request("resident-1")
    # what the requests service does with OfferMadeV1: its facts stored as plain values
    request.record_offer(
        made[0].offer_id,
        made[0].provider_id,
        made[0].why,
        msgspec.to_builtins(made[0].explanation),
    )
    _, recorded = request.collect_events()

    assert [e.explanation for e in made] == [FACTS] * 4
    assert (offered[0].explanation, offered[1].explanation) == (FACTS, None)
    assert requests_out(recorded).explanation == made[0].explanation


@pytest.mark.parametrize("kind", [OfferMadeV1, RequestOfferedV1])
def test_an_offer_event_sent_before_its_facts_travelled_still_decodes(kind):
    service = "matching" if kind is OfferMadeV1 else "requests"
    ids = {"offer_id": "offer-1", "request_id": "request-1", "provider_id": "p-1"}
    extra = {"contract_id": "c-1"} if kind is OfferMadeV1 else {}
    event = kind(
        occurred_at=datetime(2026, 12, 1, 8, tzinfo=UTC), **ids, **extra, why="Offered to p-1."
    )
    payload = msgspec.json.decode(encode(event))
    del payload["explanation"]  # as published before the field existed

    decoded = decode(service, msgspec.json.encode(payload))

    assert decoded == event and decoded.explanation is None
    assert decode(service, encode(msgspec.structs.replace(event, explanation=FACTS))) == (
        msgspec.structs.replace(event, explanation=FACTS)
    )


def test_an_offer_stored_without_an_explanation_publishes_an_empty_one():
    (made,) = Offer(
        request_id="request-1",
        provider_id="p-1",
        contract_id="c-1",
        category="yard-work",
        region="hollola",
        declined_by=[],
    ).collect_events()
    request = a_request("resident-1")
    request.record_offer("offer-1", "p-1", "Offered to p-1.")
    _, offered = request.collect_events()
    for event in (made, offered):
        del event.__dict__["why"]  # as stored before the fields existed
        del event.__dict__["explanation"]

    assert (matching_out(made).why, matching_out(made).explanation) == ("", None)
    assert (requests_out(offered).why, requests_out(offered).explanation) == ("", None)


def test_matching_keeps_its_roster_and_budget_commitments_to_itself():
    roster = Roster()
    roster.enrol_provider("p-1", ["yard-work"], ["hollola"], 2)
    roster.take_job("p-1", "offer-1", "request-1", contract_id="c-1", estimated_cents=4500)
    roster.release_job("p-1", "offer-1")
    roster.take_job("p-1", "offer-2", "request-1", contract_id="c-1", estimated_cents=4500)
    roster.settle_offer("offer-2")
    roster.release_commitment("request-1")

    assert [matching_out(e) for e in roster.collect_events()] == [None] * 7


def test_a_ballot_is_published_without_its_voter_or_choice_and_a_table_keeps_its_list():
    events = a_tables_life()
    cast = next(e for e in events if isinstance(e, BudgetingRound.BallotCast))
    published = encode(tables_out(cast))
    assert b"voter-pseudonym" not in published and b"p1" not in published
    filed = [e for e in events if isinstance(e, PartnershipTable.InitiativeFiled)]
    assert filed and [tables_out(e) for e in filed] == [None]


def test_a_residents_personal_data_is_never_published_in_clear():
    """Without a keyring (no resident's key to seal it with) it travels as nothing; the
    relay's keyring seals it (tests/integration/test_personal_data.py)."""
    published = [requests_out(e) for e in a_request_life() + a_series_life()]
    personal = [e for e in published if type(e) in PERSONAL]
    assert {type(e) for e in personal} == set(PERSONAL)
    for event in personal:
        assert event.sealed is None
        for name in PERSONAL[type(event)]:
            assert getattr(event, name) in ("", None), (type(event).__name__, name)
    text = b"".join(encode(e) for e in published)
    for words in ("Leaves", "done it myself", "only half the yard", "fine in the end", "moved"):
        assert words.encode() not in text


def test_an_erasure_is_published_without_personal_data():
    [first, again] = [requests_out(e) for e in an_erasure_life()]
    assert (first.resident_id, first.erased_by, first.reason, first.keys) == (
        "resident-1",
        "admin-1",
        "case 2026-17",
        1,
    )
    assert first.record_id == again.record_id


def test_a_voucher_contract_publishes_its_price_terms_shares_alerts_and_reversal():
    published = [partnerships_out(e) for e in a_voucher_contract_life()]
    proposed, activated = (
        next(e for e in published if isinstance(e, kind))
        for kind in (ContractProposedV1, ContractActivatedV1)
    )
    assert (proposed.pricing, proposed.voucher_cents) == ("job", 4000)
    assert (activated.pricing, activated.voucher_cents) == ("job", 4000)
    charges = [
        (e.request_id, e.amount_cents, e.city_cents, e.resident_cents, e.remaining_cents)
        for e in published
        if isinstance(e, ContractChargedV1)
    ]
    assert charges == [("request-4", 6000, 4000, 2000, 4000), ("request-5", 6000, 4000, 2000, 0)]
    alerts = [
        (e.threshold, e.charged_cents) for e in published if isinstance(e, ContractBudgetAlertV1)
    ]
    assert alerts == [(80, 8000), (100, 8000)]
    (reversal,) = [e for e in published if isinstance(e, ContractChargeReversedV1)]
    assert (reversal.request_id, reversal.city_cents, reversal.remaining_cents) == (
        "request-5",
        4000,
        4000,
    )
    (amended,) = [e for e in published if isinstance(e, ContractAmendedV1)]
    assert (amended.pricing, amended.voucher_cents, amended.remaining_cents) == (
        "hour",
        3000,
        10_000 - 4000,
    )


@pytest.mark.parametrize(
    ("kind", "dropped"),
    [
        (ContractProposedV1, ("pricing", "voucher_cents")),
        (ContractActivatedV1, ("pricing", "voucher_cents")),
        (ContractAmendedV1, ("pricing", "voucher_cents")),
        (ContractChargedV1, ("city_cents", "resident_cents")),
    ],
)
def test_a_contract_event_published_before_prices_and_shares_decodes_with_the_defaults(
    kind, dropped
):
    event = next(e for e in map(partnerships_out, a_voucher_contract_life()) if type(e) is kind)
    payload = msgspec.json.decode(encode(event))
    for name in dropped:
        del payload[name]  # as published before the fields existed

    decoded = decode("partnerships", msgspec.json.encode(payload))

    assert type(decoded) is kind
    if kind is ContractChargedV1:
        assert (decoded.city_cents, decoded.resident_cents) == (None, 0)
        assert decoded.city == decoded.amount_cents  # the city paid it all
    else:
        assert (decoded.pricing, decoded.voucher_cents) == ("hour", None)


def test_a_charge_stored_before_shares_publishes_the_city_paying_it_all():
    events = a_voucher_contract_life()
    charged = next(e for e in events if type(e).__name__ == "Charged")
    for name in ("city_cents", "resident_cents"):
        del charged.__dict__[name]  # as stored before vouchers
    published = partnerships_out(charged)
    assert (published.city_cents, published.resident_cents, published.city) == (None, 0, 6000)


# --- freedom of choice ----------------------------------------------------------------------

CHOICE = msgspec.structs.replace(
    FACTS, chosen=False, choice="declined", chosen_name="Kärkölän Kyläpalvelu"
)


def test_the_residents_choice_travels_on_the_request_and_old_requests_decode_without_it():
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    chose = ServiceRequest.submit(
        resident_id="resident-1",
        category="yard-work",
        region="hollola",
        description="",
        window_start=start,
        window_end=start + timedelta(hours=4),
        chosen_provider_id="provider-2",
        now=start - timedelta(days=1),
    )
    (submitted,) = chose.collect_events()
    published = requests_out(submitted)
    assert isinstance(published, ServiceRequestedV1)
    assert published.chosen_provider_id == "provider-2"
    assert decode("requests", encode(published)) == published

    payload = msgspec.json.decode(encode(published))
    del payload["chosen_provider_id"]  # as published before the field existed
    assert decode("requests", msgspec.json.encode(payload)).chosen_provider_id is None

    (old,) = a_request("resident-1").collect_events()
    del old.__dict__["chosen_provider_id"]  # as stored before the field existed
    assert requests_out(old).chosen_provider_id is None


@pytest.mark.parametrize("kind", [OfferMadeV1, RequestOfferedV1])
def test_an_offers_facts_sent_before_the_choice_decode_with_no_choice(kind):
    service = "matching" if kind is OfferMadeV1 else "requests"
    ids = {"offer_id": "offer-1", "request_id": "request-1", "provider_id": "p-1"}
    extra = {"contract_id": "c-1"} if kind is OfferMadeV1 else {}
    event = kind(
        occurred_at=datetime(2026, 12, 1, 8, tzinfo=UTC), **ids, **extra, explanation=CHOICE
    )
    assert decode(service, encode(event)) == event

    payload = msgspec.json.decode(encode(event))
    for name in ("chosen", "choice", "chosen_name", "choice_rule"):
        del payload["explanation"][name]  # as published before the fields existed
    decoded = decode(service, msgspec.json.encode(payload))

    assert decoded.explanation == FACTS
    assert (decoded.explanation.chosen, decoded.explanation.choice) == (False, "")
