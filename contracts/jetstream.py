"""How integration events travel on JetStream: the streams, publishing, and durable consumers.

Publishing sets ``Nats-Msg-Id`` to ``<service>:<position>`` so that JetStream drops a
re-publish inside its duplicate window, and ``Talkoot-Position`` so that a consumer can record
the upstream position it processed in the same transaction as its effects.

A consumer hands the events of each fetch to its handler as one run, in stream order, and acks
them only after the handler has committed their effects. Whenever it starts (and after any
failure, when it starts again) it resets its durable consumer to the first message not
acknowledged (JetStream's consumer reset), so that messages a crashed or failed run held in
flight come again before any later one: events are applied in order, and a redelivered one is
recognised by its position and changes nothing. The durable consumer itself is never deleted:
its state stays on the server, and a handler that names the event kinds it handles
(``kinds``) is sent only those (the consumer's filter subjects).

A delivery can be lost on its way (a NATS node that leads the consumer goes away with it, a
fetch that timed out as it was answered): the server then sends it again only after the ack
wait, behind later ones, which the handler would take as applied before. So a consumer counts
JetStream's delivery sequence, which has no gaps from the consumer's creation or reset on:
at a gap it applies what came before it and starts again from the first unacknowledged
message (``DeliveryGap``, a transient failure), so that the lost one comes next.

A failure is either transient or permanent (``contracts.failures`` decides, and says why):

- transient (PostgreSQL or NATS away, a lost serialization race): the consumer starts again
  from the first unacknowledged message, with a growing pause, for as long as it takes. Such a
  message is never set aside.
- permanent (the message itself is the trouble): the consumer applies the run's messages one by
  one, so that the ones before the bad one commit; the bad one is tried ``attempts`` times,
  then published to the dead-letter stream (its data and headers, plus who failed on it, where
  it came from and why), its position is recorded as processed *without* its effects (the
  handler's ``skip``), and it is acknowledged. The messages after it are applied as usual.
  Nothing is lost: a dead letter stays in its stream until an operator replays it (``talkoot
  dead-letters replay SEQ``): the owning consumer then applies it once, in one transaction with
  a marker that it did (the handler's ``replay``), and deletes it. A dead letter written twice
  (a crash between publishing and acknowledging) is dropped by its ``Nats-Msg-Id``.

A consumer reports how it is doing in ``Consumer.state``: its position, its dead letters, and
whether it is stalled (not running, or no progress for ``stall_after`` seconds while it holds
messages), which a service's /health turns into a 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    Header,
    PubAck,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from contracts.events import IntegrationEvent, decode, encode, event_type
from contracts.failures import Transient, describe, is_transient
from contracts.streams import (
    DEAD_ATTEMPTS_HEADER,
    DEAD_CONSUMER_HEADER,
    DEAD_LETTERS,
    DEAD_REASON_HEADER,
    DEAD_STREAM_SEQ_HEADER,
    DEAD_SUBJECT_HEADER,
    DEAD_UPSTREAM_HEADER,
    DUPLICATE_WINDOW_SECONDS,
    EVENT_HEADER,
    MSG_ID_HEADER,
    POSITION_HEADER,
    dead_letter_subject,
    msg_id,
    replay_subject,
    stream_name,
    subject,
    subject_prefix,
)

log = logging.getLogger("talkoot.jetstream")

# handle(run): apply a run of (position, event) in stream order, all or nothing.
Handler = Callable[[list[tuple[int, IntegrationEvent]]], Awaitable[None]]
# skip(position): record that the consumer is past ``position`` without applying its event.
Skip = Callable[[int], Awaitable[None]]
# replay(position, event, seq): apply the dead letter ``seq`` once, with a marker that it was
# replayed, in one transaction; False when the marker says it was replayed before.
Replay = Callable[[int, IntegrationEvent, int], Awaitable[bool]]


REPLICAS_VARIABLE = "TALKOOT_STREAM_REPLICAS"


def stream_replicas(environ: Mapping[str, str] = os.environ) -> int:
    """How many copies of each stream a NATS cluster keeps: ``TALKOOT_STREAM_REPLICAS``, 1
    (a single server) unless set; 3 on a three-node cluster survives the loss of one node."""
    text = environ.get(REPLICAS_VARIABLE, "1").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise SystemExit(f"{REPLICAS_VARIABLE}: {text!r} is not a whole number from 1 to 5")
    return int(text)


def stream_config(service: str, namespace: str, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=stream_name(service, namespace),
        subjects=[f"{subject_prefix(service, namespace)}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


def dead_letter_stream_config(namespace: str, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=stream_name(DEAD_LETTERS, namespace),
        subjects=[f"{namespace}.{DEAD_LETTERS}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


async def ensure_streams(
    js: JetStreamContext, namespace: str, streams: Iterable[str], replicas: int | None = None
) -> None:
    """Create each of ``streams`` that does not exist yet (every service's, so that a consumer
    can bind to a stream whose producer has not started), and the dead letters', with
    ``replicas`` copies (``stream_replicas()`` unless given); a stream kept in fewer copies is
    given more (a cluster that grew)."""
    replicas = stream_replicas() if replicas is None else replicas
    configs = [stream_config(stream, namespace, replicas) for stream in streams]
    for config in [*configs, dead_letter_stream_config(namespace, replicas)]:
        try:
            info = await js.stream_info(config.name)
        except NotFoundError:
            await _placed(lambda config=config: js.add_stream(config))
            continue
        if (info.config.num_replicas or 1) < replicas:
            await _placed(
                lambda info=info: js.update_stream(info.config.evolve(num_replicas=replicas))
            )


NO_PEERS_FOR_PLACEMENT = 10005  # JetStream's err_code: too few servers known for the copies
PLACEMENT_WAIT_SECONDS = 30.0


async def _placed(change: Callable[[], Awaitable[Any]]) -> None:
    """Make a stream change, waiting while a cluster that is forming (or getting a node back)
    knows too few servers to place its copies; after ``PLACEMENT_WAIT_SECONDS`` the refusal
    stands."""
    deadline = time.monotonic() + PLACEMENT_WAIT_SECONDS
    while True:
        try:
            await change()
            return
        except APIError as error:
            if error.err_code != NO_PEERS_FOR_PLACEMENT or time.monotonic() > deadline:
                raise
            log.info("JetStream has too few servers for the stream's copies yet; waiting")
            await asyncio.sleep(0.5)


class Publisher:
    """Publishes to JetStream with any number of acknowledgements awaited at once, on an inbox
    of its own. Each publish's future resolves to its PubAck, or to the stream's refusal as an
    ``APIError`` (nats-py's ``publish_async`` raises a refusal inside its reply handler, and
    leaves the future waiting for ever)."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._inbox = ""
        self._pending: dict[str, asyncio.Future] = {}
        self._count = 0
        self._opening = asyncio.Lock()

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[PubAck]:
        if not self._inbox:
            async with self._opening:
                if not self._inbox:
                    inbox = self._nc.new_inbox()
                    await self._nc.subscribe(f"{inbox}.*", cb=self._answered)
                    self._inbox = inbox
        self._count += 1
        token = str(self._count)
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        future.add_done_callback(lambda _: self._pending.pop(token, None))
        await self._nc.publish(subject, payload, reply=f"{self._inbox}.{token}", headers=headers)
        return future

    async def _answered(self, msg) -> None:
        future = self._pending.get(msg.subject.rpartition(".")[2])
        if future is None or future.done():
            return  # given up on (cancelled) already
        try:
            future.set_result(pub_ack(msg))
        except Exception as error:
            future.set_exception(error)


