"""NATS identities on the session's embedded nats-server: only a service publishes to its own
stream, nobody gets in without a password, and each identity can still do all that Talkoot does.

The scenarios run in a namespace of their own on the session's server (the permissions do not
depend on the namespace), so that what they publish never reaches the session's consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import stat
import uuid
from datetime import UTC, datetime

import nats.errors
import pytest
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.connection import PASSWORD_VARIABLE, USER_VARIABLE, VARIABLES, connect
from contracts.events import ServiceRequestedV1
from contracts.jetstream import Subscription, consume, ensure_streams, publish
from contracts.streams import stream_name, subject
from deploy.stack import NATS_USERS, OPERATOR, Stack, nats_passwords
from services.registry import STREAMS
from tests.integration.messages import registered


@pytest.fixture
def secured(stack: Stack) -> Stack:
    if not stack.nats_passwords:
        pytest.skip(
            "the suite runs against an external NATS (TALKOOT_NATS_URL) whose users are not "
            "the local stack's: there are no per-process identities to test"
        )
    return stack


@pytest.fixture
def anonymous(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NATS identity in this process's environment."""
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def requested(n: int) -> ServiceRequestedV1:
    return ServiceRequestedV1(
        occurred_at=datetime.now(UTC),
        request_id=f"r-{n}",
        resident_id="resident-1",
        category="yard-work",
        region="hollola",
        description="rake the leaves",
        window_start=datetime.now(UTC),
        window_end=datetime.now(UTC),
    )


async def as_user(stack: Stack, user: str, **options):
    return await connect(stack.nats_url, f"tests-{user}", **options, **stack.nats_options(user))


def error_log() -> tuple[list[str], object]:
    """A list, and an error callback that writes down what the server said went wrong."""
    errors: list[str] = []

    async def error_cb(error: Exception) -> None:
        errors.append(str(error))

    return errors, error_cb


async def drop_streams(stack: Stack, namespace: str, extra: tuple[str, ...] = ()) -> None:
    nc = await connect(stack.nats_url, "tests", **stack.nats_options())
    try:
        for name in [*(stream_name(s, namespace) for s in STREAMS), *extra]:
            with contextlib.suppress(NotFoundError):
                await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


@pytest.mark.parametrize("intruder", ["matching", OPERATOR, "projections"])
def test_only_the_requests_service_may_publish_to_the_requests_stream(
    secured: Stack, intruder: str
):
    namespace = f"perm{uuid.uuid4().hex[:8]}"
    stream = stream_name("requests", namespace)
    forged = subject("requests", "ServiceRequestedV1", namespace)

    async def scenario():
        owner = await as_user(secured, "requests")
        errors, error_cb = error_log()
        other = await as_user(secured, intruder, error_cb=error_cb)
        try:
            js = owner.jetstream()
            await ensure_streams(js, namespace, STREAMS)
            # The owner's publish is stored: the stream and subject are the real ones.
            ack = await (await publish(js, "requests", 1, requested(1), namespace))
            assert ack.stream == stream and ack.seq == 1

            with pytest.raises(nats.errors.TimeoutError):
                await other.jetstream().publish(forged, b"{}", timeout=1)
            await other.publish(forged, b"{}")  # core NATS as well: the server drops it
            await other.flush(timeout=2)
            await asyncio.sleep(0.2)  # the -ERR may arrive after the flush's PONG
            return (await js.stream_info(stream)).state.messages, errors
        finally:
            await owner.close()
            await other.close()
            await drop_streams(secured, namespace)

    messages, errors = run(scenario())
    assert messages == 1
    refusals = [e for e in errors if "permissions violation for publish" in e.lower()]
    assert refusals and forged.lower() in refusals[0].lower(), errors


def test_a_connection_without_credentials_is_refused(secured: Stack, anonymous):
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        run(connect(secured.nats_url, "tests-anonymous"))


def test_a_connection_with_a_wrong_password_is_refused(secured: Stack, anonymous):
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        run(connect(secured.nats_url, "tests-guess", user="requests", password="guessed"))
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        run(connect(secured.nats_url, "tests-guess", user="nobody", password="guessed"))


