"""The officer's pages."""

from __future__ import annotations

OFFICER_PAGES: list = []
