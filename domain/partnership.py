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
from domain.money import PRICINGS, Money, price_for, shares_of


class ContractStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    SUSPENDED = "suspended"  # no new work under it until it is resumed
    TERMINATED = "terminated"  # no work under it from its termination day on
    EXPIRED = "expired"  # past its last day of validity: a status on a day, not an event


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

TABLE_PARTNER_PREFIX = "table-"


def table_partner(table_id: str) -> str:
    """The partner a partnership table's service programmes are contracted under."""
    return f"{TABLE_PARTNER_PREFIX}{table_id}"


def table_of_partner(partner_id: str) -> str | None:
    """The table whose programmes ``partner_id`` contracts (None: a municipal partner)."""
    if partner_id.startswith(TABLE_PARTNER_PREFIX):
        return partner_id.removeprefix(TABLE_PARTNER_PREFIX) or None
    return None


def table_signer(table_id: str) -> str:
    """Who signs a programme's contract for the table: the table's own decision."""
    return f"table:{table_id}"


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
    city: Money | None = None  # the city's share (what counts against the budget)
    resident: Money | None = None  # the resident's own share (omavastuu)


# The terms a contract's version holds; an amendment changes some of them. ``pricing`` is
# "hour" (``unit_price_cents`` an hour) or "job" (``unit_price_cents`` once per job);
# ``voucher_cents`` is the service voucher (palveluseteli): the most the city pays per job,
# the resident paying the rest (None: the city pays the whole charge).
TERMS = (
    "categories",
    "regions",
    "unit_price_cents",
    "budget_cents",
    "valid_from",
    "valid_until",
    "pricing",
    "voucher_cents",
)
# The terms that say what a job costs and who pays it.
PRICE_TERMS = ("pricing", "unit_price_cents", "voucher_cents")
# The share of the budget charged at which the contract records a budget alert, in per cent.
ALERT_THRESHOLDS = (80, 100)


def check_terms(terms: dict) -> None:
    """The rules every version's terms keep, naming the term that breaks one."""
    if not terms["categories"]:
        raise InvalidValue("a contract covers at least one category", rule="categories")
    if not terms["regions"]:
        raise InvalidValue("a contract covers at least one region", rule="regions")
    if terms["unit_price_cents"] <= 0:
        raise InvalidValue("the unit price must be positive", rule="unit_price_cents")
    if terms["budget_cents"] <= 0:
        raise InvalidValue("the budget cap must be positive", rule="budget_cents")
    if terms["valid_until"] < terms["valid_from"]:
        raise InvalidValue("the contract must end on or after its start", rule="valid_until")
    if terms.get("pricing", "hour") not in PRICINGS:
        raise InvalidValue(f"pricing is 'hour' or 'job', got {terms['pricing']!r}", rule="pricing")
    voucher = terms.get("voucher_cents")
    if voucher is not None and voucher <= 0:
        raise InvalidValue("a service voucher must be positive", rule="voucher_cents")


def cost_of(version: dict, minutes: int) -> Money:
    """What ``minutes`` of work cost under a version's terms (per hour or per job)."""
    return price_for(version.get("pricing", "hour"), Money(version["unit_price_cents"]), minutes)


