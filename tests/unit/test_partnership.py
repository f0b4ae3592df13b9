"""PartnershipContract: proposed, signed by both parties (the partner through as many officers
as its rule asks, never its proposer alone), active, charged within its budget; and the registry
of municipal partners."""

from datetime import date

import pytest

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.money import Money
from domain.partnership import (
    ContractStatus,
    MunicipalPartner,
    PartnershipContract,
    partner_key,
)

PARTNER = "city-elderly-services"
PROVIDER = "provider-1"
OFFICER = "officer-7"  # the person who signs for the partner
MEMBER = "member-3"  # the person who signs for the provider
# per party: whom the signer acts for, and who they are
SIGNERS = {"partner": (PARTNER, OFFICER), "provider": (PROVIDER, MEMBER)}


def propose(**overrides) -> PartnershipContract:
    fields = {
        "partner_id": PARTNER,
        "provider_id": PROVIDER,
        "categories": ["snow_clearing"],
        "regions": ["kivimaa"],
        "unit_price_cents": 4000,
        "budget_cents": 10_000,
        "valid_from": date(2025, 1, 1),
        "valid_until": date(2025, 12, 31),
    }
    fields.update(overrides)
    return PartnershipContract.propose(**fields)


def active(**overrides) -> PartnershipContract:
    contract = propose(**overrides)
    contract.sign("partner", PARTNER, OFFICER)
    contract.sign("provider", PROVIDER, MEMBER)
    contract.collect_events()
    return contract


def replay(events):
    contract = None
    for e in events:
        contract = e.mutate(contract)
    return contract


def event_names(contract: PartnershipContract) -> list[str]:
    return [type(e).__name__ for e in contract.collect_events()]


# --- propose -----------------------------------------------------------------------------


def test_a_proposed_contract_is_not_active_and_has_its_whole_budget():
    contract = propose()

    assert event_names(contract) == ["Proposed"]
    assert contract.status == ContractStatus.PROPOSED
    assert contract.signed_by == {}
    assert contract.remaining == Money(10_000)
    assert contract.charged_cents == 0


def test_scope_is_deduplicated_and_sorted():
    contract = propose(categories=["yard", "snow", "yard"], regions=["b", "a", "a"])
    assert contract.categories == ["snow", "yard"]
    assert contract.regions == ["a", "b"]


def test_a_one_day_contract_is_allowed():
    contract = propose(valid_from=date(2025, 6, 1), valid_until=date(2025, 6, 1))
    assert contract.valid_until == contract.valid_from


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"partner_id": " "}, "partner_id"),
        ({"provider_id": ""}, "provider_id"),
        ({"categories": []}, "categories"),
        ({"regions": []}, "regions"),
        ({"unit_price_cents": 0}, "unit_price_cents"),
        ({"unit_price_cents": -100}, "unit_price_cents"),
        ({"budget_cents": 0}, "budget_cents"),
        ({"budget_cents": -1}, "budget_cents"),
        ({"valid_from": date(2025, 2, 1), "valid_until": date(2025, 1, 31)}, "valid_until"),
        ({"provider_registered": False}, "provider_id"),
    ],
)
def test_propose_refuses_invalid_terms(overrides, rule):
    with pytest.raises(InvalidValue) as refused:
        propose(**overrides)
    assert refused.value.rule == rule


def test_terms_that_are_wrong_are_named_before_a_provider_that_is_not_registered():
    with pytest.raises(InvalidValue) as refused:
        propose(budget_cents=0, provider_registered=False)
    assert refused.value.rule == "budget_cents"


# --- sign --------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["partner", "provider"])
def test_one_signature_records_the_person_and_does_not_activate(party):
    contract = propose()
    contract.collect_events()

    contract.sign(party, *SIGNERS[party])

    events = contract.collect_events()
    assert [type(e).__name__ for e in events] == ["Signed"]
    assert (events[0].party, events[0].signed_by) == (party, SIGNERS[party][1])
    assert contract.signed_by == {party: SIGNERS[party][1]}
    assert contract.status == ContractStatus.PROPOSED


