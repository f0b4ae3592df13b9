"""Talkoot's event-sourced model: aggregates, value objects, invariants and pure policies.

No I/O here: nothing in this package talks to a database, a network or the clock of its own
accord. Times come in as arguments or from the events themselves.
"""
