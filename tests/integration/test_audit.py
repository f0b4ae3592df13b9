"""Proof that history was not rewritten, on a running Talkoot of this module's own: its
services checkpoint their logs, `talkoot audit verify` recomputes them from PostgreSQL, and
each way of rewriting a stored event behind the services' back (a changed state, a deleted,
an inserted and two swapped rows) is named, event and all, with a non-zero exit. Each change is
undone afterwards, and the log verifies again, so that the tests do not disturb one another.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import psycopg
import pytest

from deploy.stack import Stack
from domain.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint, split_notes
from domain.audit.merkle import leaf_hash
from domain.audit.note import Signer, Verifier
from services import cli, registry
from tests.client import Talkoot
from tests.conftest import another_talkoot, unused_scope

SERVICES = tuple(service.name for service in registry.SERVICES)
ENVIRONMENT = ("TALKOOT_DATABASE_URL", "TALKOOT_NAMESPACE", "TALKOOT_AUDIT_KEY")


@pytest.fixture(scope="module")
def own(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talkoot]:
    """A Talkoot whose services checkpoint only when asked (and once as they start), with the
    state file `talkoot up` writes, so that the CLI finds it as it finds a local stack."""
    data_dir = tmp_path_factory.mktemp("audit")
    with another_talkoot(stack, data_dir, TALKOOT_CHECKPOINT_SECONDS="1h") as talkoot:
        (data_dir / "stack.json").write_text(json.dumps(cli._state(talkoot.stack)))
        yield talkoot


@pytest.fixture(scope="module")
def request_id(own: Talkoot) -> str:
    """A request carried through the main flow, and a partnership table founded beside it:
    events in every service's log."""
    category, region = unused_scope()
    table = {
        "table_id": "audit-table",
        "name": "Alueraati",
        "regions": [region],
        "coordinator": "coord-audit",
    }
    own.ok(own.post("tables", "/tables", table, who=own.admin()))
    provider_id, _ = own.ready_provider(category, region)
    request = own.completed_request(category, region, provider_id)
    own.ok(own.on_request(request, "confirmation", {}, who=own.resident()))
    own.wait_until_quiet()
    return request


def audit(own: Talkoot, *args: str) -> tuple[int, str, str]:
    """`talkoot audit ...` as a person runs it: its exit status, standard output and error."""
    out, errors = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in ENVIRONMENT:
            patch.delenv(name, raising=False)
        with redirect_stdout(out), redirect_stderr(errors):
            code = cli.main(["--data-dir", str(own.stack.data_dir), "audit", *args])
    return code, out.getvalue(), errors.getvalue()


def verified(own: Talkoot, *args: str) -> str:
    code, out, errors = audit(own, "verify", *args)
    assert code == 0, out + errors
    return out


def not_verified(own: Talkoot, *args: str) -> str:
    code, out, errors = audit(own, "verify", *args)
    assert code == 1, out + errors
    return out


def checkpointed(own: Talkoot) -> str:
    code, out, errors = audit(own, "checkpoint")
    assert code == 0, errors
    return out


@contextmanager
def database(own: Talkoot) -> Iterator[psycopg.Connection]:
    with psycopg.connect(own.stack.database_url, autocommit=True) as conn:
        yield conn


def table(own: Talkoot, service: str) -> str:
    return f'"{own.stack.namespace}_{service}"."{service}_events"'


def events_of(own: Talkoot, service: str, originator: str) -> list[tuple]:
    with database(own) as conn:
        return conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            f"FROM {table(own, service)} WHERE originator_id = %s ORDER BY notification_id",
            (originator,),
        ).fetchall()


def line_of(out: str, service: str) -> str:
    """The first line verify printed of ``service``'s log."""
    return next(line for line in out.splitlines() if line.startswith(f"  {service} "))


# --- serving and making checkpoints -----------------------------------------------------------


def test_each_service_serves_its_signed_checkpoints_and_key_and_an_admin_makes_one(
    own: Talkoot, request_id: str
):
    for service in SERVICES:
        key = own.get(service, "/audit/key", who=None)
        assert key.status_code == 200 and key.headers["content-type"].startswith("text/plain")
        verifier = Verifier.parse(key.text)
        assert verifier.name == f"talkoot.lahti.fi/{service}"
        assert own.post(service, "/audit/checkpoints", None, who=None).status_code == 401
        refused = own.post(service, "/audit/checkpoints", None, who=own.resident())
        assert refused.status_code == 403
        made = own.post(service, "/audit/checkpoints", None, who=own.admin())
        assert made.status_code in (200, 201), made.text
        again = own.post(service, "/audit/checkpoints", None, who=own.admin())
        assert again.status_code == 200 and again.json()["made"] is False
        note = own.get(service, "/audit/checkpoint", who=None)
        assert note.headers["content-type"].startswith("text/plain")
        checkpoint, _ = open_checkpoint(note.text, [verifier])
        assert checkpoint.origin == verifier.name
        assert checkpoint.size == made.json()["checkpoint"]["tree_size"] > 0
        kept = own.ok(own.get(service, "/audit/checkpoints", who=None), 200)
        assert kept[0]["note"] == note.text and kept[0]["tree_size"] == checkpoint.size
        sizes = [entry["tree_size"] for entry in kept]
        assert sizes == sorted(sizes, reverse=True) and len(kept) >= 2  # one made at start


