"""The partnership tables' pages: a table for its residents and for everyone, and what its
coordinator runs (members, meetings and attendance, events, initiatives, the fee payout); the
initiatives forwarded to the city for its officers."""

from __future__ import annotations

TABLE_PAGES: list = []
