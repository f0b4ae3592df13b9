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
from pathlib import Path

import httpx

from deploy.stack import DEFAULT_NATS_PORT, Stack, operator_options, stream_report
from services.platform.settings import SERVICE_PORTS

ROOT = Path(__file__).resolve().parents[1]


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
    stack = Stack.from_env(directory, nats_port=args.nats_port)
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
        for name in ("requests", "providers", "matching", "partnerships"):
            tell(f"  {name:<13} {stack.url(name)}   (API docs: {stack.url(name)}/schema)")
        tell(f"  {'Open311':<13} {stack.url('requests')}/open311/v2/discovery.xml")
        tell(
            f"  {'projections':<13} keep the request board, contract ledger, provider directory, "
            "recurring series"
        )
        tell(f"  {'PostgreSQL':<13} {stack.database_url}")
        tell(f"  {'NATS':<13} {stack.nats_url}")
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


def _load_demo(stack: Stack, directory: Path) -> None:
    from deploy import demo

    marker = directory / f"demo-loaded-{stack.namespace}"
    if marker.exists():
        say("Lahti demo data was loaded before; not loading it again")
        return
    say("loading Lahti demo data")
    urls = {name: stack.url(name) for name in stack.ports}
    demo.load(urls, stack.nats_url, stack.namespace, say, stack.nats_options())
    marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z\n"))


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
    urls = state.get("urls") or {n: f"http://127.0.0.1:{p}" for n, p in SERVICE_PORTS.items()}
    nats_url = os.environ.get("TALKOOT_NATS_URL") or state.get("nats_url")
    namespace = os.environ.get("TALKOOT_NAMESPACE") or state.get("namespace", "talkoot")
    print("talkoot up: " + (f"running (pid {state['pid']})" if running else "not running"))
    healthy = True
    print("\nservices:")
    for name, url in urls.items():
        try:
            response = httpx.get(f"{url}/health", timeout=2)
            report = response.json()
            ok = response.status_code == 200
            detail = (
                f"postgres {report['postgres']}, nats {report['nats']}, "
                f"outbox lag {report.get('outbox_lag', '?')}"
            )
        except (httpx.HTTPError, ValueError):
            ok, detail = False, "not reachable"
        healthy &= ok
        print(f"  {name:<13} {'healthy' if ok else 'DOWN':<8} {url}  {detail}")
    pid = state.get("processes", {}).get("projections")
    projector = _alive(pid)
    healthy &= projector
    print(f"  {'projections':<13} {'running' if projector else 'DOWN':<8} pid {pid or '-'}")
    if not nats_url:
        print("\nstreams: unknown (no NATS URL: start with `talkoot up` or set TALKOOT_NATS_URL)")
        return 1
    print(f"\nstreams on {nats_url} (namespace {namespace}):")
    try:
        report = asyncio.run(stream_report(nats_url, namespace, **_operator(data_dir(args))))
    except Exception as error:
        print(f"  NATS not reachable: {error}")
        return 1
    for stream in report:
        print(f"  {stream['stream']:<24} {stream['messages'] or 0:>8} messages")
        for consumer in stream["consumers"]:
            print(
                f"      consumer {consumer['name']:<22} lag {consumer['pending']:>6}"
                f"   in flight {consumer['in_flight']:>4}   redelivered {consumer['redelivered']}"
            )
    return 0 if healthy else 1


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
    from deploy import bench as benchmark

    state_file = data_dir(args) / "stack.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if not _alive(state.get("pid")):
        print("No running Talkoot found: start it with `talkoot up` first.", file=sys.stderr)
        return 1
    state["nats_options"] = _operator(data_dir(args))
    return benchmark.run(state, requests=args.requests, concurrency=args.concurrency)


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
        description="Start the four services and the projector. Without TALKOOT_DATABASE_URL "
        "and TALKOOT_NATS_URL it starts an embedded PostgreSQL and nats-server with their data "
        "under the data folder, so a restart keeps everything; that nats-server has one user "
        "per process (passwords made once, in nats/passwords.json of the data folder), and each "
        "may publish only to its own stream. With TALKOOT_NATS_URL, every process connects with "
        "the TALKOOT_NATS_USER and TALKOOT_NATS_PASSWORD, or TALKOOT_NATS_CREDS (a .creds file), "
        "of this environment. A process, PostgreSQL or nats-server that dies is started again. "
        "Ctrl-C stops it all.",
    )
    p.add_argument("--demo", action="store_true", help="load Lahti demo data (once)")
    p.add_argument(
        "--nats-port",
        type=int,
        default=DEFAULT_NATS_PORT,
        help=f"port of the embedded nats-server (default {DEFAULT_NATS_PORT}, another if taken)",
    )
    p.set_defaults(run=up)

    p = commands.add_parser(
        "status",
        help="which services run, their health, and stream and consumer lag",
        description="Ask each service's /health and NATS for every stream and durable "
        "consumer: how many events are stored, and how many each consumer has yet to process. "
        "It connects to the local stack's NATS as its operator (credentials from the data "
        "folder), or with TALKOOT_NATS_URL set as TALKOOT_NATS_USER and TALKOOT_NATS_PASSWORD "
        "or TALKOOT_NATS_CREDS.",
    )
    p.set_defaults(run=status)

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
        "insert and JetStream publish rates.",
    )
    p.add_argument("--requests", type=int, default=2000, help="how many requests (default 2000)")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    p.set_defaults(run=bench)
    return root


def main(argv: list[str] | None = None) -> int:
    root = parser()
    # Everything after `test` that talkoot does not know is for pytest (`talkoot test -x -q`).
    args, extra = root.parse_known_args(argv)
    if extra and args.command != "test":
        root.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "test":
        args.pytest_args = [*args.pytest_args, *extra]
    try:
        return args.run(args)
    except BrokenPipeError:
        # `talkoot status | head`: the reader has gone; stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