def pub_ack(msg) -> PubAck:
    """The PubAck a stream answered with, or its refusal raised."""
    if msg.headers and msg.headers.get(Header.STATUS) == "503":  # no stream took it
        raise NoStreamResponseError
    answer = json.loads(msg.data)
    if "error" in answer:
        APIError.from_error(answer["error"])  # raises the error's own class
    return PubAck.from_response(answer)


_publishers: weakref.WeakKeyDictionary[Client, Publisher] = weakref.WeakKeyDictionary()


def publisher(js: JetStreamContext) -> Publisher:
    """The connection's one ``Publisher``."""
    nc = js._nc
    if nc not in _publishers:
        _publishers[nc] = Publisher(nc)
    return _publishers[nc]


async def publish(
    js: JetStreamContext,
    service: str,
    position: int,
    event: IntegrationEvent,
    namespace: str,
    after: int | None = None,
) -> asyncio.Future[PubAck]:
    """Start publishing one event; the returned future resolves to the PubAck. With ``after``
    (a stream sequence), the stream stores it only if its last message has that sequence, and
    refuses it otherwise: a publisher that counts the sequences its messages take keeps them in
    its own order whatever is lost or late on the way."""
    kind = event_type(event)
    headers = {
        MSG_ID_HEADER: msg_id(service, position),
        POSITION_HEADER: str(position),
        EVENT_HEADER: kind,
    }
    if after is not None:
        headers[Header.EXPECTED_LAST_SEQUENCE] = str(after)
    return await publisher(js).publish(subject(service, kind, namespace), encode(event), headers)


