"""A table's service programme as a partnership contract: its id is the programme's, the
table's decision is the partner's signature, the provider's signature activates it, charges
go against the programme's budget; a programme whose provider is not registered is recorded
and ended with the reason."""

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.partnership import (
    ContractStatus,
    PartnershipContract,
    table_of_partner,
    table_partner,
    table_signer,
)

TABLE = "lahti-keskusta"
PROVIDER = "provider-1"
COORDINATOR = "coordinator-of-lahti-keskusta"


def programme(**overrides) -> PartnershipContract:
    fields = {
        "programme_id": uuid4(),
        "table_id": TABLE,
        "initiative_id": str(uuid4()),
        "title": "Lumityöt ikäihmisille",
        "provider_id": PROVIDER,
        "categories": ["snow-clearing", "snow-clearing"],
        "regions": ["lahti-keskusta"],
        "unit_price_cents": 3_500,
        "pricing": "hour",
        "budget_cents": 7_000,
        "valid_from": date(2026, 1, 1),
        "valid_until": date(2026, 12, 31),
        "decided_by": COORDINATOR,
        "provider_registered": True,
        "on": date(2026, 1, 5),
    }
    fields.update(overrides)
    return PartnershipContract.for_programme(**fields)


def names(contract: PartnershipContract) -> list[str]:
    return [type(e).__name__ for e in contract.collect_events()]


def test_the_programmes_contract_has_the_programmes_id_and_the_tables_signature():
    programme_id = uuid4()
    contract = programme(programme_id=programme_id)
    assert contract.id == programme_id
    assert (contract.partner_id, contract.provider_id) == ("table-lahti-keskusta", PROVIDER)
    assert contract.categories == ["snow-clearing"]
    assert contract.proposed_by == COORDINATOR
    assert contract.signed_by == {"partner": "table:lahti-keskusta"}
    assert contract.partner_has_signed and contract.status == ContractStatus.PROPOSED
    assert names(contract) == ["Proposed", "SignedByTable"]


def test_the_tables_signature_reads_as_the_whole_decision():
    initiative_id = str(uuid4())
    contract = programme(initiative_id=initiative_id)
    signed = contract.collect_events()[1]
    assert (signed.party, signed.signed_by, signed.table_id) == (
        "partner",
        "table:lahti-keskusta",
        TABLE,
    )
    assert (signed.initiative_id, signed.title, signed.decided_by) == (
        initiative_id,
        "Lumityöt ikäihmisille",
        COORDINATOR,
    )


def test_the_providers_signature_activates_it_and_charges_go_against_its_budget():
    contract = programme()
    contract.sign("provider", PROVIDER, "member-3")
    assert contract.status == ContractStatus.ACTIVE
    assert contract.charge("request-1", 60, date(2026, 2, 1)).accepted
    assert contract.remaining.cents == 3_500
    refused = contract.charge("request-2", 120, date(2026, 2, 2))
    assert not refused.accepted and contract.remaining.cents == 3_500


def test_nobody_signs_again_for_the_table_and_only_the_provider_for_the_provider():
    contract = programme()
    with pytest.raises(WrongState):
        contract.sign("partner", table_partner(TABLE), "officer-1")
    with pytest.raises(NotAllowed):
        contract.sign("provider", "provider-2", "member-of-another")
    assert contract.status == ContractStatus.PROPOSED


def test_a_programme_whose_provider_is_not_registered_ends_before_it_starts_with_the_reason():
    contract = programme(provider_registered=False)
    assert names(contract) == ["Proposed", "SignedByTable", "ProgrammeRefused"]
    assert contract.status == ContractStatus.TERMINATED
    assert contract.terminated_on == date(2026, 1, 5)
    assert "no provider provider-1 is registered" in contract.reason
    with pytest.raises(WrongState):
        contract.sign("provider", PROVIDER, "member-3")
    with pytest.raises(WrongState):
        contract.charge("request-1", 60, date(2026, 2, 1))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"table_id": " "}, "table_id"),
        ({"provider_id": ""}, "provider_id"),
        ({"decided_by": ""}, "decided_by"),
        ({"categories": []}, "categories"),
        ({"regions": []}, "regions"),
        ({"unit_price_cents": 0}, "unit_price_cents"),
        ({"budget_cents": -1}, "budget_cents"),
        ({"valid_until": date(2025, 12, 31)}, "valid_until"),
        ({"pricing": "month"}, "pricing"),
    ],
)
def test_a_programme_with_broken_terms_makes_no_contract(change, rule):
    with pytest.raises(InvalidValue) as refused:
        programme(**change)
    assert refused.value.rule == rule


def test_a_tables_partner_code_names_its_table_and_no_other_does():
    assert table_of_partner(table_partner("nastola")) == "nastola"
    assert table_signer("nastola") == "table:nastola"
    assert table_of_partner("lahti-city") is None
    assert table_of_partner("table-") is None
