"""The admin's pages."""

from __future__ import annotations

ADMIN_PAGES: list = []