@pytest.mark.parametrize("first", ["partner", "provider"])
def test_the_second_signature_activates_the_contract(first):
    second = "provider" if first == "partner" else "partner"
    contract = propose()
    contract.collect_events()

    contract.sign(first, *SIGNERS[first])
    contract.sign(second, *SIGNERS[second])

    assert event_names(contract) == ["Signed", "Signed", "Activated"]
    assert contract.status == ContractStatus.ACTIVE
    assert contract.signed_by == {"partner": OFFICER, "provider": MEMBER}


@pytest.mark.parametrize("party", ["partner", "provider"])
def test_a_party_cannot_sign_twice(party):
    contract = propose()
    contract.sign(party, *SIGNERS[party])
    contract.collect_events()

    with pytest.raises(WrongState, match="already signed"):
        contract.sign(party, SIGNERS[party][0], "someone-else-of-the-same-party")

    assert contract.collect_events() == []
    assert contract.signed_by == {party: SIGNERS[party][1]}
    assert contract.status == ContractStatus.PROPOSED


def test_signing_again_after_activation_is_refused():
    contract = active()
    with pytest.raises(WrongState):
        contract.sign("partner", PARTNER, OFFICER)
    assert contract.collect_events() == []


@pytest.mark.parametrize(
    ("party", "acting_for"),
    [
        ("partner", PROVIDER),
        ("partner", "city-someone-else"),
        ("partner", None),  # a person who speaks for no partner, such as an admin
        ("provider", PARTNER),
        ("provider", "provider-2"),
        ("provider", None),
    ],
)
def test_only_someone_acting_for_the_named_party_can_sign_for_it(party, acting_for):
    contract = propose()
    contract.collect_events()

    with pytest.raises(NotAllowed) as refused:
        contract.sign(party, acting_for, "person-1")

    assert refused.value.rule == "party"
    assert contract.signed_by == {}
    assert contract.collect_events() == []


@pytest.mark.parametrize("party", ["resident", "Partner", ""])
def test_signing_as_an_unknown_party_is_refused(party):
    contract = propose()
    with pytest.raises(InvalidValue) as refused:
        contract.sign(party, PARTNER, OFFICER)
    assert refused.value.rule == "party"


@pytest.mark.parametrize("person", ["", "  "])
def test_a_signature_names_the_person_who_signs(person):
    contract = propose()
    contract.collect_events()
    with pytest.raises(InvalidValue) as refused:
        contract.sign("partner", PARTNER, person)
    assert refused.value.rule == "signed_by"
    assert contract.collect_events() == []


# --- charge ------------------------------------------------------------------------------


def test_a_charge_is_hours_times_unit_price_in_cents():
    contract = active(unit_price_cents=4250, budget_cents=100_000)

    outcome = contract.charge("request-1", 90)

    assert outcome.accepted
    assert outcome.amount == Money(6375)
    assert outcome.remaining == Money(93_625)
    assert outcome.reason == ""
    events = contract.collect_events()
    assert [type(e).__name__ for e in events] == ["Charged"]
    assert events[0].request_id == "request-1"
    assert events[0].minutes == 90
    assert events[0].amount_cents == 6375
    assert contract.charged_cents == 6375
    assert contract.charged_requests == {"request-1": 6375}


@pytest.mark.parametrize(
    ("unit_cents", "minutes", "expected_cents"),
    [(1001, 10, 167), (101, 30, 51), (1999, 45, 1499)],
)
def test_a_charge_is_rounded_half_up_to_the_cent(unit_cents, minutes, expected_cents):
    contract = active(unit_price_cents=unit_cents, budget_cents=100_000)
    assert contract.charge("request-1", minutes).amount == Money(expected_cents)
    assert contract.charged_cents == expected_cents