def test_after_the_main_flow_and_a_checkpoint_every_log_verifies(own: Talkoot, request_id: str):
    notes = split_notes(checkpointed(own))
    assert [Checkpoint.parse(n.split("\n\n")[0] + "\n").origin for n in notes] == [
        f"talkoot.lahti.fi/{service}" for service in SERVICES
    ]
    out = verified(own)
    for service in SERVICES:
        assert re.search(r"OK  \d+ events; \d+ covered by \d+ checkpoints", line_of(out, service))
    assert "Everything verifies" in out


# --- what rewriting history looks like ----------------------------------------------------------


def test_a_changed_state_is_named_with_its_event(own: Talkoot, request_id: str):
    checkpointed(own)
    nid, originator, version, _, state = events_of(own, "requests", request_id)[0]
    with database(own) as conn:
        conn.execute(
            f"UPDATE {table(own, 'requests')} SET state = %s WHERE notification_id = %s",
            # a plain field of the event (its description is sealed: not searchable here)
            (state.replace(b'"region"', b'"regioN"', 1), nid),
        )
        try:
            out = not_verified(own)
        finally:
            conn.execute(
                f"UPDATE {table(own, 'requests')} SET state = %s WHERE notification_id = %s",
                (state, nid),
            )
    line = line_of(out, "requests")
    assert "CHANGED" in line
    assert f"notification id {nid}, originator {originator} version {version}" in line
    assert "OK" in line_of(out, "matching") and "NOT VERIFIED" in out
    assert re.search(r"requests +ROOT DIFFERS  the signed checkpoint of \d+ events", out)
    verified(own)


def test_a_deleted_event_is_named_with_its_event(own: Talkoot, request_id: str):
    checkpointed(own)
    row = events_of(own, "matching", request_id)[1]
    with database(own) as conn:
        conn.execute(f"DELETE FROM {table(own, 'matching')} WHERE notification_id = %s", (row[0],))
        try:
            out = not_verified(own)
        finally:
            conn.execute(
                f"INSERT INTO {table(own, 'matching')} (notification_id, originator_id, "
                "originator_version, topic, state) VALUES (%s, %s, %s, %s, %s)",
                row,
            )
    line = line_of(out, "matching")
    assert "DELETED" in line
    assert f"notification id {row[0]}, originator {row[1]} version {row[2]}" in line
    verified(own)


def test_an_inserted_event_is_named_with_its_own_identity(own: Talkoot, request_id: str):
    checkpointed(own)
    intruder = uuid.uuid4()
    topic = "domain.partnership:PartnershipContract.Charged"
    state = json.dumps({"request_id": request_id, "amount_cents": 100_000}).encode()
    with database(own) as conn:
        conn.execute(
            f"INSERT INTO {table(own, 'partnerships')} (notification_id, originator_id, "
            "originator_version, topic, state) VALUES (0, %s, 1, %s, %s)",
            (intruder, topic, state),
        )
        try:
            out = not_verified(own)
        finally:
            conn.execute(
                f"DELETE FROM {table(own, 'partnerships')} WHERE originator_id = %s", (intruder,)
            )
    line = line_of(out, "partnerships")
    assert "INSERTED" in line and f"notification id 0, originator {intruder} version 1" in line
    verified(own)


def test_two_swapped_events_are_named_reordered(own: Talkoot, request_id: str):
    checkpointed(own)
    first, *_, last = events_of(own, "requests", request_id)
    events = table(own, "requests")

    def swap(conn: psycopg.Connection) -> None:
        # notification ids are unique: one of them steps aside while the other moves
        conn.execute(
            f"UPDATE {events} SET notification_id = -1 WHERE notification_id = %s", (first[0],)
        )
        conn.execute(
            f"UPDATE {events} SET notification_id = %s WHERE notification_id = %s",
            (first[0], last[0]),
        )
        conn.execute(
            f"UPDATE {events} SET notification_id = %s WHERE notification_id = -1", (last[0],)
        )

    with database(own) as conn:
        swap(conn)
        try:
            out = not_verified(own)
        finally:
            swap(conn)
    line = line_of(out, "requests")
    assert "REORDERED" in line
    assert f"notification id {first[0]}, originator {first[1]} version {first[2]}" in line
    verified(own)


