"""Checking a log against what its checkpoints covered, and naming the first event that differs.

A log keeps, beside its events, the leaf hash of every event a checkpoint has covered, with the
event's notification id and originator (``Leaf``). ``check_log`` reads the stored events in
notification order once, next to those leaves, and recomputes the tree head at every
checkpoint's size. Where the first event differs from its leaf, ``first_difference`` says how:

- ``changed``: the same event (originator and version) at its place, its stored bytes (state,
  topic or notification id) not those checkpointed;
- ``deleted``: the checkpointed event is nowhere in the log any more;
- ``inserted``: an event that no checkpoint covered stands before the checkpointed one;
- ``reordered``: the checkpointed event is still there, but elsewhere in the order.

When the events as stored still give every signed head, it is the table of covered leaves that
was altered, not the events (``LEAVES``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID

from domain.audit.leaves import StoredEvent
from domain.audit.merkle import CompactRange, Range, RangeRoots

CHANGED, DELETED, INSERTED, REORDERED = "changed", "deleted", "inserted", "reordered"
LEAVES = "leaf record changed"  # the events are as signed; the table of covered leaves is not


class Leaf(NamedTuple):
    """What the log recorded of one event when a checkpoint covered it, or what the event
    gives now (a tuple: a log's leaves are read by the million)."""

    index: int
    notification_id: int
    originator_id: UUID
    originator_version: int
    leaf_hash: bytes

    @property
    def event(self) -> tuple[UUID, int]:
        return self.originator_id, self.originator_version

    @classmethod
    def of(cls, index: int, event: StoredEvent) -> Leaf:
        return cls(
            index,
            event.notification_id,
            event.originator_id,
            event.originator_version,
            event.leaf_hash(),
        )


@dataclass(frozen=True)
class Finding:
    """The first event of a log that is not as checkpointed."""

    kind: str  # CHANGED, DELETED, INSERTED, REORDERED or LEAVES
    index: int  # its place in the log (the leaf index)
    notification_id: int
    originator_id: UUID
    originator_version: int
    detail: str

    def sentence(self) -> str:
        return (
            f"{self.kind}: the event at leaf {self.index}, notification id "
            f"{self.notification_id}, originator {self.originator_id} version "
            f"{self.originator_version}: {self.detail}"
        )


def first_difference(recorded: Sequence[Leaf], current: Sequence[Leaf]) -> Finding:
    """How the log differs from what was checkpointed, where it first does: ``recorded`` and
    ``current`` both start at that place (``recorded`` is not empty, ``current`` may be)."""
    r = recorded[0]
    if not current:
        missing = len(recorded)
        return Finding(
            DELETED,
            r.index,
            r.notification_id,
            r.originator_id,
            r.originator_version,
            f"the log ends here; {missing} checkpointed event{'s' * (missing != 1)} from this "
            "one on are gone",
        )
    e = current[0]
    if e.event == r.event:
        what = "its stored state or topic"
        if e.notification_id != r.notification_id:
            what = f"its notification id (checkpointed as {r.notification_id})"
        return Finding(
            CHANGED,
            r.index,
            e.notification_id,
            e.originator_id,
            e.originator_version,
            f"{what} is not as checkpointed",
        )
    later = {leaf.event: leaf for leaf in current[1:]}
    was = {leaf.event: leaf for leaf in recorded[1:]}
    if r.event in later:
        if e.event in was:
            moved = later[r.event]
            return Finding(
                REORDERED,
                r.index,
                r.notification_id,
                r.originator_id,
                r.originator_version,
                f"checkpointed at this place, it now stands at leaf {moved.index} (notification "
                f"id {moved.notification_id}); in its place is the event of originator "
                f"{e.originator_id} version {e.originator_version}, checkpointed at leaf "
                f"{was[e.event].index}",
            )
        return Finding(
            INSERTED,
            r.index,
            e.notification_id,
            e.originator_id,
            e.originator_version,
            "no checkpoint covered it, yet it stands before checkpointed events (before "
            f"notification id {r.notification_id})",
        )
    if e.notification_id == r.notification_id and e.event not in was:
        return Finding(
            CHANGED,
            r.index,
            e.notification_id,
            e.originator_id,
            e.originator_version,
            f"the row names another event than the checkpointed one (originator "
            f"{r.originator_id} version {r.originator_version})",
        )
    return Finding(
        DELETED,
        r.index,
        r.notification_id,
        r.originator_id,
        r.originator_version,
        "checkpointed here, it is nowhere in the log now",
    )


@dataclass
class LogReport:
    """What ``check_log`` found of one log."""

    events: int = 0  # stored events read
    covered: int = 0  # events the leaf table records as covered by a checkpoint
    finding: Finding | None = None
    # checkpoints (size -> why) whose head is not that of the events as stored now
    wrong_roots: dict[int, str] = field(default_factory=dict)
    checked_roots: int = 0  # checkpoint heads recomputed and found right
    range_roots: dict[Range, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.finding is None and not self.wrong_roots


def check_log(
    leaves: Iterable[Leaf],
    recorded: Iterable[Leaf],
    heads: Sequence[tuple[int, bytes]],
    ranges: Iterable[Range] = (),
) -> LogReport:
    """Read the ``leaves`` the stored events give now (in notification order, each at its
    place: ``Leaf.of``) once beside the ``recorded`` leaves (in leaf order), recompute the head
    at each of ``heads`` (size, root hash of a signed checkpoint), and gather the heads of
    ``ranges`` of the events' leaves (for consistency proofs).

    Memory stays O(log n) while all is well; from the first difference on, what is left of both
    is read to say what kind of difference it is, and the reading stops there."""
    report = LogReport()
    wanted = sorted(heads)
    tree = CompactRange()
    gathering = RangeRoots(ranges)
    recorded_leaves = iter(recorded)
    at = 0

    def compare_heads() -> None:
        nonlocal at
        while at < len(wanted) and wanted[at][0] == tree.size:
            size, root = wanted[at]
            if root == tree.root():
                report.checked_roots += 1
            else:
                report.wrong_roots[size] = "the head of the stored events is another"
            at += 1

    compare_heads()
    stream = iter(leaves)
    for current in stream:
        report.events += 1
        leaf = next(recorded_leaves, None)
        if leaf is not None:
            report.covered += 1
            if leaf.leaf_hash != current.leaf_hash or leaf.index != current.index:
                rest_recorded = [leaf, *recorded_leaves]
                report.covered += len(rest_recorded) - 1
                rest = [current, *stream]
                report.events += len(rest) - 1
                report.finding = first_difference(rest_recorded, rest)
                for later in rest:  # the signed heads say whether the events or the leaves lie
                    tree.append(later.leaf_hash)
                    gathering.add(later.leaf_hash)
                    compare_heads()
                if not report.wrong_roots and at == len(wanted) and wanted:
                    report.finding = Finding(
                        LEAVES,
                        leaf.index,
                        leaf.notification_id,
                        leaf.originator_id,
                        leaf.originator_version,
                        "the stored events agree with every signed checkpoint, but the leaf "
                        "recorded for this one is not theirs: the audit's own table was altered",
                    )
                break
        tree.append(current.leaf_hash)
        gathering.add(current.leaf_hash)
        compare_heads()
    else:
        rest_recorded = list(recorded_leaves)
        if rest_recorded:
            report.covered += len(rest_recorded)
            report.finding = first_difference(rest_recorded, [])
    for size, _ in wanted[at:]:
        report.wrong_roots[size] = f"the log holds only {tree.size} events"
    report.range_roots = gathering.roots
    return report


__all__ = [
    "CHANGED",
    "DELETED",
    "INSERTED",
    "LEAVES",
    "REORDERED",
    "Finding",
    "Leaf",
    "LogReport",
    "check_log",
    "first_difference",
]
