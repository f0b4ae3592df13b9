"""From a service's domain events to the integration events it publishes.

Domain events and their integration events name the same facts the same way, so each service
declares only which domain event becomes which integration event and under which field the
aggregate's id goes; the fields are copied by name. A required field the domain event lacks
fails loudly (the contract tests run every published type through this); an optional one takes
its default, so events stored before a field was added still publish. A field whose type is a
Struct of the contract (an offer's explanation), or a list of them (a payout's lines), is
stored in the domain event as plain values, and converted here.

A resident's personal data (the fields ``contracts.events.PERSONAL`` names) is published
empty and sealed for the resident into the event's ``sealed`` field, with the keyring the relay
passes (services/platform/personal.py); the resident is the domain event's ``resident_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from contracts.events import PERSONAL, IntegrationEvent
from services.platform.personal import Keyring, seal_event

# domain event class -> (integration event class, the field that carries the aggregate's id,
# or None where the event names its aggregate by a code of its own, as a table's do)
Published = dict[type, tuple[type[IntegrationEvent], str | None]]

# What the relay calls for each stored event, with the service's keyring (if it has one).
Outbound = Callable[[Any, Keyring | None], IntegrationEvent | None]


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def translation(published: Published) -> Outbound:
    """The relay's map for a service: its integration event for a domain event, or None for
    an event that stays inside the service."""

    fields = {
        kind: [(f.name, f.required) for f in msgspec.structs.fields(kind)]
        for kind, _ in published.values()
    }
    # the fields of each integration event that hold a Struct (or None)
    nested = {
        kind: {
            f.name: f.type
            for f in msgspec.structs.fields(kind)
            if any(_is_struct(t) for t in (f.type, *getattr(f.type, "__args__", ())))
        }
        for kind, _ in published.values()
    }

    def to_integration_event(event: Any, keyring: Keyring | None = None) -> IntegrationEvent | None:
        try:
            kind, id_field = published[type(event)]
        except KeyError:
            return None
        values = {"occurred_at": event.timestamp}
        if id_field is not None:
            values[id_field] = str(event.originator_id)
        for name, required in fields[kind]:
            if name in values:
                continue
            if required or hasattr(event, name):
                values[name] = getattr(event, name)
        for name, struct in nested[kind].items():
            if isinstance(values.get(name), dict | list):  # plain values of Structs
                values[name] = msgspec.convert(values[name], struct)
        if kind in PERSONAL:
            personal = {name: values.pop(name) for name in PERSONAL[kind] if name in values}
            blanks, values["sealed"] = seal_event(
                keyring, kind, values[id_field], getattr(event, "resident_id", ""), personal
            )
            values.update(blanks)
        return kind(**values)

    return to_integration_event
