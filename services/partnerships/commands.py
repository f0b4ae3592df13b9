"""The partnerships service's commands, as the request bodies that carry them. Who sends one is
the caller of its route, never a field here."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from domain.partnership import Party
from services.platform.http import Body, Code, Codes, Hours, Id, line, text

Cents = Annotated[int, Meta(gt=0, le=10**12)]
# "hour": the unit price is per hour of work; "job": it is the price of each job, whatever
# the hours
Pricing = Literal["hour", "job"]


class NewContract(Body):
    """Proposed by an officer for their own municipal partner, to ``provider_id``."""

    provider_id: Id
    categories: Codes
    regions: Codes
    unit_price_cents: Cents
    budget_cents: Cents
    valid_from: date
    valid_until: date
    pricing: Pricing = "hour"
    # the service voucher: the most the city pays per job, the resident paying the rest
    # (none: the city pays the whole charge)
    voucher_cents: Cents | None = None


class Signature(Body):
    """The caller signs for ``party``: the partner (as its officer) or the provider (as its
    member)."""

    party: Party


class NewCharge(Body):
    request_id: Id
    hours: Hours
    # the day of the work: the version in force that day prices it (the latest when not given)
    worked_on: date | None = None


class Amendment(Body):
    """The next version of a contract: the terms that change (the others stay), the day it
    is in force from, and why."""

    effective_from: date
    reason: text(500, blank=False)
    categories: Codes | None = None
    regions: Codes | None = None
    unit_price_cents: Cents | None = None
    budget_cents: Cents | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    pricing: Pricing | None = None
    # a new voucher; 0 ends the voucher (the city pays the whole charge again)
    voucher_cents: Annotated[int, Meta(ge=0, le=10**12)] | None = None


class Decision(Body):
    """Why a contract is suspended or resumed."""

    reason: text(500, blank=False)


class Termination(Body):
    """Why a contract is terminated, and the first day without work under it (today when not
    given)."""

    reason: text(500, blank=False)
    on: date | None = None


class NewPartner(Body):
    """A municipal partner, registered by an admin: its code (what officers' tokens name as
    their ``partner``), its name, and above which budget a contract needs a second officer's
    signature (null: one signature whatever the budget)."""

    partner_id: Code
    name: line(200, 1)
    second_signature_above_cents: Cents | None = None


class Appointment(Body):
    """``subject`` (the person's identifier, their token's ``sub``) is an officer of the
    partner, who may sign its contracts or not."""

    subject: Id
    may_sign: bool = False


class Relief(Body):
    reason: text(500, blank=False)


class SigningRule(Body):
    second_signature_above_cents: Cents | None
