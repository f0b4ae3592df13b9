"""The Merkle tree against the transparency-dev test vectors (transparency_dev_vectors.json
says where each comes from), and properties of proofs made here: each verifies, and fails when
a hash or a size is changed."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    InvalidProof,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_roots,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "transparency_dev_vectors.json").read_text())
TREE = VECTORS["tree"]
LEAVES = [leaf_hash(bytes.fromhex(data)) for data in TREE["leaf_inputs"]]
ROOTS = [bytes.fromhex(h) for h in TREE["root_hashes"]]
NODES = [[bytes.fromhex(h) for h in level] for level in TREE["node_hashes"]]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 9162 §2.1.1 defines it, recursively: what the streaming head must equal."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


# --- the published vectors ------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["hashes"], ids=lambda v: v["desc"])
def test_the_hashes_are_rfc_6962_and_9162s(vector: dict):
    if vector["kind"] == "empty":
        got = EMPTY_ROOT
    elif vector["kind"] == "leaf":
        got = leaf_hash(bytes.fromhex(vector["data"]))
    else:
        got = node_hash(bytes.fromhex(vector["left"]), bytes.fromhex(vector["right"]))
    assert got.hex() == vector["want"]


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_the_streaming_head_of_each_prefix_of_the_reference_tree_is_published_root(size: int):
    assert root_of(LEAVES[:size]) == ROOTS[size]


def test_the_compact_range_holds_the_published_subtree_roots_after_each_leaf():
    tree = CompactRange()
    for size, nodes in enumerate(TREE["compact_tree_nodes"]):
        if size:
            tree.append(LEAVES[size - 1])
        assert tree.roots == tuple(NODES[level][index] for level, index in nodes)
        assert tree.root() == ROOTS[size]


@pytest.mark.parametrize(
    "vector", VECTORS["inclusion_proofs"], ids=lambda v: f"{v['index']}:{v['size']}"
)
def test_inclusion_proofs_are_the_reference_ones(vector: dict):
    want = [bytes.fromhex(h) for h in vector["want"]]
    assert inclusion_proof(LEAVES, vector["index"], vector["size"]) == want
    verify_inclusion(
        vector["index"], vector["size"], LEAVES[vector["index"]], want, ROOTS[vector["size"]]
    )


@pytest.mark.parametrize(
    "vector", VECTORS["consistency_proofs"], ids=lambda v: f"{v['size1']}:{v['size2']}"
)
def test_consistency_proofs_are_the_reference_ones(vector: dict):
    want = [bytes.fromhex(h) for h in vector["want"]]
    size1, size2 = vector["size1"], vector["size2"]
    assert consistency_proof(LEAVES, size1, size2) == want
    verify_consistency(size1, size2, want, ROOTS[size1], ROOTS[size2])


@pytest.mark.parametrize("probe", VECTORS["inclusion_probes"], ids=lambda p: p["file"])
def test_every_inclusion_probe_verifies_or_fails_as_published(probe: dict):
    arguments = (
        probe["leafIdx"],
        probe["treeSize"],
        b64(probe["leafHash"]),
        [b64(p) for p in probe["proof"] or []],
        b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(InvalidProof):
            verify_inclusion(*arguments)
    else:
        verify_inclusion(*arguments)


@pytest.mark.parametrize("probe", VECTORS["consistency_probes"], ids=lambda p: p["file"])
def test_every_consistency_probe_verifies_or_fails_as_published(probe: dict):
    arguments = (
        probe["size1"],
        probe["size2"],
        [b64(p) for p in probe["proof"] or []],
        b64(probe["root1"]),
        b64(probe["root2"]),
    )
    if probe["wantErr"]:
        with pytest.raises(InvalidProof):
            verify_consistency(*arguments)
    else:
        verify_consistency(*arguments)


def valid_subtrees(leaves: int):
    """Every [start, end) the draft's vectors take, in their order."""
    for end in range(leaves + 1):
        for start in range(end + 1):
            length = end - start
            if start == 0 or start == end or start % (1 << (length - 1).bit_length()) == 0:
                yield start, end


def test_the_head_of_every_subtree_of_130_leaves_is_the_drafts():
    rolling = VECTORS["rolling"]
    leaves = [leaf_hash(bytes([i])) for i in range(rolling["leaves"])]
    written = hashlib.sha256()
    for start, end in valid_subtrees(rolling["leaves"]):
        written.update(f"[{start}, {end}) {root_of(leaves[start:end]).hex()}\n".encode())
    assert written.hexdigest() == rolling["subtree_hash"]["want"]


def test_every_inclusion_proof_in_every_subtree_of_130_leaves_is_the_drafts():
    rolling = VECTORS["rolling"]
    leaves = [leaf_hash(bytes([i])) for i in range(rolling["leaves"])]
    written = hashlib.sha256()
    for start, end in valid_subtrees(rolling["leaves"]):
        part = leaves[start:end]
        for index in range(start, end):
            proof = inclusion_proof(part, index - start, end - start)
            line = f"{index} [{start}, {end})" + "".join(f" {h.hex()}" for h in proof)
            written.update(f"{line}\n".encode())
    assert written.hexdigest() == rolling["subtree_inclusion_proof"]["want"]


# --- properties -----------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70).map(
    lambda data: [leaf_hash(d) for d in data]
)


def changed(value: bytes, bit: int) -> bytes:
    at = bit // 8 % len(value)
    return value[:at] + bytes([value[at] ^ (1 << bit % 8)]) + value[at + 1 :]


def turns(index: int, size: int) -> list[bool]:
    """Which side of the path each hash of an inclusion proof joins it from (left: True)."""
    return [hi <= index for _, hi in inclusion_ranges(index, size)]


