"""The Provider aggregate: registration (business id or contact person), members, capabilities,
pauses and suspension by municipal partners."""

from datetime import date, timedelta

import pytest

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.providers import (
    MAX_CAPACITY,
    REGISTERED_KINDS,
    Provider,
    ProviderKind,
    business_id_check_digit,
    check_business_id,
)

TODAY = date(2026, 11, 23)
PERSON = {"name": "Aino Virtanen", "phone": "040 123 4567"}


def register(**overrides) -> Provider:
    fields = {
        "name": "Kylätalkoot ry",
        "kind": "association",
        "categories": ["snow_clearing"],
        "regions": ["kivimaa"],
        "capacity": 3,
        "contact": "info@kylatalkoot.example",
        "business_id": "0737546-2",
    }
    fields.update(overrides)
    return Provider.register(**fields)


def village_group(**overrides) -> Provider:
    fields = {"kind": "village_group", "business_id": None, "contact_person": PERSON}
    fields.update(overrides)
    return register(**fields)


def replay(events):
    provider = None
    for e in events:
        provider = e.mutate(provider)
    return provider


def refused(error_type, call, *args, **kwargs) -> str:
    with pytest.raises(error_type) as error:
        call(*args, **kwargs)
    return error.value.rule


# --- the Y-tunnus ------------------------------------------------------------------------


@pytest.mark.parametrize("business_id", ["0737546-2", "1572860-0", "2617416-4", "0112038-9"])
def test_valid_business_ids_pass(business_id):
    assert check_business_id(business_id) == business_id


def test_a_business_id_is_trimmed():
    assert check_business_id(" 0737546-2 ") == "0737546-2"


@pytest.mark.parametrize("business_id", ["0737546-3", "1572860-1", "2617416-0", "0112038-8"])
def test_a_wrong_check_digit_is_refused(business_id):
    assert refused(InvalidValue, check_business_id, business_id) == "business_id"


@pytest.mark.parametrize(
    "business_id",
    ["07375462", "737546-2", "00737546-2", "0737546-", "0737546-22", "O737546-2", "", "abc"],
)
def test_a_business_id_of_the_wrong_shape_is_refused(business_id):
    assert refused(InvalidValue, check_business_id, business_id) == "business_id"


def test_the_check_digit_follows_the_weights():
    # 0*7 + 7*9 + 3*10 + 7*5 + 5*8 + 4*4 + 6*2 = 196 = 17*11 + 9, so 11 - 9 = 2
    assert business_id_check_digit("0737546") == 2
    # 7 + 45 + 70 + 10 + 64 + 24 + 0 = 220 = 20*11: remainder 0 gives check digit 0
    assert business_id_check_digit("1572860") == 0


def test_digits_with_remainder_one_have_no_valid_business_id():
    # the sixth digit weighs 4: 3*4 = 12 = 11 + 1
    assert business_id_check_digit("0000030") is None
    for check in range(10):
        assert refused(InvalidValue, check_business_id, f"0000030-{check}") == "business_id"


# --- registration ------------------------------------------------------------------------


def test_registration_records_one_registered_event_with_the_declared_facts():
    provider = register(lat=60.98, long=25.66)
    events = provider.collect_events()

    assert [type(e).__name__ for e in events] == ["Registered"]
    assert provider.name == "Kylätalkoot ry"
    assert provider.kind == "association"
    assert provider.business_id == "0737546-2"
    assert provider.categories == ["snow_clearing"]
    assert provider.regions == ["kivimaa"]
    assert provider.capacity == 3
    assert provider.contact == "info@kylatalkoot.example"
    assert (provider.lat, provider.long) == (60.98, 25.66)
    assert provider.members == {} and provider.pauses == {} and provider.suspension is None


def test_replaying_a_providers_history_gives_the_same_provider():
    provider = register()
    provider.add_member("Matti", "chair")
    provider.pause(TODAY, TODAY + timedelta(days=3), "holiday", today=TODAY)
    provider.record_contract("c-1", "lahti-city", TODAY, TODAY + timedelta(days=30))
    provider.suspend("lahti-city", "complaints", today=TODAY)
    copy = replay(provider.collect_events())
    assert copy.id == provider.id
    assert vars(copy) == vars(provider)