def test_charges_add_up_against_the_budget():
    contract = active(unit_price_cents=4000, budget_cents=10_000)

    contract.charge("request-1", 60)
    contract.charge("request-2", 30)

    assert contract.charged_cents == 6000
    assert contract.remaining == Money(4000)
    assert contract.charged_requests == {"request-1": 4000, "request-2": 2000}


def test_a_charge_that_uses_the_exact_remaining_budget_is_accepted():
    contract = active(unit_price_cents=4000, budget_cents=10_000)

    outcome = contract.charge("request-1", 150)

    assert outcome.accepted
    assert outcome.remaining == Money(0)


def test_a_charge_over_the_remaining_budget_is_refused_and_recorded():
    contract = active(unit_price_cents=4000, budget_cents=10_000)
    contract.charge("request-1", 120)  # 8000 charged, 2000 left
    contract.collect_events()

    outcome = contract.charge("request-2", 60)  # 4000 asked

    assert not outcome.accepted
    assert outcome.amount == Money(4000)
    assert outcome.remaining == Money(2000)
    assert "exceeds the remaining budget" in outcome.reason
    events = contract.collect_events()
    assert [type(e).__name__ for e in events] == ["ChargeRefused"]
    refused = events[0]
    assert refused.request_id == "request-2"
    assert refused.minutes == 60
    assert refused.amount_cents == 4000
    assert refused.remaining_cents == 2000
    assert refused.reason == outcome.reason


def test_a_refused_charge_charges_nothing():
    contract = active(unit_price_cents=4000, budget_cents=10_000)

    contract.charge("request-1", 151)  # 10067 > 10000

    assert contract.charged_cents == 0
    assert contract.remaining == Money(10_000)
    assert contract.charged_requests == {}


def test_after_a_refusal_a_smaller_charge_still_fits():
    contract = active(unit_price_cents=4000, budget_cents=10_000)
    assert not contract.charge("request-1", 600).accepted

    assert contract.charge("request-2", 60).accepted
    assert contract.remaining == Money(6000)


def test_a_request_cannot_be_charged_twice():
    contract = active(unit_price_cents=4000, budget_cents=100_000)
    contract.charge("request-1", 60)
    contract.collect_events()

    with pytest.raises(WrongState, match="already been charged"):
        contract.charge("request-1", 60)

    assert contract.charged_cents == 4000
    assert contract.collect_events() == []


def test_a_proposed_contract_cannot_be_charged():
    contract = propose()
    contract.collect_events()

    with pytest.raises(WrongState, match="not active"):
        contract.charge("request-1", 60)

    assert contract.collect_events() == []
    assert contract.charged_cents == 0


def test_a_contract_signed_by_one_party_cannot_be_charged():
    contract = propose()
    contract.sign("provider", PROVIDER, MEMBER)
    with pytest.raises(WrongState):
        contract.charge("request-1", 60)


@pytest.mark.parametrize("minutes", [0, -30])
def test_a_charge_needs_positive_minutes(minutes):
    contract = active()
    with pytest.raises(InvalidValue):
        contract.charge("request-1", minutes)
    assert contract.collect_events() == []


# --- replay ------------------------------------------------------------------------------


def test_replaying_the_contract_gives_the_same_state():
    contract = propose(unit_price_cents=4000, budget_cents=10_000)
    contract.sign("provider", PROVIDER, MEMBER)
    contract.sign("partner", PARTNER, OFFICER)
    contract.charge("request-1", 90)
    contract.charge("request-2", 600)  # refused
    events = contract.collect_events()

    copy = replay(events)

    assert [type(e).__name__ for e in events] == [
        "Proposed",
        "Signed",
        "Signed",
        "Activated",
        "Charged",
        "ChargeRefused",
    ]
    assert vars(copy) == vars(contract)
    assert copy.status == ContractStatus.ACTIVE
    assert copy.remaining == Money(4000)
    assert copy.charged_requests == {"request-1": 6000}


