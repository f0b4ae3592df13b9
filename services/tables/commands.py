"""The tables service's commands, as the request bodies that carry them. Who sends one is the
caller of its route, never a field here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta

from domain.tables import table as defaults
from services.platform.http import Body, Code, Codes, line

Cents = Annotated[int, Meta(ge=0, le=10**12)]


class NewTable(Body):
    """An admin founds a table for regions of the catalogue, with its coordinator; the Lahti
    figures are the defaults."""

    table_id: Code
    name: line(200, 1)
    regions: Codes
    coordinator: line(200, 1)  # the coordinating employee's subject
    founded_on: date | None = None  # today when not given
    coordinator_share_percent: Annotated[int, Meta(ge=1, le=100)] = (
        defaults.COORDINATOR_SHARE_PERCENT
    )
    coordinator_yearly_cost_cents: Cents = defaults.COORDINATOR_YEARLY_COST_CENTS
    yearly_budget_cents: Cents = defaults.YEARLY_BUDGET_CENTS
    meeting_fee_cents: Cents = defaults.MEETING_FEE_CENTS
    meetings_per_year: Annotated[int, Meta(ge=1, le=52)] = defaults.MEETINGS_PER_YEAR
    support_threshold: Annotated[int, Meta(ge=1, le=100_000)] = defaults.SUPPORT_THRESHOLD
    answer_days: Annotated[int, Meta(ge=1, le=365)] = defaults.ANSWER_DAYS