# JetStream's error code for a message whose Nats-Expected-Last-Sequence is not the stream's
WRONG_LAST_SEQUENCE = 10071


def wrong_last_sequence(error: BaseException) -> bool:
    """Whether a publish was refused because the stream's last message is not the one expected."""
    return isinstance(error, APIError) and error.err_code == WRONG_LAST_SEQUENCE


async def last_published(js: JetStreamContext, service: str, namespace: str) -> tuple[int, int]:
    """Where ``service``'s stream stands: its last sequence, and the position of the newest of
    the service's own messages in it (0 when it holds none). Messages another publisher put in
    (a test's) are stepped over, up to a thousand of them."""
    stream = stream_name(service, namespace)
    state = (await js.stream_info(stream)).state
    own = f"{service}:"
    sequence = state.last_seq
    while sequence >= max(state.first_seq, 1) and state.last_seq - sequence < 1000:
        try:
            message = await js.get_msg(stream, sequence)
        except NotFoundError:  # deleted
            sequence -= 1
            continue
        headers = message.headers or {}
        if headers.get(MSG_ID_HEADER, "").startswith(own) and POSITION_HEADER in headers:
            return state.last_seq, int(headers[POSITION_HEADER])
        sequence -= 1
    return state.last_seq, 0


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of ``upstream``'s stream, named ``durable``.

    A handler that keeps its own position (tracked inbound, read models) also knows how to move
    past a position without its effects (``skip``) and how to apply a dead letter once
    (``replay``); given as attributes of ``handle``, they are taken from there. Without
    ``skip`` a dead letter is only acknowledged; without ``replay`` it cannot be replayed.
    """

    upstream: str
    durable: str
    handle: Handler
    skip: Skip | None = None
    replay: Replay | None = None
    # The event kinds (``ServiceRequestedV1``) the handler does anything with; the consumer is
    # sent only those. None: every event of the stream.
    kinds: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("skip", "replay", "kinds"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(self.handle, name, None))

    def subjects(self, namespace: str) -> list[str]:
        """The subjects its durable consumer filters on."""
        if self.kinds is None:
            return [f"{subject_prefix(self.upstream, namespace)}.>"]
        return sorted(subject(self.upstream, kind, namespace) for kind in self.kinds)

    @property
    def name(self) -> str:
        return f"{self.durable} <- {self.upstream}"


@dataclass(frozen=True)
class Policy:
    """How hard a consumer tries before it sets a message aside, and when it counts as stalled."""

    attempts: int = 3  # tries of one message that fails permanently, then a dead letter
    retry_pause: float = 0.5  # before its second try; doubles after each
    max_pause: float = 10.0  # the longest pause between tries after transient failures
    stall_after: float = 30.0  # seconds without progress while holding messages
    batch: int = 100
    ack_wait: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Policy:
        """``TALKOOT_DEAD_LETTER_ATTEMPTS`` and ``TALKOOT_STALL_SECONDS`` override the defaults."""
        return cls(
            attempts=max(1, int(environ.get("TALKOOT_DEAD_LETTER_ATTEMPTS", cls.attempts))),
            stall_after=float(environ.get("TALKOOT_STALL_SECONDS", cls.stall_after)),
        )


@dataclass
class ConsumerState:
    """What a consumer runner knows about itself, for health reports."""

    upstream: str
    durable: str
    running: bool = False
    position: int | None = None  # the last upstream position applied or set aside
    last_progress: float = field(default_factory=time.monotonic)
    busy_since: float | None = None  # a handler has been running since then
    failing_since: float | None = None  # failing since then, with no progress in between
    failure: str | None = None  # the latest failure since the last progress
    attempts: int = 0  # failures since the last progress
    dead_letters: int = 0  # dead letters this runner wrote since it started
    replayed: int = 0

    @property
    def name(self) -> str:
        return f"{self.durable} <- {self.upstream}"

    def progressed(self, position: int | None = None) -> None:
        self.last_progress = time.monotonic()
        if position is not None:
            self.position = max(position, self.position or 0)
        self.failing_since = None
        self.failure = None
        self.attempts = 0

    def failed(self, error: BaseException) -> None:
        self.failure = describe(error)
        self.attempts += 1
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    def stalled(self, stall_after: float) -> str | None:
        """Why the consumer makes no progress, or None when it does (or has nothing to do)."""
        if not self.running:
            return "not running"
        now = time.monotonic()
        if self.failing_since is not None and now - self.failing_since > stall_after:
            return (
                f"no progress for {now - self.failing_since:.0f} s "
                f"after {self.attempts} failures: {self.failure}"
            )
        if self.busy_since is not None and now - self.busy_since > stall_after:
            return f"one run has taken {now - self.busy_since:.0f} s so far"
        return None

    def report(self, stall_after: float) -> dict[str, Any]:
        return msgspec.to_builtins(
            ConsumerReport(
                name=self.name,
                upstream=self.upstream,
                durable=self.durable,
                running=self.running,
                position=self.position,
                seconds_since_progress=round(time.monotonic() - self.last_progress, 1),
                failure=self.failure,
                attempts=self.attempts,
                dead_letters=self.dead_letters,
                replayed=self.replayed,
                stalled=self.stalled(stall_after),
            )
        )


class ConsumerReport(msgspec.Struct):
    """How one consumer is doing, as a service's /health reports it."""

    name: str
    upstream: str
    durable: str
    running: bool
    position: int | None
    seconds_since_progress: float
    failure: str | None
    attempts: int
    dead_letters: int
    replayed: int
    stalled: str | None  # why it makes no progress, if it does not


