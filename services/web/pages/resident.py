"""The resident's pages."""

from __future__ import annotations

RESIDENT_PAGES: list = []
