"""The leaf data of a stored event, and how a log that differs from its checkpoints is named."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.audit.leaves import MalformedLeaf, StoredEvent
from domain.audit.merkle import root_of
from domain.audit.tamper import (
    CHANGED,
    DELETED,
    INSERTED,
    LEAVES,
    REORDERED,
    Leaf,
    check_log,
)

AGGREGATE = UUID("6fc8a1b2-0000-4000-8000-000000000001")

events = st.builds(
    StoredEvent,
    notification_id=st.integers(-(2**63), 2**63 - 1),
    originator_id=st.uuids(),
    originator_version=st.integers(-(2**63), 2**63 - 1),
    topic=st.none() | st.text(max_size=40),
    state=st.none() | st.binary(max_size=200),
)


def test_the_leaf_data_is_the_documented_bytes():
    event = StoredEvent(7, AGGREGATE, 2, "domain.requests:ServiceRequest.Assigned", b'{"a":1}')
    topic = b"domain.requests:ServiceRequest.Assigned"
    assert event.leaf_data() == (
        b"\x01"
        + (7).to_bytes(8, "big")
        + AGGREGATE.bytes
        + (2).to_bytes(8, "big")
        + len(topic).to_bytes(4, "big")
        + topic
        + (7).to_bytes(4, "big")
        + b'{"a":1}'
    )
    assert event.leaf_hash() == hashlib.sha256(b"\x00" + event.leaf_data()).digest()


def test_null_and_empty_are_different_leaves():
    empty = StoredEvent(1, AGGREGATE, 1, "", b"")
    null = StoredEvent(1, AGGREGATE, 1, None, None)
    assert empty.leaf_data() != null.leaf_data()
    assert null.leaf_data().endswith(b"\xff\xff\xff\xff" * 2)


@given(events)
def test_every_stored_event_comes_back_from_its_leaf_data(event: StoredEvent):
    assert StoredEvent.from_leaf_data(event.leaf_data()) == event


@given(events, events)
def test_two_stored_events_give_the_same_leaf_only_when_they_are_the_same(
    a: StoredEvent, b: StoredEvent
):
    assert (a.leaf_data() == b.leaf_data()) == (a == b)


@given(events, st.data())
def test_a_cut_or_padded_leaf_data_is_no_stored_event(event: StoredEvent, data: st.DataObject):
    encoded = event.leaf_data()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(MalformedLeaf):
        StoredEvent.from_leaf_data(encoded[:cut])
    with pytest.raises(MalformedLeaf):
        StoredEvent.from_leaf_data(encoded + b"\x00")


# --- naming the first difference ----------------------------------------------------------


def a_log(n: int = 12) -> list[StoredEvent]:
    aggregates = [uuid4() for _ in range(3)]
    return [
        StoredEvent(10 + i, aggregates[i % 3], i // 3 + 1, f"topic.{i}", f"state {i}".encode())
        for i in range(n)
    ]


def leaves(log: list[StoredEvent]) -> list[Leaf]:
    """The leaves of ``log``'s events, each at its place."""
    return [Leaf.of(i, e) for i, e in enumerate(log)]


recorded = leaves  # what the checkpoints covered: the leaves the log had then


def heads(log: list[StoredEvent], *sizes: int) -> list[tuple[int, bytes]]:
    return [(n, root_of(e.leaf_hash() for e in log[:n])) for n in sizes]


def replaced(event: StoredEvent, **change) -> StoredEvent:
    fields = {**event.__dict__, **change}
    return StoredEvent(**fields)


def test_an_untouched_log_checks_out_at_every_checkpoint_and_may_have_grown():
    log = a_log()
    report = check_log(leaves(log + a_log(3)), recorded(log), heads(log, 0, 4, 12))
    assert report.ok
    assert (report.events, report.covered, report.checked_roots) == (15, 12, 3)


def test_a_changed_state_is_named_changed_with_its_event():
    log = a_log()
    now = list(log)
    now[5] = replaced(log[5], state=b"state 5, rewritten")
    report = check_log(leaves(now), recorded(log), heads(log, 4, 12))
    assert report.finding is not None
    assert report.finding.kind == CHANGED
    assert (report.finding.index, report.finding.notification_id) == (5, 15)
    assert report.finding.originator_id == log[5].originator_id
    assert report.checked_roots == 1 and set(report.wrong_roots) == {12}