def test_the_identity_comes_from_the_environment(
    secured: Stack, anonymous, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(USER_VARIABLE, "providers")
    monkeypatch.setenv(PASSWORD_VARIABLE, secured.nats_passwords["providers"])
    namespace = f"perm{uuid.uuid4().hex[:8]}"

    async def scenario():
        nc = await connect(secured.nats_url, "tests-env")
        try:
            js = nc.jetstream()
            await ensure_streams(js, namespace, STREAMS)
            return await (await publish(js, "providers", 1, registered(1), namespace))
        finally:
            await nc.close()
            await drop_streams(secured, namespace)

    assert run(scenario()).seq == 1


def test_each_process_runs_as_its_own_nats_user(secured: Stack):
    for name, process in secured.processes.items():
        if name not in NATS_USERS:  # the web front: no NATS identity at all
            assert USER_VARIABLE not in process.env and PASSWORD_VARIABLE not in process.env
            continue
        assert process.env[USER_VARIABLE] == name
        assert process.env[PASSWORD_VARIABLE] == secured.nats_passwords[name]
    assert len(set(secured.nats_passwords.values())) == len(secured.nats_passwords)


def test_a_service_identity_can_do_all_the_transport_does(secured: Stack):
    """Streams, a durable consumer fetched and acked, its info, list and reset, publishing
    with a PubAck, dead letters: stored, read (also directly) and deleted."""
    namespace = f"perm{uuid.uuid4().hex[:8]}"
    dead = stream_name("deadletters", namespace)

    async def scenario():
        nc = await as_user(secured, "matching")
        providers = await as_user(secured, "providers")
        try:
            js = nc.jetstream()
            await js.account_info()
            await ensure_streams(js, namespace, STREAMS)  # stream info and create
            await ensure_streams(js, namespace, STREAMS)  # the second time they exist
            for position in (1, 2, 3):
                pjs = providers.jetstream()
                await (await publish(pjs, "providers", position, registered(position), namespace))
            # matching's own stream takes its publish, with a PubAck
            own = await js.publish(f"{namespace}.matching.OfferMadeV1", b"{}")
            assert own.stream == stream_name("matching", namespace)

            seen: list[int] = []
            stop = asyncio.Event()

            async def handle(run):
                seen.extend(position for position, _ in run)
                if len(seen) >= 3:
                    stop.set()

            sub = Subscription("providers", "perm-test", handle)
            await consume(js, sub, namespace, stop)  # pull_subscribe, fetch, ack
            await nc.flush()  # acks get no answer: make sure the server has them
            # the server applies acks it has received in its own time: wait for them
            for _ in range(100):
                info = await js.consumer_info(stream_name("providers", namespace), "perm-test")
                if info.ack_floor.stream_seq == 3:
                    break
                await asyncio.sleep(0.05)
            assert info.ack_floor.stream_seq == 3 and info.num_ack_pending == 0
            listed = await js.consumers_info(stream_name("providers", namespace))
            assert [c.name for c in listed] == ["perm-test"]
            await consume(js, sub, namespace, stop)  # binding again resets it

            assert (await js.stream_info(dead)).config.name == dead  # ensure_streams made it
            await js.update_stream(
                StreamConfig(
                    name=dead,
                    subjects=[f"{namespace}.deadletters.>"],
                    storage=StorageType.FILE,
                    allow_direct=True,
                    description="dead letters",
                )
            )
            letter = await js.publish(f"{namespace}.deadletters.perm-test", b"dead")
            assert (await js.get_msg(dead, letter.seq)).data == b"dead"
            assert (await js.get_msg(dead, letter.seq, direct=True)).data == b"dead"
            last = await js.get_msg(dead, subject=f"{namespace}.deadletters.perm-test", direct=True)
            assert last.data == b"dead"
            assert await js.delete_msg(dead, letter.seq)
            return seen, (await js.stream_info(dead)).state.messages
        finally:
            await nc.close()
            await providers.close()
            await drop_streams(secured, namespace, (dead,))

    seen, dead_letters = run(scenario())
    assert seen == [1, 2, 3]
    assert dead_letters == 0


def test_a_service_may_neither_delete_nor_purge_a_stream_nor_delete_a_consumer(secured: Stack):
    namespace = f"perm{uuid.uuid4().hex[:8]}"

    async def scenario():
        nc = await as_user(secured, "matching")
        try:
            js = nc.jetstream()
            await ensure_streams(js, namespace, STREAMS)
            stream = stream_name("requests", namespace)
            stop = asyncio.Event()
            stop.set()
            await consume(js, Subscription("requests", "perm-test", _nothing), namespace, stop)
            refused = []
            actions = {
                "delete_stream": lambda: js.delete_stream(stream),
                "purge_stream": lambda: js.purge_stream(stream),
                "delete_consumer": lambda: js.delete_consumer(stream, "perm-test"),
            }
            for name, action in actions.items():
                try:
                    await action()
                except nats.errors.TimeoutError:
                    refused.append(name)
            return refused
        finally:
            await nc.close()
            await drop_streams(secured, namespace)

    assert run(scenario()) == ["delete_stream", "purge_stream", "delete_consumer"]


async def _nothing(run) -> None:
    pass


def test_the_operator_reaches_a_service_on_its_replay_subject(secured: Stack):
    namespace = f"perm{uuid.uuid4().hex[:8]}"

    async def scenario():
        service = await as_user(secured, "matching")
        operator = await as_user(secured, OPERATOR)
        try:

            async def answer(msg):
                await msg.respond(json.dumps({"ok": True, "detail": msg.data.decode()}).encode())

            await service.subscribe(f"{namespace}.replay.perm-test", cb=answer)
            await service.flush()
            reply = await operator.request(f"{namespace}.replay.perm-test", b"7", timeout=2)
            return json.loads(reply.data)
        finally:
            await service.close()
            await operator.close()

    assert run(scenario()) == {"ok": True, "detail": "7"}


def test_passwords_are_made_once_and_readable_by_their_owner_only(tmp_path):
    first = nats_passwords(tmp_path)
    assert set(first) == set(NATS_USERS)
    assert nats_passwords(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "passwords.json").stat().st_mode)
    assert mode == 0o600
