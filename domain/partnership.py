"""A partnership contract between a municipal partner and a community provider, and its budget;
and the registry of municipal partners: their officers, who of them may sign, and how many
signatures a contract needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

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


# --- the registry of municipal partners ---------------------------------------------------

PARTNER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
PARTNERS = uuid5(NAMESPACE_URL, "https://talkoot.lahti.fi/municipal-partners")
NAME_LENGTH = 200


def partner_key(partner_id: str) -> UUID:
    """The registry entry's id: one per partner code, so that it is found by the code."""
    return uuid5(PARTNERS, partner_id)


class MunicipalPartner(Aggregate):
    """A city unit that funds local services through contracts (technical and environmental
    services, wellbeing services, ...): its officers, which of them may sign for it, and its
    signing rule: a contract needs one officer's signature, or two where its budget is above
    ``second_signature_above_cents`` (None: one, whatever the budget). Every change is an
    event, so who held which role on the partner at any moment can be read back."""

    @staticmethod
    def create_id(partner_id: str, **_: object) -> UUID:
        return partner_key(partner_id)

    @event("Registered")
    def __init__(
        self, partner_id: str, name: str, second_signature_above_cents: int | None
    ) -> None:
        self.partner_id = partner_id
        self.name = name
        self.second_signature_above_cents = second_signature_above_cents
        self.officers: dict[str, bool] = {}  # subject -> may sign for the partner

    @classmethod
    def register(
        cls, partner_id: str, name: str, second_signature_above_cents: int | None = None
    ) -> MunicipalPartner:
        if not PARTNER_CODE.match(partner_id):
            raise InvalidValue(
                "a partner's code is 3 to 64 lower-case letters, digits and dashes, "
                f"such as lahti-technical-services; got {partner_id!r}",
                rule="partner_id",
            )
        name = " ".join(name.split())
        if not name or len(name) > NAME_LENGTH:
            raise InvalidValue(f"a partner's name is 1 to {NAME_LENGTH} characters", rule="name")
        _check_threshold(second_signature_above_cents)
        return cls(
            partner_id=partner_id,
            name=name,
            second_signature_above_cents=second_signature_above_cents,
        )

    def signatures_needed(self, budget_cents: int) -> int:
        """How many of the partner's officers sign a contract of this budget."""
        threshold = self.second_signature_above_cents
        return 2 if threshold is not None and budget_cents > threshold else 1

    def may_sign(self, subject: str) -> bool:
        return self.officers.get(subject, False)

    def is_officer(self, subject: str) -> bool:
        return subject in self.officers

    def appoint(self, subject: str, may_sign: bool) -> None:
        """``subject`` is an officer of the partner (again, with another right to sign)."""
        if not subject.strip():
            raise InvalidValue("an officer is named by their identifier", rule="subject")
        if self.officers.get(subject) is may_sign:
            raise WrongState(f"{subject} is an officer of {self.partner_id} already, as asked")
        self._appointed(subject=subject, may_sign=may_sign)

    @event("OfficerAppointed")
    def _appointed(self, subject: str, may_sign: bool) -> None:
        self.officers[subject] = may_sign

    def relieve(self, subject: str, reason: str) -> None:
        if subject not in self.officers:
            raise WrongState(f"{subject} is no officer of {self.partner_id}")
        if not reason.strip():
            raise InvalidValue("say why the officer leaves", rule="reason")
        self._relieved(subject=subject, reason=reason.strip())

    @event("OfficerRelieved")
    def _relieved(self, subject: str, reason: str) -> None:
        del self.officers[subject]

    def change_rule(self, second_signature_above_cents: int | None) -> None:
        _check_threshold(second_signature_above_cents)
        if second_signature_above_cents == self.second_signature_above_cents:
            raise WrongState("the signing rule is that already")
        self._rule_changed(second_signature_above_cents=second_signature_above_cents)

    @event("RuleChanged")
    def _rule_changed(self, second_signature_above_cents: int | None) -> None:
        self.second_signature_above_cents = second_signature_above_cents


def _check_threshold(cents: int | None) -> None:
    if cents is not None and cents <= 0:
        raise InvalidValue(
            "a second signature is needed above a positive amount, or never (null)",
            rule="second_signature_above_cents",
        )


# --- contracts ------------------------------------------------------------------------------


def partner_side_signed(signers: list[str], needed: int, proposed_by: str) -> bool:
    """Whether a contract's partner has signed: as many of its officers as needed, and one
    of them not the officer who proposed it."""
    return len(signers) >= needed and any(s != proposed_by for s in signers)


@dataclass(frozen=True)
class ChargeOutcome:
    accepted: bool
    amount: Money
    remaining: Money
    reason: str = ""


class PartnershipContract(Aggregate):
    """Scope (categories, regions), unit price per hour, budget cap and validity period.

    Active only when both the municipal partner and the provider have signed, each through a
    person who speaks for it (``signed_by`` names that person per party). The partner signs
    through as many of its officers as its rule asked for when the contract was proposed
    (``partner_signatures_needed``), and never through its proposer alone: another officer
    signs too. Every charge is for one confirmed request and is either recorded or refused; a
    refusal is a fact too.
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
        proposed_by: str = "",  # "" in contracts proposed before the proposer was recorded
        partner_signatures_needed: int = 1,
    ) -> None:
        self.partner_id = partner_id
        self.provider_id = provider_id
        self.categories = categories
        self.regions = regions
        self.unit_price_cents = unit_price_cents
        self.budget_cents = budget_cents
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.proposed_by = proposed_by
        self.partner_signatures_needed = partner_signatures_needed
        self.signed_by: dict[str, str] = {}
        self.partner_signers: list[str] = []
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
        proposed_by: str = "",
        partner_signatures_needed: int = 1,
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
            proposed_by=proposed_by,
            partner_signatures_needed=partner_signatures_needed,
        )

    @property
    def remaining(self) -> Money:
        return Money(self.budget_cents - self.charged_cents)

    @property
    def partner_has_signed(self) -> bool:
        """Whether the partner's side is complete: as many officers as needed, one of them
        not the proposer."""
        return partner_side_signed(
            self.partner_signers, self.partner_signatures_needed, self.proposed_by
        )

    def sign(
        self, party: str, acting_for: str | None, signed_by: str, may_sign: bool = True
    ) -> None:
        """``signed_by`` (a person) signs for ``party``, acting for ``acting_for`` (the partner
        or provider they speak for, None if none): it must be the contract's own party. For
        the partner, ``may_sign`` says whether the person may sign for it."""
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
        if party == Party.PARTNER and not may_sign:
            raise NotAllowed(
                "signing for the municipal partner needs the right to sign", rule="may_sign"
            )
        if party == Party.PROVIDER and party in self.signed_by:
            raise WrongState("the provider has already signed this contract")
        if party == Party.PARTNER and self.partner_has_signed:
            raise WrongState("the partner has already signed this contract")
        if party == Party.PARTNER and signed_by in self.partner_signers:
            raise WrongState(
                f"{signed_by} has signed already: another officer of the partner signs next",
                rule="another_signer",
            )
        self._signed(party=party, signed_by=signed_by)
        if Party.PROVIDER in self.signed_by and self.partner_has_signed:
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
        if party == Party.PARTNER:
            self.partner_signers.append(signed_by)
            self.signed_by[party] = ", ".join(self.partner_signers)
        else:
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