def test_name_and_contact_are_trimmed():
    provider = register(name="  Osuuskunta Apu  ", contact="  +358 40 123  ")
    assert provider.name == "Osuuskunta Apu"
    assert provider.contact == "+358 40 123"


def test_categories_and_regions_are_deduplicated_and_sorted():
    provider = register(categories=["yard", "snow", "yard"], regions=["b", "a", "b"])
    assert provider.categories == ["snow", "yard"]
    assert provider.regions == ["a", "b"]


@pytest.mark.parametrize("kind", sorted(REGISTERED_KINDS))
def test_a_registered_kind_registers_with_its_business_id(kind):
    provider = register(kind=str(kind))
    assert provider.kind == kind and provider.business_id == "0737546-2"
    assert provider.contact_person is None


@pytest.mark.parametrize("kind", sorted(REGISTERED_KINDS))
def test_a_registered_kind_without_business_id_is_refused(kind):
    assert refused(InvalidValue, register, kind=str(kind), business_id=None) == "business_id"


@pytest.mark.parametrize("kind", sorted(set(ProviderKind) - REGISTERED_KINDS))
def test_an_unregistered_group_registers_with_a_contact_person(kind):
    provider = village_group(kind=str(kind))
    assert provider.business_id is None
    assert provider.contact_person == {
        "name": "Aino Virtanen",
        "phone": "040 123 4567",
        "email": "",
    }


@pytest.mark.parametrize("kind", sorted(set(ProviderKind) - REGISTERED_KINDS))
def test_an_unregistered_group_gives_no_business_id(kind):
    assert refused(InvalidValue, village_group, kind=str(kind), business_id="0737546-2") == (
        "business_id"
    )


@pytest.mark.parametrize(
    "person",
    [
        None,
        {},
        {"name": "Aino"},
        {"name": "", "phone": "040 123 4567"},
        {"name": "  ", "email": "aino@example.fi"},
        {"name": "Aino", "phone": "call me"},
        {"name": "Aino", "phone": "123"},
        {"name": "Aino", "email": "aino.example.fi"},
        {"name": "Aino", "email": "aino@"},
    ],
)
def test_an_unregistered_group_needs_a_reachable_contact_person(person):
    assert refused(InvalidValue, village_group, contact_person=person) == "contact_person"


def test_a_contact_person_with_an_email_only_is_enough():
    person = {"name": " Eero Laine ", "email": "eero@example.fi"}
    provider = village_group(contact_person=person)
    assert provider.contact_person == {
        "name": "Eero Laine",
        "phone": "",
        "email": "eero@example.fi",
    }


def test_a_registered_provider_with_a_bad_business_id_is_refused():
    assert refused(InvalidValue, register, business_id="0737546-3") == "business_id"


@pytest.mark.parametrize("capacity", [1, MAX_CAPACITY])
def test_capacity_bounds_are_inclusive(capacity):
    assert register(capacity=capacity).capacity == capacity


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"kind": "company"}, "kind"),
        ({"kind": "Cooperative"}, "kind"),
        ({"categories": []}, "categories"),
        ({"regions": []}, "regions"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": MAX_CAPACITY + 1}, "capacity"),
        ({"lat": 60.9}, "long"),
        ({"long": 25.6}, "lat"),
        ({"lat": 91.0, "long": 25.6}, "lat"),
        ({"lat": 60.9, "long": -181.0}, "long"),
    ],
)
def test_registration_refuses_invalid_declarations(overrides, rule):
    assert refused(InvalidValue, register, **overrides) == rule


# --- capabilities ------------------------------------------------------------------------


def test_capabilities_change_as_declared():
    provider = register()
    provider.change_capabilities(["yard", "snow", "yard"], ["b", "a"], 7)
    assert (provider.categories, provider.regions, provider.capacity) == (
        ["snow", "yard"],
        ["a", "b"],
        7,
    )
    assert type(provider.collect_events()[-1]).__name__ == "CapabilitiesChanged"


