"""The partnerships service's commands, as the request bodies that carry them. Who sends one is
the caller of its route, never a field here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta

from domain.partnership import Party
from services.platform.http import Body, Codes, Hours, Id

Cents = Annotated[int, Meta(gt=0, le=10**12)]


class NewContract(Body):
    """Proposed by an officer for their own municipal partner, to ``provider_id``."""

    provider_id: Id
    categories: Codes
    regions: Codes
    unit_price_cents: Cents
    budget_cents: Cents
    valid_from: date
    valid_until: date


class Signature(Body):
    """The caller signs for ``party``: the partner (as its officer) or the provider (as its
    member)."""

    party: Party


class NewCharge(Body):
    request_id: Id
    hours: Hours
