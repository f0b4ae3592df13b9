"""The provider's pages."""

from __future__ import annotations

PROVIDER_PAGES: list = []
