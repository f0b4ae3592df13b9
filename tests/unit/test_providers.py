"""Provider.register: what a community provider must declare to be registered."""

import pytest

from domain.errors import InvalidValue
from domain.providers import MAX_CAPACITY, Provider, ProviderKind


def register(**overrides) -> Provider:
    fields = {
        "name": "Kylätalkoot ry",
        "kind": "association",
        "categories": ["snow_clearing"],
        "regions": ["kivimaa"],
        "capacity": 3,
        "contact": "info@kylatalkoot.example",
    }
    fields.update(overrides)
    return Provider.register(**fields)


def replay(events):
    provider = None
    for e in events:
        provider = e.mutate(provider)
    return provider


def test_registration_records_one_registered_event_with_the_declared_facts():
    provider = register()
    events = provider.collect_events()

    assert [type(e).__name__ for e in events] == ["Registered"]
    assert provider.name == "Kylätalkoot ry"
    assert provider.kind == "association"
    assert provider.categories == ["snow_clearing"]
    assert provider.regions == ["kivimaa"]
    assert provider.capacity == 3
    assert provider.contact == "info@kylatalkoot.example"


def test_replaying_the_registration_gives_the_same_provider():
    provider = register()
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


def test_contact_is_optional():
    fields = {
        "name": "Apu",
        "kind": "cooperative",
        "categories": ["x"],
        "regions": ["y"],
        "capacity": 1,
    }
    assert Provider.register(**fields).contact == ""


@pytest.mark.parametrize("kind", list(ProviderKind))
def test_every_provider_kind_can_register(kind):
    assert register(kind=str(kind)).kind == kind


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
    ],
)
def test_registration_refuses_invalid_declarations(overrides, rule):
    with pytest.raises(InvalidValue) as refused:
        register(**overrides)
    assert refused.value.rule == rule