class PartnershipContract(Aggregate):
    """Scope (categories, regions), unit price (per hour, or per job: ``pricing``), an
    optional service voucher (``voucher_cents``: the most the city pays per job, the resident
    paying the rest), budget cap and validity period.

    Active only when both the municipal partner and the provider have signed, each through a
    person who speaks for it (``signed_by`` names that person per party). The partner signs
    through as many of its officers as its rule asked for when the contract was proposed
    (``partner_signatures_needed``), and never through its proposer alone: another officer
    signs too.

    The terms as signed are version 1; an amendment (price, budget, scope, period) is signed
    again by both parties and becomes the next version, in force from its first day. Every
    version is kept (``versions``); work is charged under the version in force on the day it
    was done, and the charge names it. A contract is suspended (no new work) and resumed, or
    terminated, each with a reason; past its last day it has expired. Every charge is for one
    confirmed request and is either recorded or refused; a refusal is a fact too. Only the
    city's share of a charge counts against the budget; reaching 80 % and 100 % of it is a
    ``BudgetAlert``, once per threshold for each budget signed. A charge a dispute voided later
    is reversed (``ChargeReversed``), never edited: its share goes back to the budget.
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
        # per hour, without a voucher, in contracts proposed before either was a term
        pricing: str = "hour",
        voucher_cents: int | None = None,
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
        self.pricing = pricing
        self.voucher_cents = voucher_cents
        self.signed_by: dict[str, str] = {}
        self.partner_signers: list[str] = []
        self.status = ContractStatus.PROPOSED
        self.charged_cents = 0  # the city's shares charged, less those reversed
        self.charged_requests: dict[str, int] = {}  # request id -> the city's share
        self.reversed_requests: dict[str, int] = {}  # request id -> the share given back
        # request id -> what its charge was: minutes, amount, the city's and resident's shares
        self.charge_details: dict[str, dict] = {}
        self.alerts: list[dict] = []  # each budget alert: threshold, charged, budget, version
        self.budget_version = 1  # the version that set the budget in force: alerts are per it
        self.versions: list[dict] = []  # each signed version: number, first day, terms
        self.amendment: dict | None = None  # the one waiting for signatures
        self.terminated_on: date | None = None
        self.reason = ""  # why it was last suspended, resumed or terminated

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
        pricing: str = "hour",
        voucher_cents: int | None = None,
    ) -> PartnershipContract:
        """Proposed by ``partner_id`` to ``provider_id``, a provider that must be registered
        (``provider_registered``: what the provider directory says of it)."""
        if not partner_id.strip():
            raise InvalidValue("a contract needs the municipal partner", rule="partner_id")
        if not provider_id.strip():
            raise InvalidValue("a contract needs the provider", rule="provider_id")
        check_terms(
            {
                "categories": categories,
                "regions": regions,
                "unit_price_cents": unit_price_cents,
                "budget_cents": budget_cents,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "pricing": pricing,
                "voucher_cents": voucher_cents,
            }
        )
        if not provider_registered:
            raise InvalidValue(
                f"no provider {provider_id} is registered: propose to a provider of the directory",
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
            pricing=pricing,
            voucher_cents=voucher_cents,
        )

    @classmethod
    def for_programme(
        cls,
        *,
        programme_id: UUID,
        table_id: str,
        initiative_id: str,
        title: str,
        provider_id: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        pricing: str,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
        decided_by: str,
        provider_registered: bool,
        on: date,
    ) -> PartnershipContract:
        """The contract of a table's service programme (its id the programme's): the table
        (partner ``table-<table_id>``) funds it from its budget and its decision, recorded by
        the coordinator ``decided_by``, is the partner's signature; it is active once the
        provider signs. A provider the directory does not know (``provider_registered``)
        cannot sign it: the contract is recorded, and ended on ``on`` with that reason, so
        that the table sees why its programme does not start."""
        if not table_id.strip():
            raise InvalidValue("a programme's contract needs its table", rule="table_id")
        if not provider_id.strip():
            raise InvalidValue("a programme needs the provider who delivers it", rule="provider_id")
        if not decided_by.strip():
            raise InvalidValue(
                "a programme's contract names who recorded the table's decision",
                rule="decided_by",
            )
        check_terms(
            {
                "categories": categories,
                "regions": regions,
                "unit_price_cents": unit_price_cents,
                "budget_cents": budget_cents,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "pricing": pricing,
                "voucher_cents": None,
            }
        )
        contract = cls._create(
            cls.Proposed,
            id=programme_id,
            partner_id=table_partner(table_id),
            provider_id=provider_id,
            categories=sorted(set(categories)),
            regions=sorted(set(regions)),
            unit_price_cents=unit_price_cents,
            budget_cents=budget_cents,
            valid_from=valid_from,
            valid_until=valid_until,
            proposed_by=decided_by,
            partner_signatures_needed=1,
            pricing=pricing,
            voucher_cents=None,
        )
        contract._signed_by_table(
            party=Party.PARTNER,
            signed_by=table_signer(table_id),
            table_id=table_id,
            initiative_id=initiative_id,
            title=title,
            decided_by=decided_by,
        )
        if not provider_registered:
            contract._programme_refused(
                reason=(
                    f"no provider {provider_id} is registered in the provider directory: "
                    "nobody can sign the programme's contract for the provider, so it does "
                    "not start"
                ),
                by=table_signer(table_id),
                on=on,
            )
        return contract

    @event("SignedByTable")
    def _signed_by_table(
        self,
        party: str,
        signed_by: str,
        table_id: str,
        initiative_id: str,
        title: str,
        decided_by: str,
    ) -> None:
        # The table's decision on its initiative, recorded by its coordinator, is the
        # partner's signature: it reads as a signature wherever signatures are read.
        self.partner_signers.append(signed_by)
        self.signed_by[party] = ", ".join(self.partner_signers)

    @event("ProgrammeRefused")
    def _programme_refused(self, reason: str, by: str, on: date) -> None:
        self.status = ContractStatus.TERMINATED
        self.terminated_on = on
        self.reason = reason

    @property
    def remaining(self) -> Money:
        return Money(self.budget_cents - self.charged_cents)

    @property
    def terms_version(self) -> int:
        """The number of the latest signed version of the terms (0 before it is signed)."""
        return len(self.versions)

    @property
    def terms(self) -> dict:
        return {name: getattr(self, name) for name in TERMS}

    @property
    def partner_has_signed(self) -> bool:
        """Whether the partner's side is complete: as many officers as needed, one of them
        not the proposer."""
        return partner_side_signed(
            self.partner_signers, self.partner_signatures_needed, self.proposed_by
        )

    def status_on(self, day: date) -> ContractStatus:
        """The status on ``day``: an active or suspended contract past its last day has
        expired."""
        running = self.status in (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
        return ContractStatus.EXPIRED if running and day > self.valid_until else self.status

    def version_on(self, day: date) -> dict | None:
        """The version in force on ``day``: the last signed before it with ``day`` in its
        validity (and before the termination day); None when there is none."""
        in_force = None
        for version in self.versions:
            if version["effective_from"] <= day:
                in_force = version
        if in_force is None or not in_force["valid_from"] <= day <= in_force["valid_until"]:
            return None
        if self.terminated_on is not None and day >= self.terminated_on:
            return None
        return in_force

    # --- signing ---------------------------------------------------------------------------

    def sign(
        self, party: str, acting_for: str | None, signed_by: str, may_sign: bool = True
    ) -> None:
        """``signed_by`` (a person) signs for ``party``, acting for ``acting_for`` (the partner
        or provider they speak for, None if none): it must be the contract's own party. For
        the partner, ``may_sign`` says whether the person may sign for it. What they sign is
        the proposed contract, or, once it is in force, the amendment waiting for
        signatures."""
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
        if self.status != ContractStatus.PROPOSED:
            self._sign_amendment(party, signed_by)
            return
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
                pricing=self.pricing,
                voucher_cents=self.voucher_cents,
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
        pricing: str = "hour",  # activations stored before the term was: per hour
        voucher_cents: int | None = None,
    ) -> None:
        self.status = ContractStatus.ACTIVE
        self.versions = [{"version": 1, "effective_from": valid_from, **self.terms}]

    # --- amendments -------------------------------------------------------------------------

    def amend(
        self,
        changes: dict,
        effective_from: date,
        proposed_by: str,
        reason: str,
        partner_signatures_needed: int = 1,
    ) -> None:
        """Propose the next version: ``changes`` to some of the terms, in force from
        ``effective_from`` once both parties have signed it again."""
        if self.status not in (ContractStatus.ACTIVE, ContractStatus.SUSPENDED):
            raise WrongState(f"a {self.status} contract is not amended")
        if self.amendment is not None:
            raise WrongState(
                f"amendment {self.amendment['version']} is waiting for signatures: it is signed "
                "before another is proposed",
                rule="amendment_waiting",
            )
        unknown = set(changes) - set(TERMS)
        if unknown:
            raise InvalidValue(f"not a term of a contract: {', '.join(sorted(unknown))}")
        terms = {**self.terms, **{k: v for k, v in changes.items() if v is not None}}
        if changes.get("voucher_cents") == 0:  # 0 asks to end the voucher: the city pays all
            terms["voucher_cents"] = None
        for key in ("categories", "regions"):
            terms[key] = sorted(set(terms[key]))
        check_terms(terms)
        if terms == self.terms:
            raise InvalidValue("the amendment changes none of the terms", rule="changes")
        if terms["budget_cents"] < self.charged_cents:
            raise InvalidValue(
                "the budget cannot be less than what is charged already "
                f"({Money(self.charged_cents)})",
                rule="budget_cents",
            )
        latest = self.versions[-1]["effective_from"]
        if effective_from <= latest:
            raise InvalidValue(
                f"an amendment is in force from a day after the version before it ({latest})",
                rule="effective_from",
            )
        if not terms["valid_from"] <= effective_from <= terms["valid_until"]:
            raise InvalidValue(
                "an amendment is in force from a day within the contract's validity",
                rule="effective_from",
            )
        if not reason.strip():
            raise InvalidValue("say why the contract is amended", rule="reason")
        self._amendment_proposed(
            version=self.terms_version + 1,
            effective_from=effective_from,
            proposed_by=proposed_by,
            partner_signatures_needed=partner_signatures_needed,
            reason=reason.strip(),
            **terms,
        )

    @event("AmendmentProposed")
    def _amendment_proposed(
        self,
        version: int,
        effective_from: date,
        proposed_by: str,
        partner_signatures_needed: int,
        reason: str,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
        pricing: str = "hour",  # amendments stored before the terms were: per hour, no voucher
        voucher_cents: int | None = None,
    ) -> None:
        self.amendment = {
            "version": version,
            "effective_from": effective_from,
            "proposed_by": proposed_by,
            "partner_signatures_needed": partner_signatures_needed,
            "reason": reason,
            "categories": categories,
            "regions": regions,
            "unit_price_cents": unit_price_cents,
            "budget_cents": budget_cents,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "pricing": pricing,
            "voucher_cents": voucher_cents,
            "partner_signers": [],
            "provider_signer": "",
        }

    def _sign_amendment(self, party: str, signed_by: str) -> None:
        pending = self.amendment
        if pending is None:
            raise WrongState(f"the contract is {self.status}: nothing of it waits for a signature")
        if party == Party.PROVIDER and pending["provider_signer"]:
            raise WrongState("the provider has already signed this amendment")
        partner_done = partner_side_signed(
            pending["partner_signers"], pending["partner_signatures_needed"], pending["proposed_by"]
        )
        if party == Party.PARTNER and partner_done:
            raise WrongState("the partner has already signed this amendment")
        if party == Party.PARTNER and signed_by in pending["partner_signers"]:
            raise WrongState(
                f"{signed_by} has signed already: another officer of the partner signs next",
                rule="another_signer",
            )
        self._amendment_signed(version=pending["version"], party=party, signed_by=signed_by)
        if pending["provider_signer"] and partner_side_signed(
            pending["partner_signers"], pending["partner_signatures_needed"], pending["proposed_by"]
        ):
            self._amended(
                version=pending["version"],
                effective_from=pending["effective_from"],
                remaining_cents=pending["budget_cents"] - self.charged_cents,
                **{name: pending[name] for name in TERMS},
            )

    @event("AmendmentSigned")
    def _amendment_signed(self, version: int, party: str, signed_by: str) -> None:
        assert self.amendment is not None
        if party == Party.PARTNER:
            self.amendment["partner_signers"].append(signed_by)
        else:
            self.amendment["provider_signer"] = signed_by

    @event("Amended")
    def _amended(
        self,
        version: int,
        effective_from: date,
        categories: list[str],
        regions: list[str],
        unit_price_cents: int,
        budget_cents: int,
        valid_from: date,
        valid_until: date,
        remaining_cents: int,
        pricing: str = "hour",  # amendments stored before the terms were: per hour, no voucher
        voucher_cents: int | None = None,
    ) -> None:
        terms = {
            "categories": categories,
            "regions": regions,
            "unit_price_cents": unit_price_cents,
            "budget_cents": budget_cents,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "pricing": pricing,
            "voucher_cents": voucher_cents,
        }
        if budget_cents != self.budget_cents:
            self.budget_version = version  # a new budget: its alerts are armed again
        self.versions.append({"version": version, "effective_from": effective_from, **terms})
        for name, value in terms.items():
            setattr(self, name, value)
        self.amendment = None

    # --- suspension and termination ------------------------------------------------------

    def suspend(self, reason: str, by: str) -> None:
        if self.status != ContractStatus.ACTIVE:
            raise WrongState(f"only an active contract is suspended; this one is {self.status}")
        self._suspended(reason=_reason(reason, "suspended"), by=by)

    @event("Suspended")
    def _suspended(self, reason: str, by: str) -> None:
        self.status = ContractStatus.SUSPENDED
        self.reason = reason

    def resume(self, reason: str, by: str) -> None:
        if self.status != ContractStatus.SUSPENDED:
            raise WrongState(f"only a suspended contract is resumed; this one is {self.status}")
        self._resumed(reason=_reason(reason, "resumed"), by=by)

    @event("Resumed")
    def _resumed(self, reason: str, by: str) -> None:
        self.status = ContractStatus.ACTIVE
        self.reason = reason

    def terminate(self, reason: str, by: str, on: date) -> None:
        """No work under it from ``on``; work before it is still charged."""
        if self.status not in (ContractStatus.ACTIVE, ContractStatus.SUSPENDED):
            raise WrongState(f"a {self.status} contract is not terminated")
        self._terminated(reason=_reason(reason, "terminated"), by=by, on=on)

    @event("Terminated")
    def _terminated(self, reason: str, by: str, on: date) -> None:
        self.status = ContractStatus.TERMINATED
        self.terminated_on = on
        self.reason = reason
        self.amendment = None

    # --- charging ---------------------------------------------------------------------------

    def charge(self, request_id: str, minutes: int, worked_on: date | None = None) -> ChargeOutcome:
        """Charge the work on ``request_id``, done on ``worked_on``, at the price of the
        version in force that day (the latest, where the day is not known): per hour or once
        per job. With a service voucher the city pays at most the voucher and the resident
        the rest; only the city's share counts against the budget. Records either ``Charged``
        (and a ``BudgetAlert`` for each threshold it reaches first) or ``ChargeRefused``."""
        if self.status == ContractStatus.PROPOSED:
            raise WrongState("the contract is not active: both parties must sign it first")
        if not self.versions:  # a programme's contract ended before its provider signed
            raise WrongState(f"the contract was never in force: {self.reason}")
        if request_id in self.charged_requests or request_id in self.reversed_requests:
            raise WrongState(f"request {request_id} has already been charged to this contract")
        version = self.version_on(worked_on) if worked_on is not None else self.versions[-1]
        if version is None:
            reason = f"no version of the contract was in force on {worked_on}"
            amount = cost_of(self.versions[-1], minutes)
            return self._refuse(request_id, minutes, amount, reason)
        amount = cost_of(version, minutes)
        shares = shares_of(amount, version.get("voucher_cents"))
        if shares.city > self.remaining:
            reason = (
                f"the city's share of {shares.city} exceeds the remaining budget of "
                f"{self.remaining}"
                if shares.resident.cents
                else f"the charge of {amount} exceeds the remaining budget of {self.remaining}"
            )
            return self._refuse(request_id, minutes, amount, reason)
        self._charged(
            request_id=request_id,
            minutes=minutes,
            amount_cents=amount.cents,
            charged_cents=self.charged_cents + shares.city.cents,
            remaining_cents=(self.remaining - shares.city).cents,
            version=version["version"],
            city_cents=shares.city.cents,
            resident_cents=shares.resident.cents,
        )
        self._check_alerts()
        return ChargeOutcome(True, amount, self.remaining, "", shares.city, shares.resident)

    def _refuse(self, request_id: str, minutes: int, amount: Money, reason: str) -> ChargeOutcome:
        self._refused(
            request_id=request_id,
            minutes=minutes,
            amount_cents=amount.cents,
            remaining_cents=self.remaining.cents,
            reason=reason,
        )
        return ChargeOutcome(False, amount, self.remaining, reason)

    @event("Charged")
    def _charged(
        self,
        request_id: str,
        minutes: int,
        amount_cents: int,
        charged_cents: int,
        remaining_cents: int,
        version: int = 1,  # charges recorded before versions were are under the first
        # charges recorded before vouchers were: the city paid the whole amount
        city_cents: int | None = None,
        resident_cents: int = 0,
    ) -> None:
        city = amount_cents if city_cents is None else city_cents
        self.charged_cents = charged_cents
        self.charged_requests[request_id] = city
        self.charge_details[request_id] = {
            "minutes": minutes,
            "amount_cents": amount_cents,
            "city_cents": city,
            "resident_cents": resident_cents,
        }

    @event("ChargeRefused")
    def _refused(
        self, request_id: str, minutes: int, amount_cents: int, remaining_cents: int, reason: str
    ) -> None:
        pass

    # --- budget alerts ----------------------------------------------------------------------

    def alerted(self, threshold: int) -> bool:
        """Whether the budget in force has had its alert at ``threshold`` per cent."""
        return any(
            a["threshold"] == threshold and a["version"] == self.budget_version for a in self.alerts
        )

    def _check_alerts(self) -> None:
        """An alert for each threshold the charged sum has reached and the budget in force has
        not had yet (whole cents compared, nothing divided)."""
        for threshold in ALERT_THRESHOLDS:
            reached = self.charged_cents * 100 >= self.budget_cents * threshold
            if reached and not self.alerted(threshold):
                self._budget_alert(
                    threshold=threshold,
                    charged_cents=self.charged_cents,
                    budget_cents=self.budget_cents,
                    version=self.budget_version,
                )

    @event("BudgetAlert")
    def _budget_alert(
        self, threshold: int, charged_cents: int, budget_cents: int, version: int
    ) -> None:
        self.alerts.append(
            {
                "threshold": threshold,
                "charged_cents": charged_cents,
                "budget_cents": budget_cents,
                "version": version,
            }
        )

    # --- reversal ---------------------------------------------------------------------------

    def reverse(self, request_id: str, reason: str) -> Money:
        """Give back to the budget what the charge of ``request_id`` took of it (a dispute
        voided the request after it was charged): a new fact, the charge stays as it was. A
        request is reversed once; one never charged has nothing to reverse."""
        if request_id in self.reversed_requests:
            raise WrongState(
                f"the charge of request {request_id} has been reversed already",
                rule="reversed_already",
            )
        if request_id not in self.charged_requests:
            raise WrongState(
                f"request {request_id} has not been charged to this contract",
                rule="not_charged",
            )
        if not reason.strip():
            raise InvalidValue("say why the charge is reversed", rule="reason")
        city = self.charged_requests[request_id]
        charge = self.charge_details[request_id]
        self._reversed(
            request_id=request_id,
            minutes=charge["minutes"],
            amount_cents=charge["amount_cents"],
            resident_cents=charge["resident_cents"],
            city_cents=city,
            charged_cents=self.charged_cents - city,
            remaining_cents=self.remaining.cents + city,
            reason=reason.strip(),
        )
        return Money(city)

    @event("ChargeReversed")
    def _reversed(
        self,
        request_id: str,
        minutes: int,
        amount_cents: int,
        city_cents: int,
        resident_cents: int,
        charged_cents: int,
        remaining_cents: int,
        reason: str,
    ) -> None:
        self.charged_cents = charged_cents
        self.reversed_requests[request_id] = self.charged_requests.pop(request_id)


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise InvalidValue(f"say why the contract is {what}", rule="reason")
    return reason.strip()