@pytest.mark.parametrize(
    ("args", "rule"),
    [(([], ["a"], 1), "categories"), ((["x"], [], 1), "regions"), ((["x"], ["a"], 0), "capacity")],
)
def test_bad_capabilities_are_refused_and_change_nothing(args, rule):
    provider = register()
    assert refused(InvalidValue, provider.change_capabilities, *args) == rule
    assert provider.capacity == 3 and len(provider.collect_events()) == 1


# --- members -----------------------------------------------------------------------------


def test_members_join_and_leave_by_id():
    provider = register()
    matti = provider.add_member(" Matti Meikäläinen ", "chair")
    liisa = provider.add_member("Liisa")
    assert provider.members == {
        matti: {"name": "Matti Meikäläinen", "role": "chair"},
        liisa: {"name": "Liisa", "role": ""},
    }
    provider.remove_member(matti)
    assert list(provider.members) == [liisa]
    kinds = [type(e).__name__ for e in provider.collect_events()]
    assert kinds == ["Registered", "MemberJoined", "MemberJoined", "MemberLeft"]


def test_a_member_needs_a_name():
    assert refused(InvalidValue, register().add_member, "  ") == "name"


def test_removing_somebody_who_is_no_member_is_refused():
    provider = register()
    member = provider.add_member("Matti")
    provider.remove_member(member)
    assert refused(WrongState, provider.remove_member, member) == "member_id"


# --- pauses ------------------------------------------------------------------------------


def test_a_pause_makes_the_provider_paused_on_its_days_only():
    provider = register()
    starts, ends = TODAY + timedelta(days=2), TODAY + timedelta(days=4)
    pause_id = provider.pause(starts, ends, "holiday", today=TODAY)
    assert provider.status(TODAY) == ("active", "")
    assert provider.pause_state(pause_id, TODAY) == "upcoming"
    assert provider.status(starts) == ("paused", "holiday")
    assert provider.status(ends) == ("paused", "holiday")  # inclusive
    assert provider.status(ends + timedelta(days=1)) == ("active", "")
    assert provider.pause_state(pause_id, ends + timedelta(days=1)) == "over"


def test_an_open_ended_pause_lasts_until_it_is_ended():
    provider = register()
    pause_id = provider.pause(TODAY, None, "full capacity", today=TODAY)
    assert provider.status(TODAY + timedelta(days=400)) == ("paused", "full capacity")
    later = TODAY + timedelta(days=10)
    provider.end_pause(pause_id, today=later)
    assert provider.status(later) == ("active", "")
    assert provider.pauses[pause_id]["ended_on"] == later
    assert refused(WrongState, provider.end_pause, pause_id, today=later) == "wrong_state"


def test_an_upcoming_pause_can_be_called_off():
    provider = register()
    pause_id = provider.pause(TODAY + timedelta(days=5), None, "trip", today=TODAY)
    provider.end_pause(pause_id, today=TODAY)
    assert provider.status(TODAY + timedelta(days=6)) == ("active", "")


def test_a_pause_that_is_over_cannot_be_ended():
    provider = register()
    pause_id = provider.pause(TODAY, TODAY, "one day", today=TODAY)
    tomorrow = TODAY + timedelta(days=1)
    assert refused(WrongState, provider.end_pause, pause_id, today=tomorrow) == "wrong_state"


@pytest.mark.parametrize(
    ("starts", "ends", "reason", "rule"),
    [
        (TODAY - timedelta(days=1), None, "late", "starts"),
        (TODAY - timedelta(days=5), TODAY - timedelta(days=2), "past", "starts"),
        (TODAY + timedelta(days=3), TODAY + timedelta(days=2), "backwards", "ends"),
        (TODAY, None, "  ", "reason"),
    ],
)
def test_a_pause_in_the_past_or_backwards_is_refused(starts, ends, reason, rule):
    provider = register()
    assert refused(InvalidValue, provider.pause, starts, ends, reason, today=TODAY) == rule
    assert provider.pauses == {}


