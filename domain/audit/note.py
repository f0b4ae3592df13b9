"""Signed notes (C2SP signed-note, as golang.org/x/mod/sumdb/note reads and writes them) with
Ed25519 keys.

A note is UTF-8 text ending in a newline, then a blank line, then one line per signature::

    <text>
    (blank line)
    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature of the text)>

The key id is the first four bytes (big-endian) of SHA-256(key name || 0x0A || 0x01 || public
key); 0x01 names Ed25519. A verifier key is written ``<name>+<key id, 8 hex digits>+<base64(0x01
|| public key)>``, a signer key ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>``: the
strings the Go tools take, so that anybody can check a note with them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
MAX_SIGNATURES = 100  # as the Go package: a note with more is refused unread


class NoteError(ValueError):
    """A note or key that cannot be used; the message says why."""


class MalformedNote(NoteError):
    pass


class MalformedKey(NoteError):
    pass


class UnverifiedNote(NoteError):
    """None of the note's signatures is by a key the reader knows."""

    def __init__(self, note: Note) -> None:
        super().__init__("the note has no signature by a key given to check it with")
        self.note = note


class InvalidSignature(NoteError):
    pass


def valid_name(name: str) -> bool:
    """A key name: not empty, no spaces of any kind, no ``+``."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedKey("not base64") from None


@dataclass(frozen=True)
class Verifier:
    """A public key by its name: what checks a note's signature."""

    name: str
    public_key: bytes  # the 32 bytes of an Ed25519 public key

    def __post_init__(self) -> None:
        if not valid_name(self.name):
            raise MalformedKey(f"{self.name!r} is no key name: no spaces or + in it, not empty")
        if len(self.public_key) != 32:
            raise MalformedKey("an Ed25519 public key has 32 bytes")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def key(self) -> str:
        """The verifier key, ``<name>+<key id>+<base64(0x01 || public key)>``."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    @classmethod
    def parse(cls, key: str) -> Verifier:
        """A verifier key as ``key`` writes it (the Go package's ``NewVerifier``)."""
        name, _, rest = key.strip().partition("+")
        hex_id, _, encoded = rest.partition("+")
        if len(hex_id) != 8 or not all(c in "0123456789abcdefABCDEF" for c in hex_id):
            raise MalformedKey(f"{key!r} is no verifier key: <name>+<8 hex digits>+<base64>")
        raw = _b64decode(encoded)
        if not raw or raw[0] != ED25519:
            raise MalformedKey("only Ed25519 keys (algorithm 0x01) are known here")
        verifier = cls(name, raw[1:])
        if verifier.key_id != int(hex_id, 16):
            raise MalformedKey(f"the key id {hex_id} is not that of the key {name}")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except _BadSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key by its name: what signs notes. ``seed`` is the 32-byte Ed25519 seed."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not valid_name(self.name):
            raise MalformedKey(f"{self.name!r} is no key name: no spaces or + in it, not empty")
        if len(self.seed) != 32:
            raise MalformedKey("an Ed25519 seed has 32 bytes")

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    @property
    def key_id(self) -> int:
        return self.verifier.key_id

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def key(self) -> str:
        """The signer key, ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>``."""
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    @classmethod
    def parse(cls, key: str) -> Signer:
        """A signer key as ``key`` writes it (the Go package's ``NewSigner``)."""
        parts = key.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise MalformedKey("a signer key is PRIVATE+KEY+<name>+<key id>+<base64>")
        _, _, name, hex_id, encoded = parts
        raw = _b64decode(encoded)
        if not raw or raw[0] != ED25519:
            raise MalformedKey("only Ed25519 keys (algorithm 0x01) are known here")
        signer = cls(name, raw[1:])
        if len(hex_id) != 8 or f"{signer.key_id:08x}" != hex_id.lower():
            raise MalformedKey(f"the key id {hex_id} is not that of the key {name}")
        return signer


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    base64: str  # of the key id and the signature, as on the line


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...] = ()  # by keys the reader gave, each checked
    unverified: tuple[Signature, ...] = ()  # by keys the reader did not give


def _check_text(message: str) -> None:
    for character in message:
        if character < " " and character != "\n":
            raise MalformedNote("a note holds no control characters but line breaks")


def sign(text: str, *signers: Signer, note: Note | None = None) -> str:
    """The note of ``text`` signed by each of ``signers``; the signatures of ``note`` (an
    opened note of the same text) by other keys are kept, before the new ones."""
    if not text.endswith("\n"):
        raise MalformedNote("a note's text ends with a line break")
    _check_text(text)
    message = text.encode()
    new = {(s.name, s.key_id) for s in signers}
    lines = []
    for old in (note.signatures + note.unverified) if note else ():
        if (old.name, old.key_id) not in new:
            lines.append(f"{SIGNATURE_PREFIX}{old.name} {old.base64}\n")
    for signer in signers:
        raw = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(raw).decode()}\n")
    return text + "\n" + "".join(lines)


def open_note(message: str | bytes, verifiers: Sequence[Verifier]) -> Note:
    """The note in ``message`` with its signatures by ``verifiers`` checked, as the Go
    package's ``Open``: MalformedNote, InvalidSignature (a signature by a known key that does
    not verify), or UnverifiedNote (no signature by a known key)."""
    if isinstance(message, bytes):
        try:
            message = message.decode()
        except UnicodeDecodeError:
            raise MalformedNote("a note is UTF-8 text") from None
    _check_text(message)
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNote("a note ends in a blank line and its signature lines")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("each signature line ends with a line break")
    known: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNote(f"not a signature line: {line[:40]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True) if encoded else b""
        except (binascii.Error, ValueError):
            raw = b""
        if not valid_name(name) or len(raw) < 5:
            raise MalformedNote(f"not a signature line: {line[:40]!r}")
        id_ = int.from_bytes(raw[:4], "big")
        signature = Signature(name, id_, encoded)
        candidates = known.get((name, id_), [])
        if not candidates:
            if line not in seen_unverified:
                seen_unverified.add(line)
                unverified.append(signature)
            continue
        if len(candidates) > 1:  # as the Go package: two keys of one name and id
            raise NoteError(f"ambiguous key {name}+{id_:08x}")
        if (name, id_) in seen:
            continue
        seen.add((name, id_))
        if not candidates[0].verify(text.encode(), raw[4:]):
            raise InvalidSignature(f"invalid signature for key {name}+{id_:08x}")
        verified.append(signature)
    note = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNote(note)
    return note