# --- who signs for the partner ---------------------------------------------------------------

PROPOSER = "officer-1"


def test_the_proposer_alone_does_not_sign_for_the_partner():
    contract = propose(proposed_by=PROPOSER)
    contract.sign("provider", PROVIDER, MEMBER)
    contract.sign("partner", PARTNER, PROPOSER)

    assert contract.status == ContractStatus.PROPOSED and not contract.partner_has_signed
    with pytest.raises(WrongState, match="another officer") as twice:
        contract.sign("partner", PARTNER, PROPOSER)
    assert twice.value.rule == "another_signer"

    contract.sign("partner", PARTNER, OFFICER)

    assert contract.status == ContractStatus.ACTIVE
    assert contract.signed_by["partner"] == f"{PROPOSER}, {OFFICER}"


def test_another_officer_alone_signs_a_contract_needing_one_signature():
    contract = propose(proposed_by=PROPOSER)
    contract.sign("partner", PARTNER, OFFICER)
    contract.sign("provider", PROVIDER, MEMBER)
    assert contract.status == ContractStatus.ACTIVE
    with pytest.raises(WrongState, match="nothing of it waits for a signature"):
        contract.sign("partner", PARTNER, "officer-9")


def test_a_contract_needing_two_signatures_is_active_after_the_second_officer_signs():
    contract = propose(proposed_by=PROPOSER, partner_signatures_needed=2)
    contract.sign("provider", PROVIDER, MEMBER)
    contract.sign("partner", PARTNER, OFFICER)
    assert contract.status == ContractStatus.PROPOSED
    contract.sign("partner", PARTNER, PROPOSER)  # the proposer may be the second of two
    assert contract.status == ContractStatus.ACTIVE
    assert replay(contract.collect_events()).partner_signers == [OFFICER, PROPOSER]


def test_an_officer_without_the_right_to_sign_is_refused_and_nothing_is_recorded():
    contract = propose(proposed_by=PROPOSER)
    contract.collect_events()
    with pytest.raises(NotAllowed) as refused:
        contract.sign("partner", PARTNER, OFFICER, may_sign=False)
    assert refused.value.rule == "may_sign" and contract.collect_events() == []


def test_a_contract_proposed_before_the_proposer_was_recorded_replays_and_signs_as_before():
    current = propose(proposed_by=PROPOSER, partner_signatures_needed=2)
    (proposed,) = current.collect_events()
    for name in ("proposed_by", "partner_signatures_needed"):
        del proposed.__dict__[name]  # as stored by an earlier version
    contract = replay([proposed])
    assert (contract.proposed_by, contract.partner_signatures_needed) == ("", 1)
    contract.sign("partner", PARTNER, OFFICER)
    contract.sign("provider", PROVIDER, MEMBER)
    assert contract.status == ContractStatus.ACTIVE


# --- the registry of municipal partners ------------------------------------------------------


def a_partner(threshold: int | None = 500_000) -> MunicipalPartner:
    partner = MunicipalPartner.register("lahti-technical", "Tekninen toimiala", threshold)
    partner.collect_events()
    return partner


def test_a_partner_is_found_by_its_code_and_says_how_many_sign_by_the_budget():
    partner = a_partner()
    assert partner.id == partner_key("lahti-technical")
    assert [partner.signatures_needed(c) for c in (100, 500_000, 500_001)] == [1, 1, 2]
    assert MunicipalPartner.register("lahti-x", "X").signatures_needed(10**12) == 1


@pytest.mark.parametrize(
    ("code", "name", "threshold", "rule"),
    [
        ("Lahti City", "A", None, "partner_id"),
        ("ab", "A", None, "partner_id"),
        ("lahti-", "A", None, "partner_id"),
        ("lahti-city", "   ", None, "name"),
        ("lahti-city", "x" * 201, None, "name"),
        ("lahti-city", "A", 0, "second_signature_above_cents"),
    ],
)
def test_a_partner_that_cannot_be_registered_is_refused_naming_what(code, name, threshold, rule):
    with pytest.raises(InvalidValue) as refused:
        MunicipalPartner.register(code, name, threshold)
    assert refused.value.rule == rule


