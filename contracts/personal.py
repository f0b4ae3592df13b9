"""Residents' personal data as it travels: sealed for one resident, never in the clear.

An integration event that carries a resident's personal data (where the work is, what they
wrote) publishes those fields empty (``""``, or null for a point) and carries their values in
one ``sealed`` field instead: a JSON object of the fields, encrypted with AES-256-GCM under a
key of that resident's. The key is named by ``key_id`` and kept by the services apart from every
event (services/platform/personal.py); it is never on the wire. The associated data binds the
ciphertext to the resident, the key and ``context`` (the event's type and the id of what it is
about), so that it cannot be passed off as another resident's or another event's.

Once the resident's data is erased their key is destroyed: a ``Sealed`` under it can no longer
be opened by anybody, and each of its fields reads as ``ERASED`` (null for the point). An event
published after the erasure carries a ``Sealed`` of no key (``key_id`` and ``data`` empty),
which reads as erased in the same way.
"""

from __future__ import annotations

import msgspec

# What a personal text field reads as once the resident's key is destroyed; a point's lat and
# long read as null.
ERASED = "[erased]"
# The personal fields that are numbers: null once erased, where text reads ``ERASED``.
NUMBERS = frozenset({"lat", "long"})
# The version of the sealing scheme, the first part of the associated data.
SCHEME = "talkoot-personal-v1"


class Sealed(msgspec.Struct, frozen=True, kw_only=True):
    """Personal fields of one resident, encrypted (AES-256-GCM) under one of their keys."""

    resident_id: str
    key_id: str  # which of the resident's keys (a new one is made after an erasure)
    context: str  # where it was sealed: "<event type>/<id of what it is about>"
    nonce: bytes  # 12 bytes, fresh for each sealing (base64 in JSON)
    data: bytes  # the ciphertext of the fields' JSON object, with its 16-byte tag


def associated_data(resident_id: str, key_id: str, context: str) -> bytes:
    """What the ciphertext is bound to: the scheme, the resident, the key and the context."""
    return "\x00".join((SCHEME, resident_id, key_id, context)).encode()


def erased(fields: tuple[str, ...] | list[str]) -> dict[str, object]:
    """What ``fields`` read as once erased."""
    return {name: None if name in NUMBERS else ERASED for name in fields}
