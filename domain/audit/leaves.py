"""The leaves of a service's log: its stored events, each encoded exactly as stored.

A stored event is the row eventsourcing keeps in ``<service>_events``: its notification id
(the log's order), originator id and version (which aggregate, which of its events), topic
(the event's class) and state (its serialised body: the bytes as stored, encrypted ones if the
store ever encrypts, never a decoded copy). Its leaf data is, byte by byte::

    0x01                              the format of this encoding
    notification id                   8 bytes, signed big-endian (PostgreSQL's bigint)
    originator id                     16 bytes (the uuid, in its standard byte order)
    originator version                8 bytes, signed big-endian
    topic length, topic               4 bytes signed big-endian, then its UTF-8 bytes
    state length, state               4 bytes signed big-endian, then the bytes

A length of -1 stands for NULL (as in PostgreSQL's binary COPY format), so no two rows give the
same bytes. The leaf hash is RFC 9162's, SHA-256(0x00 || leaf data).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from uuid import UUID

from domain.audit.merkle import leaf_hash

FORMAT = 0x01
_INT64 = struct.Struct(">q")
_HEAD = struct.Struct(">Bq16sq")  # format, notification id, originator id, version
_INT32 = struct.Struct(">i")


class MalformedLeaf(ValueError):
    pass


@dataclass(frozen=True)
class StoredEvent:
    """One row of a service's events table, as stored."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str | None
    state: bytes | None

    def leaf_data(self) -> bytes:
        topic = None if self.topic is None else self.topic.encode()
        return leaf_data(
            self.notification_id,
            self.originator_id.bytes,
            self.originator_version,
            topic,
            self.state,
        )

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf_data())

    @classmethod
    def from_leaf_data(cls, data: bytes) -> StoredEvent:
        """The stored event a leaf's data encodes; MalformedLeaf if it encodes none."""
        if len(data) < 1 + 8 + 16 + 8 or data[0] != FORMAT:
            raise MalformedLeaf("not the leaf data of a stored event (format 1)")
        (notification_id,) = _INT64.unpack_from(data, 1)
        originator_id = UUID(bytes=data[9:25])
        (version,) = _INT64.unpack_from(data, 25)
        topic, at = _read_field(data, 33)
        state, at = _read_field(data, at)
        if at != len(data):
            raise MalformedLeaf("bytes left over after the state")
        return cls(
            notification_id,
            originator_id,
            version,
            None if topic is None else topic.decode(),
            state,
        )


def leaf_data(
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: bytes | None,
    state: bytes | None,
) -> bytes:
    """The leaf data of a stored event's columns (the originator id's 16 bytes, the topic in
    UTF-8): the one encoding, for a ``StoredEvent`` and for rows read in bulk."""
    return b"".join(
        (
            _HEAD.pack(FORMAT, notification_id, originator_id, originator_version),
            _field(topic),
            _field(state),
        )
    )


def _field(value: bytes | None) -> bytes:
    if value is None:
        return _INT32.pack(-1)
    return _INT32.pack(len(value)) + value


def _read_field(data: bytes, at: int) -> tuple[bytes | None, int]:
    if at + 4 > len(data):
        raise MalformedLeaf("the leaf data ends inside a length")
    (length,) = _INT32.unpack_from(data, at)
    at += 4
    if length == -1:
        return None, at
    if length < 0 or at + length > len(data):
        raise MalformedLeaf("a length runs past the end of the leaf data")
    return data[at : at + length], at + length
