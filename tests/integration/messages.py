"""What the integration tests send: events published straight onto a stream, and bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.events import ProviderRegisteredV1
from domain.calendar import local_today


def registered(n: int, name: str = "") -> ProviderRegisteredV1:
    """Provider ``p-<n>`` registered (named ``name``, or ``Provider <n>``)."""
    return ProviderRegisteredV1(
        occurred_at=datetime.now(UTC),
        provider_id=f"p-{n}",
        name=name or f"Provider {n}",
        kind="cooperative",
        categories=["yard-work"],
        regions=["hollola"],
        capacity=1,
    )


def contract_body(**change) -> dict:
    """A proposed contract for 30 days from Lahti's today, with ``change`` applied."""
    today = local_today()
    return {
        "partner_id": "lahti-city",
        "provider_id": "p-1",
        "categories": ["yard-work"],
        "regions": ["hollola"],
        "unit_price_cents": 3000,
        "budget_cents": 10_000,
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(),
        **change,
    }
