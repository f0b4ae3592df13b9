"""The impact report's page, for everyone: the figures for a period and a region, the
charts and the CSV."""

from __future__ import annotations

IMPACT_PAGES: list = []