def test_a_changed_notification_id_is_named_changed():
    log = a_log()
    now = list(log)
    now[11] = replaced(log[11], notification_id=99)
    finding = check_log(leaves(now), recorded(log), heads(log, 12)).finding
    assert finding is not None and finding.kind == CHANGED and "notification id" in finding.detail


def test_a_deleted_event_is_named_deleted():
    log = a_log()
    report = check_log(leaves(log[:3] + log[4:]), recorded(log), heads(log, 12))
    assert report.finding is not None
    assert (report.finding.kind, report.finding.notification_id) == (DELETED, 13)
    assert report.finding.originator_id == log[3].originator_id


def test_a_log_cut_short_is_named_deleted_from_its_first_missing_event():
    log = a_log()
    finding = check_log(leaves(log[:7]), recorded(log), heads(log, 12)).finding
    assert finding is not None
    assert (finding.kind, finding.index, finding.notification_id) == (DELETED, 7, 17)
    assert "5 checkpointed events" in finding.detail


def test_an_inserted_event_is_named_inserted_with_its_own_identity():
    log = a_log()
    intruder = StoredEvent(14, uuid4(), 1, "topic.x", b"never happened")
    now = [replaced(e, notification_id=e.notification_id + (e.notification_id >= 14)) for e in log]
    now = [*now[:4], intruder, *now[4:]]
    finding = check_log(leaves(now), recorded(log), heads(log, 12)).finding
    assert finding is not None
    assert (finding.kind, finding.notification_id) == (INSERTED, 14)
    assert finding.originator_id == intruder.originator_id


def test_an_event_inserted_with_a_notification_id_below_all_is_named_inserted():
    log = a_log()
    intruder = StoredEvent(0, uuid4(), 1, "topic.x", b"backdated")
    finding = check_log(leaves([intruder, *log]), recorded(log), heads(log, 12)).finding
    assert finding is not None and (finding.kind, finding.index) == (INSERTED, 0)


def test_two_swapped_events_are_named_reordered():
    log = a_log()
    now = list(log)
    now[2], now[8] = (
        replaced(log[8], notification_id=log[2].notification_id),
        replaced(log[2], notification_id=log[8].notification_id),
    )
    finding = check_log(leaves(now), recorded(log), heads(log, 12)).finding
    assert finding is not None
    assert (finding.kind, finding.index, finding.notification_id) == (REORDERED, 2, 12)
    assert finding.originator_id == log[2].originator_id
    assert "leaf 8" in finding.detail


def test_a_row_given_another_originator_is_named_changed():
    log = a_log()
    now = list(log)
    now[6] = replaced(log[6], originator_id=uuid4())
    finding = check_log(leaves(now), recorded(log), heads(log, 12)).finding
    assert finding is not None and (finding.kind, finding.index) == (CHANGED, 6)


def test_events_rewritten_with_their_recorded_leaves_fail_the_signed_head():
    log = a_log()
    now = list(log)
    now[9] = replaced(log[9], state=b"rewritten, and its leaf too")
    report = check_log(leaves(now), recorded(now), heads(log, 8, 12))
    assert report.finding is None
    assert not report.ok and set(report.wrong_roots) == {12} and report.checked_roots == 1


def test_a_rewritten_leaf_record_with_events_as_signed_blames_the_leaf_table():
    log = a_log()
    kept = recorded(log)
    kept[3] = Leaf(3, kept[3].notification_id, kept[3].originator_id, 1, bytes(32))
    report = check_log(leaves(log), kept, heads(log, 4, 12))
    assert report.finding is not None
    assert (report.finding.kind, report.finding.index) == (LEAVES, 3)
    assert report.checked_roots == 2 and not report.wrong_roots


def test_the_heads_after_a_difference_are_still_recomputed():
    log = a_log()
    now = list(log)
    now[9] = replaced(log[9], state=b"rewritten")
    report = check_log(leaves(now), recorded(log), heads(log, 4, 8, 12))
    assert report.finding is not None and report.finding.kind == CHANGED
    assert report.checked_roots == 2 and set(report.wrong_roots) == {12}


def test_a_checkpoint_larger_than_the_log_fails():
    log = a_log()
    report = check_log(leaves(log[:5]), recorded(log[:5]), heads(log, 12))
    assert not report.ok and "only 5 events" in report.wrong_roots[12]