def test_officers_are_appointed_change_their_right_to_sign_and_leave_and_replay():
    partner = MunicipalPartner.register("lahti-technical", "Tekninen toimiala", 500_000)
    partner.appoint("officer-1", may_sign=False)
    partner.appoint("officer-2", may_sign=True)
    assert partner.is_officer("officer-1") and not partner.may_sign("officer-1")
    with pytest.raises(WrongState):
        partner.appoint("officer-1", may_sign=False)  # as it is already
    partner.appoint("officer-1", may_sign=True)
    partner.relieve("officer-2", "moved to another unit")
    with pytest.raises(WrongState):
        partner.relieve("officer-2", "again")
    with pytest.raises(InvalidValue):
        partner.relieve("officer-1", "  ")
    partner.change_rule(None)

    events = partner.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Registered",
        "OfficerAppointed",
        "OfficerAppointed",
        "OfficerAppointed",
        "OfficerRelieved",
        "RuleChanged",
    ]
    copy = replay(events)
    assert copy.officers == {"officer-1": True} and copy.second_signature_above_cents is None


def a_partner_events():
    return MunicipalPartner.register(
        "lahti-technical", "Tekninen toimiala", 500_000
    ).collect_events()


# --- versions, amendments, suspension and termination ---------------------------------------


def amended(contract: PartnershipContract, changes: dict, on: date, by=("head", MEMBER)):
    contract.amend(changes, on, OFFICER, "the price index rose")
    contract.sign("partner", PARTNER, by[0])
    contract.sign("provider", PROVIDER, by[1])
    return contract


def test_an_amendment_signed_again_is_the_next_version_and_prices_the_work_from_its_day():
    contract = active(unit_price_cents=4000, budget_cents=100_000)
    contract.charge("before", 60, worked_on=date(2025, 3, 1))
    amended(contract, {"unit_price_cents": 5000}, date(2025, 6, 1))

    assert contract.terms_version == 2 and contract.unit_price_cents == 5000
    assert [v["unit_price_cents"] for v in contract.versions] == [4000, 5000]
    contract.charge("may", 60, worked_on=date(2025, 5, 31))
    contract.charge("june", 60, worked_on=date(2025, 6, 1))
    events = contract.collect_events()
    charged = [
        (e.request_id, e.amount_cents, e.version) for e in events if type(e).__name__ == "Charged"
    ]
    assert charged == [("before", 4000, 1), ("may", 4000, 1), ("june", 5000, 2)]


def test_a_contract_with_versions_replays_to_the_same_versions_and_terms():
    contract = propose()
    contract.sign("partner", PARTNER, OFFICER)
    contract.sign("provider", PROVIDER, MEMBER)
    amended(contract, {"regions": ["kivimaa", "mukkula"]}, date(2025, 4, 1))
    amended(contract, {"valid_until": date(2026, 6, 30)}, date(2025, 8, 1))
    copy = replay(contract.collect_events())
    assert copy.versions == contract.versions and len(copy.versions) == 3
    assert copy.terms == contract.terms and copy.valid_until == date(2026, 6, 30)


def test_an_amendment_waits_for_both_signatures_and_one_at_a_time():
    contract = active()
    contract.amend({"budget_cents": 20_000}, date(2025, 7, 1), OFFICER, "more snow")
    assert contract.amendment["version"] == 2 and contract.terms_version == 1
    with pytest.raises(WrongState) as second:
        contract.amend({"budget_cents": 30_000}, date(2025, 8, 1), OFFICER, "even more")
    assert second.value.rule == "amendment_waiting"
    contract.sign("provider", PROVIDER, MEMBER)
    assert contract.budget_cents == 10_000  # not yet: the partner has not signed
    with pytest.raises(WrongState, match="another officer"):
        contract.sign("partner", PARTNER, OFFICER)  # the proposer of the amendment alone
        contract.sign("partner", PARTNER, OFFICER)
    assert contract.budget_cents == 10_000