class DeliveryGap(Transient):
    """A delivery did not arrive (its sequence was skipped): start again from the first
    unacknowledged message, so that it comes before any later one."""


class Consumer:
    """Runs one durable consumer: applies its messages, sets the bad ones aside as dead
    letters, answers replay requests for them, and keeps ``state`` up to date."""

    def __init__(
        self,
        js: JetStreamContext,
        subscription: Subscription,
        namespace: str,
        policy: Policy | None = None,
    ) -> None:
        self.js = js
        self.subscription = subscription
        self.namespace = namespace
        self.policy = policy or Policy()
        self.state = ConsumerState(subscription.upstream, subscription.durable)
        self.dead_letter_stream = stream_name(DEAD_LETTERS, namespace)
        # Replays and the consumer's own runs take turns, so that a replay never races a run
        # over the same aggregates or rows.
        self._turn = asyncio.Lock()
        self._delivered = 0  # the consumer's delivery sequence of the last message taken

    @property
    def name(self) -> str:
        return self.subscription.name

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop``; start again after a failure, pausing longer each time."""
        self.state.running = True
        replies = None
        try:
            while not stop.is_set():
                if replies is None:
                    replies = await self._answer_replays()
                try:
                    await self._consume(stop)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self.state.failed(error)
                    log.warning(
                        "%s stopped (%s failures in a row: %s); starting again",
                        self.name,
                        self.state.attempts,
                        self.state.failure,
                        exc_info=self.state.attempts == 1 and not isinstance(error, DeliveryGap),
                    )
                    pause = min(0.2 * 2 ** (self.state.attempts - 1), self.policy.max_pause)
                    with suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
                else:
                    return
        finally:
            self.state.running = False
            if replies is not None:
                with suppress(Exception):
                    await replies.unsubscribe()

    async def _consume(self, stop: asyncio.Event) -> None:
        durable = self.subscription.durable
        stream = stream_name(self.subscription.upstream, self.namespace)
        await _bind(
            self.js,
            stream,
            durable,
            self.subscription.subjects(self.namespace),
            self.policy.batch,
            self.policy.ack_wait,
        )
        self._delivered = 0  # made or reset: its deliveries count from 1
        sub = await self.js.pull_subscribe_bind(durable=durable, stream=stream)
        try:
            while not stop.is_set():
                try:
                    messages = await sub.fetch(self.policy.batch, timeout=0.5)
                except (TimeoutError, NatsTimeoutError):
                    if self.state.failing_since is not None:
                        self.state.progressed()  # back, and nothing is waiting
                    continue
                taken, gap = self._in_step(messages)
                async with self._turn:
                    await self._settle(taken)
                if gap:
                    raise DeliveryGap(gap)
        finally:
            with suppress(Exception):  # the connection may be closing already
                await sub.unsubscribe()

    def _in_step(self, messages: list) -> tuple[list, str | None]:
        """The messages up to the first whose delivery sequence is not the next one, and
        what is missing there (None if nothing is)."""
        for index, message in enumerate(messages):
            sequence = message.metadata.sequence.consumer
            if sequence != self._delivered + 1:
                return messages[:index], (
                    f"delivery {self._delivered + 1} did not arrive (came {sequence}, "
                    f"stream sequence {message.metadata.sequence.stream})"
                )
            self._delivered = sequence
        return messages, None

    async def _handle(self, run: list[tuple[int, IntegrationEvent]]) -> None:
        self.state.busy_since = time.monotonic()
        try:
            await self.subscription.handle(run)
        finally:
            self.state.busy_since = None

    async def _settle(self, messages: list) -> None:
        """Apply a fetch as one run; on a permanent failure, one message at a time."""
        if not messages:
            return
        items = [(m, _read(self.name, self.subscription.upstream, m)) for m in messages]
        run = [read for _, read in items if read is not None]
        if run:
            try:
                await self._handle(run)
            except Exception as error:
                if is_transient(error):
                    raise
                self.state.failed(error)
                log.warning(
                    "%s: positions %s to %s failed (%s); applying them one by one",
                    self.name,
                    run[0][0],
                    run[-1][0],
                    describe(error),
                )
                for message, read in items:
                    if read is not None:
                        await self._apply_one(message, read)
                    await message.ack()
                    self.state.progressed(read[0] if read else None)
                return
        for message in messages:
            await message.ack()
        self.state.progressed(run[-1][0] if run else None)

    async def _apply_one(self, message, read: tuple[int, IntegrationEvent]) -> None:
        """Apply one message, trying a permanent failure ``attempts`` times before it becomes
        a dead letter. A transient failure goes up: the consumer starts again."""
        pause = self.policy.retry_pause
        for attempt in range(1, self.policy.attempts + 1):
            try:
                await self._handle([read])
                return
            except Exception as error:
                if is_transient(error):
                    raise
                self.state.failed(error)
                if attempt == self.policy.attempts:
                    await self._dead_letter(message, read, error, attempt)
                    return
                log.info("%s: position %s failed (try %s): %s", self.name, read[0], attempt, error)
                with suppress(Exception):
                    await message.in_progress()  # still ours: no redelivery meanwhile
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.policy.max_pause)

    async def _dead_letter(
        self, message, read: tuple[int, IntegrationEvent], error: BaseException, attempts: int
    ) -> None:
        position, event = read
        upstream, durable = self.subscription.upstream, self.subscription.durable
        stream_seq = message.metadata.sequence.stream
        headers = {
            **(message.headers or {}),
            # its own id: two consumers' dead letters of one message are both kept, and a
            # second dead letter of the same message by the same consumer is dropped.
            MSG_ID_HEADER: f"{durable}:{upstream}:{stream_seq}",
            DEAD_CONSUMER_HEADER: durable,
            DEAD_UPSTREAM_HEADER: upstream,
            DEAD_SUBJECT_HEADER: message.subject,
            DEAD_STREAM_SEQ_HEADER: str(stream_seq),
            DEAD_REASON_HEADER: describe(error),
            DEAD_ATTEMPTS_HEADER: str(attempts),
        }
        ack = await self.js.publish(
            dead_letter_subject(durable, self.namespace),
            message.data,
            stream=self.dead_letter_stream,
            headers=headers,
        )
        if self.subscription.skip is not None:
            await self.subscription.skip(position)
        if not ack.duplicate:
            self.state.dead_letters += 1
        log.error(
            "%s: set %s at position %s aside as dead letter %s after %s tries: %s",
            self.name,
            event_type(event),
            position,
            ack.seq,
            attempts,
            describe(error),
        )

    # --- replay ------------------------------------------------------------------------

    async def _answer_replays(self):
        # nats-py's JetStreamContext keeps the client it was made from; it has no public name.
        nc = self.js._nc
        return await nc.subscribe(
            replay_subject(self.subscription.durable, self.namespace), cb=self._on_replay
        )

    async def _on_replay(self, request) -> None:
        answer = await self.replay_dead_letter(request.data)
        if answer is not None and request.reply:
            with suppress(Exception):
                await request.respond(json.dumps(answer).encode())

    async def replay_dead_letter(self, payload: bytes) -> dict[str, Any] | None:
        """Apply the dead letter whose sequence is ``payload`` once and delete it. None when
        it belongs to another consumer of the same name (that one answers)."""
        try:
            seq = int(payload)
        except ValueError:
            return {"ok": False, "detail": f"not a dead letter's sequence number: {payload!r}"}
        try:
            stored = await self.js.get_msg(self.dead_letter_stream, seq)
        except NotFoundError:
            return {"ok": False, "detail": f"no dead letter {seq} (replayed or never written)"}
        headers = stored.headers or {}
        if (
            headers.get(DEAD_CONSUMER_HEADER) != self.subscription.durable
            or headers.get(DEAD_UPSTREAM_HEADER) != self.subscription.upstream
        ):
            return None
        if self.subscription.replay is None:
            return {"ok": False, "detail": f"{self.name} cannot replay dead letters"}
        try:
            position = int(headers[POSITION_HEADER])
            event = decode(self.subscription.upstream, stored.data)
        except (KeyError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as error:
            return {"ok": False, "detail": f"cannot read dead letter {seq}: {describe(error)}"}
        async with self._turn:
            try:
                applied = await self.subscription.replay(position, event, seq)
            except Exception as error:
                log.warning("%s: replay of dead letter %s failed: %s", self.name, seq, error)
                return {"ok": False, "detail": describe(error)}
        await self.js.delete_msg(self.dead_letter_stream, seq)
        self.state.replayed += 1
        detail = "applied" if applied else "had been applied before"
        log.info("%s: dead letter %s (position %s) %s; removed", self.name, seq, position, detail)
        return {"ok": True, "detail": f"dead letter {seq} {detail}; removed"}


async def consume(
    js: JetStreamContext,
    subscription: Subscription,
    namespace: str,
    stop: asyncio.Event,
    *,
    batch: int = 100,
    ack_wait: float = 30.0,
) -> None:
    """Run a durable pull consumer until ``stop`` is set, without starting it again after a
    transient failure (that failure is raised). One process runs each durable consumer."""
    consumer = Consumer(js, subscription, namespace, Policy(batch=batch, ack_wait=ack_wait))
    await consumer._consume(stop)


async def follow(
    js: JetStreamContext,
    subscription: Subscription,
    namespace: str,
    stop: asyncio.Event,
    policy: Policy | None = None,
) -> None:
    """Run ``subscription``'s consumer until ``stop`` (see ``Consumer``)."""
    await Consumer(js, subscription, namespace, policy).run(stop)


