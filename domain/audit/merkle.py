"""Append-only Merkle trees hashed as RFC 9162 (Certificate Transparency 2.0) §2.1 says.

A leaf is ``SHA-256(0x00 || data)``, an interior node ``SHA-256(0x01 || left || right)``, and the
tree head of n leaves (MTH) splits them at the largest power of two below n. The empty tree's
head is ``SHA-256()``.

Everything here takes the leaf *hashes* in order, as any iterable, and reads it once: the head
is kept as a ``CompactRange`` (the roots of the perfect subtrees the leaves so far fall into, at
most log2 n of them), and a proof is the heads of a few ranges of leaves that are known from
the sizes alone (``inclusion_ranges``, ``consistency_ranges``), gathered in one pass by
``RangeRoots``. So a log of any length is hashed in O(log n) memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]  # leaves [lo, hi): the first one's index and one past the last one's


class InvalidProof(ValueError):
    """A proof that does not prove what it was checked for; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): where MTH splits n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The tree head of the leaves appended so far, in O(log n) memory: the roots of the
    perfect subtrees they fall into, largest (leftmost) first, one for each bit set in the
    size."""

    __slots__ = ("_roots", "size")

    def __init__(self, size: int = 0, roots: Sequence[bytes] = ()) -> None:
        if size < 0 or len(roots) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} subtree roots")
        self.size = size
        self._roots = list(roots)

    @property
    def roots(self) -> tuple[bytes, ...]:
        return tuple(self._roots)

    def append(self, leaf: bytes) -> None:
        """Add the next leaf's hash: it merges with as many equal-sized subtrees as the size
        had trailing one bits."""
        roots, carry = self._roots, self.size
        roots.append(leaf)
        while carry & 1:
            right = roots.pop()
            roots[-1] = node_hash(roots[-1], right)
            carry >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: the subtree roots folded from the right."""
        if not self._roots:
            return EMPTY_ROOT
        head = self._roots[-1]
        for left in reversed(self._roots[:-1]):
            head = node_hash(left, head)
        return head

    def copy(self) -> CompactRange:
        return CompactRange(self.size, self._roots)

    def to_bytes(self) -> bytes:
        return b"".join(self._roots)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        roots = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size, roots)


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaf hashes ``leaves``."""
    tree = CompactRange()
    tree.extend(leaves)
    return tree.root()


# --- which subtrees a proof is made of ------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges of leaves whose heads are the inclusion proof of leaf ``index`` in the tree of
    ``size`` leaves, in the proof's order (RFC 9162 §2.1.3.1, PATH(m, D[n]): nearest first)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    ranges, lo, hi = [], 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """The ranges of leaves whose heads are the consistency proof between the trees of
    ``size1`` and ``size2`` leaves, in the proof's order (RFC 9162 §2.1.4.1,
    SUBPROOF(m, D[n], true))."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from {size1} to {size2} leaves: 0 < m <= n")
    ranges, lo, hi, m, known = [], 0, size2, size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, known = lo + k, m - k, False
    if not known:
        ranges.append((lo, hi))
    return ranges[::-1]


class RangeRoots:
    """The heads of some ranges of leaves, gathered while the leaves go by once, in order.

    ``add`` each leaf hash in turn; ``roots`` holds each range's head once its last leaf has
    gone by. Only the ranges that hold the current leaf are kept open, each as a
    ``CompactRange``."""

    def __init__(self, ranges: Iterable[Range]) -> None:
        self._waiting = sorted({(lo, hi) for lo, hi in ranges if lo < hi}, reverse=True)
        self._open: list[tuple[int, CompactRange]] = []
        self.roots: dict[Range, bytes] = {(lo, lo): EMPTY_ROOT for lo, hi in ranges if lo >= hi}
        self.index = 0

    @property
    def done(self) -> bool:
        return not self._waiting and not self._open

    def add(self, leaf: bytes) -> None:
        index = self.index
        while self._waiting and self._waiting[-1][0] == index:
            _, hi = self._waiting.pop()
            self._open.append((hi, CompactRange()))
        if self._open:
            still = []
            for hi, tree in self._open:
                tree.append(leaf)
                if index + 1 == hi:
                    self.roots[(hi - tree.size, hi)] = tree.root()
                else:
                    still.append((hi, tree))
            self._open = still
        self.index += 1

    def missing(self) -> list[Range]:
        """The ranges not yet complete."""
        return sorted([(hi - tree.size, hi) for hi, tree in self._open] + self._waiting)


def range_roots(leaves: Iterable[bytes], ranges: Iterable[Range]) -> dict[Range, bytes]:
    """The head of each of ``ranges`` of the leaf hashes ``leaves`` (read only as far as the
    last range ends). ValueError when there are fewer leaves than a range needs."""
    gathering = RangeRoots(ranges)
    if not gathering.done:
        for leaf in leaves:
            gathering.add(leaf)
            if gathering.done:
                break
    if not gathering.done:
        missing = gathering.missing()
        raise ValueError(f"only {gathering.index} leaves; the ranges {missing} need more")
    return gathering.roots


def inclusion_proof(leaves: Iterable[bytes], index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of the first ``size`` of ``leaves``."""
    ranges = inclusion_ranges(index, size)
    roots = range_roots(leaves, ranges)
    return [roots[r] for r in ranges]


def consistency_proof(leaves: Iterable[bytes], size1: int, size2: int) -> list[bytes]:
    """The consistency proof between the trees of the first ``size1`` and ``size2`` of
    ``leaves``."""
    ranges = consistency_ranges(size1, size2)
    roots = range_roots(leaves, ranges)
    return [roots[r] for r in ranges]


# --- checking proofs ---------------------------------------------------------------------


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` leaves whose
    head is ``root``, as RFC 9162 §2.1.3.2 says; InvalidProof saying why not."""
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of {size} leaves")
    if len(leaf) != HASH_SIZE:
        raise InvalidProof(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InvalidProof("the proof has more hashes than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof("the proof has fewer hashes than the path to the root")
    if r != root:
        raise InvalidProof("the proof leads to another root than the tree head's")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` leaves with head ``root2`` extends the one of ``size1``
    leaves with head ``root1``, as RFC 9162 §2.1.4.2 says; InvalidProof saying why not.

    As the transparency-dev implementations do, a proof from the empty tree is refused (any
    tree extends it: there is nothing to prove), and between equal sizes the proof must be
    empty and the heads the same."""
    if size2 < size1:
        raise InvalidProof(f"a tree of {size2} leaves cannot extend one of {size1}")
    if size1 == 0:
        raise InvalidProof("every tree extends the empty one: there is nothing to prove")
    if size1 == size2:
        if proof:
            raise InvalidProof("between trees of the same size the proof is empty")
        if root1 != root2:
            raise InvalidProof(f"two different heads for the same size {size1}")
        return
    if not proof:
        raise InvalidProof("the proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old head is a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("the proof has more hashes than the path to the root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof("the proof has fewer hashes than the path to the root")
    if fr != root1:
        raise InvalidProof(f"the proof does not lead to the old head (of {size1} leaves)")
    if sr != root2:
        raise InvalidProof(f"the proof does not lead to the new head (of {size2} leaves)")