@pytest.mark.parametrize(
    ("changes", "on", "rule"),
    [
        ({}, date(2025, 7, 1), "changes"),
        ({"unit_price_cents": 4000}, date(2025, 7, 1), "changes"),  # the same price
        ({"budget_cents": 1}, date(2025, 7, 1), "budget_cents"),  # below what is charged
        ({"unit_price_cents": 0}, date(2025, 7, 1), "unit_price_cents"),
        ({"categories": []}, date(2025, 7, 1), "categories"),
        ({"valid_until": date(2024, 12, 31)}, date(2025, 7, 1), "valid_until"),
        ({"unit_price_cents": 4500}, date(2025, 1, 1), "effective_from"),  # not after v1's
        ({"unit_price_cents": 4500}, date(2026, 3, 1), "effective_from"),  # past its validity
        ({"colour": "green"}, date(2025, 7, 1), "invalid_value"),  # not a term
        ({"pricing": "per_job"}, date(2025, 7, 1), "pricing"),  # hour or job
        ({"voucher_cents": -100}, date(2025, 7, 1), "voucher_cents"),
    ],
)
def test_an_amendment_that_breaks_a_rule_is_refused_naming_it(changes, on, rule):
    contract = active()
    contract.charge("r", 60, worked_on=date(2025, 2, 1))
    contract.collect_events()
    with pytest.raises((InvalidValue, WrongState)) as refused:
        contract.amend(changes, on, OFFICER, "because")
    assert refused.value.rule == rule
    assert contract.collect_events() == [] and contract.amendment is None


def test_a_suspended_contract_is_resumed_and_a_terminated_one_takes_no_work_from_its_day():
    contract = active()
    contract.suspend("insurance lapsed", OFFICER)
    assert contract.status == ContractStatus.SUSPENDED
    with pytest.raises(WrongState):
        contract.suspend("again", OFFICER)
    with pytest.raises(InvalidValue):
        contract.resume("  ", OFFICER)
    contract.resume("insurance in order", OFFICER)
    contract.terminate("closing down", OFFICER, date(2025, 9, 1))
    assert contract.status == ContractStatus.TERMINATED and contract.reason == "closing down"
    assert contract.version_on(date(2025, 8, 31)) is not None
    assert contract.version_on(date(2025, 9, 1)) is None
    contract.charge("done-before", 60, worked_on=date(2025, 8, 31))
    outcome = contract.charge("done-after", 60, worked_on=date(2025, 9, 2))
    assert not outcome.accepted and "no version" in outcome.reason
    with pytest.raises(WrongState):
        contract.resume("come back", OFFICER)
    with pytest.raises(WrongState):
        contract.amend({"budget_cents": 20_000}, date(2025, 10, 1), OFFICER, "x")


def test_a_contract_past_its_last_day_has_expired():
    contract = active()
    assert contract.status_on(date(2025, 12, 31)) == ContractStatus.ACTIVE
    assert contract.status_on(date(2026, 1, 1)) == ContractStatus.EXPIRED
    assert propose().status_on(date(2026, 1, 1)) == ContractStatus.PROPOSED


# --- pricing per job, service vouchers, budget alerts, reversals -----------------------------


def charges_of(events) -> list[tuple]:
    return [
        (e.request_id, e.amount_cents, e.city_cents, e.resident_cents)
        for e in events
        if type(e).__name__ == "Charged"
    ]


