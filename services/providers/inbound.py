"""The providers service consumes nothing yet: providers are registered over HTTP."""

from __future__ import annotations

from contracts.jetstream import Subscription
from services.providers.application import ProvidersApplication


def subscriptions(app: ProvidersApplication) -> list[Subscription]:
    return []