@pytest.mark.parametrize(
    ("starts", "ends"),
    [(5, 6), (1, 3), (9, 12), (0, None), (10, 10), (2, 20)],
)
def test_overlapping_pauses_are_refused(starts, ends):
    provider = register()
    provider.pause(TODAY + timedelta(days=3), TODAY + timedelta(days=10), "holiday", today=TODAY)

    def day(n):
        return None if n is None else TODAY + timedelta(days=n)

    rule = refused(WrongState, provider.pause, day(starts), day(ends), "more", today=TODAY)
    assert rule == "overlapping_pause"
    assert len(provider.pauses) == 1


def test_pauses_that_do_not_overlap_or_are_ended_are_accepted():
    provider = register()
    first = provider.pause(TODAY, TODAY + timedelta(days=2), "a", today=TODAY)
    provider.pause(TODAY + timedelta(days=3), TODAY + timedelta(days=4), "b", today=TODAY)
    provider.end_pause(first, today=TODAY)
    provider.pause(TODAY, TODAY + timedelta(days=1), "c", today=TODAY)
    open_ended = provider.pause(TODAY + timedelta(days=5), None, "d", today=TODAY)
    assert refused(WrongState, provider.pause, TODAY + timedelta(days=99), None, "e", today=TODAY)
    assert provider.pause_state(open_ended, TODAY) == "upcoming"


# --- suspension by a municipal partner ----------------------------------------------------


def contracted() -> Provider:
    provider = register()
    provider.record_contract("c-1", "lahti-city", TODAY - timedelta(days=10), TODAY)
    return provider


def test_a_partner_with_an_active_contract_suspends_and_reinstates():
    provider = contracted()
    provider.suspend("lahti-city", " no-shows ", today=TODAY)
    assert provider.status(TODAY) == ("suspended", "no-shows")
    assert provider.suspension == {"partner_id": "lahti-city", "reason": "no-shows"}
    provider.reinstate("lahti-city", "talked it through", today=TODAY)
    assert provider.status(TODAY) == ("active", "")
    kinds = [type(e).__name__ for e in provider.collect_events()]
    assert kinds[-2:] == ["Suspended", "Reinstated"]


def test_suspension_outranks_a_pause():
    provider = contracted()
    provider.pause(TODAY, None, "holiday", today=TODAY)
    provider.suspend("lahti-city", "audit", today=TODAY)
    assert provider.status(TODAY) == ("suspended", "audit")


@pytest.mark.parametrize(
    ("partner", "today"),
    [
        ("lahti-city-culture", TODAY),  # no contract at all
        ("lahti-city", TODAY + timedelta(days=1)),  # its contract has run out
        ("lahti-city", TODAY - timedelta(days=11)),  # not yet in force
    ],
)
def test_a_partner_without_an_active_contract_may_not_suspend(partner, today):
    provider = contracted()
    assert refused(NotAllowed, provider.suspend, partner, "x", today=today) == "partner_id"
    assert provider.suspension is None


def test_a_partner_without_an_active_contract_may_not_reinstate():
    provider = contracted()
    provider.suspend("lahti-city", "audit", today=TODAY)
    rule = refused(NotAllowed, provider.reinstate, "lahti-city-culture", "x", today=TODAY)
    assert rule == "partner_id"
    assert provider.suspension is not None


def test_suspending_twice_or_reinstating_an_active_provider_is_refused():
    provider = contracted()
    assert refused(WrongState, provider.reinstate, "lahti-city", "x", today=TODAY) == "wrong_state"
    provider.suspend("lahti-city", "audit", today=TODAY)
    assert refused(WrongState, provider.suspend, "lahti-city", "y", today=TODAY) == "wrong_state"


def test_a_contract_is_recorded_once():
    provider = contracted()
    provider.record_contract("c-1", "lahti-city", TODAY, TODAY)
    assert provider.partners(TODAY) == ["lahti-city"]
    assert [type(e).__name__ for e in provider.collect_events()].count("ContractRecorded") == 1


def test_a_business_id_in_other_digits_than_ascii_is_refused():
    with pytest.raises(InvalidValue) as refused:
        check_business_id("\u0661\u0662\u0663\u0664\u0665\u0666\u0667-\u0661")
    assert refused.value.rule == "business_id"