def test_a_contract_priced_per_job_charges_its_unit_price_once_whatever_the_hours():
    contract = active(pricing="job", unit_price_cents=4500, budget_cents=100_000)
    contract.charge("short", 15)
    contract.charge("long", 600)
    assert charges_of(contract.collect_events()) == [
        ("short", 4500, 4500, 0),
        ("long", 4500, 4500, 0),
    ]
    assert contract.charged_cents == 9000 and contract.versions[0]["pricing"] == "job"


def test_a_contract_is_priced_per_hour_unless_it_says_per_job():
    contract = active(unit_price_cents=4000)
    assert contract.pricing == "hour" and contract.voucher_cents is None
    assert contract.charge("r", 90).amount == Money(6000)


@pytest.mark.parametrize(
    ("minutes", "amount", "city", "resident"),
    [
        (30, 2000, 2000, 0),  # below the voucher: the city pays it all
        (75, 5000, 5000, 0),  # the voucher exactly
        (120, 8000, 5000, 3000),  # above it: the resident pays the rest
    ],
)
def test_a_voucher_caps_the_citys_share_and_only_that_counts_against_the_budget(
    minutes, amount, city, resident
):
    contract = active(unit_price_cents=4000, voucher_cents=5000, budget_cents=100_000)
    outcome = contract.charge("r", minutes)
    assert (outcome.amount, outcome.city, outcome.resident) == (
        Money(amount),
        Money(city),
        Money(resident),
    )
    assert charges_of(contract.collect_events()) == [("r", amount, city, resident)]
    assert contract.remaining == Money(100_000 - city)


def test_a_charge_whose_citys_share_fits_the_budget_is_accepted_though_the_amount_does_not():
    contract = active(unit_price_cents=4000, voucher_cents=3000, budget_cents=3000)
    assert contract.charge("r", 120).accepted  # 80.00 €, of which the city pays 30.00 €
    assert contract.remaining == Money(0)
    refused = contract.charge("s", 60)
    assert not refused.accepted and "city's share" in refused.reason


def alerts_of(events) -> list[tuple]:
    return [
        (e.threshold, e.charged_cents, e.budget_cents, e.version)
        for e in events
        if type(e).__name__ == "BudgetAlert"
    ]


def test_budget_alerts_at_80_and_100_per_cent_are_recorded_once_each():
    contract = active(unit_price_cents=1000, budget_cents=10_000)
    contract.charge("a", 420)  # 70.00 €: 70 %
    assert alerts_of(contract.collect_events()) == []
    contract.charge("b", 60)  # 80.00 €: 80 %
    contract.charge("c", 60)  # 90 %: no second alert at 80
    assert alerts_of(contract.collect_events()) == [(80, 8000, 10_000, 1)]
    contract.charge("d", 60)  # 100 %
    contract.charge("e", 60)  # refused: nothing left
    events = contract.collect_events()
    assert alerts_of(events) == [(100, 10_000, 10_000, 1)]
    assert [type(e).__name__ for e in events] == ["Charged", "BudgetAlert", "ChargeRefused"]


def test_one_charge_that_passes_both_thresholds_records_both_alerts():
    contract = active(unit_price_cents=1000, budget_cents=10_000)
    contract.charge("all", 600)
    assert [a[0] for a in alerts_of(contract.collect_events())] == [80, 100]


def test_an_amendment_raising_the_budget_arms_the_alerts_again():
    contract = active(unit_price_cents=1000, budget_cents=10_000)
    contract.charge("a", 510, worked_on=date(2025, 2, 1))  # 85.00 €
    amended(contract, {"budget_cents": 12_000}, date(2025, 6, 1))
    contract.charge("b", 60, worked_on=date(2025, 6, 2))  # 95.00 € of 120.00 €: 79 %
    assert alerts_of(contract.collect_events()) == [(80, 8500, 10_000, 1)]
    contract.charge("c", 60, worked_on=date(2025, 6, 3))  # 105.00 €: 87.5 %
    assert alerts_of(contract.collect_events()) == [(80, 10_500, 12_000, 2)]
    amended(contract, {"unit_price_cents": 1200}, date(2025, 7, 1))  # the budget stays
    contract.charge("d", 30, worked_on=date(2025, 7, 2))
    assert alerts_of(contract.collect_events()) == []