# --- older checkpoints and inclusion proofs ----------------------------------------------------


def test_a_saved_checkpoint_is_proved_extended_by_the_log_and_a_forged_one_is_not(
    own: Talkoot, request_id: str, tmp_path: Path
):
    saved = tmp_path / "saved.checkpoints"
    saved.write_text(checkpointed(own))
    category, region = unused_scope()
    own.submit(category, region)  # the requests log grows past the saved checkpoint
    own.wait_until_quiet()
    checkpointed(own)
    out = verified(own, "--checkpoint", str(saved))
    assert re.search(r"talkoot.lahti.fi/requests at \d+ events .*OK  the log of \d+ events", out)
    assert "consistency proof of" in out
    # as the partner checks it: with the verifier keys it fetched once, not the installation's
    keys = tmp_path / "talkoot.keys"
    keys.write_text("".join(own.get(s, "/audit/key", who=None).text for s in SERVICES))
    out = verified(own, "--checkpoint", str(saved), "--key", str(keys))
    assert "every signature good with the keys given" in out
    wrong = tmp_path / "wrong.keys"
    strangers = [Signer(f"talkoot.lahti.fi/{s}", bytes(32)).verifier for s in SERVICES]
    wrong.write_text("\n".join(key.key() for key in strangers))
    assert "BAD CHECKPOINT" in not_verified(own, "--key", str(wrong))

    # the same size with another root, signed with the installation's own key: the log does
    # not extend it (as if history had been rewritten since it was saved)
    seed = base64.b64decode(json.loads((own.stack.data_dir / "secrets.json").read_text())["audit"])
    real = Checkpoint.parse(split_notes(saved.read_text())[0].split("\n\n")[0] + "\n")
    other = Checkpoint(real.origin, real.size, bytes(32))
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(sign_checkpoint(other, Signer(real.origin, seed)))
    out = not_verified(own, "--checkpoint", str(forged))
    assert "NOT EXTENDED" in out
    # and one signed with a key of no one's
    stranger = tmp_path / "stranger.checkpoint"
    stranger.write_text(sign_checkpoint(real, Signer(real.origin, bytes(32))))
    assert "BAD SIGNATURE" in not_verified(own, "--checkpoint", str(stranger))


def test_a_requests_events_are_proved_and_checked_with_the_checkpoint_alone(
    own: Talkoot, request_id: str, tmp_path: Path
):
    saved = tmp_path / "held.checkpoints"
    saved.write_text(checkpointed(own))
    proofs = tmp_path / "proofs.json"
    code, _, errors = audit(own, "prove", request_id, "--out", str(proofs))
    assert code == 0, errors
    document = json.loads(proofs.read_text())
    proved = {log["service"]: log["events"] for log in document["logs"]}
    assert set(proved) == set(SERVICES)
    assert len(proved["requests"]) == len(events_of(own, "requests", request_id))
    assert proved["matching"] and proved["partnerships"]  # its job and offer; its charge
    assert all(e["originator_id"] == request_id for e in proved["requests"])

    keys = tmp_path / "talkoot.keys"
    keys.write_text("".join(own.get(s, "/audit/key", who=None).text for s in SERVICES))
    held = ["--checkpoint", str(saved), "--key", str(keys)]
    code, out, _ = audit(own, "check-proof", str(proofs), *held)
    assert code == 0, out
    assert out.count(" included ") == sum(len(events) for events in proved.values())

    # a leaf that is not the one checkpointed fails, and says which
    log = document["logs"][0]
    event = log["events"][0]
    data = bytearray(base64.b64decode(event["leaf_data"]))
    data[-2] ^= 1
    event["leaf_data"] = base64.b64encode(bytes(data)).decode()
    event["leaf_hash"] = base64.b64encode(leaf_hash(bytes(data))).decode()
    proofs.write_text(json.dumps(document))
    code, out, _ = audit(own, "check-proof", str(proofs), *held)
    assert code == 1
    assert f"FAILS  leaf {event['leaf_index']}" in out


def test_bad_input_to_the_audit_commands_is_said_plainly(own: Talkoot, tmp_path: Path):
    code, _, errors = audit(own, "prove", "not-a-request")
    assert code == 2 and "is not a request id" in errors
    code, _, errors = audit(own, "verify", "--checkpoint", str(tmp_path / "missing"))
    assert code == 2 and "--checkpoint" in errors
    empty = tmp_path / "empty.checkpoint"
    empty.write_text("")
    code, _, errors = audit(own, "verify", "--checkpoint", str(empty))
    assert code == 2 and "no signed checkpoint" in errors
    code, _, errors = audit(own, "verify", "--key", "nobody+00000000+AAAA")
    assert code == 2 and "--key" in errors
