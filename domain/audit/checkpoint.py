"""Checkpoints (C2SP tlog-checkpoint): a log's tree head as the text of a signed note.

::

    talkoot.lahti.fi/requests
    1234
    <base64 of the 32-byte root hash>
    (blank line)
    — talkoot.lahti.fi/requests <base64(key id || Ed25519 signature)>

The origin names the log, the size is its number of leaves in decimal (no leading zeros), the
root hash is the RFC 9162 tree head of those leaves; each line ends in a newline, and lines
after the third are extensions (none here). A log signs with a key named as its origin.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.audit.merkle import HASH_SIZE
from domain.audit.note import Note, NoteError, Signer, Verifier, open_note, sign

_SIZE = re.compile(r"0|[1-9][0-9]*")


class MalformedCheckpoint(NoteError):
    pass


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MalformedCheckpoint("a checkpoint's origin is one line, not empty")
        if self.size < 0:
            raise MalformedCheckpoint("a tree size is not negative")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedCheckpoint(f"a root hash has {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise MalformedCheckpoint("an extension is one line, not empty")

    def text(self) -> str:
        """The note text: origin, size, base64 root hash and extensions, a line each."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(f"{line}\n" for line in (*lines, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise MalformedCheckpoint("every line of a checkpoint ends with a line break")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint("a checkpoint has an origin, a size and a root hash")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise MalformedCheckpoint(f"{size[:30]!r} is no tree size")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedCheckpoint(f"{root[:60]!r} is no base64 root hash") from None
        return cls(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note of ``checkpoint``."""
    return sign(checkpoint.text(), signer)


def open_checkpoint(message: str | bytes, verifiers: Sequence[Verifier]) -> tuple[Checkpoint, Note]:
    """The checkpoint in the signed note ``message``, with a signature by one of ``verifiers``
    checked (NoteError otherwise), and the note."""
    note = open_note(message, verifiers)
    return Checkpoint.parse(note.text), note


def split_notes(text: str) -> list[str]:
    """The signed notes in ``text`` written one after another (blank lines between them
    allowed): each ends with its last signature line."""
    notes, current, signing = [], [], False
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    for line in lines:
        if signing and not line.startswith("\u2014 "):
            notes.append("".join(current))
            current, signing = [], False
            if line.strip() == "":
                continue
        if not signing and not current and line.strip() == "":
            continue
        current.append(line)
        if current[-1].startswith("\u2014 ") and len(current) > 1 and current[-2] == "\n":
            signing = True
    if current:
        notes.append("".join(current))
    return notes