@settings(max_examples=300)
@given(leaf_lists)
def test_the_streaming_head_is_the_recursive_definitions(leaves: list[bytes]):
    assert root_of(leaves) == reference_root(leaves)


@settings(max_examples=300)
@given(leaf_lists, st.data())
def test_an_inclusion_proof_made_here_verifies_and_fails_once_anything_is_changed(
    leaves: list[bytes], data: st.DataObject
):
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = reference_root(leaves[:size])
    proof = inclusion_proof(leaves, index, size)
    verify_inclusion(index, size, leaves[index], proof, root)
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(InvalidProof):
        verify_inclusion(index, size, changed(leaves[index], bit), proof, root)
    with pytest.raises(InvalidProof):
        verify_inclusion(index, size, leaves[index], proof, changed(root, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="hash")
        wrong = [*proof[:at], changed(proof[at], bit), *proof[at + 1 :]]
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, leaves[index], wrong, root)
        with pytest.raises(InvalidProof):
            verify_inclusion(index, size, leaves[index], proof[:-1], root)
    # Another size fails wherever it changes the path: a path of the same turns hashes to the
    # same head (the signed checkpoint is what binds the head to its size).
    other = data.draw(st.integers(0, 2 * size).filter(lambda n: n != size), label="other size")
    if index >= other or turns(index, other) != turns(index, size):
        with pytest.raises(InvalidProof):
            verify_inclusion(index, other, leaves[index], proof, root)
    else:
        verify_inclusion(index, other, leaves[index], proof, root)
    other_index = data.draw(st.integers(0, size).filter(lambda i: i != index), label="other")
    if leaves[other_index % len(leaves)] != leaves[index] or other_index >= size:
        with pytest.raises(InvalidProof):
            verify_inclusion(other_index, size, leaves[index], proof, root)
    with pytest.raises(InvalidProof):
        verify_inclusion(index, size, leaves[index], [*proof, root], root)


@settings(max_examples=300)
@given(leaf_lists, st.data())
def test_a_consistency_proof_made_here_verifies_and_fails_once_anything_is_changed(
    leaves: list[bytes], data: st.DataObject
):
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    root1, root2 = reference_root(leaves[:size1]), reference_root(leaves[:size2])
    proof = consistency_proof(leaves, size1, size2)
    verify_consistency(size1, size2, proof, root1, root2)
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(InvalidProof):
        verify_consistency(size1, size2, proof, changed(root1, bit), root2)
    with pytest.raises(InvalidProof):
        verify_consistency(size1, size2, proof, root1, changed(root2, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="hash")
        wrong = [*proof[:at], changed(proof[at], bit), *proof[at + 1 :]]
        with pytest.raises(InvalidProof):
            verify_consistency(size1, size2, wrong, root1, root2)
        with pytest.raises(InvalidProof):
            verify_consistency(size1, size2, proof[:-1], root1, root2)
    with pytest.raises(InvalidProof):
        verify_consistency(size1, size2, [*proof, root1], root1, root2)
    # Sizes whose proofs have another length fail (as above, the signed checkpoints bind the
    # heads to their sizes).
    other1 = data.draw(st.integers(0, size2 + 1).filter(lambda n: n != size1), label="other1")
    if not 0 < other1 <= size2 or len(consistency_ranges(other1, size2)) != len(proof):
        with pytest.raises(InvalidProof):
            verify_consistency(other1, size2, proof, root1, root2)
    other2 = data.draw(st.integers(0, 2 * size2).filter(lambda n: n != size2), label="other2")
    if other2 < size1 or len(consistency_ranges(size1, other2)) != len(proof):
        with pytest.raises(InvalidProof):
            verify_consistency(size1, other2, proof, root1, root2)


@given(st.integers(1, 10**12), st.data())
def test_the_ranges_of_a_proof_are_disjoint_and_one_per_level_at_most(
    size: int, data: st.DataObject
):
    index = data.draw(st.integers(0, size - 1))
    inclusion = inclusion_ranges(index, size)
    size1 = data.draw(st.integers(1, size))
    consistency = consistency_ranges(size1, size)
    for ranges in (inclusion, consistency):
        assert len(ranges) <= 2 * size.bit_length()
        ordered = sorted(ranges)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(ordered))
        assert all(0 <= lo < hi <= size for lo, hi in ranges)
    assert not any(lo <= index < hi for lo, hi in inclusion)


@settings(max_examples=100)
@given(leaf_lists, st.data())
def test_many_proofs_are_gathered_in_one_pass_as_one_at_a_time(
    leaves: list[bytes], data: st.DataObject
):
    size = len(leaves)
    indexes = data.draw(st.lists(st.integers(0, size - 1), max_size=5))
    wanted = [r for i in indexes for r in inclusion_ranges(i, size)]
    roots = range_roots(iter(leaves), wanted)
    for index in indexes:
        proof = [roots[r] for r in inclusion_ranges(index, size)]
        assert proof == inclusion_proof(leaves, index, size)


def test_a_compact_range_is_kept_and_restored_as_bytes():
    tree = CompactRange()
    tree.extend(LEAVES[:7])
    again = CompactRange.from_bytes(7, tree.to_bytes())
    again.append(LEAVES[7])
    assert again.root() == ROOTS[8]
    with pytest.raises(ValueError):
        CompactRange(7, tree.roots[:2])


def test_a_proof_needs_as_many_leaves_as_its_tree():
    with pytest.raises(ValueError, match="only 5 leaves"):
        inclusion_proof(LEAVES[:5], 2, 8)
    with pytest.raises(ValueError):
        inclusion_ranges(8, 8)
    with pytest.raises(ValueError):
        consistency_ranges(0, 8)