async def dead_letters(js: JetStreamContext, namespace: str, limit: int = 1000) -> list[dict]:
    """The dead letters kept in ``namespace``, oldest first (at most ``limit``)."""
    name = stream_name(DEAD_LETTERS, namespace)
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        return []
    found = []
    seq = info.state.first_seq
    while seq and seq <= info.state.last_seq and len(found) < limit:
        try:
            # the first message at or after seq: deleted (replayed) ones leave gaps
            stored = await js.get_msg(name, seq, subject=f"{namespace}.{DEAD_LETTERS}.>", next=True)
        except NotFoundError:
            break
        headers = stored.headers or {}
        found.append(
            {
                "seq": stored.seq,
                "time": stored.time,
                "consumer": headers.get(DEAD_CONSUMER_HEADER),
                "upstream": headers.get(DEAD_UPSTREAM_HEADER),
                "event": headers.get(EVENT_HEADER),
                "position": headers.get(POSITION_HEADER),
                "subject": headers.get(DEAD_SUBJECT_HEADER),
                "stream_seq": headers.get(DEAD_STREAM_SEQ_HEADER),
                "attempts": headers.get(DEAD_ATTEMPTS_HEADER),
                "reason": headers.get(DEAD_REASON_HEADER),
                "headers": headers,
                "data": stored.data,
            }
        )
        seq = stored.seq + 1
    return found