def test_alerts_count_the_citys_share_only():
    contract = active(unit_price_cents=1000, voucher_cents=500, budget_cents=1000)
    contract.charge("a", 600)  # 100.00 €, the city pays 5.00 €: 50 %
    assert alerts_of(contract.collect_events()) == []
    contract.charge("b", 600)
    assert [a[0] for a in alerts_of(contract.collect_events())] == [80, 100]


def test_a_reversal_gives_the_citys_share_back_once_and_the_request_is_not_charged_again():
    contract = active(unit_price_cents=4000, voucher_cents=5000, budget_cents=10_000)
    contract.charge("r", 120)  # 80.00 €: the city 50.00 €, the resident 30.00 €
    contract.collect_events()
    assert contract.reverse("r", "the dispute was voided") == Money(5000)
    (reversed_,) = contract.collect_events()
    assert type(reversed_).__name__ == "ChargeReversed"
    assert (reversed_.city_cents, reversed_.resident_cents, reversed_.remaining_cents) == (
        5000,
        3000,
        10_000,
    )
    assert contract.remaining == Money(10_000) and contract.charged_cents == 0
    with pytest.raises(WrongState) as twice:
        contract.reverse("r", "again")
    assert twice.value.rule == "reversed_already"
    with pytest.raises(WrongState, match="already been charged"):
        contract.charge("r", 60)
    with pytest.raises(WrongState) as never:
        contract.reverse("never-charged", "voided")
    assert never.value.rule == "not_charged"
    assert contract.collect_events() == []


def test_a_contract_with_vouchers_alerts_and_reversals_replays_to_the_same_state():
    contract = propose(pricing="job", unit_price_cents=6000, voucher_cents=4000, budget_cents=9000)
    contract.sign("partner", PARTNER, OFFICER)
    contract.sign("provider", PROVIDER, MEMBER)
    contract.charge("a", 60, worked_on=date(2025, 2, 1))
    contract.charge("b", 60, worked_on=date(2025, 2, 2))  # 80.00 € of 90.00 €: alert at 80
    contract.reverse("a", "voided")
    amended(contract, {"pricing": "hour", "voucher_cents": 0}, date(2025, 6, 1))
    events = contract.collect_events()
    copy = replay(events)
    assert vars(copy) == vars(contract)
    assert copy.voucher_cents is None and copy.pricing == "hour"
    assert [v["pricing"] for v in copy.versions] == ["job", "hour"]
    assert copy.alerts == [
        {"threshold": 80, "charged_cents": 8000, "budget_cents": 9000, "version": 1}
    ]


def test_a_contract_stored_before_pricing_and_vouchers_replays_per_hour_without_a_voucher():
    current = active(unit_price_cents=4000, budget_cents=100_000)
    contract = propose(unit_price_cents=4000, budget_cents=100_000)
    contract.sign("partner", PARTNER, OFFICER)
    contract.sign("provider", PROVIDER, MEMBER)
    contract.charge("r", 60)
    amended(contract, {"unit_price_cents": 5000}, date(2025, 6, 1))
    events = contract.collect_events()
    for e in events:  # as stored before the terms and the shares were
        for name in ("pricing", "voucher_cents", "city_cents", "resident_cents"):
            e.__dict__.pop(name, None)
    copy = replay(events)
    assert [(v["pricing"], v["voucher_cents"]) for v in copy.versions] == [
        ("hour", None),
        ("hour", None),
    ]
    assert copy.charged_requests == {"r": 4000} and copy.remaining == Money(96_000)
    assert copy.charge("s", 60, worked_on=date(2025, 6, 2)).city == Money(5000)
    assert current.pricing == copy.pricing
