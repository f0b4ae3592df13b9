"""The ``talkoot`` command: run the whole system locally, see how it is doing, test, measure."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from deploy.stack import (
    DEFAULT_NATS_PORT,
    DEMO_PEOPLE,
    Stack,
    operator_options,
    stream_report,
)
from services import audit_cli, check, rebuild, registry
from services.platform.tokens import Role, claims, issue

ROOT = Path(__file__).resolve().parents[1]

# `talkoot status` looks at every consumer twice, this many seconds apart: one with messages
# waiting that acknowledged none in between is reported stalled.
STALL_SAMPLE = 2.0


def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir or os.environ.get("TALKOOT_DATA_DIR") or ROOT / ".talkoot").resolve()


def tell(message: str = "", *, err: bool = False) -> None:
    """Print, but never let a closed terminal or pipe stop a shutdown half-way."""
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr if err else sys.stdout, flush=True)


def say(message: str) -> None:
    tell(f"  {message}")


# --- up ----------------------------------------------------------------------------------


def up(args: argparse.Namespace) -> int:
    directory = data_dir(args)
    stack = Stack.from_env(directory, nats_port=args.nats_port, nats_nodes=args.nats_nodes)
    state_file = directory / "stack.json"
    if state_file.exists() and _alive(json.loads(state_file.read_text()).get("pid")):
        print(f"Talkoot is already running (pid in {state_file}); see `talkoot status`.")
        return 1

    # SIGTERM (`kill <pid>`) and SIGHUP (the terminal closing) stop everything as Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    tell(f"Starting Talkoot (data in {directory})")
    started = time.monotonic()
    code = 0
    try:
        stack.start(say)
        directory.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(_state(stack), indent=2))
        if args.demo:
            _load_demo(stack, directory)
        tell(f"\nTalkoot is up in {time.monotonic() - started:.1f} s:")
        tell(f"  Open {stack.url(registry.WEB.name)} in a browser to start.")
        for process in registry.PROCESSES:
            if process is registry.WEB:
                continue
            if process.port is None:
                tell(f"  {process.name:<13} keep the read models {', '.join(process.read_models)}")
                continue
            url = stack.url(process.name)
            tell(f"  {process.name:<13} {url}   (API docs: {url}/schema)")
            for front, path in process.fronts:
                tell(f"  {front:<13} {url}{path}")
        tell(f"  {'PostgreSQL':<13} {stack.database_url}")
        tell(f"  {'NATS':<13} {stack.nats_url}")
        if stack.nats_nodes > 1:
            tell(f"  {'':<13} a cluster of {stack.nats_nodes}, every stream in as many copies")
        tell(f"Logs in {directory / 'logs'}. Press Ctrl-C to stop.")
        _watch(stack, state_file)
    except KeyboardInterrupt:
        tell("\nStopping Talkoot")
    except Exception as error:
        tell(f"\nTalkoot could not start: {error}", err=True)
        code = 1
    finally:
        # Ignore further Ctrl-C while the processes stop: a second one must not orphan them.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop(say)
        state_file.unlink(missing_ok=True)
    if code == 0:
        tell("Stopped. The data is kept; `talkoot up` starts it again.")
    return code


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _state(stack: Stack) -> dict:
    return {
        "pid": os.getpid(),
        "namespace": stack.namespace,
        "database_url": stack.database_url,
        "nats_url": stack.nats_url,
        "urls": {name: stack.url(name) for name in stack.ports},
        "processes": stack.pids(),
    }


def _operator(directory: Path) -> dict[str, str]:
    """How the CLI connects to NATS: as the operator of the local stack in ``directory``, or,
    with TALKOOT_NATS_URL set, as the TALKOOT_NATS_* of the environment name."""
    return {} if os.environ.get("TALKOOT_NATS_URL") else operator_options(directory)


DEMO_TOKENS = DEMO_PEOPLE


def _load_demo(stack: Stack, directory: Path) -> None:
    """Load the demo once (as its people, with tokens of the stack's secret), and on every
    start write those people's tokens for a walk-through to DEMO_TOKENS in the data folder."""
    from deploy import demo

    marker = directory / f"demo-loaded-{stack.namespace}"
    urls = {name: stack.url(name) for name in stack.ports}
    if marker.exists():
        say("Lahti demo data was loaded before; not loading it again")
        people = demo.people_loaded(urls)
    else:
        say("loading Lahti demo data")
        people = demo.load(
            urls, stack.nats_url, stack.namespace, say, stack.token, stack.nats_options()
        )
        marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z\n"))
    tokens = directory / DEMO_TOKENS
    count = demo.write_tokens(tokens, people, stack.token)
    say(
        f"tokens of the demo's {count} people (residents, provider members, officers, table "
        f"coordinators, an admin; valid {demo.WALK_THROUGH.days} days) in {tokens}"
    )


def _watch(stack: Stack, state_file: Path) -> None:
    """Until Ctrl-C: start again whatever dies (a service, PostgreSQL, nats-server), say so,
    and keep the state file true."""
    while True:
        time.sleep(1)
        if stack.supervise(say):
            state_file.write_text(json.dumps(_state(stack), indent=2))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


# --- status ------------------------------------------------------------------------------


def status(args: argparse.Namespace) -> int:
    state_file = data_dir(args) / "stack.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    running = _alive(state.get("pid"))
    urls = state.get("urls") or {n: f"http://127.0.0.1:{p}" for n, p in registry.PORTS.items()}
    nats_url = os.environ.get("TALKOOT_NATS_URL") or state.get("nats_url")
    namespace = os.environ.get("TALKOOT_NAMESPACE") or state.get("namespace", "talkoot")
    print("talkoot up: " + (f"running (pid {state['pid']})" if running else "not running"))
    healthy = True
    stalled_services: dict[str, str] = {}
    print("\nservices:")
    for name, url in urls.items():
        try:
            response = httpx.get(f"{url}/health", timeout=2)
            report = response.json()
            ok = response.status_code == 200
            detail = (
                f"postgres {report['postgres']}, nats {report['nats']}, "
                f"outbox lag {report.get('outbox_lag', '?')}"
                if "postgres" in report
                else report.get("detail", "")  # the web front: what it calls
            )
            stalled_services.update(report.get("stalled") or {})
            for consumer in report.get("consumers", []):
                if consumer.get("dead_letters"):
                    detail += f", {consumer['name']}: {consumer['dead_letters']} dead letters"
        except (httpx.HTTPError, ValueError):
            ok, detail = False, "not reachable"
        healthy &= ok
        print(f"  {name:<13} {'healthy' if ok else 'DOWN':<8} {url}  {detail}")
    # A process without an HTTP API (the projector) has no /health: it is up while it runs
    # (its consumers' lag shows below).
    for process in registry.PROCESSES:
        if process.port is not None:
            continue
        pid = state.get("processes", {}).get(process.name)
        alive = _alive(pid)
        healthy &= alive
        print(
            f"  {process.name:<13} {'running' if alive else 'DOWN':<8} pid {pid or '-':<8} "
            f"read models {', '.join(process.read_models)}"
        )
    if not nats_url:
        print("\nstreams: unknown (no NATS URL: start with `talkoot up` or set TALKOOT_NATS_URL)")
        return 1
    print(f"\nstreams on {nats_url} (namespace {namespace}):")
    try:
        report = asyncio.run(
            stream_report(
                nats_url,
                namespace,
                dead_letters=True,
                sample_after=STALL_SAMPLE,
                **_operator(data_dir(args)),
            )
        )
    except Exception as error:
        print(f"  NATS not reachable: {error}")
        return 1
    stalled = [f"{name} ({why})" for name, why in stalled_services.items()]
    dead = 0
    for stream in report:
        if stream["upstream"] is None:  # the dead letters
            print(f"  {stream['stream']:<24} {stream['messages'] or 0:>8} dead letters")
            for name, count in stream.get("orphans", {}).items():
                print(f"      of {name}: {count}")
                dead += count
            continue
        copies = ""
        if stream.get("replicas"):
            copies = f"   {stream['replicas']} copies, leader {stream['leader'] or 'none'}"
            if stream["behind"]:
                copies += f", behind: {', '.join(stream['behind'])}"
        print(f"  {stream['stream']:<24} {stream['messages'] or 0:>8} messages{copies}")
        for consumer in stream["consumers"]:
            name = f"{consumer['name']} <- {stream['upstream']}"
            dead += consumer.get("dead_letters", 0)
            flags = ""
            if consumer.get("dead_letters"):
                flags += f"   DEAD LETTERS {consumer['dead_letters']}"
            if consumer.get("stalled"):
                flags += "   STALLED"
                if name not in stalled_services:
                    stalled.append(
                        f"{name} (messages waiting, none acknowledged for {STALL_SAMPLE:.0f} s)"
                    )
            print(
                f"      consumer {consumer['name']:<22} lag {consumer['pending']:>6}"
                f"   in flight {consumer['in_flight']:>4}   redelivered {consumer['redelivered']}"
                + flags
            )
    if stalled:
        print("\nstalled consumers (no progress):")
        for line in stalled:
            print(f"  {line}")
    if dead:
        print(
            f"\n{_dead_letters_count(dead)}: see `talkoot dead-letters`, replay with "
            "`talkoot dead-letters replay SEQ` after the fix."
        )
    return 0 if healthy and not stalled and not dead else 1


# --- dead letters ------------------------------------------------------------------------


def _dead_letters_count(n: int) -> str:
    return f"{n} dead letter" if n == 1 else f"{n} dead letters"


def _nats_target(args: argparse.Namespace) -> tuple[str | None, str]:
    """The NATS URL and namespace of the running Talkoot, as `talkoot status` finds them."""
    state_file = data_dir(args) / "stack.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    nats_url = os.environ.get("TALKOOT_NATS_URL") or state.get("nats_url")
    namespace = os.environ.get("TALKOOT_NAMESPACE") or state.get("namespace", "talkoot")
    return nats_url, namespace


def dead_letters(args: argparse.Namespace) -> int:
    nats_url, namespace = _nats_target(args)
    if not nats_url:
        print("No NATS to ask: start Talkoot with `talkoot up` or set TALKOOT_NATS_URL.")
        return 1
    try:
        if args.action == "replay":
            ok, detail = asyncio.run(
                _replay(nats_url, namespace, args.seq, args.timeout, _operator(data_dir(args)))
            )
            print(detail)
            return 0 if ok else 1
        letters = asyncio.run(_dead_letters(nats_url, namespace, _operator(data_dir(args))))
    except OSError as error:
        print(f"NATS not reachable at {nats_url}: {error}")
        return 1
    if not letters:
        print(f"No dead letters (namespace {namespace}).")
        return 0
    print(f"{_dead_letters_count(len(letters))} (namespace {namespace}):")
    print(
        f"  {'seq':>6}  {'time (UTC)':<19}  {'consumer':<22} {'upstream':<13} "
        f"{'event':<26} {'position':>8}  reason"
    )
    for letter in letters:
        at = letter["time"]
        at = at.strftime("%Y-%m-%d %H:%M:%S") if hasattr(at, "strftime") else str(at or "")[:19]
        print(
            f"  {letter['seq']:>6}  {at:<19}  {letter['consumer'] or '?':<22} "
            f"{letter['upstream'] or '?':<13} {letter['event'] or '?':<26} "
            f"{letter['position'] or '?':>8}  {letter['reason'] or ''}"
        )
    print("Replay one after the fix with `talkoot dead-letters replay SEQ`.")
    return 0


async def _connect(nats_url: str, identity: dict[str, str]):
    from contracts.connection import connect

    return await connect(
        nats_url, "talkoot-cli", connect_timeout=2, max_reconnect_attempts=0, **identity
    )


async def _dead_letters(nats_url: str, namespace: str, identity: dict[str, str]) -> list[dict]:
    from contracts.jetstream import dead_letters as kept

    nc = await _connect(nats_url, identity)
    try:
        return await kept(nc.jetstream(), namespace)
    finally:
        await nc.close()


async def _replay(
    nats_url: str, namespace: str, seq: int, timeout: float, identity: dict[str, str]
) -> tuple[bool, str]:
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeoutError
    from nats.js.errors import NotFoundError

    from contracts.streams import DEAD_CONSUMER_HEADER, DEAD_LETTERS, replay_subject, stream_name

    nc = await _connect(nats_url, identity)
    try:
        try:
            stored = await nc.jetstream().get_msg(stream_name(DEAD_LETTERS, namespace), seq)
        except NotFoundError:
            return False, f"no dead letter {seq} (replayed already, or never written)"
        durable = (stored.headers or {}).get(DEAD_CONSUMER_HEADER)
        if not durable:
            return False, f"dead letter {seq} names no consumer"
        try:
            reply = await nc.request(
                replay_subject(durable, namespace), str(seq).encode(), timeout=timeout
            )
        except (NoRespondersError, NatsTimeoutError):
            return False, f"{durable} did not answer: is it running? (dead letter {seq} is kept)"
        answer = json.loads(reply.data)
        return bool(answer.get("ok")), f"{durable}: {answer.get('detail', '')}"
    finally:
        await nc.close()


# --- test and bench ----------------------------------------------------------------------


def test(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "pytest", *args.pytest_args]
    print("$ " + " ".join(command), flush=True)
    code = subprocess.call(command, cwd=ROOT)
    if code == 5:
        print("pytest collected no tests: that is a failure here", file=sys.stderr)
        return 1
    return code


def bench(args: argparse.Namespace) -> int:
    try:
        from deploy import bench as benchmark
    except ModuleNotFoundError as missing:
        extra = {"psutil": "local", "aiohttp": "dev"}.get(missing.name or "")
        if extra is None:
            raise
        print(
            f"The bench needs {missing.name}, which is not installed: install Talkoot with its "
            f"{extra} extra (pip install 'talkoot[{extra}]'; `python3 deploy/talkoot` does).",
            file=sys.stderr,
        )
        return 1

    state_file = data_dir(args) / "stack.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if not _alive(state.get("pid")):
        print("No running Talkoot found: start it with `talkoot up` first.", file=sys.stderr)
        return 1
    state["nats_options"] = _operator(data_dir(args))
    sign = _signer(data_dir(args))
    if sign is None:
        print(
            "No secret to sign the bench's tokens with: the stack's secrets.json in the data "
            "folder, or TALKOOT_JWT_SECRET.",
            file=sys.stderr,
        )
        return 1
    return benchmark.run(
        state,
        requests=args.requests,
        concurrency=args.concurrency,
        sign=sign,
        keys=not args.without_keys,
        rate=args.rate,
        data_dir=data_dir(args),
    )


def _signer(directory: Path) -> Callable[..., str] | None:
    """Signs claims (``sign(body, lifetime=...)``) as the local stack in ``directory``
    verifies them: with TALKOOT_JWT_SECRET or the stack's own secret, for TALKOOT_JWT_ISSUER
    and TALKOOT_JWT_AUDIENCE when those are set. None without a secret."""
    path = directory / "secrets.json"
    secret = os.environ.get("TALKOOT_JWT_SECRET") or (
        json.loads(path.read_text()).get("jwt") if path.exists() else None
    )
    if secret is None:
        return None
    extra = {
        name: os.environ[variable]
        for name, variable in (
            ("issuer", "TALKOOT_JWT_ISSUER"),
            ("audience", "TALKOOT_JWT_AUDIENCE"),
        )
        if os.environ.get(variable)
    }
    return lambda body, **options: issue(secret, body, **extra, **options)


# --- token -------------------------------------------------------------------------------


def token(args: argparse.Namespace) -> int:
    roles = [Role(role) for role in args.role]
    needs = {Role.PROVIDER: ("provider", "--provider"), Role.OFFICER: ("partner", "--partner")}
    needs[Role.COORDINATOR] = ("table", "--table")
    for role, (attribute, option) in needs.items():
        if role in roles and not getattr(args, attribute):
            tell(f"talkoot token: the role {role} needs {option}", err=True)
            return 2
    if args.may_sign and Role.OFFICER not in roles:
        tell("talkoot token: --may-sign is for the role officer", err=True)
        return 2
    sign = _signer(data_dir(args))
    if sign is None:
        tell(
            "talkoot token: no secret to sign with: start `talkoot up` once (it makes one under "
            "its data folder) or set TALKOOT_JWT_SECRET",
            err=True,
        )
        return 1
    body = claims(
        args.subject,
        roles,
        provider=args.provider,
        partner=args.partner,
        may_sign=args.may_sign,
        table=args.table,
        region=args.region,
    )
    tell(sign(body, lifetime=args.expires))
    return 0


def _lifetime(text: str):
    from services.platform.settings import duration

    try:
        return duration(text, "--expires")
    except SystemExit as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# --- the parser --------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="talkoot",
        description="Talkoot: residents request local services, community providers deliver "
        "them, municipal partners fund and audit them.",
    )
    root.add_argument(
        "--data-dir",
        help="where the embedded PostgreSQL, NATS and logs keep their data "
        "(default: TALKOOT_DATA_DIR or .talkoot in the project)",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="command")

    p = commands.add_parser(
        "up",
        help="start every service (and an embedded PostgreSQL and NATS if none is named)",
        description="Start the services and the projector. Without TALKOOT_DATABASE_URL "
        "and TALKOOT_NATS_URL it starts an embedded PostgreSQL and nats-server with their data "
        "under the data folder, so a restart keeps everything; that nats-server has one user "
        "per process (passwords made once, in nats/passwords.json of the data folder), and each "
        "may publish only to its own stream. With TALKOOT_NATS_URL, every process connects with "
        "the TALKOOT_NATS_USER and TALKOOT_NATS_PASSWORD, or TALKOOT_NATS_CREDS (a .creds file), "
        "of this environment. A process, PostgreSQL or nats-server that dies is started again. "
        "Ctrl-C stops it all.",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help=f"load Lahti demo data (once), and write its people's tokens to {DEMO_TOKENS} in "
        "the data folder",
    )
    p.add_argument(
        "--nats-port",
        type=int,
        default=DEFAULT_NATS_PORT,
        help=f"port of the embedded nats-server (default {DEFAULT_NATS_PORT}, another if taken; "
        "a cluster's nodes take the ports after it)",
    )
    p.add_argument(
        "--nats-nodes",
        type=int,
        choices=(1, 3, 5),
        default=1,
        help="run the embedded NATS as a cluster of this many nats-servers on this machine, "
        "every stream kept in as many copies (TALKOOT_STREAM_REPLICAS), as production runs it: "
        "kill one and Talkoot goes on, and `up` starts it again (default 1, a single "
        "nats-server). A cluster keeps its streams apart from the single nats-server's, in "
        "nats/n1, n2, ... of the data folder: give it a data folder of its own to try it",
    )
    p.set_defaults(run=up)

    p = commands.add_parser(
        "status",
        help="which services run, their health, stream and consumer lag, dead letters",
        description="Ask each service's /health and NATS for every stream and durable "
        "consumer: how many events are stored, how many each consumer has yet to process, the "
        "dead letters each set aside, and which consumers make no progress (a service's "
        "/health names its own; any consumer with messages waiting that acknowledges none "
        f"within {STALL_SAMPLE:.0f} s is shown too, which is how the projector's show). "
        "On a NATS cluster it shows each stream's copies too: the node that leads it, and "
        "the nodes whose copy is behind (lost, or catching up). "
        "Exits non-zero when something is down, stalled, or there are dead letters. "
        "It connects to the local stack's NATS as its operator (credentials from the data "
        "folder), or with TALKOOT_NATS_URL set as TALKOOT_NATS_USER and TALKOOT_NATS_PASSWORD "
        "or TALKOOT_NATS_CREDS.",
    )
    p.set_defaults(run=status)

    p = commands.add_parser(
        "dead-letters",
        help="list the events consumers set aside, and replay one after a fix",
        description="A consumer that fails on one event (permanently: not PostgreSQL or NATS "
        "being away, which it waits out) tries it a few times (TALKOOT_DEAD_LETTER_ATTEMPTS, "
        "default 3), then sets it aside in the dead-letter stream and goes on with the next "
        "events; the read model or service state misses that event until it is replayed. "
        "Without a subcommand this lists them: sequence number, when, which consumer, from "
        "which stream, the event type, its position there, and why it failed. Connects to the "
        "NATS of `talkoot up` (the state file in the data folder) or TALKOOT_NATS_URL, in "
        "TALKOOT_NAMESPACE.",
    )
    p.set_defaults(run=dead_letters, action="list")
    actions = p.add_subparsers(dest="action", metavar="subcommand")
    q = actions.add_parser(
        "replay",
        help="ask the owning consumer to apply one dead letter now",
        description="Ask the consumer that set the dead letter aside to apply it now (after "
        "the fix is deployed). It applies it exactly once, in one transaction with a marker "
        "that it did, then removes it from the dead-letter stream and answers; if it fails "
        "again the reason is printed and the dead letter is kept. Exits non-zero then.",
    )
    q.add_argument("seq", type=int, help="the dead letter's sequence number (see the list)")
    q.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the answer (default 30)"
    )

    p = commands.add_parser(
        "test",
        help="run the test suite (starts its own embedded PostgreSQL and NATS if none is named)",
        description="Run pytest over tests/. Extra arguments go to pytest, e.g. "
        "`talkoot test -k matching -x`.",
    )
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="arguments for pytest")
    p.set_defaults(run=test)

    p = commands.add_parser(
        "bench",
        help="drive N requests through submit, offer and accept against a running stack",
        description="Needs `talkoot up` running. Prints end-to-end requests per second, "
        "latency percentiles, peak memory of each service, and the machine's raw PostgreSQL "
        "insert and JetStream publish rates. It calls as real clients do, with tokens signed "
        "with the stack's secret (secrets.json in the data folder, or TALKOOT_JWT_SECRET): a "
        "resident per request submits it, a member of the provider offered it accepts, an "
        "officer proposes and signs the contracts, an admin watches the board. Each caller "
        "sends a few commands at most, so the stack may run with its commands' rate limit "
        "(TALKOOT_RATE_LIMIT, 120/minute per caller by default); there is no need to turn it "
        "off.",
    )
    p.add_argument("--requests", type=int, default=2000, help="how many requests (default 2000)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="requests in flight, each worker starting the next when its last is done "
        "(a closed loop; default 32)",
    )
    p.add_argument(
        "--rate",
        type=float,
        help="instead, start this many requests per second whatever the answers (an open "
        "loop, as a snowfall morning arrives): latency counts from when each was due",
    )
    p.add_argument(
        "--without-keys",
        action="store_true",
        help="send commands without an Idempotency-Key, to measure what the keys cost",
    )
    p.set_defaults(run=bench)

    p = commands.add_parser(
        "token",
        help="issue a signed token for local use (a resident, provider member, officer...)",
        description="Print a JWT that the services accept, signed with the local stack's "
        "secret (secrets.json in the data folder, made by the first `talkoot up`) or "
        "TALKOOT_JWT_SECRET. Send it as `Authorization: Bearer <token>`. In production the "
        "city's identity provider issues the tokens instead. Example: `talkoot token --role "
        "officer --subject officer-1 --partner lahti-city --may-sign`.",
    )
    p.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[role.value for role in Role],
        help="a role the person holds; repeat for several",
    )
    p.add_argument("--subject", required=True, help="the person's id (the token's sub)")
    p.add_argument("--provider", help="the provider a provider member acts for")
    p.add_argument("--partner", help="the municipal partner an officer works for")
    p.add_argument(
        "--may-sign", action="store_true", help="the officer may sign contracts for the partner"
    )
    p.add_argument("--table", help="the partnership table a coordinator runs")
    p.add_argument(
        "--region", help="the region a resident lives in (whose table's rounds they vote in)"
    )
    p.add_argument(
        "--expires",
        type=_lifetime,
        default="8h",
        help="how long the token is valid, e.g. 30m, 8h, 7d (default 8h)",
    )
    p.set_defaults(run=token)

    audit_cli.add_parser(commands, audit_cli.run)
    check.add_parser(commands)
    rebuild.add_parser(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    root = parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    # Everything after `test` is for pytest, as written (`talkoot test -x -m dates`).
    command_at = _command_index(argv)
    if (
        command_at is not None
        and argv[command_at] == "test"
        and argv[command_at + 1 :]
        not in (
            ["-h"],
            ["--help"],
        )
    ):
        args = root.parse_args([*argv[:command_at], "test"])
        args.pytest_args = argv[command_at + 1 :]
    else:
        args = root.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # `talkoot status | head`: the reader has gone; stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _command_index(argv: list[str]) -> int | None:
    """Where the command word stands, past the options before it (``--data-dir DIR``)."""
    i = 0
    while i < len(argv):
        if argv[i] == "--data-dir":
            i += 2
        elif argv[i].startswith("-"):
            i += 1
        else:
            return i
    return None


if __name__ == "__main__":
    sys.exit(main())
