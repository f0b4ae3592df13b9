"""Participatory budgeting's pages: a round for its residents (proposals, selection, the
ballot with its running total against the rule) and for its coordinator (review, phases,
paper ballots, the tally)."""

from __future__ import annotations

ROUND_PAGES: list = []