async def _bind(
    js: JetStreamContext,
    stream: str,
    durable: str,
    subjects: list[str],
    batch: int,
    ack_wait: float,
) -> None:
    """Make the durable consumer if it is not there (from the stream's first message), bring
    its filter subjects and limits up to date if they changed, and reset it to the first
    message not acknowledged: what it had delivered and not had acknowledged comes again."""
    wanted = {
        "filter_subject": subjects[0] if len(subjects) == 1 else None,
        "filter_subjects": subjects if len(subjects) > 1 else None,
        "ack_wait": ack_wait,
        "max_ack_pending": batch * 2,
    }
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        config = ConsumerConfig(
            name=durable,
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            **wanted,
        )
        await js.add_consumer(stream, config)
        return
    current = info.config
    if any(_differs(getattr(current, key), value) for key, value in wanted.items()):
        # an update keeps where the consumer starts and how far it got
        await js.add_consumer(stream, current.evolve(name=durable, **wanted))
    await js.reset_consumer(stream, durable)


def _differs(have: Any, want: Any) -> bool:
    """Whether a consumer's setting differs from the one wanted (an empty list of filter
    subjects is none, and the server answers the ack wait in whole nanoseconds)."""
    if isinstance(want, float):
        return have is None or abs(float(have) - want) > 1e-6
    return (have or None) != (want or None)


def _read(name: str, upstream: str, message) -> tuple[int, IntegrationEvent] | None:
    """The position and event of a message, or None for one this consumer cannot read
    (a newer event version, say), which it acknowledges and leaves alone."""
    try:
        position = int((message.headers or {})[POSITION_HEADER])
        return position, decode(upstream, message.data)
    except (KeyError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as error:
        log.warning("%s: skipping %s: %s", name, message.subject, error)
        return None
