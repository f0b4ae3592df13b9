"""A partnership contract between a municipal partner and a community provider, and its budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.money import Money, price_of_work


class ContractStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"


class Party(StrEnum):
    PARTNER = "partner"
    PROVIDER = "provider"


class BudgetExceeded(WrongState):
    rule = "budget_exceeded"


@dataclass(frozen=True)
class ChargeOutcome:
    accepted: bool
    amount: Money
    remaining: Money
    reason: str = ""


class PartnershipContract(Aggregate):
    """Scope (categories, regions), unit price per hour, budget cap and validity period.

    Active only when both the municipal partner and the provider have signed, each through a
    person who speaks for it (``signed_by`` names that person per party). Every charge is for
    one confirmed request and is either recorded or refused; a refusal is a fact too.
    """

    @event("Proposed")
    def __init__(
        self,
        partner_id: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
    ) -> None:
        self.partner_id = partner_id
        self.provider_id = provider_id
        self.categories = categories
        self.regions = regions
        self.unit_price_cents = unit_price_cents
        self.budget_cents = budget_cents
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.signed_by: dict[str, str] = {}
        self.status = ContractStatus.PROPOSED
        self.charged_cents = 0
        self.charged_requests: dict[str, int] = {}

    @classmethod
    def propose(
        cls,
        *,
        partner_id: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
        provider_registered: bool = True,
    ) -> PartnershipContract:
        """Proposed by ``partner_id`` to ``provider_id``, a provider that must be registered
        (``provider_registered``: what the provider directory says of it)."""
        if not partner_id.strip():
            raise InvalidValue("a contract needs the municipal partner", rule="partner_id")
        if not provider_id.strip():
            raise InvalidValue("a contract needs the provider", rule="provider_id")
        if not categories:
            raise InvalidValue("a contract covers at least one category", rule="categories")
        if not regions:
            raise InvalidValue("a contract covers at least one region", rule="regions")
        if unit_price_cents <= 0:
            raise InvalidValue("the unit price must be positive", rule="unit_price_cents")
        if budget_cents <= 0:
            raise InvalidValue("the budget cap must be positive", rule="budget_cents")
        if valid_until < valid_from:
            raise InvalidValue("the contract must end on or after its start", rule="valid_until")
        if not provider_registered:
            raise InvalidValue(
                f"no provider {provider_id} is registered: give the id of one the provider "
                "directory lists",
                rule="provider_id",
            )
        return cls(
            partner_id=partner_id,
            provider_id=provider_id,
            categories=sorted(set(categories)),
            regions=sorted(set(regions)),
            unit_price_cents=unit_price_cents,
            budget_cents=budget_cents,
            valid_from=valid_from,
            valid_until=valid_until,
        )

    @property
    def remaining(self) -> Money:
        return Money(self.budget_cents - self.charged_cents)

    def sign(self, party: str, acting_for: str | None, signed_by: str) -> None:
        """``signed_by`` (a person) signs for ``party``, acting for ``acting_for`` (the partner
        or provider they speak for, None if none): it must be the contract's own party."""
        if party not in set(Party):
            raise InvalidValue(
                f"party must be 'partner' or 'provider', got {party!r}", rule="party"
            )
        if not signed_by.strip():
            raise InvalidValue("a signature needs the person who signs", rule="signed_by")
        if party == Party.PROVIDER and acting_for != self.provider_id:
            raise NotAllowed(
                "only a member of the contract's provider can sign for the provider",
                rule="party",
            )
        if party == Party.PARTNER and acting_for != self.partner_id:
            raise NotAllowed(
                "only an officer of the contract's municipal partner can sign for the partner",
                rule="party",
            )
        if party in self.signed_by:
            raise WrongState(f"the {party} has already signed this contract")
        self._signed(party=party, signed_by=signed_by)
        if len(self.signed_by) == len(Party):
            # The activation repeats the terms, so that it reads as the whole agreement.
            self._activated(
                partner_id=self.partner_id,
                provider_id=self.provider_id,
                categories=self.categories,
                regions=self.regions,
                unit_price_cents=self.unit_price_cents,
                budget_cents=self.budget_cents,
                valid_from=self.valid_from,
                valid_until=self.valid_until,
            )

    @event("Signed")
    def _signed(self, party: str, signed_by: str) -> None:
        # The person who signed; the party they signed for is the contract's own.
        self.signed_by[party] = signed_by

    @event("Activated")
    def _activated(
        self,
        partner_id: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
    ) -> None:
        self.status = ContractStatus.ACTIVE

    def charge(self, request_id: str, minutes: int) -> ChargeOutcome:
        """Charge the work on ``request_id``. Records either ``Charged`` or ``ChargeRefused``."""
        if self.status != ContractStatus.ACTIVE:
            raise WrongState("the contract is not active: both parties must sign it first")
        if request_id in self.charged_requests:
            raise WrongState(f"request {request_id} has already been charged to this contract")
        amount = price_of_work(Money(self.unit_price_cents), minutes)
        if amount > self.remaining:
            reason = f"the charge of {amount} exceeds the remaining budget of {self.remaining}"
            self._refused(
                request_id=request_id,
                minutes=minutes,
                amount_cents=amount.cents,
                remaining_cents=self.remaining.cents,
                reason=reason,
            )
            return ChargeOutcome(False, amount, self.remaining, reason)
        self._charged(
            request_id=request_id,
            minutes=minutes,
            amount_cents=amount.cents,
            charged_cents=self.charged_cents + amount.cents,
            remaining_cents=(self.remaining - amount).cents,
        )
        return ChargeOutcome(True, amount, self.remaining)

    @event("Charged")
    def _charged(
        self,
        request_id: str,
        minutes: int,
        amount_cents: int,
        charged_cents: int,
        remaining_cents: int,
    ) -> None:
        self.charged_cents = charged_cents
        self.charged_requests[request_id] = amount_cents

    @event("ChargeRefused")
    def _refused(
        self, request_id: str, minutes: int, amount_cents: int, remaining_cents: int, reason: str
    ) -> None:
        pass
